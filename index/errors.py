"""Every error papers reports to a person: one tree, and the exit code each one means.

Below the screen, code raises one of these with a message that says what is wrong and what
to do about it. Exactly one place per front end turns them into words: the CLI group (one
line on standard error, or a JSON object with --json, and the exit code) and the reader
(a notification, or a screen when the library cannot be opened at all). Nothing else
catches them to print, so a new command or a new fault gets the same treatment for free.
"""

from __future__ import annotations

# The documented exit codes of every `papers` command.
EXIT_OK = 0  # done; for a search: it found papers
EXIT_NO_RESULTS = 1  # a search or a lookup found nothing
EXIT_USAGE = 2  # bad usage or bad input (a query, an id, a tag)
EXIT_UNAVAILABLE = 3  # the library or the user data cannot be used right now


class PapersError(Exception):
    """A problem the user can act on; the message says what, and what to do."""

    exit_code = EXIT_USAGE


# -- bad input --------------------------------------------------------------------------


class InputError(PapersError, ValueError):
    """Something the user typed is not valid: a query, an id, a tag, a name.

    Also a ValueError, so code that validates with plain ValueErrors can catch both."""

    exit_code = EXIT_USAGE


class QueryError(InputError):
    """A query that cannot be parsed or names a filter, sort or view that does not exist."""


class NotFound(PapersError):
    """What was asked for is not there: a paper id, a saved search."""

    exit_code = EXIT_NO_RESULTS


# -- the library and the user data cannot be used --------------------------------------


class Unavailable(PapersError):
    """The library or the user data cannot be used now; the files may be fine."""

    exit_code = EXIT_UNAVAILABLE


class LibraryError(Unavailable):
    """The Whoosh index cannot be used: missing, damaged, or of another format."""


class LibraryMissing(LibraryError):
    """No library has been built in this data directory yet."""


class LibraryDamaged(LibraryError):
    """The index is there but cannot be read; `papers doctor --repair` rebuilds it."""


class LibraryBusy(LibraryError):
    """Another process is writing the library."""


class UserDataError(Unavailable):
    """The user-data file (stars, tags, notes) cannot be used."""


class UserDataDamaged(UserDataError):
    """The user-data file is there but SQLite cannot read it: damage, which `papers doctor
    --repair` mends. Never raised for a fault of the environment (full, read-only, locked)."""


class StorageError(Unavailable):
    """The environment refused: a read-only or full disk, a permission, a lock."""


def from_os_error(exc: OSError, doing: str) -> StorageError:
    """An OSError as one line: what we were doing, and what the system said."""
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    reason = exc.strerror or exc.__class__.__name__
    return StorageError(f"cannot {doing}{where}: {reason}")


__all__ = [
    "EXIT_NO_RESULTS", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "InputError",
    "LibraryBusy", "LibraryDamaged", "LibraryError", "LibraryMissing", "NotFound",
    "PapersError", "QueryError", "StorageError", "Unavailable", "UserDataDamaged",
    "UserDataError", "from_os_error",
]
