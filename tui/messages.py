"""What the reader's workers answer with: one message per kind of answer.

A worker runs in a thread and posts one of these to the screen (or app) that started it;
the handler runs on the UI thread, where widgets may be touched. Each answer carries the
number of the request it answers (`Requests.new`): a worker that was replaced or cancelled
may still answer after its successor, and its answer is then dropped. An answer posted
while the app closes goes nowhere: Textual's `post_message` refuses a closed message pump.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from textual.message import Message

from papers.index.errors import PapersError
from papers.tui.store import Counts, Listing
from papers.tui.widgets.detail import DetailData


class Requests:
    """Numbers the requests made of each kind of worker, on the UI thread in the order
    made, and says which answers are to the latest one."""

    def __init__(self) -> None:
        self._made: Counter[str] = Counter()
        self._answered: Counter[str] = Counter()

    def new(self, kind: str) -> int:
        self._made[kind] += 1
        return self._made[kind]

    def answered(self, kind: str, request: int) -> bool:
        """Take an answer: True when it answers the latest request of its kind (which is
        then no longer waiting), False when a newer request has been made since."""
        if request != self._made[kind]:
            return False
        self._answered[kind] = request
        return True

    def waiting(self, kind: str) -> bool:
        """The latest request of this kind has not been answered yet."""
        return self._answered[kind] != self._made[kind]

    def forget(self, kind: str) -> None:
        """Drop every answer still to come to this kind, and wait for none."""
        self._answered[kind] = self.new(kind)


@dataclass
class ListingReady(Message):
    """A search's answer: its first page (`done` False, the whole list follows) or all of
    it. None: it gave way to a newer search before it had anything to show."""

    request: int
    listing: Listing | None
    done: bool = True


@dataclass
class DetailReady(Message):
    """The paper asked for, with the user's marks; None when it left the library.
    `look`: its similar papers are still to be looked up."""

    request: int
    paper_id: str
    data: DetailData | None
    look: bool = False


@dataclass
class SimilarReady(Message):
    """Papers like the one shown; `data` None when the lookup gave way to typing."""

    request: int
    data: DetailData | None


@dataclass
class CountsReady(Message):
    """The filter pane's counts; None when they could not be read."""

    request: int
    counts: Counts | None


@dataclass
class ViewSeen(Message):
    """A view the reader opened was marked seen: its "N new" starts again from now."""

    request: int


@dataclass
class DataChanged(Message):
    """A change to the user's marks was written (`error` None) or refused."""

    request: int
    said: str | None
    error: str | None
    version: int


@dataclass
class ExportDone(Message):
    request: int
    text: str
    error: bool = False


@dataclass
class ChangesSeen(Message):
    """The index generation and user-data version another process may have changed, and
    the sync folder's logs (`Store.sync_folder_state`), which another machine may have."""

    request: int
    seen: tuple[int, int]
    folder: tuple | None = None


@dataclass
class IngestProgress(Message):
    """The progress of a re-scan or a fetch (`kind`, which is also what to run again when
    another process held the library); `finished` with what it has to say, if anything."""

    request: int
    stage: str = ""
    done: int = 0
    total: int = 0
    finished: bool = False
    said: str | None = None
    error: bool = False
    busy: bool = False  # another process holds the ingest lock: try again later
    changed: bool = False
    kind: str = "rescan"  # or "fetch"


@dataclass
class Synced(Message):
    """A sync through the sync folder ran: how many changes arrived from which machines,
    how many of them changed what is shown, and what it has to say (its problems, or why
    it failed: `error`)."""

    request: int
    arrived: int = 0
    received: tuple[str, ...] = ()
    changed: int = 0
    problems: tuple[str, ...] = ()
    error: str | None = None
    folder: tuple | None = None  # the sync folder's logs after it (our own log written)


@dataclass
class SourcesChecked(Message):
    """The registered sources that are missing now: (path, `missing` or `empty`)."""

    request: int
    missing: list[tuple[str, str]]


@dataclass
class Failed(Message):
    """The library or the user data cannot be read: the reader shows why and how to fix it."""

    error: PapersError
