"""The reader's window on the library: queries, marks and counts, safe to use from workers.

Widgets never touch Whoosh or SQLite: they get `Listing`s and `Row`s from here. Whoosh
readers share file positions between threads, so every library call goes through one
lock; searches run in a worker thread and the list pane only reads the few rows on screen,
so the main thread waits on that lock for one search at most. Similar papers come from a
second handle with its own files and lock, so that they never hold up a search.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from papers.index.errors import (
    LibraryError,
    PapersError,
    QueryError,
    Unavailable,
    UserDataError,
)
from papers.index.library import Library, Results, SearchCancelled
from papers.index.models import Paper
from papers.index.scope import (
    ALL,
    FOR_YOU,
    Scope,
    Selection,
    Untaught,
    View,
    digest_view,
    for_view,
    hidden_ids,
    month_view,
    new_count,
    rising_view,
    saved_view,
    seen_since,
    tag_view,
)
from papers.index.scope import search as scope_search
from papers.index.scope import select as scope_select
from papers.index.scope import why as scope_why
from papers.index.sources import status as source_status
from papers.index.userdata import UserData

FRESH_LIMIT = 5000  # new papers a view's "N new" is counted over, at most (see _fresh)
ROWS_KEPT = 4000  # list rows kept across listings (see `Store._rows_of`): a few screens' worth


@dataclass(frozen=True, slots=True)  # thousands are kept: no dict each for the GC to walk
class Row:
    """What one list row shows, read once from the index."""

    id: str
    title: str
    day: date | None
    upvotes: int | None


@dataclass
class Listing:
    """The papers of one view + query + sort, in order; rows are read only when shown."""

    view: View = ALL
    query: str = ""
    sort: str = "relevance"
    results: Results | None = None
    error: str | None = None
    unavailable: Unavailable | None = None  # the error, when the library cannot be read
    untaught: str | None = None  # a taste with nothing to learn from: how to teach it
    elapsed: float = 0.0
    generation: int = 0  # bumped by the store for every new listing
    partial: bool = False  # only the first page: more papers are being counted
    _lock: threading.RLock | None = field(default=None, repr=False)
    # Rows by docnum, shared by every listing of the same searcher (`Store._rows_of`).
    _rows: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def __len__(self) -> int:
        return len(self.results) if self.results is not None else 0

    @property
    def terms(self) -> frozenset[str]:
        return self.results.terms if self.results is not None else frozenset()

    @property
    def suggestion(self) -> str | None:
        return self.results.suggestion if self.results is not None else None

    def row(self, i: int) -> Row:
        assert self.results is not None
        docnum = self.results.docnums[i]
        row = self._rows.get(docnum)
        if row is not None:
            self._rows.move_to_end(docnum)
            return row
        paper = self.paper(i)
        row = Row(paper.id, paper.title, paper.published or paper.first_seen, paper.upvotes)
        self._rows[docnum] = row
        if len(self._rows) > ROWS_KEPT:
            self._rows.popitem(last=False)
        return row

    def paper(self, i: int) -> Paper:
        assert self.results is not None and self._lock is not None
        with self._lock:
            return self.results.paper(i)

    def index_of(self, paper_id: str, near: int = 0, span: int = 400) -> int | None:
        """Where `paper_id` is, looking around `near` first: a refresh keeps the cursor on
        the same paper without reading 100k rows."""
        n = len(self)
        lo, hi = max(0, near - span), min(n, near + span)
        for i in range(lo, hi):
            if self.row(i).id == paper_id:
                return i
        return None


@dataclass(frozen=True)
class Counts:
    """The filter pane's views with how many papers each holds."""

    total: int
    unread: int
    starred: int
    tags: list[tuple[View, int]]
    saved: list[tuple[View, int]]
    digests: list[tuple[View, int]]  # newest first
    months: list[tuple[View, int]]  # newest first
    problems: int = 0  # problems of digest files, kept by the manifest until they change
    # The digests under a source that is missing (gone, unmounted): their papers are kept.
    unreachable: frozenset[View] = frozenset()
    new: int = 0  # the papers in New
    rising: tuple[View, int] | None = None  # Rising this week: its view is of its week
    for_tags: dict[View, View] = field(default_factory=dict)  # a tag's view -> its For you
    # "N new" of each view looked at before (by its query text): what came in since.
    # A view never looked at has none: everything would be new.
    fresh: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One line of the problems screen: a digest file's problem, or a missing source."""

    file: str
    line: int
    message: str


