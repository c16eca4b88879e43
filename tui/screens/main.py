"""The reader's screen: filter, list and detail panes over the library, with a search bar.

The screen owns the reading: what is searched and shown, and the keys that act on papers.
Widgets only show what they are given and post messages about what the user did. Every
library read and every user-data write runs in a thread worker (through `tui.store.Store`),
except the few rows the list draws; each worker answers with a message (`tui.messages`).
"""

from __future__ import annotations

import gc
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
import webbrowser
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Label, ProgressBar
from textual.worker import get_current_worker

from papers.index.errors import PapersError, UserDataError
from papers.index.export import render, write_atomic
from papers.index.library import SearchCancelled
from papers.index.models import Paper
from papers.index.scope import ALL, FOR_YOU, NEW, SORTS, STARRED, UNREAD, Scope, View, order
from papers.index.userdata import EMPTY
from papers.tui.messages import (
    CountsReady,
    DataChanged,
    DetailReady,
    ExportDone,
    Failed,
    ListingReady,
    Requests,
    SimilarReady,
    ViewSeen,
)
from papers.tui.notefile import note_file_prefix, note_from_edit, note_template
from papers.tui.screens.palette import ActionCommands, ViewCommands
from papers.tui.store import Counts, Listing, Store
from papers.tui.widgets.detail import DetailData, DetailPane
from papers.tui.widgets.filter_pane import FilterPane
from papers.tui.widgets.paper_list import Marks, PaperList
from papers.tui.widgets.search_bar import SearchBar
from papers.tui.widgets.steady_label import SteadyLabel
from papers.tui.widgets.view_picker import ViewPicker

SIMILAR_AFTER_TYPING = 0.4  # seconds of no typing before similar papers are looked up
SUGGEST_AFTER_TYPING = 0.3  # ... and before "did you mean" is looked for (see `_search`)
FIRST_PAGE = 60  # papers drawn by the quick first pass of a search: a tall screen
DETAIL_DEBOUNCE = 0.12  # the detail pane waits for the cursor to settle (key repeat)
# ... and for a pause in the typing: drawn between two keys it would hold up the next one.
DETAIL_AFTER_TYPING = 0.3
# How long the whole list waits for the first page to be drawn (see `_search`).
FIRST_PAGE_DRAWN = 0.25
COMPACT_AFTER = 2.0  # seconds of no typing before the heap is collected whole (`_compact_heap`)
# Below this many columns the detail pane goes under the list: beside it, a list narrower
# than ~95 columns shows too little of a Daily Papers title (80-120 characters).
NARROW = 140
NARROW_FILTERS = 100  # below this many columns the filter pane starts hidden

