"""The reader: filter, list and detail panes over the library, with a search bar.

The app owns the workers and the user's actions; widgets only show what they are given
and post messages about what the user did. Every library read happens in a thread worker
(through `tui.store.Store`), except the few rows the list draws.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote_plus

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, ProgressBar
from textual.worker import get_current_worker

from papers.index.errors import LibraryBusy, LibraryError, UserDataError
from papers.index.export import render, write_atomic
from papers.index.ingest import ingest
from papers.index.library import SearchCancelled
from papers.index.models import Paper
from papers.index.scope import ALL, SORTS, Scope, View
from papers.index.sources import load_sources
from papers.index.userdata import EMPTY
from papers.tui.store import Counts, Listing, Store
from papers.tui.widgets.detail import DetailData, DetailPane
from papers.tui.widgets.filter_pane import FilterPane
from papers.tui.widgets.paper_list import Marks, PaperList
from papers.tui.widgets.search_bar import SearchBar

SIMILAR_AFTER_TYPING = 0.4  # seconds of no typing before similar papers are looked up
FIRST_PAGE = 60  # papers drawn by the quick first pass of a search: a tall screen
DETAIL_DEBOUNCE = 0.12  # the detail pane waits for the cursor to settle (key repeat)
POLL_EVERY = 2.0  # how often to look for changes made by other processes
INGEST_RETRY = 30.0  # when another process holds the ingest lock
NARROW = 110  # below this many columns the detail pane goes under the list
NARROW_FILTERS = 100  # below this many columns the filter pane starts hidden

# (action, key, description): the single source for the palette and the help screen.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("focus_search", "/", "Search: focus the search bar (Esc leaves it)"),
    ("toggle_filters", "\\", "Show or hide the filter pane"),
    ("cycle_sort", "o", "Sort by relevance, newest, upvotes, title"),
    ("open", "enter", "Open the paper (marks it read)"),
    ("star", "s", "Star or unstar the paper"),
    ("toggle_read", "r", "Mark the paper read or unread"),
    ("edit_tags", "t", "Edit the paper's tags"),
    ("edit_note", "n", "Edit the paper's note in $EDITOR"),
    ("open_link", "O", "Open the paper's link in the browser"),
    ("copy", "y", "Copy the title and link"),
    ("export", "e", "Export this view as a Markdown reading list"),
    ("save_search", "ctrl+s", "Save the current search"),
    ("undo", "u", "Undo the last change to your marks"),
    ("help", "?", "Show the keys"),
    ("quit", "q", "Quit"),
)
MOVES: tuple[tuple[str, str], ...] = (
    ("j / k, ↓ / ↑", "Next / previous paper"),
    ("g / G", "First / last paper"),
    ("PgUp / PgDn", "Page up / down"),
    ("tab / shift+tab", "Next / previous pane"),
    ("ctrl+p", "Command palette"),
    ("mouse", "Click a row to select it, double-click to open, wheel scrolls"),
)


def arxiv_search_url(title: str) -> str:
    return f"https://arxiv.org/search/?query={quote_plus(title)}&searchtype=title"


class PapersApp(App[str | None]):
    """`papers` with no command."""

    CSS_PATH = "app.tcss"
    TITLE = "papers"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("slash", "focus_search", "Search"),
        Binding("backslash", "toggle_filters", "Filters"),
        Binding("o", "cycle_sort", "Sort"),
        Binding("s", "star", "Star"),
        Binding("r", "toggle_read", "Read"),
        Binding("t", "edit_tags", "Tags"),
        Binding("n", "edit_note", "Note", show=False),
        Binding("O", "open_link", "Open link", show=False),
        Binding("y", "copy", "Copy", show=False),
        Binding("e", "export", "Export"),
        Binding("ctrl+s", "save_search", "Save search", show=False),
        Binding("u", "undo", "Undo", show=False),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, home: Path, *, export_dir: Path | None = None,
                 rescan: bool = True, title: str | None = None) -> None:
        super().__init__()
        self.home = Path(home)
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.rescan = rescan
        if title:
            self.sub_title = title
        self.store = Store(self.home)
        self.view: View = ALL
        self.query_text = ""
        self.sort = "relevance"
        self.listing = Listing()
        self.detail: DetailData | None = None
        self._want: tuple[View, str, str] | None = None
        self._keep: str | None = None
        self._searching = False
        self._typed_at = 0.0  # when the last search was asked for (monotonic)
        self._detail_timer: Timer | None = None
        self._detail_paper: str | None = None  # the paper last asked for in the detail pane
        self._asked: Counter[str] = Counter()  # requests made of each worker group
        self._seen: tuple[int, int] = (-2, -2)  # (index generation, user-data version)
        self.first_paint: float | None = None

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SearchBar(id="search-bar")
        with Horizontal(id="main"):
            yield FilterPane(id="filters")
            with Horizontal(id="reading"):
                yield PaperList(id="papers")
                yield DetailPane(id="detail")
        with Horizontal(id="status"):
            yield Label("", id="status-text")
            yield ProgressBar(id="progress", show_eta=False)
        yield Footer()

    @property
    def busy(self) -> bool:
        """A search is waiting or running, or the paper under the cursor is still to be
        loaded (`tui.pilot.settle` waits on this, then on the workers)."""
        return self._searching or self._detail_timer is not None

    @property
    def paper_list(self) -> PaperList:
        return self.query_one(PaperList)

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self._layout_for(self.size.width)
        if self.size.width < NARROW_FILTERS:
            # On a small terminal the list needs the room; `\` brings the filters back.
            self.query_one(FilterPane).display = False
        self.paper_list.focus()
        self._seen = (self.store.library_generation(), self.store.data_version())
        sources = load_sources(self.home)
        if not self.store.library.exists and not sources:
            from papers.tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
            return
        self.paper_list.set_marks(self._marks())
        self.request_search()
        self.refresh_counts()
        if sources and self.rescan:
            self.rescan_sources()
        self.set_interval(POLL_EVERY, self.poll_changes)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        self.query_one("#reading").set_class(width < NARROW, "-narrow")

    # -- searching ----------------------------------------------------------------------

    def request_search(self, *, keep: str | None = None) -> None:
        """Ask for the listing of the current view, query and sort.

        No debounce: a search starts at once when none is running, and keys typed while one
        runs coalesce into the one search that follows it (searches take milliseconds).
        """
        self._want = (self.view, self.query_text, self.sort)
        self._typed_at = time.monotonic()
        row = self.paper_list.current
        self._keep = keep or (row.id if row else None)
        self._start_search()

    def _start_search(self) -> None:
        if self._searching or self._want is None:
            return
        self._searching = True
        self.search_bar.show_status(len(self.listing), busy=True)
        self._search(*self._want)

    @work(thread=True, group="search")
    def _search(self, view: View, query: str, sort: str) -> None:
        # Two passes: the first page is drawn at once (Whoosh skips most of the scoring
        # for a top-N), then the whole list replaces it unless the user typed on.
        want = (view, query, sort)

        def typed_on() -> bool:
            return self._want != want

        listing = None
        try:
            listing = self.store.listing(view, query, sort, first=FIRST_PAGE,
                                         cancelled=typed_on)
            if not listing.error and (listing.partial or (query and not len(listing))):
                if listing.partial:
                    self._deliver(self._show_listing, listing)
                listing = self.store.listing(view, query, sort, cancelled=typed_on)
        except SearchCancelled:
            pass  # a newer query is waiting: _searched starts it
        except Exception as exc:  # never let a worker die silently with the flag set
            listing = Listing(view, query, sort, error=f"search failed: {exc}")
        self._deliver(self._searched, listing)

    def _ask(self, group: str) -> tuple[str, int]:
        """Number a new request of a worker group, on the UI thread in the order made."""
        self._asked[group] += 1
        return group, self._asked[group]

    def _deliver(self, callback: Callable[..., object], *args: object,
                 answering: tuple[str, int] | None = None, **kwargs: object) -> None:
        """Hand a worker's answer to the UI thread, where widgets may be touched.

        While the app closes, its widgets are taken down before its workers are stopped: an
        answer that arrives then is dropped, or it would fail after the user quit.

        Cancelling a worker only asks it to stop: one already past its last check still
        answers, possibly after the worker that replaced it. An answer to the request
        `answering` (from `_ask`) is dropped once a newer request has been made.
        """

        def if_current() -> None:
            if not self.is_running:
                return
            if answering is not None and self._asked[answering[0]] != answering[1]:
                return
            callback(*args, **kwargs)

        self.call_from_thread(if_current)

    def _searched(self, listing: Listing | None) -> None:
        """A search ended: show it (None: it was cancelled) and start the newest one."""
        self._searching = False
        if listing is not None:
            self._show_listing(listing)
        if listing is None or (listing.view, listing.query, listing.sort) != self._want:
            self._start_search()

    def _show_listing(self, listing: Listing) -> None:
        latest = (listing.view, listing.query, listing.sort) == self._want
        bar = self.search_bar
        if listing.error:
            # Keep the old rows: a half-typed query should not blank the list.
            bar.show_status(None, error=listing.error)
            if not len(self.listing):
                self.paper_list.empty_message = listing.error
                self.paper_list.refresh()
        else:
            self.listing = listing
            plist = self.paper_list
            plist.empty_message = self._empty_message(listing)
            plist.show_listing(listing, keep=self._keep)
            bar.show_status(len(listing), suggestion=listing.suggestion,
                            busy=listing.partial or not latest, more=listing.partial)
            self._show_status()
            if not len(listing):
                self._load_detail(None)

    def _empty_message(self, listing: Listing) -> str:
        if listing.query:
            hint = f' Did you mean "{listing.suggestion}"?' if listing.suggestion else ""
            return f"Nothing matches this search.{hint}"
        if not self.store.library.exists:
            return "The library is empty: add digests with `papers add PATH`."
        return "No papers in this view."

    def _show_status(self) -> None:
        sort = self.sort
        if sort == "relevance" and not self.listing.query and self.view.kind != "saved":
            sort = "newest"
        text = f"{self.view.label} · {len(self.listing):,} papers · sort: {sort}"
        self.query_one("#status-text", Label).update(text)

    @on(SearchBar.Changed)
    def _query_changed(self, event: SearchBar.Changed) -> None:
        self.query_text = event.query
        self.request_search()

    @on(SearchBar.Done)
    def _search_done(self) -> None:
        self.paper_list.focus()

    @on(FilterPane.ViewSelected)
    def _view_selected(self, event: FilterPane.ViewSelected) -> None:
        self.view = event.view
        self.request_search()

    # -- the paper under the cursor -----------------------------------------------------

    @on(PaperList.Highlighted)
    def _highlighted(self, event: PaperList.Highlighted) -> None:
        if self._detail_timer is not None:
            self._detail_timer.stop()
        pid = event.paper_id
        if event.kept and self._detail_paper is not None:
            # A new listing (a search, a change made elsewhere) left the cursor on its
            # paper: reload what the detail pane shows, which may be a similar paper the
            # reader opened, rather than pulling it back to the list's cursor.
            pid = self._detail_paper

        def load() -> None:
            self._detail_timer = None
            self._load_detail(pid)

        self._detail_timer = self.set_timer(DETAIL_DEBOUNCE, load)

    @on(PaperList.Opened)
    def _opened(self, event: PaperList.Opened) -> None:
        self.open_paper(event.paper_id)

    @on(DetailPane.OpenPaper)
    def _open_similar(self, event: DetailPane.OpenPaper) -> None:
        self.open_paper(event.paper_id)

    def open_paper(self, paper_id: str) -> None:
        paper = self.store.get(paper_id)
        if paper is None:
            self.notify("That paper is no longer in the library.", severity="warning")
            return
        if paper_id not in self.store.read:
            self._change(lambda ud: ud.mark_read([paper_id]), paper)
        self._load_detail(paper_id)

    def _load_detail(self, paper_id: str | None, *, similar_again: bool = False) -> None:
        """Show a paper in the detail pane, then its similar papers. Showing the same paper
        again (new highlights, a star) keeps the similar papers it has, and looks them up
        again only when asked to (the library changed)."""
        asked = self._ask("detail")
        self._detail_paper = paper_id
        if paper_id is None:
            self.detail = None
            self.query_one(DetailPane).show(None)
            return
        same = self.detail is not None and self.detail.paper.id == paper_id
        known = self.detail.similar if same else ()
        self._detail_worker(asked, paper_id, self.listing.terms, known,
                            similar_again or not known)

    @work(thread=True, exclusive=True, group="detail")
    def _detail_worker(self, asked: tuple[str, int], paper_id: str, terms: frozenset[str],
                       known: tuple[Paper, ...], look: bool) -> None:
        paper = self.store.get(paper_id)
        if paper is None:
            self._deliver(self._detail_gone, paper_id, answering=asked)
            return
        try:
            state = self.store.userdata.state(paper_id)
        except UserDataError:
            state = EMPTY
        if get_current_worker().is_cancelled:
            return
        data = DetailData(paper, state, terms, known)
        self._deliver(self._show_detail, data, answering=asked)
        if not look:
            return
        # Similar papers are a pass over the index that would compete with searches for
        # the one CPU Python gives us: they wait for the typing to pause, and give way to
        # the next key.
        worker = get_current_worker()

        def typing() -> bool:
            return time.monotonic() - self._typed_at < SIMILAR_AFTER_TYPING

        found = None
        while found is None:  # None: the lookup gave way to a key; try again at the pause
            while typing() or self._searching:
                if worker.is_cancelled:
                    return
                time.sleep(0.05)
            found = self.store.similar(paper_id,
                                       cancelled=lambda: worker.is_cancelled or typing())
            if worker.is_cancelled:
                return
        similar = tuple(p for p in found if p.id != paper_id)
        if similar:
            self._deliver(self._show_similar, DetailData(paper, state, terms, similar),
                          answering=asked)

    def _detail_gone(self, paper_id: str) -> None:
        """The paper asked for left the library (a re-index elsewhere): show the list's."""
        row = self.paper_list.current
        if row is not None and row.id != paper_id:
            self._load_detail(row.id)

    def _show_detail(self, data: DetailData) -> None:
        self.detail = data
        self.query_one(DetailPane).show(data)

    def _show_similar(self, data: DetailData) -> None:
        self.detail = data
        self.query_one(DetailPane).show_similar(data)

    def current_paper_id(self) -> str | None:
        """The paper the keys act on: the one in the detail pane when it has focus."""
        focused = self.focused
        if self.detail is not None and focused is not None and (
                focused is self.query_one(DetailPane)
                or self.query_one(DetailPane) in focused.ancestors):
            return self.detail.paper.id
        row = self.paper_list.current
        return row.id if row else None

    # -- user data ----------------------------------------------------------------------

    def _marks(self) -> Marks:
        return Marks(frozenset(self.store.starred), frozenset(self.store.read))

    def _change(self, do, *papers) -> bool:
        """Apply one user-data change, remember the papers, and show it everywhere."""
        try:
            do(self.store.userdata)
            self.store.userdata.remember(*[p for p in papers if p is not None])
            self.store.reload_marks()
        except (UserDataError, ValueError) as exc:
            self.notify(str(exc), severity="error", markup=False)
            return False
        self._seen = (self._seen[0], self.store.data_version())
        self._ask("poll")  # a poll that read the store before this change would undo _seen
        self.paper_list.set_marks(self._marks())
        if self._detail_paper is not None:
            self._load_detail(self._detail_paper)
        self.refresh_counts()
        return True

    def _target(self):
        pid = self.current_paper_id()
        if pid is None:
            self.notify("No paper selected.", severity="warning")
            return None
        return self.store.get(pid)

    def action_open(self) -> None:
        pid = self.current_paper_id()
        if pid:
            self.open_paper(pid)

    def action_star(self) -> None:
        paper = self._target()
        if paper is None:
            return
        starred = paper.id in self.store.starred
        verb = (lambda ud: ud.unstar([paper.id])) if starred else (lambda ud: ud.star([paper.id]))
        if self._change(verb, paper):
            self.notify(("Unstarred " if starred else "Starred ") + _short(paper.title),
                        markup=False, timeout=2)

    def action_toggle_read(self) -> None:
        paper = self._target()
        if paper is None:
            return
        read = paper.id in self.store.read
        verb = (lambda ud: ud.mark_unread([paper.id])) if read else (
            lambda ud: ud.mark_read([paper.id]))
        if self._change(verb, paper):
            self.notify(("Marked unread: " if read else "Marked read: ") + _short(paper.title),
                        markup=False, timeout=2)

    def action_undo(self) -> None:
        try:
            said = self.store.userdata.undo()
        except UserDataError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._change(lambda ud: None)
        self.notify(said.capitalize() if said else "Nothing to undo.", markup=False)

    def action_edit_tags(self) -> None:
        paper = self._target()
        if paper is None:
            return
        from papers.tui.screens.tags import TagsScreen

        current = list(self.store.userdata.state(paper.id).tags)
        known = [t for t, _ in self.store.userdata.tags()]

        def done(tags: list[str] | None) -> None:
            if tags is None:
                return
            if [t.casefold() for t in tags] == [t.casefold() for t in current]:
                return
            # set_tags: the whole edit is one command, so `u` undoes it in one step.
            if self._change(lambda ud: ud.set_tags(paper.id, tags), paper):
                self.notify("Tags: " + (" ".join(tags) or "none"), markup=False, timeout=2)

        self.push_screen(TagsScreen(paper.title, current, known), done)

    def action_edit_note(self) -> None:
        paper = self._target()
        if paper is None:
            return
        old = self.store.userdata.state(paper.id).note or ""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w+", suffix=".md", prefix="papers-note-",
                                         delete=False, encoding="utf-8") as f:
            f.write(old)
            path = Path(f.name)
        try:
            try:
                with self.suspend():
                    subprocess.run([*shlex.split(editor), str(path)], check=False)
            except Exception as exc:  # no terminal to hand over (headless) or no editor
                self.notify(f"Cannot run the editor ({editor}): {exc}", severity="error",
                            markup=False)
                return
            text = path.read_text("utf-8")
        finally:
            path.unlink(missing_ok=True)
        if text.strip() != old.strip() and self._change(
                lambda ud: ud.set_note(paper.id, text), paper):
            self.notify("Note saved." if text.strip() else "Note removed.", timeout=2)

    def action_open_link(self) -> None:
        paper = self._target()
        if paper is None:
            return
        url = paper.links[0] if paper.links else arxiv_search_url(paper.title)
        self.open_url(url)
        self.notify(f"Opening {url}", markup=False, timeout=2)

    def action_copy(self) -> None:
        paper = self._target()
        if paper is None:
            return
        url = paper.links[0] if paper.links else arxiv_search_url(paper.title)
        self.copy_to_clipboard(f"{paper.title} {url}")
        self.notify("Copied the title and link.", timeout=2)

    def action_save_search(self) -> None:
        query = self.query_for_view()
        if not query:
            self.notify("Type a search or pick a view first: there is nothing to save.",
                        severity="warning")
            return
        from papers.tui.screens.save_search import SaveSearchScreen

        def done(name: str | None) -> None:
            if name and self._change(lambda ud: ud.save_search(name, query)):
                self.notify(f"Saved the search {name!r}.", markup=False, timeout=2)

        self.push_screen(SaveSearchScreen(query), done)

    def query_for_view(self) -> str:
        """The current view and query in the query language, as far as it can say it."""
        return Scope(self.view, self.query_text).query

    # -- export -------------------------------------------------------------------------

    def action_export(self) -> None:
        if not len(self.listing):
            self.notify("Nothing to export: this view is empty.", severity="warning")
            return
        stamp = date.today().isoformat()
        slug = "".join(c if c.isalnum() else "-" for c in self.view.label.lower()).strip("-")
        path = self.export_dir / f"papers-{slug or 'view'}-{stamp}.md"
        self._export(self.listing, path)

    @work(thread=True, group="export")
    def _export(self, listing: Listing, path: Path) -> None:
        try:
            items = self.store.export_items(listing)
            text = render(items, "markdown", query=self.query_for_view() or None)
            write_atomic(path, text)
        except (OSError, LibraryError, UserDataError, ValueError) as exc:
            self._deliver(self.notify, f"Export failed: {exc}", severity="error",
                          markup=False)
            return
        self._deliver(self.notify, f"Exported {len(items)} papers to {path}", markup=False)
        self.last_export = path

    # -- filters, counts and sorting ----------------------------------------------------

    def action_toggle_filters(self) -> None:
        pane = self.query_one(FilterPane)
        pane.display = not pane.display
        if not pane.display and pane.has_focus:
            self.paper_list.focus()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self.notify(f"Sort: {self.sort}", timeout=1.5)
        self.request_search()

    def action_focus_search(self) -> None:
        self.search_bar.input.focus()

    def action_help(self) -> None:
        from papers.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen(ACTIONS, MOVES))

    def refresh_counts(self) -> None:
        self._count(self._ask("counts"))

    @work(thread=True, exclusive=True, group="counts")
    def _count(self, asked: tuple[str, int]) -> None:
        try:
            counts = self.store.counts()
        except (LibraryError, UserDataError):
            return
        if not get_current_worker().is_cancelled:
            self._deliver(self._show_counts, counts, answering=asked)

    def _show_counts(self, counts: Counts) -> None:
        self.query_one(FilterPane).update_counts(counts)

    # -- other processes ----------------------------------------------------------------

    def poll_changes(self) -> None:
        self._poll(self._ask("poll"))

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self, asked: tuple[str, int]) -> None:
        seen = (self.store.library_generation(), self.store.data_version())
        if seen != self._seen:
            self._deliver(self._changed_elsewhere, seen, answering=asked)

    def _changed_elsewhere(self, seen: tuple[int, int]) -> None:
        if seen == self._seen:
            return  # already shown: the poll noticed the re-scan's change first
        library_changed = seen[0] != self._seen[0]
        self._seen = seen
        if library_changed:
            self.store.reopen()
        self.store.reload_marks()
        self.paper_list.set_marks(self._marks())
        self.request_search()
        self.refresh_counts()
        if self._detail_paper is not None:
            self._load_detail(self._detail_paper, similar_again=library_changed)

    @work(thread=True, exclusive=True, group="ingest")
    def rescan_sources(self) -> None:
        """Read new or changed digests; procs=1 because forking a threaded app can hang."""
        sources = load_sources(self.home)
        if not sources:
            return

        def progress(stage: str, done: int, total: int) -> None:
            self._deliver(self._progress, stage, done, total)

        try:
            report = ingest(self.home, sources, procs=1, lock_timeout=0.5, progress=progress)
        except LibraryBusy:
            self._deliver(self._ingest_busy)
            return
        except (LibraryError, OSError) as exc:
            self._deliver(self._progress_done, f"Re-scan failed: {exc}", True)
            return
        message = report.summary() if report.changed else None
        self._deliver(self._progress_done, message, False)
        if report.changed:
            self._deliver(self._changed_elsewhere,
                          (self.store.library_generation(), self.store.data_version()))

    def _progress(self, stage: str, done: int, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        self.query_one("#status-text", Label).update(f"{stage} {done}/{total}")

    def _progress_done(self, message: str | None, error: bool) -> None:
        self.query_one("#progress").display = False
        self._show_status()
        if message:
            self.notify(message, severity="error" if error else "information", markup=False)

    def _ingest_busy(self) -> None:
        self._progress_done(None, False)
        self.notify("Another papers process is indexing; the reader will look again soon.",
                    timeout=3)
        self.set_timer(INGEST_RETRY, self.rescan_sources)

    # -- command palette ----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for action, key, help_text in ACTIONS:
            if action == "quit":
                continue
            title = help_text.split(":")[0].split(" (")[0]
            yield SystemCommand(title, f"{help_text} (key {key})",
                                lambda a=action: self.run_action(a))

    def on_unmount(self) -> None:
        self.store.close()


def _short(title: str, n: int = 60) -> str:
    from papers.tui.text import clean

    title = clean(title)
    return title if len(title) <= n else title[: n - 1] + "…"