class Store:
    """The library and the user data of one papers home, for the reader."""

    def __init__(self, home: Path):
        self.home = Path(home)
        # Searched at every keystroke: plain words are scored as arrays (index.termarrays).
        self.library = Library(self.home, arrays=True)
        self.userdata = UserData(self.home)
        self._lock = threading.RLock()
        # Key terms are mostly rare words: a smaller postings cache does.
        self._similar_library = Library(self.home, cache=250_000)
        self._similar_lock = threading.Lock()
        self._generation = 0
        self._rows: tuple[object, OrderedDict] = (None, OrderedDict())
        # What "today" is, for snoozes: a test sets its own clock instead of sleeping.
        self.today: Callable[[], date] = date.today
        self.starred: set[str] = set()
        self.read: set[str] = set()
        self.skipped: set[str] = set()
        self.snoozed: set[str] = set()  # snoozed until a day after today
        # Sources that are missing, as `check_sources` last found them: (path, state).
        self.missing_sources: list[tuple[str, str]] = []
        self.reload_marks()

    def close(self) -> None:
        with self._lock:
            self.library.close()
        with self._similar_lock:
            self._similar_library.close()
        self.userdata.close()

    # -- what changed -------------------------------------------------------------------

    def library_generation(self) -> int:
        """The index's commit generation, -1 when there is no index yet."""
        try:
            return self.library.ix.latest_generation() if self.library.exists else -1
        except LibraryError:
            return -1

    def data_version(self) -> int:
        try:
            return self.userdata.data_version()
        except UserDataError:
            return -1

    def reload_marks(self) -> None:
        self.starred = self.userdata.starred_ids()
        self.read = self.userdata.read_ids()
        self.skipped = self.userdata.skipped_ids()
        self.snoozed = self.userdata.snoozed_ids(self.today())

    def reopen(self) -> None:
        """Forget the index handle: after a rebuild the old one points at deleted files."""
        with self._lock:
            self.library.close()
        with self._similar_lock:
            self._similar_library.close()

    def sync(self):
        """Sync the user data through the `sync_dir` setting's folder: None when none is
        set, else `papers.index.sync.Report`. Run in a worker: it may wait for another
        process's sync, and holds the user data's lock only inside its own transactions."""
        from papers.index import sync

        if sync.sync_dir(self.home) is None:  # read each time: `papers sync DIR` may set it
            return None
        report = sync.sync(self.home, userdata=self.userdata)
        with self._lock:  # the Whoosh handle is shared with the searches
            if self.library.exists and not self.library.outdated:
                sync.remember_arrived(self.userdata, self.library)
        return report

    def sync_folder_state(self) -> tuple | None:
        """What the sync folder's logs look like (names, sizes, times), None when there is no
        folder or it cannot be read: cheap enough for every poll, so that changes another
        machine's sync tool copies in are applied within seconds, not at the next minute."""
        from papers.index import sync

        try:
            folder = sync.sync_dir(self.home)
            if folder is None:
                return None
            found = []
            for path in sync.logs(folder):
                st = path.stat()
                found.append((path.name, st.st_size, st.st_mtime_ns))
        except (PapersError, OSError):  # the sync itself says why, once
            return None
        return tuple(found)

    # -- queries ------------------------------------------------------------------------

    def prepare(self) -> None:
        """Ready the library to score as the user types (numpy and the find cache, ~0.2 s
        at 100k papers): run in a worker once the first listing is shown."""
        # A head start only: every search can do without it.
        with self._lock, suppress(Exception):
            self.library.prepare()

    def listing(self, view: View, query: str, sort: str, *,
                first: int | None = None, cancelled=None) -> Listing:
        """Run a view + query; errors become `Listing.error`, never exceptions (but
        SearchCancelled, when `cancelled()` turned true while it ran).

        `first=N` asks for the first N papers only and no "did you mean": the quick first
        pass the reader draws while the full list is still being counted.
        """
        started = time.perf_counter()
        self._generation += 1
        out = Listing(view, query, sort, generation=self._generation, _lock=self._lock)
        try:
            with self._lock:
                if not self.library.exists:
                    out.error = "no library yet"
                    return out
                out.results = scope_search(self.library, self.userdata,
                                           Scope(view, query, sort), limit=first,
                                           suggest=first is None, cancelled=cancelled,
                                           today=self.today())
                out.partial = first is not None and len(out.results) >= first
                out._rows = self._rows_of(out.results)
        except Untaught as exc:  # not an error: an empty list that says what to do
            out.untaught = str(exc)
        except (LibraryError, QueryError, UserDataError, ValueError) as exc:
            out.error = str(exc)
            if isinstance(exc, Unavailable):
                out.unavailable = exc
        out.elapsed = time.perf_counter() - started
        return out

    def _rows_of(self, results: Results) -> OrderedDict:
        """The rows read so far from the searcher `results` came from, by docnum. Every
        keystroke's listing (and its first page's) shows mostly papers the one before it
        showed, and a row read from the index costs half a millisecond: 30 rows a frame.
        A docnum means the same paper only to the same searcher: a new one starts afresh."""
        searcher = getattr(results, "_searcher", None)
        if searcher is None:
            return OrderedDict()
        if self._rows[0] is not searcher:
            self._rows = (searcher, OrderedDict())
        return self._rows[1]

    # -- single papers ------------------------------------------------------------------

    def get(self, paper_id: str) -> Paper | None:
        with self._lock:
            try:
                return self.library.get(paper_id)
            except LibraryError:
                return None

    def similar(self, paper_id: str, top: int = 5, cancelled=None) -> list[Paper] | None:
        """Papers like this one, from a library handle of their own: the detail pane asks
        while the user types, and a search must not wait for it. None when `cancelled()`
        turned true first."""
        with self._similar_lock:
            try:
                found = self._similar_library.more_like(paper_id, top=top, cancelled=cancelled)
            except SearchCancelled:
                return None
            except LibraryError:
                return []
            return [h.paper for h in found]

    def select(self, scope: Scope) -> Selection:
        """The papers of `scope` with the user's marks, as `papers export` selects them."""
        with self._lock:
            return scope_select(self.library, self.userdata, scope, today=self.today())

    def why(self, scope: Scope, paper_id: str) -> tuple[str, ...]:
        """Why the scope's taste ranks the paper (a few terms, "like <a starred title>");
        empty when the scope ranks by no taste. The taste is learned once per change to
        the marks, so this is cheap enough for every paper the cursor rests on."""
        with self._lock:
            try:
                if not self.library.exists:
                    return ()
                return tuple(r.text for r in scope_why(self.library, self.userdata, scope,
                                                         paper_id))
            except (LibraryError, QueryError, UserDataError, ValueError):
                return ()

    # -- changes the reader's keys make (run in a worker; each says what it did) ---------

    # Toggles are decided when written, not when the key is pressed: a second `s` pressed
    # before the first is written unstars. Each change snapshots its paper in its own
    # transaction (`remember`), so the mark shows with its title if the paper leaves.

    def toggle_star(self, paper: Paper) -> str:
        if paper.id in self.userdata.starred_ids():
            self.userdata.unstar([paper.id], remember=[paper])
            return "Unstarred " + _short(paper.title)
        self.userdata.star([paper.id], remember=[paper])
        return "Starred " + _short(paper.title)

    def toggle_read(self, paper: Paper) -> str:
        if paper.id in self.userdata.read_ids():
            self.userdata.mark_unread([paper.id], remember=[paper])
            return "Marked unread: " + _short(paper.title)
        self.userdata.mark_read([paper.id], remember=[paper])
        return "Marked read: " + _short(paper.title)

    def opened(self, paper: Paper) -> None:
        """Opening a paper marks it read, without a word."""
        self.userdata.mark_read([paper.id], remember=[paper])

    def set_tags(self, paper: Paper, tags: list[str]) -> str:
        # One command for the whole edit, so `u` undoes it in one step.
        self.userdata.set_tags(paper.id, tags, remember=[paper])
        return "Tags: " + (" ".join(tags) or "none")

    def set_note(self, paper: Paper, text: str) -> str:
        self.userdata.set_note(paper.id, text, remember=[paper])
        return "Note saved." if text.strip() else "Note removed."

    def toggle_skip(self, paper: Paper) -> str:
        """Not interested (`x`): the paper leaves For you and New; again, it comes back."""
        if paper.id in self.userdata.skipped_ids():
            self.userdata.unskip([paper.id], remember=[paper])
            return "Interested again: " + _short(paper.title)
        self.userdata.skip([paper.id], remember=[paper])
        return "Not interested: " + _short(paper.title) + " (u undoes it)"

    def snooze(self, paper: Paper, until: date) -> str:
        self.userdata.snooze([paper.id], until, remember=[paper])
        return f"Snoozed until {until:%a} {until.isoformat()}: " + _short(paper.title)

    def mark_seen(self, view: View, at: str | None = None) -> None:
        """The reader looked at `view` (at `at`, ISO UTC; default now): its "N new" starts
        again from then. Local bookkeeping, so the data version stays (nothing to sync,
        nothing for other readers to reload)."""
        self.userdata.mark_seen(view.query, at)

    def save_search(self, name: str, query: str) -> str:
        self.userdata.save_search(name, query)
        return f"Saved the search {name!r}."

    def mark_read_above(self, papers: list[Paper]) -> str:
        """Every paper above the cursor read, in one change that one `u` undoes."""
        change = self.userdata.mark_read([p.id for p in papers], remember=papers)
        return (f"Marked {len(change.changed)} papers above read"
                + (f" ({len(change.unchanged)} already were)" if change.unchanged else "")
                + "; u undoes it.")

    def undo(self) -> str:
        said = self.userdata.undo()
        if not said:
            return "Nothing to undo."
        said = _ID.sub(lambda m: self._title_of(m.group(0)), said)
        return said[:1].upper() + said[1:]

    def _title_of(self, paper_id: str) -> str:
        """A paper named by its title in what the reader says, not by its id."""
        paper = self.get(paper_id)
        if paper is None:
            with suppress(UserDataError):
                paper = self.userdata.remembered(paper_id)
        return f"“{_short(paper.title, 50)}”" if paper is not None else paper_id

    # -- counts -------------------------------------------------------------------------

    def check_sources(self) -> list[tuple[str, str]]:
        """The registered sources that are missing (`missing`, or `empty` where they had
        digests: taken for unmounted), read from the disk now; kept for `counts`."""
        with self._lock:
            known = list(self.library.manifest().files)
        self.missing_sources = [(str(path), state) for path, state in source_status(
            self.home, known) if state != "ok"]
        return self.missing_sources

    def problems(self) -> list[Problem]:
        """What is wrong that the user can fix: the missing sources, then every problem
        of a digest file the manifest remembers, by file and line."""
        with self._lock:
            found = self.library.manifest().problems
        why = {"missing": "the source is missing (gone or unreadable): its papers are kept",
               "empty": "the source is empty where it had digests (unmounted?): its papers "
                        "are kept"}
        out = [Problem(path, 0, why.get(state, state)) for path, state in self.missing_sources]
        if self.userdata.read_only:
            out.insert(0, Problem(str(self.userdata.path), 0,
                                  f"{self.userdata.read_only}: reads work, changes are not "
                                  "saved"))
        for path in sorted(found):
            out.extend(Problem(path, line, message) for line, message in found[path])
        return out

    def counts(self) -> Counts:
        with self._lock:
            total = self.library.count() if self.library.exists else 0
            manifest = self.library.manifest()
        files = manifest.files
        present: set[str] = set()
        digests = []
        months: dict[str, set[str]] = {}
        days = Counter(rec.date for rec in files.values())
        gone = tuple(path.rstrip(os.sep) for path, _ in self.missing_sources)
        unreachable = set()
        for path, rec in files.items():
            present.update(rec.papers)
            view = digest_view(path, rec.date, days[rec.date])
            if any(path == g or path.startswith(g + os.sep) for g in gone):
                unreachable.add(view)
            digests.append((view, len(rec.papers), rec.date or ""))
            if rec.date:
                months.setdefault(rec.date[:7], set()).update(rec.papers)
        digests.sort(key=lambda d: d[2], reverse=True)
        saved = []
        for s in self.userdata.saved_searches():
            view = saved_view(s.name, s.query)
            saved.append((view, len(self.listing(view, "", "newest"))))
        tags = [(tag_view(t), n) for t, n in self.userdata.tags()]
        for_tags = {view: for_view(view.label[1:]) for view, _ in tags}
        today = self.today()
        with self._lock:
            rising = rising_view(manifest, today)
        seen = self.userdata.seen()
        # New, counted from the manifest's id sets: searched, thousands of new papers (a
        # first start, a big import) would cost seconds of id lookups in the index, with
        # the searches waiting on the lock. All's "N new" is the same number.
        since = seen_since(self.userdata, ALL)  # All and New: the later look at either
        news = manifest.added_since(since)
        if news:
            with self._lock:
                news -= hidden_ids(self.library, self.userdata, today)
        fresh = self._fresh([FOR_YOU, *for_tags.values(), *(v for v, _ in saved)], seen,
                            manifest, today)
        if since:
            fresh[ALL.query] = len(news)
        read_here = len(self.read & present) if present else len(self.read)
        return Counts(
            total=total,
            unread=max(0, total - read_here),
            starred=len(self.starred & present) if present else len(self.starred),
            tags=tags,
            saved=saved,
            digests=[(view, n) for view, n, _ in digests],
            months=[(month_view(m), len(months[m])) for m in sorted(months, reverse=True)],
            problems=sum(len(found) for found in manifest.problems.values()),
            unreachable=frozenset(unreachable),
            new=len(news),
            rising=(rising, len(self.listing(rising, "", "newest"))),
            for_tags=for_tags,
            fresh=fresh,
        )

    def _fresh(self, views: list[View], seen: dict[str, str], manifest,
               today: date) -> dict[str, int]:
        """The "N new" of the views looked at before. Each count is the view's search over
        the papers that came in since, so it costs what those few papers cost; past
        FRESH_LIMIT of them (a view not looked at since a big import) it would cost
        seconds with the searches waiting, and the view has no badge until opened."""
        out: dict[str, int] = {}
        for view in views:
            if view.query in seen and view.query not in out \
                    and len(manifest.added_since(seen[view.query])) <= FRESH_LIMIT:
                with self._lock, suppress(PapersError, ValueError):  # a bad saved query
                    out[view.query] = new_count(self.library, self.userdata, view, today)
        return out


_ID = re.compile(r"\b[0-9a-f]{12}\b")  # a paper id, as the undo log names papers


def _short(title: str, n: int = 60) -> str:
    from papers.tui.text import clean

    title = clean(title)
    return title if len(title) <= n else title[: n - 1] + "…"
