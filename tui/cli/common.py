"""What the commands share: the context (data home, library, user data), paper ids, options.

Nothing here imports Whoosh or Rich at import time: `papers --help` and `papers tags` load
this module and must stay light. The library and the ingest load when a command asks.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from papers.index.errors import InputError, LibraryMissing, NotFound
from papers.index.scope import SORTS

# Set in the context's shared `meta` by `--json`, so the error boundary answers in JSON.
JSON_KEY = "papers.json"


class Context:
    """Where the library lives, and the library and user data once a command opens them."""

    def __init__(self, home: str | None):
        from papers.index.paths import data_home

        self.home = data_home(home)
        self._store = None

    def library(self):
        """The library as it is on disk, not opened yet (it may not exist)."""
        from papers.index.library import Library

        return Library(self.home)

    def open_library(self, *, required: bool = True):
        """The library, opened, rebuilt first when its format changed.

        `required=False`: no library yet is fine (user data alone), a damaged one is not.
        Raises LibraryError when it cannot be used.
        """
        from papers.index.sources import load_sources

        lib = self.library()
        if not required and not lib.exists:
            return lib
        if lib.outdated and load_sources(self.home):
            from papers.tui.cli import output

            output.err("the library format changed in this version; rebuilding the index from "
                       "your digests (stars, tags and notes are kept)")
            run_ingest(self, load_sources(self.home), rebuild=True, quiet=True)
            lib = self.library()
        lib.searcher()  # opening reads the table of contents: a damaged index says so here
        return lib

    def store(self):
        """The user data (stars, tags, notes, saved searches), opened once per command."""
        if self._store is None:
            from papers.index.userdata import UserData

            self._store = UserData(self.home)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


pass_ctx = click.make_pass_decorator(Context)


def run_ingest(ctx: Context, sources, *, rebuild=False, optimize=False, prune=False,
               as_json=False, quiet=False) -> None:
    """Read the digests of `sources` into the library and say what changed."""
    from papers.index import jsontext
    from papers.index.ingest import ingest
    from papers.tui.cli import output

    with output.progress(enabled=not as_json) as progress:
        report = ingest(ctx.home, sources, rebuild=rebuild, optimize=optimize, prune=prune,
                        procs=min(os.cpu_count() or 1, 4), progress=progress)
    if as_json:
        click.echo(jsontext.dumps(report.to_json()))
        return
    if quiet:
        return
    if report.reason:
        output.err(report.reason)
    output.problems(report.problems)
    rate = ""
    written = report.papers_added + report.papers_updated
    if written and report.seconds > 0:
        rate = f" in {report.seconds:.1f}s ({written / report.seconds:,.0f} papers/s)"
    output.say(report.summary() + rate)


def registered_sources(ctx: Context) -> list[Path]:
    """The registered digest sources; LibraryMissing when there are none yet."""
    from papers.index.sources import load_sources

    sources = load_sources(ctx.home)
    if not sources:
        raise LibraryMissing("no sources registered yet: add digests with `papers add PATH`")
    return sources


# -- paper ids ----------------------------------------------------------------------------


def resolve_id(lib, prefix: str, extra: set[str] = frozenset()) -> str:
    """A full paper id from a unique prefix; InputError or NotFound otherwise.

    `extra` are ids known elsewhere (user data of papers no longer in any digest).
    """
    prefix = prefix.strip().lower()
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
        raise InputError(f"{prefix!r} is not a paper id (4 to 12 hex characters)")
    matches = sorted(set(lib.resolve(prefix) if lib.exists else ())
                     | {i for i in extra if i.startswith(prefix)})
    if not matches:
        raise NotFound(f"no paper with id {prefix}")
    if len(matches) > 1:
        raise InputError(f"{prefix!r} matches {len(matches)} papers ({', '.join(matches[:5])}"
                         f"{', ...' if len(matches) > 5 else ''}); type more of it")
    return matches[0]


def resolve_all(ctx: Context, ids: tuple[str, ...]) -> tuple[list[str], list]:
    """Full ids from prefixes, and the papers still in the library (to remember them)."""
    lib = ctx.open_library(required=False)
    store = ctx.store()
    known = store.all_ids()
    full = [resolve_id(lib, prefix, extra=known) for prefix in ids]
    papers = [p for p in (lib.get(pid) for pid in full) if p is not None] if lib.exists else []
    return full, papers


# -- shared options -----------------------------------------------------------------------


def _note_json(ctx: click.Context, param, value: bool) -> bool:
    if value:
        ctx.meta[JSON_KEY] = True
    return value


def json_option(help_text: str):
    """`--json`: the command prints JSON, and so does the error boundary if it fails."""
    return click.option("--json", "as_json", is_flag=True, help=help_text, callback=_note_json)


def sort_option(default: str):
    return click.option("--sort", type=click.Choice([*SORTS, "date"]), default=default,
                        show_default=True,
                        help="Order of the papers (date is another name for newest).")


def filter_options(command):
    """--starred, --unread, --new, --tag and --saved: the filters `option_scope` turns into a
    scope."""
    for option in reversed((
        click.option("--starred", is_flag=True, help="Only starred papers (same as is:starred)."),
        click.option("--unread", is_flag=True, help="Only unread papers (same as is:unread)."),
        click.option("--new", is_flag=True,
                     help="Only papers new since you last looked at All in the reader, without "
                          "the ones you skipped, snoozed or muted (same as is:new)."),
        click.option("--tag", "tags", multiple=True,
                     help="Only papers with this tag (repeatable; same as tag:TAG)."),
        click.option("--saved", help="Use the saved search NAME (combined with QUERY if given)."),
    )):
        command = option(command)
    return command


def option_scope(store, text: str, starred: bool, unread: bool, tags, saved: str | None,
                 sort: str, new: bool = False):
    """The scope the filter options and QUERY describe."""
    from papers.index.scope import ALL, Scope, combine, saved_scope, tag_view

    extra = (["is:starred"] * starred + ["is:unread"] * unread + ["is:new"] * new
             + [tag_view(t).query for t in tags])
    text = combine(*extra, text)
    return saved_scope(store, saved, text, sort) if saved else Scope(ALL, text, sort)