# (action, key, description): the single source for the palette and the help screen.
ACTIONS: tuple[tuple[str, str, str], ...] = (
    ("focus_search", "/", "Search: focus the search bar (Esc leaves it)"),
    ("toggle_filters", "\\", "Show or hide the filter pane"),
    ("choose_view", "v", "Pick a view: the filter pane, or its one-line picker on a narrow screen"),
    ("cycle_sort", "o", "Sort by " + ", ".join(SORTS)),
    ("open", "enter", "Open the paper (marks it read)"),
    ("star", "s", "Star or unstar the paper"),
    ("toggle_read", "r", "Mark the paper read or unread"),
    ("skip", "x", "Not interested: it leaves For you and New (x again: back)"),
    ("snooze", "z", "Snooze: it leaves For you and New until a day you pick"),
    ("edit_tags", "t", "Edit the paper's tags"),
    ("edit_note", "n", "Edit the paper's note in $EDITOR"),
    ("open_link", "O", "Open the paper's page (arXiv) in the browser"),
    ("open_pdf", "p", "Open the paper's PDF in the browser"),
    ("open_code", "c", "Open the paper's code on GitHub in the browser"),
    ("authors", "a", "Show all the authors, or the first few again"),
    ("copy", "y", "Copy the title and link"),
    ("export", "e", "Export this view as a Markdown reading list"),
    ("fetch", "F", "Fetch today's and yesterday's Daily Papers from Hugging Face now"),
    ("save_search", "ctrl+s", "Save the current search"),
    ("undo", "u", "Undo the last change to your marks"),
    ("read_next", "space", "Mark the paper read and go to the next"),
    ("next_unread", "N", "Go to the next unread paper"),
    ("read_above", "A", "Mark every paper above the cursor read (one undoable change)"),
    ("back", "backspace", "Back to the paper shown before a similar paper was opened"),
    ("problems", "!", "List the problems: missing sources, digest files not read whole"),
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

_FOR = re.compile(r"(?<![^\s(])for:", re.IGNORECASE)  # a taste typed in the query

# A user-data change (a `Store` method), run in a worker: it writes and says what it did.
Write = Callable[[], "str | None"]


def export_name(scope: Scope, today: date) -> str:
    """`papers-<view>-<query>-<day>.md`: another query gets another file."""
    slug = "".join(c if c.isalnum() else "-" for c in scope.query.casefold())
    slug = "-".join(part for part in slug.split("-") if part)[:60].strip("-")
    return f"papers-{slug or 'all'}-{today.isoformat()}.md"


def _now() -> str:
    """Now as `UserData.mark_seen` takes it: ISO UTC to the microsecond."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def ranks_by_taste(view: View, text: str, sort: str) -> bool:
    """The list is ranked by a taste: the foryou sort, a For-you view, `for:x` typed."""
    return (order(Scope(view, text, sort)) == "foryou"
            or (sort == "relevance" and _FOR.search(text) is not None))


def browser_can_start() -> bool:
    """Whether `webbrowser` finds a browser to run. Textual's `open_url` cannot say: on a
    machine without one (over SSH, in a container) it does nothing, silently."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


class ReaderScreen(Screen[None]):
    """The library, searched and read."""

    COMMANDS: ClassVar = {ActionCommands, ViewCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit"),  # the app's own, listed here to lead the footer
        # A priority binding: it moves the focus before the keys that follow it are handed
        # to a widget, so `/quant` typed or pasted at once is all a query (never `q`uit).
        Binding("slash", "focus_search", "Search", priority=True),
        Binding("backslash", "toggle_filters", "Filters"),
        Binding("v", "choose_view", "View", show=False),
        Binding("o", "cycle_sort", "Sort"),
        Binding("s", "star", "Star"),
        Binding("r", "toggle_read", "Read"),
        Binding("x", "skip", "Not interested"),
        Binding("z", "snooze", "Snooze", show=False),
        Binding("t", "edit_tags", "Tags"),
        Binding("n", "edit_note", "Note", show=False),
        Binding("O", "open_link", "Open", show=False),
        Binding("p", "open_pdf", "PDF"),
        Binding("c", "open_code", "Code"),
        Binding("a", "authors", "Authors", show=False),
        Binding("y", "copy", "Copy", show=False),
        Binding("e", "export", "Export"),
        Binding("F", "fetch", "Fetch", show=False),
        Binding("ctrl+s", "save_search", "Save search", show=False),
        Binding("u", "undo", "Undo", show=False),
        Binding("backspace", "back", "Back"),
        Binding("space", "read_next", "Read+next"),
        Binding("N", "next_unread", "Next unread", show=False),
        Binding("A", "read_above", "Read above", show=False),
        Binding("exclamation_mark", "problems", "Problems", show=False),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, store: Store, *, export_dir: Path) -> None:
        super().__init__()
        self.store = store
        self.export_dir = export_dir
        self.view: View = ALL
        self.query_text = ""
        self.sort = "relevance"
        self.listing = Listing()
        self.detail: DetailData | None = None
        self.last_export: Path | None = None
        self.requests = Requests()
        # Searches run one at a time; keys typed meanwhile coalesce into the next one.
        self._want: tuple[int, View, str, str] | None = None
        self._keep: str | tuple[str, ...] | None = None
        self._searching = False
        # A search's answer was just shown: its frame is drawn at the next idle (`_on_idle`),
        # and then these run (the whole list waits for its first page's frame).
        self._draw_now = False
        self._after_draw: list[Callable[[], None]] = []
        self._typed_at = 0.0  # when the last search was asked for (monotonic)
        self._keyed_at = 0.0  # when the query was last edited (monotonic)
        # Set once the frame that draws a search's first page is on screen.
        self._page_drawn = threading.Event()
        self._typed = threading.Event()  # set by each search asked for (`request_search`)
        self._prepared = False  # the store readied for typing (after the first listing)
        # The kinds of listing shown since the heap was last set aside (`_freeze_heap`).
        self._frozen_for: set[tuple[bool, str]] = set()
        self._compact_timer: Timer | None = None
        self._detail_timer: Timer | None = None
        self._detail_paper: str | None = None  # the paper last asked for in the detail pane
        self._detail_asked: tuple | None = None  # and with what: (paper, terms, taste)
        # A paper opened from the detail pane, with the list's paper it was opened over.
        self._elsewhere: tuple[str, str] | None = None
        # The paper waiting for its similar papers, and the pause in the typing they wait for.
        self._similar_for: tuple[int, DetailData] | None = None
        self._similar_timer: Timer | None = None
        self.counts: Counts | None = None  # the latest, for the palette's views
        self._history: list[str] = []  # papers shown before a similar paper was opened
        self._writes: deque[tuple[int, Write]] = deque()  # written in order, one at a time
        # Writes after which the list is searched again: a paper set aside (x, z) or brought
        # back (u) leaves or rejoins For you and New at once.
        self._refilter: set[int] = set()
        self._writing = False
        self._narrow_filters: bool | None = None
        self._opened_at = _now()  # when the view shown was opened (ISO UTC)

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield SearchBar(id="search-bar")
        with Horizontal(id="main"):
            yield FilterPane(id="filters")
            with Horizontal(id="reading"):
                with Vertical(id="list-box"):
                    yield ViewPicker(id="view-picker")
                    yield SteadyLabel("", id="list-header")
                    yield PaperList(id="papers")
                yield DetailPane(id="detail")
        # The status line sits on the footer: two docks at one edge would overlap.
        with Vertical(id="bottom"):
            with Horizontal(id="status"):
                yield SteadyLabel("", id="status-text")
                yield Label("", id="alerts")
                yield ProgressBar(id="progress", show_eta=False)
            yield Footer()

    @property
    def busy(self) -> bool:
        """Something asked for has not been shown yet: a search, the paper under the cursor,
        its similar papers, the counts or a change to the user data (`tui.pilot.settle`
        waits on this, then on the workers)."""
        return (self._searching or self._want is not None
                or self._detail_timer is not None or self._similar_timer is not None
                or self._writing or bool(self._writes)
                or any(self.requests.waiting(kind)
                       for kind in ("detail", "similar", "counts", "export", "seen")))

    @property
    def paper_list(self) -> PaperList:
        return self.query_one(PaperList)

    @property
    def search_bar(self) -> SearchBar:
        return self.query_one(SearchBar)

    def on_mount(self) -> None:
        self.query_one("#progress").display = False
        self.query_one("#alerts").display = False
        self._layout_for(self.app.size.width)
        self.paper_list.focus()
        self.paper_list.set_marks(self._marks())
        self.request_search()
        self.refresh_counts()
        self.app.reader_ready()  # type: ignore[attr-defined]

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)

    def _layout_for(self, width: int) -> None:
        self.query_one("#reading").set_class(width < NARROW, "-narrow")
        narrow = width < NARROW_FILTERS
        if narrow != self._narrow_filters:
            # On a small terminal the list needs the room: the filter pane folds into a
            # one-line view picker above the list; `\` brings the whole pane back.
            self._narrow_filters = narrow
            self.query_one(FilterPane).display = not narrow
            self._show_picker()

    def _show_picker(self) -> None:
        filters = self.query_one(FilterPane)
        picker = self.query_one(ViewPicker)
        picker.display = not filters.display
        if picker.display:
            picker.show_views(self.views(), self.view)
        if not filters.display and filters.has_focus:
            self.paper_list.focus()

    # -- searching ----------------------------------------------------------------------

    def request_search(self, *, keep: str | tuple[str, ...] | None = None) -> None:
        """Ask for the listing of the current view, query and sort.

        No debounce: a search starts at once when none is running, and keys typed while one
        runs coalesce into the one search that follows it (searches take milliseconds).
        """
        self._want = (self.requests.new("search"), self.view, self.query_text, self.sort)
        self._typed_at = time.monotonic()
        self._typed.set()
        row = self.paper_list.current
        self._keep = keep or (row.id if row else None)
        self._typing_on()
        self._start_search()

    def _start_search(self) -> None:
        if self._searching or self._want is None:
            return
        self._searching = True
        # Said as the list says it ("60+" while a first page is shown), plus the "…".
        self.search_bar.show_status(len(self.listing), busy=True, more=self.listing.partial)
        self._search(*self._want)

    @work(thread=True, group="search")
    def _search(self, request: int, view: View, query: str, sort: str) -> None:
        # Two passes: the first page is drawn at once (Whoosh skips most of the scoring
        # for a top-N), then the whole list replaces it unless the user typed on.
        def typed_on() -> bool:
            return self._want is None or self._want[0] != request

        listing = None
        # A taste scores every paper before it can say which come first: one pass then.
        first = None if ranks_by_taste(view, query, sort) else FIRST_PAGE
        try:
            listing = self.store.listing(view, query, sort, first=first,
                                         cancelled=typed_on)
            if first and not listing.error and (listing.partial or (query and not len(listing))):
                self._page_drawn.clear()
                self._typed.clear()
                self.post_message(ListingReady(request, listing, done=False))
                if listing.partial:
                    # Python runs one thread at a time: the whole list, counted now, would
                    # halve the speed of the frame that draws the first page. It waits for
                    # that frame, and is not counted at all when a key came meanwhile.
                    self._page_drawn.wait(FIRST_PAGE_DRAWN)
                elif not typed_on():
                    # Nothing matches, and that is shown at once. "Did you mean" waits for a
                    # pause in the typing: a word half typed matches nothing, and looking
                    # for its nearest spelling takes longer than the search (40-180 ms at
                    # 100k papers), holding up the next key.
                    self._typed.wait(SUGGEST_AFTER_TYPING)
                if typed_on():
                    raise SearchCancelled
                listing = self.store.listing(view, query, sort, cancelled=typed_on)
        except SearchCancelled:
            # A newer query is waiting: the answer's handler starts it. The first page
            # shown is not shown again.
            listing = None
        except Exception as exc:  # never let a worker die silently with the flag set
            listing = Listing(view, query, sort, error=f"search failed: {exc}")
        self.post_message(ListingReady(request, listing))

    @work(thread=True, group="prepare")
    def _prepare(self) -> None:
        # A search meanwhile waits for it (the store's lock), as it would have to anyway.
        self.store.prepare()

    @on(ListingReady)
    def _listing_ready(self, message: ListingReady) -> None:
        """Show a search's answer. Searches run one at a time, so an older one's answer is
        never late: it is shown while the newest is still to come."""
        latest = self._want is not None and self._want[0] == message.request
        if message.listing is not None:
            self._show_listing(message.listing, latest=latest and message.done)
            self._draw_now = True
        if not message.done:
            # Not `call_after_refresh`: that runs at the screen's first idle with nothing to
            # draw, which comes before the list's own request to be drawn reaches it; the
            # whole list was then counted first and the page drawn only with it.
            self._after_draw.append(self._page_drawn.set)
            return
        self._searching = False
        if latest:
            self._want = None
            if not self._prepared:
                self._prepared = True
                self.call_after_refresh(self._prepare)
            self.call_after_refresh(self._freeze_heap)
            if (self._similar_for is not None and self._similar_timer is None
                    and not self.requests.waiting("similar")):
                self._arm_similar()  # it waited for this search to end
        else:
            self._start_search()

    async def _on_idle(self, event: events.Idle) -> None:
        """Draw a search's answer in the frame that follows it at once. Textual draws at
        the tick of a 60 fps timer, which the key's own echo (the search bar) wakes: the
        next tick then comes one to two periods (17-33 ms) later, most of the time between
        a key and its results. Not before the list has asked to be drawn again (its update
        reaches the screen after the answer's handler, with the labels'): a frame drawn
        sooner would have to be drawn again. Screen's own idle handler runs after this
        one: with nothing left to draw it only runs the callbacks that wait for this frame.
        (`_dirty_widgets` and `_on_timer_update` are Textual's own, pinned below 9; its
        Pilot draws a frame the same way.)"""
        if self._draw_now and self.paper_list in self._dirty_widgets:
            self._draw_now = False
            self._on_timer_update()
            drawn, self._after_draw = self._after_draw, []
            for callback in drawn:
                callback()

    def _show_listing(self, listing: Listing, *, latest: bool) -> None:
        bar = self.search_bar
        if listing.unavailable is not None:
            self.post_message(Failed(listing.unavailable))  # the app shows it, whole
        if listing.error:
            # Keep the old rows: a half-typed query should not blank the list.
            bar.show_status(None, error=listing.error)
            if not len(self.listing):
                self.paper_list.empty_message = listing.error
                self.paper_list.refresh()
            return
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
        if listing.untaught:
            return listing.untaught
        if listing.query:
            hint = (f' Did you mean "{listing.suggestion}"? tab takes it.'
                    if listing.suggestion else "")
            return f"Nothing matches this search.{hint}"
        if not self.store.library.exists:
            return "The library is empty: add digests with `papers add PATH`."
        return "No papers in this view."

    def _shown_sort(self) -> str:
        """The order the list is in: a view's own (For you, Rising) or a taste typed
        (`for:x`) when none is asked for; relevance with nothing to rank by is newest."""
        sort = order(self.scope())
        if ranks_by_taste(self.view, self.query_text, self.sort):
            return "foryou"
        if sort == "relevance" and not self.query_text and self.view.kind != "saved":
            return "newest"
        return sort

    def _show_status(self) -> None:
        """The list's header: its columns, and the view, sort and count it shows."""
        sort = self._shown_sort()
        from papers.tui.screens.palette import view_name

        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(self.paper_list.column_names(), "dim")
        header.append("   ")
        header.append(view_name(self.view), "bold")
        n = len(self.listing)
        papers = f"{n:,} paper{'' if n == 1 else 's'}"
        header.append(f" · sort: {sort} (o) · {papers}", "dim")
        self.query_one("#list-header", Label).update(header)
        # A Text: a view's name is the user's (a tag, a saved search), never markup.
        self.query_one("#status-text", Label).update(
            Text(f"{view_name(self.view)} · {papers} · sort: {sort}"))

    @on(SearchBar.Changed)
    def _query_changed(self, event: SearchBar.Changed) -> None:
        self.query_text = event.query
        self._keyed_at = time.monotonic()
        self.request_search()

    @on(SearchBar.Done)
    def _search_done(self) -> None:
        self.paper_list.focus()

    @on(FilterPane.ViewSelected)
    def _view_selected(self, event: FilterPane.ViewSelected) -> None:
        self.query_one(ViewPicker).pick(event.view)
        self._open_view(event.view)

    def _open_view(self, view: View) -> None:
        """Show `view`, and remember it was looked at now: its "N new" falls to 0. New is
        the one view its own look empties (its papers are those not looked at): it is
        marked when the reader leaves it, as of when it was opened, so that its list
        stays while it is triaged (searched again after an `x`, a query typed)."""
        left, opened = self.view, self._opened_at
        self.view = view
        self._opened_at = _now()
        self.request_search()
        if left == NEW and view != NEW:
            self._mark_seen(self.requests.new("seen"), left, opened)
        if view != NEW:
            self._mark_seen(self.requests.new("seen"), view, self._opened_at)

    @work(thread=True, group="seen")
    def _mark_seen(self, request: int, view: View, at: str) -> None:
        # Bookkeeping of this machine's own: it moves no data version (no poll, no sync),
        # and a store it cannot write to just keeps the old count.
        with suppress(PapersError):
            self.store.mark_seen(view, at)
        self.post_message(ViewSeen(request))

    @on(ViewSeen)
    def _view_seen(self, message: ViewSeen) -> None:
        if self.requests.answered("seen", message.request):
            self.refresh_counts()

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
        # The keys act on this paper from now on, though the pane waits for the cursor
        # to rest before it loads it.
        self._detail_paper = pid
        if not event.kept:
            self._elsewhere = None  # the reader moved on in the list
            if self._history:
                self._history.clear()
                self.refresh_bindings()
        elif (self.detail is not None and self.detail.paper.id == pid
              and self._detail_asked == (pid, self.listing.terms, self._taste())
              and not self.requests.waiting("detail")):
            return  # shown already, lit for this query (the whole list after its first page)

        def load() -> None:
            self._detail_timer = None
            self._load_detail(pid)

        wait = max(DETAIL_DEBOUNCE, DETAIL_AFTER_TYPING - (time.monotonic() - self._keyed_at))
        self._detail_timer = self.set_timer(wait, load)

    @on(PaperList.Opened)
    def _opened(self, event: PaperList.Opened) -> None:
        self.open_paper(event.paper_id)

    @on(DetailPane.OpenPaper)
    def _open_similar(self, event: DetailPane.OpenPaper) -> None:
        if self._detail_paper is not None and self._detail_paper != event.paper_id:
            self._history.append(self._detail_paper)
            self.refresh_bindings()
        self._show_elsewhere(event.paper_id)
        self.open_paper(event.paper_id)

    def action_back(self) -> None:
        if not self._history:
            return
        previous = self._history.pop()
        self._show_elsewhere(previous)
        self._load_detail(previous)
        self.refresh_bindings()

    def _show_elsewhere(self, paper_id: str) -> None:
        row = self.paper_list.current
        self._elsewhere = (paper_id, row.id) if row is not None and row.id != paper_id else None

    def open_paper(self, paper_id: str) -> None:
        paper = self.store.get(paper_id)
        if paper is None:
            self.notify("That paper is no longer in the library.", severity="warning")
            return
        if paper_id not in self.store.read:
            self._write(lambda: self.store.opened(paper))
        self._load_detail(paper_id)

    def _load_detail(self, paper_id: str | None, *, similar_again: bool = False) -> None:
        """Show a paper in the detail pane, then its similar papers. Showing the same paper
        again (new highlights, a star) keeps the similar papers it has, and looks them up
        again only when asked to (the library changed)."""
        request = self.requests.new("detail")
        self._detail_paper = paper_id
        self._forget_similar()
        if paper_id is None:
            self.requests.forget("detail")
            self.detail = None
            self.query_one(DetailPane).show(None)
            return
        same = self.detail is not None and self.detail.paper.id == paper_id
        known = self.detail.similar if same else ()
        taste = self._taste()
        self._detail_asked = (paper_id, self.listing.terms, taste)
        self._detail_worker(request, paper_id, self.listing.terms, known,
                            similar_again or not known, taste)

    def _taste(self) -> Scope | None:
        """The scope whose taste the detail pane says why it ranks a paper, if any."""
        return self.scope() if ranks_by_taste(self.view, self.query_text, self.sort) else None

    @work(thread=True, exclusive=True, group="detail")
    def _detail_worker(self, request: int, paper_id: str, terms: frozenset[str],
                       known: tuple[Paper, ...], look: bool, taste: Scope | None) -> None:
        data = None
        paper = self.store.get(paper_id)
        if paper is not None:
            try:
                state = self.store.userdata.state(paper_id)
            except UserDataError:
                state = EMPTY
            data = DetailData(paper, state, terms, known,
                              tuple(path for path, _ in self.store.missing_sources),
                              self.store.why(taste, paper_id) if taste else (),
                              self.store.today())
        self.post_message(DetailReady(request, paper_id, data, look))

    @on(DetailReady)
    def _detail_ready(self, message: DetailReady) -> None:
        if not self.requests.answered("detail", message.request):
            return
        if message.data is None:
            # The paper left the library (a re-index elsewhere): show the list's.
            row = self.paper_list.current
            if row is not None and row.id != message.paper_id:
                self._load_detail(row.id)
            return
        pane = self.query_one(DetailPane)
        if message.data != self.detail:  # the same again would be laid out again for nothing
            self.detail = message.data
            pane.show(message.data)
        row = self.paper_list.current
        pane.show_origin(row is not None and row.id != message.data.paper.id)
        if message.look:
            self._similar_for = (message.request, message.data)
            self._arm_similar()

    # Similar papers are a pass over the index that would compete with searches for the one
    # CPU Python gives us: they wait for the typing to pause, and give way to the next key.

    def _arm_similar(self) -> None:
        """(Re)start the wait for a pause in the typing before looking up similar papers."""
        if self._similar_timer is not None:
            self._similar_timer.stop()
        pause = SIMILAR_AFTER_TYPING - (time.monotonic() - self._typed_at)
        self._similar_timer = self.set_timer(max(pause, 0.01), self._start_similar)

    def _start_similar(self) -> None:
        self._similar_timer = None
        if self._similar_for is None:
            return
        if self._searching:
            return  # the search's answer starts the wait again
        self._look_similar(self.requests.new("similar"), self._similar_for[1])

    def _typing_on(self) -> None:
        """A key was typed: a lookup under way gives way, and the wait starts again."""
        if self._similar_for is None:
            return
        if self.requests.waiting("similar"):
            self.requests.forget("similar")
            self.workers.cancel_group(self, "similar")
        self._arm_similar()

    def _forget_similar(self) -> None:
        self._similar_for = None
        if self._similar_timer is not None:
            self._similar_timer.stop()
            self._similar_timer = None
        if self.requests.waiting("similar"):
            self.requests.forget("similar")
            self.workers.cancel_group(self, "similar")

    @work(thread=True, exclusive=True, group="similar")
    def _look_similar(self, request: int, data: DetailData) -> None:
        worker = get_current_worker()
        found = self.store.similar(data.paper.id, cancelled=lambda: worker.is_cancelled)
        answer = None
        if found is not None:
            similar = tuple(p for p in found if p.id != data.paper.id)
            answer = replace(data, similar=similar)
        self.post_message(SimilarReady(request, answer))

    @on(SimilarReady)
    def _similar_ready(self, message: SimilarReady) -> None:
        if not self.requests.answered("similar", message.request):
            return
        if message.data is None:  # gave way: look again at the next pause
            self._arm_similar()
            return
        self._similar_for = None
        if message.data.similar and self.detail is not None \
                and self.detail.paper.id == message.data.paper.id:
            self.detail = replace(self.detail, similar=message.data.similar)
            self.query_one(DetailPane).show_similar(self.detail)

    def current_paper_id(self) -> str | None:
        """The paper the keys act on: the list's, read from its cursor as the key is
        handled (a key typed right after `j` must not wait for the cursor's message); or a
        paper opened from the detail pane (a similar one, or back through them) while the
        list's cursor has not moved since."""
        row = self.paper_list.current
        if self._elsewhere is not None and row is not None and row.id == self._elsewhere[1]:
            return self._elsewhere[0]
        return row.id if row else self._detail_paper

    # -- user data ----------------------------------------------------------------------

    def _marks(self) -> Marks:
        store = self.store
        return Marks(frozenset(store.starred), frozenset(store.read),
                     frozenset(store.skipped), frozenset(store.snoozed))

    def _write(self, do: Write, *, refilter: bool = False) -> None:
        """Write one change to the user data off the UI thread; changes are written one at
        a time, in the order the keys asked for them. `refilter`: search again after it."""
        request = self.requests.new("write")
        if refilter:
            self._refilter.add(request)
        self._writes.append((request, do))
        self._next_write()

    def _next_write(self) -> None:
        if self._writes and not self._writing:
            self._writing = True
            self._write_worker(*self._writes.popleft())

    def finish_writes(self) -> None:
        """Write what the keys asked for and no worker has written yet (the app closes),
        and remember the view shown as looked at, as of when it was opened: the next
        start's New is what came in after (the start does not count: New would be empty
        at every start; a fetch while the reader ran stays new)."""
        while self._writes:
            _, do = self._writes.popleft()
            with suppress(PapersError, ValueError):  # too late to say: the reader is gone
                do()
        with suppress(PapersError, ValueError):
            self.store.mark_seen(self.view, self._opened_at)

    @work(thread=True, group="write")
    def _write_worker(self, request: int, do: Write) -> None:
        said = error = None
        try:
            said = do()
            self.store.reload_marks()
        except (PapersError, ValueError) as exc:
            error = str(exc)
        self.post_message(DataChanged(request, said, error, self.store.data_version()))

    @on(DataChanged)
    def _data_changed(self, message: DataChanged) -> None:
        # Every change is shown, not only the latest: each one is a write of its own.
        self._writing = False
        self._next_write()
        refilter = message.request in self._refilter
        self._refilter.discard(message.request)
        if message.error is not None:
            self.notify(message.error, severity="error", markup=False)
            return
        self.app.saw_own_change(message.version)  # type: ignore[attr-defined]
        self.paper_list.set_marks(self._marks())
        if refilter:
            self._search_again()
        if self._detail_paper is not None:
            self._load_detail(self._detail_paper)  # its new marks; its similar papers stay
        self.refresh_counts()
        if message.said:
            self.notify(message.said, markup=False, timeout=2)

    def _search_again(self) -> None:
        """The list again, after a change that may take papers out of it: the cursor stays
        on its paper, or goes to the one after it (the one before, at the end)."""
        plist = self.paper_list
        row = plist.current
        if row is None:
            self.request_search()
            return
        near = [plist.listing.row(i).id for i in (plist.cursor + 1, plist.cursor - 1)
                if 0 <= i < len(plist.listing)]
        self.request_search(keep=(row.id, *near))

    def changed_elsewhere(self, library_changed: bool) -> None:
        """Another process changed the library or the user data: show it."""
        if library_changed:
            self.thaw_heap()  # the old index handle's objects are garbage now
        self.paper_list.set_marks(self._marks())
        self.request_search()
        self.refresh_counts()
        if self._detail_paper is not None:
            self._load_detail(self._detail_paper, similar_again=library_changed)

    # -- the heap -------------------------------------------------------------------------

    def _freeze_heap(self) -> None:
        """Once the library is open and shown (a listing and the counts), set everything
        alive aside from the garbage collector (`gc.freeze`). Python's full collections
        walk every object, and at 100k papers the reader holds a few hundred thousand
        (the widgets, the manifest, the index's columns): each took 60-300 ms, and one
        came every few keystrokes, stalling whichever key it fell on.

        Again, once, for each kind of listing (words searched or not, each order): the
        first search of a kind loads the index's columns it needs (field lengths, a sort
        key per paper), kept for as long as the index is open. Collected first, so that
        nothing dead is set aside.
        """
        listing = self.listing
        if self.counts is None or self._want is not None or not listing.generation:
            return
        kind = (bool(listing.terms), listing.sort)
        if kind in self._frozen_for:
            return
        again = bool(self._frozen_for)
        self._frozen_for.add(kind)
        gc.collect()  # the young objects only, once some are set aside: milliseconds
        gc.freeze()
        if again:
            self._compact_later()

    def _compact_later(self) -> None:
        """What was set aside before and has died since in a cycle (the filter pane's tree,
        rebuilt with every count) is never freed while set aside: at the next pause in the
        typing the whole heap is given back, collected and set aside again. Not now: at
        300k papers that full collection takes a few hundred milliseconds."""
        if self._compact_timer is not None:
            self._compact_timer.stop()
        self._compact_timer = self.set_timer(COMPACT_AFTER, self._compact_heap)

    def _compact_heap(self) -> None:
        self._compact_timer = None
        if not self._frozen_for:
            return
        if self._searching or self._want is not None \
                or time.monotonic() - self._keyed_at < COMPACT_AFTER:
            self._compact_later()
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    def thaw_heap(self) -> None:
        """Give the objects `_freeze_heap` set aside back to the collector (the index was
        reopened: its old columns are garbage; or the reader closes)."""
        if self._compact_timer is not None:
            self._compact_timer.stop()
            self._compact_timer = None
        if self._frozen_for:
            self._frozen_for.clear()
            gc.unfreeze()

    def on_unmount(self) -> None:
        self.thaw_heap()
        # A search waiting for a pause in the typing (`_search`) ends now: no answer is
        # wanted any more, and quitting must not wait for it.
        self._want = None
        self._typed.set()

    def _target(self) -> Paper | None:
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

        self._write(lambda: self.store.toggle_star(paper))

    def action_toggle_read(self) -> None:
        paper = self._target()
        if paper is None:
            return

        self._write(lambda: self.store.toggle_read(paper))

    def action_read_next(self) -> None:
        paper = self._target()
        if paper is None:
            return
        if paper.id not in self.store.read:
            self._write(lambda: self.store.toggle_read(paper))
        self.paper_list.focus()
        self.paper_list.cursor += 1

    def action_next_unread(self) -> None:
        plist, read = self.paper_list, self.store.read
        for i in range(plist.cursor + 1, min(len(plist), plist.cursor + 5000)):
            if plist.listing.row(i).id not in read:
                plist.cursor = i
                return
        self.notify("No unread paper below this one.", timeout=2)

    def action_read_above(self) -> None:
        listing, upto = self.listing, self.paper_list.cursor
        if upto == 0:
            self.notify("No paper above the cursor.", timeout=2)
            return
        self._write(lambda: self.store.mark_read_above(
            [listing.paper(i) for i in range(upto)]))

    def action_skip(self) -> None:
        paper = self._target()
        if paper is None:
            return
        self._write(lambda: self.store.toggle_skip(paper), refilter=self._sets_aside())

    def action_snooze(self) -> None:
        paper = self._target()
        if paper is None:
            return
        from papers.tui.screens.snooze import SnoozeScreen

        def done(until: date | None) -> None:
            if until is not None:
                self._write(lambda: self.store.snooze(paper, until),
                            refilter=self._sets_aside())

        self.app.push_screen(SnoozeScreen(paper.title, self.store.today()), done)

    def action_undo(self) -> None:
        # What is undone may be an `x` or a `z`: the paper comes back where it was hidden.
        self._write(self.store.undo, refilter=self._sets_aside())

    def _sets_aside(self) -> bool:
        """The list leaves out the papers set aside (`x`, `z`, mute rules), so a change to
        them is searched again at once. Elsewhere the list stays as it is after a mark (a
        paper marked read stays in Unread until the next search) and the row shows it."""
        return self._shown_sort() == "foryou" or "is:new" in self.scope().query.lower()

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
            self._write(lambda: self.store.set_tags(paper, tags))

        self.app.push_screen(TagsScreen(paper.title, current, known), done)

    def action_edit_note(self) -> None:
        paper = self._target()
        if paper is None:
            return
        old = self.store.userdata.state(paper.id).note or ""
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.NamedTemporaryFile("w+", suffix=".md", prefix=note_file_prefix(paper),
                                         delete=False, encoding="utf-8") as f:
            f.write(note_template(old, paper))
            path = Path(f.name)
        try:
            try:
                with self.app.suspend():
                    subprocess.run([*shlex.split(editor), str(path)], check=False)
            except Exception as exc:  # no terminal to hand over (headless) or no editor
                self.notify(f"Cannot run the editor ({editor}): {exc}", severity="error",
                            markup=False)
                return
            text = note_from_edit(path.read_text("utf-8"))
        finally:
            path.unlink(missing_ok=True)
        if text.strip() == old.strip():
            return
        self._write(lambda: self.store.set_note(paper, text))

    def action_open_link(self) -> None:
        paper = self._target()
        if paper is not None:
            self.open_url(paper.url, "the paper's page")

    def action_open_pdf(self) -> None:
        paper = self._target()
        if paper is None:
            return
        if paper.pdf_url is None:
            self.notify("No PDF known for this paper: its arXiv id is not known. O opens "
                        "the arXiv search for its title.", severity="warning")
            return
        self.open_url(paper.pdf_url, "the PDF")

    def action_open_code(self) -> None:
        paper = self._target()
        if paper is None:
            return
        if not paper.github:
            self.notify("No code known for this paper.", severity="warning")
            return
        self.open_url(paper.github, "the code")

    def open_url(self, url: str, what: str) -> None:
        """Open `url` in a browser, or say none can be started and copy it instead."""
        if browser_can_start():
            self.app.open_url(url)
            self.notify(f"Opening {what}: {url}", markup=False, timeout=2)
            return
        self.app.copy_to_clipboard(url)
        self.notify(f"No browser can be started here, so the link to {what} was copied "
                    f"instead: {url}", severity="warning", markup=False, timeout=6)

    def action_authors(self) -> None:
        if not self.query_one(DetailPane).toggle_authors():
            self.notify("Every author is shown.", timeout=1.5)

    def action_copy(self) -> None:
        paper = self._target()
        if paper is None:
            return
        self.app.copy_to_clipboard(f"{paper.title} {paper.url}")
        self.notify(f"Copied the title and link: {paper.url}", markup=False, timeout=2)

    def action_save_search(self) -> None:
        query = self.scope().query
        if not query:
            self.notify("Type a search or pick a view first: there is nothing to save.",
                        severity="warning")
            return
        from papers.tui.screens.save_search import SaveSearchScreen

        def done(name: str | None) -> None:
            if name:
                self._write(lambda: self.store.save_search(name, query))

        self.app.push_screen(SaveSearchScreen(query), done)

    def scope(self) -> Scope:
        """What the reader shows: the view, the query typed over it, the order."""
        return Scope(self.view, self.query_text, self.sort)

    # -- export -------------------------------------------------------------------------

    def action_export(self) -> None:
        if not len(self.listing):
            self.notify("Nothing to export: this view is empty.", severity="warning")
            return
        from papers.tui.screens.export import ExportScreen

        scope = self.scope()
        folder = self.last_export.parent if self.last_export else self.export_dir
        default = folder / export_name(scope, date.today())

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._export(self.requests.new("export"), scope, path)

        self.app.push_screen(ExportScreen(default, len(self.listing), scope.query or "all papers"),
                             chosen)

    @work(thread=True, group="export")
    def _export(self, request: int, scope: Scope, path: Path) -> None:
        # What `papers export QUERY` writes for the same scope: one query path for both.
        try:
            items = self.store.select(scope).items
            text = render(items, "markdown", query=scope.query or None, abstracts=True)
            write_atomic(path, text)
        except (OSError, PapersError, ValueError) as exc:
            self.post_message(ExportDone(request, f"Export failed: {exc}", error=True))
            return
        self.last_export = path
        self.post_message(ExportDone(request, f"Exported {len(items)} papers to {path}"))

    @on(ExportDone)
    def _exported(self, message: ExportDone) -> None:
        self.requests.answered("export", message.request)
        self.notify(message.text, severity="error" if message.error else "information",
                    markup=False)

    def action_fetch(self) -> None:
        self.app.fetch_now()  # type: ignore[attr-defined]

    # -- filters, counts and sorting ----------------------------------------------------

    def action_toggle_filters(self) -> None:
        pane = self.query_one(FilterPane)
        pane.display = not pane.display
        self._show_picker()

    def action_choose_view(self) -> None:
        pane = self.query_one(FilterPane)
        if pane.display:
            pane.focus()
            return
        picker = self.query_one(ViewPicker)
        picker.focus()
        picker.expanded = True

    @on(ViewPicker.ViewPicked)
    def _view_picked(self, event: ViewPicker.ViewPicked) -> None:
        self.query_one(FilterPane).select_view(event.view)
        self._open_view(event.view)
        self.paper_list.focus()

    def action_cycle_sort(self) -> None:
        names = list(SORTS)
        shown = self._shown_sort()
        self.sort = names[(names.index(self.sort) + 1) % len(names)]
        if self._shown_sort() == shown:  # relevance with no query is newest: skip it
            self.sort = names[(names.index(self.sort) + 1) % len(names)]
        self._show_status()  # the header says it at once; the list follows
        self.notify(f"Sort: {self.sort}", timeout=1.5)
        self.request_search()

    def suggestion(self) -> str | None:
        """The "did you mean" shown now: the list is empty and a correction is known."""
        listing = self.listing
        if len(listing) or not listing.query or listing.query != self.query_text:
            return None
        return listing.suggestion

    def action_take_suggestion(self) -> None:
        suggestion = self.suggestion()
        if suggestion is None:
            return
        self.search_bar.set_value(suggestion)
        self.search_bar.input.cursor_position = len(suggestion)
        self.query_text = suggestion
        self.request_search()

    def action_focus_search(self) -> None:
        # At once, not later as `focus()` would: the next key may already be waiting.
        self.set_focus(self.search_bar.input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and self.focused is self.search_bar.input:
            return False  # a `/` typed in the query is part of it
        if action == "back":
            return bool(self._history)
        if action == "take_suggestion":
            return self.suggestion() is not None  # else tab moves on to the next pane
        return True

    def _show_alerts(self, counts: Counts) -> None:
        """What is wrong, counted where the reader always shows it; `!` or a click lists it."""
        missing = len(self.store.missing_sources)
        parts = ["read-only: changes are not saved"] if self.store.userdata.read_only else []
        if missing:
            parts.append(f"{missing} source{'' if missing == 1 else 's'} missing")
        if counts.problems:
            parts.append(f"{counts.problems} problem{'' if counts.problems == 1 else 's'}")
        alerts = self.query_one("#alerts", Label)
        alerts.display = bool(parts)
        alerts.update(Text("⚠ " + " · ".join(parts) + " (!)") if parts else "")

    @on(events.Click, "#alerts")
    def _alerts_clicked(self) -> None:
        self.action_problems()

    def action_problems(self) -> None:
        from papers.tui.screens.problems import ProblemsScreen

        self.app.push_screen(ProblemsScreen(self.store.problems()))

    def action_help(self) -> None:
        from papers.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(ACTIONS, MOVES))

    def refresh_counts(self) -> None:
        self._count(self.requests.new("counts"))

    @work(thread=True, exclusive=True, group="counts")
    def _count(self, request: int) -> None:
        try:
            counts = self.store.counts()
        except PapersError:
            counts = None
        self.post_message(CountsReady(request, counts))

    @on(CountsReady)
    def _counts_ready(self, message: CountsReady) -> None:
        if self.requests.answered("counts", message.request) and message.counts is not None:
            self.counts = message.counts
            self.query_one(FilterPane).update_counts(message.counts)
            picker = self.query_one(ViewPicker)
            if picker.display:  # hidden, it is filled when shown: hundreds of digests
                picker.show_views(self.views(), self.view)
            self._show_alerts(message.counts)
            self.call_after_refresh(self._freeze_heap)

    def views(self) -> list[tuple[View, int | None]]:
        """Every view with its count (None: a taste's, which is not counted), as the filter
        pane lists them."""
        c = self.counts
        if c is None:
            return [(ALL, len(self.listing))]
        tags: list[tuple[View, int | None]] = []
        for view, n in c.tags:
            tags.append((view, n))
            if view in c.for_tags:
                tags.append((c.for_tags[view], None))
        return [(ALL, c.total), (UNREAD, c.unread), (STARRED, c.starred), (FOR_YOU, None),
                (NEW, c.new), *([c.rising] if c.rising else []),
                *tags, *c.saved, *c.digests, *c.months]

    def pick_view(self, view: View) -> None:
        """Show `view`, as if picked in the filter pane."""
        self.query_one(FilterPane).select_view(view)
        self.query_one(ViewPicker).pick(view)
        self._open_view(view)

    # -- the start-up re-scan's progress (the app runs it) -------------------------------

    def show_progress(self, stage: str, done: int, total: int) -> None:
        bar = self.query_one("#progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)
        said = (f"fetching Daily Papers: day {min(done + 1, total)} of {total}"
                if stage == "fetching" and done < total else f"{stage} {done}/{total}")
        self.query_one("#status-text", Label).update(said)

    def progress_done(self) -> None:
        self.query_one("#progress").display = False
        self._show_status()
