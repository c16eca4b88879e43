"""The reader's app: the store, the start-up re-scan, polling for other processes' changes,
syncing through the sync folder, the command palette. The reading itself is
`tui.screens.main.ReaderScreen`.

A library that cannot be read (a damaged index or user-data file) opens an error screen
that says why and how to repair it, instead of a traceback.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import get_current_worker

from papers.index.errors import LibraryBusy, PapersError, from_os_error
from papers.index.ingest import ingest
from papers.index.sources import load_sources
from papers.tui.messages import (
    ChangesSeen,
    Failed,
    IngestProgress,
    Requests,
    SourcesChecked,
    Synced,
)
from papers.tui.screens.main import ReaderScreen
from papers.tui.store import Store

POLL_EVERY = 2.0  # how often to look for changes made by other processes
INGEST_RETRY = 30.0  # when another process holds the ingest lock
SYNC_EVERY = 60.0  # how often to sync through the sync folder, when one is set
SYNC_AFTER_WRITE = 5.0  # a burst of marks is sent in one sync, this long after the last


class PapersApp(App[str | None]):
    """`papers` with no command."""

    CSS_PATH = "app.tcss"
    # The reader's screen has the palette's commands (tui.screens.palette): one per action
    # and every view; Textual's own (themes, screenshots) are not the reader's.
    COMMANDS: ClassVar = set()
    TITLE = "papers"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q", "quit", "Quit")]

    def __init__(self, home: Path, *, export_dir: Path | None = None,
                 rescan: bool = True, title: str | None = None) -> None:
        super().__init__()
        self.home = Path(home)
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.rescan = rescan
        if title:
            self.sub_title = title
        self.store: Store | None = None
        self.failure: PapersError | None = None
        try:
            self.store = Store(self.home)
        except PapersError as exc:  # shown by on_mount, with the way out
            self.failure = exc
        self.requests = Requests()
        self._reader: ReaderScreen | None = None
        self._sources: list = []
        self._seen: tuple[int, int] = (-2, -2)  # (index generation, user-data version)
        self._warned: set[str] = set()  # missing sources (and sync problems) already said
        self._syncing = False
        self._sync_again = False  # asked for while a sync ran: run once more after it
        self._sync_timer = None  # the sync after the reader's own writes, while waiting
        self._folder_seen: tuple | None = None  # the sync folder's logs, as last synced

    @property
    def reader(self) -> ReaderScreen:
        """The reader's screen (under any dialog open over it)."""
        assert self._reader is not None, "the reader was not opened"
        return self._reader

    @property
    def busy(self) -> bool:
        """The reader has something still to show (`tui.pilot.settle` waits on this)."""
        return self._reader is not None and (self._reader.busy
                                             or self.requests.waiting("sources"))

    def get_default_screen(self) -> Screen:
        # The reader is the bottom screen; the welcome and error screens open over a blank one.
        self._sources = load_sources(self.home) if self.store is not None else []
        if self.store is not None and (self.store.library.exists or self._sources):
            self._reader = ReaderScreen(self.store, export_dir=self.export_dir)
            return self._reader
        return super().get_default_screen()

    def on_mount(self) -> None:
        if self.store is None:
            self._fail(self.failure)
            return
        if self._reader is None:
            from papers.tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
            return
        self._seen = (self.store.library_generation(), self.store.data_version())

    def reader_ready(self) -> None:
        """The reader's panes are there (its on_mount): what runs in the background may
        answer now. Started earlier, a re-scan that fails at once (a read-only home) would
        answer to panes not yet made."""
        if self._sources and self.rescan:
            self.rescan_sources()
        if self._sources:
            self.check_sources()
        self.set_interval(POLL_EVERY, self.poll_changes)
        self.sync_now()
        self.set_interval(SYNC_EVERY, self.sync_now)

    @on(Failed)
    def _failed(self, message: Failed) -> None:
        self._fail(message.error)

    def _fail(self, error: PapersError | None) -> None:
        from papers.tui.screens.error import ErrorScreen

        if error is not None and not isinstance(self.screen, ErrorScreen):
            self.push_screen(ErrorScreen(error))

    # -- other processes ----------------------------------------------------------------

    def poll_changes(self) -> None:
        self._poll(self.requests.new("poll"))

    @work(thread=True, exclusive=True, group="poll")
    def _poll(self, request: int) -> None:
        seen = (self.store.library_generation(), self.store.data_version())
        folder = self.store.sync_folder_state()
        if seen != self._seen or folder != self._folder_seen:
            self.post_message(ChangesSeen(request, seen, folder))

    @on(ChangesSeen)
    def _changes_seen(self, message: ChangesSeen) -> None:
        # A poll that read the store before the reader's own change answers too late.
        if not self.requests.answered("poll", message.request):
            return
        self._changed_elsewhere(message.seen)
        if message.folder != self._folder_seen and not self._syncing:
            self._folder_seen = message.folder
            if message.folder:  # another machine's log came or grew: apply it now
                self.sync_now()

    def saw_own_change(self, data_version: int) -> None:
        """The reader wrote to the user data: that is no change made elsewhere, and a poll
        that read the store before it would take it for one and undo what it saw."""
        self._seen = (self._seen[0], data_version)
        self.requests.new("poll")
        self.sync_soon()

    def _changed_elsewhere(self, seen: tuple[int, int]) -> None:
        if seen == self._seen:
            return  # already shown: the poll noticed the re-scan's change first
        library_changed = seen[0] != self._seen[0]
        self._seen = seen
        if library_changed:
            self.store.reopen()
        self.store.reload_marks()
        self.reader.changed_elsewhere(library_changed)

    # -- the sync folder (`papers sync`) ------------------------------------------------

    @property
    def syncing(self) -> bool:
        """A sync runs, or one is asked for after it (tests wait on this)."""
        return self._syncing or self._sync_again or self._sync_timer is not None

    def sync_now(self) -> None:
        """Sync now, or right after the sync that runs (never two at once: the second
        would wait up to 30 s on the first's lock, holding a thread)."""
        if self._sync_timer is not None:
            self._sync_timer.stop()
            self._sync_timer = None
        if self._syncing:
            self._sync_again = True
            return
        self._syncing = True
        self._sync(self.requests.new("sync"))

    def sync_soon(self) -> None:
        """The reader wrote a mark: send it a little later, with any that follow it."""
        if self._sync_timer is not None:
            self._sync_timer.stop()
        self._sync_timer = self.set_timer(SYNC_AFTER_WRITE, self.sync_now)

    @work(thread=True, exclusive=True, group="sync")
    def _sync(self, request: int) -> None:
        try:
            report = self.store.sync()
            folder = self.store.sync_folder_state()
        except OSError as exc:
            self.post_message(Synced(request, error=str(from_os_error(exc, "sync through"))))
            return
        except PapersError as exc:  # never a traceback: the reader reads what it has
            self.post_message(Synced(request, error=str(exc)))
            return
        if report is None:
            self.post_message(Synced(request, folder=folder))
            return
        self.post_message(Synced(request, arrived=report.arrived,
                                 received=tuple(sorted(report.received)),
                                 changed=report.changed, problems=tuple(report.problems),
                                 folder=folder))

    @on(Synced)
    def _synced(self, message: Synced) -> None:
        self._syncing = False
        if message.error is None:
            self._folder_seen = message.folder  # our own log's growth is no news to poll
        if message.error is not None:
            self._say_once(f"Sync failed: {message.error}", "Sync")
        for problem in message.problems:
            self._say_once(problem, "Sync")
        if message.arrived:
            n = message.arrived
            self.notify(f"{n} change{'s' if n != 1 else ''} from {', '.join(message.received)}",
                        title="Synced", timeout=5, markup=False)
        if message.changed:
            # Shown now, not at the next poll: the marks from the other machine.
            self._changed_elsewhere((self.store.library_generation(),
                                     self.store.data_version()))
        if self._sync_again:
            self._sync_again = False
            self.sync_now()

    def _say_once(self, text: str, title: str) -> None:
        """A warning said once a run: a sync every minute must not repeat it every minute."""
        if text in self._warned:
            return
        self._warned.add(text)
        self.notify(text, title=title, severity="warning", timeout=10, markup=False)

    # -- missing sources ----------------------------------------------------------------

    def check_sources(self) -> None:
        self._check_sources(self.requests.new("sources"))

    @work(thread=True, exclusive=True, group="sources")
    def _check_sources(self, request: int) -> None:
        self.post_message(SourcesChecked(request, self.store.check_sources()))

    @on(SourcesChecked)
    def _sources_checked(self, message: SourcesChecked) -> None:
        if not self.requests.answered("sources", message.request):
            return
        for path, state in message.missing:
            if path in self._warned:
                continue  # said once a run: the filter pane and the status line keep it
            self._warned.add(path)
            why = ("is empty where it had digests (unmounted?)" if state == "empty"
                   else "is missing (gone or unreadable)")
            self.notify(f"The source {path} {why}. Its papers are kept; `papers sources` "
                        "lists the sources, `papers remove` forgets one. ! lists the "
                        "problems.", title="A source is missing", severity="warning",
                        timeout=10, markup=False)
        self.reader.refresh_counts()

    # -- the start-up re-scan -----------------------------------------------------------

    @work(thread=True, exclusive=True, group="ingest")
    def rescan_sources(self) -> None:
        """Read new or changed digests; procs=1 because forking a threaded app can hang."""
        sources = load_sources(self.home)
        if not sources:
            return
        request = self.requests.new("ingest")

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(IngestProgress(request, stage, done, total))

        try:
            report = ingest(self.home, sources, procs=1, lock_timeout=0.5, progress=progress)
        except LibraryBusy:
            self.post_message(IngestProgress(request, finished=True, busy=True))
            return
        except OSError as exc:  # a read-only home: the library reads as it is
            self.post_message(IngestProgress(request, finished=True, error=True,
                                             said=str(from_os_error(exc, "re-scan into"))))
            return
        except PapersError as exc:  # never a traceback: the reader reads what it has
            self.post_message(IngestProgress(request, finished=True, error=True,
                                             said=f"Re-scan failed: {exc}"))
            return
        self.post_message(IngestProgress(
            request, finished=True, changed=report.changed,
            said=report.summary() if report.changed else None))

    # -- fetching today's papers (`F`, or the palette) ----------------------------------

    @property
    def fetching(self) -> bool:
        return any(w.group == "fetch" and not w.is_finished for w in self.workers)

    def fetch_now(self) -> None:
        if self.fetching:
            self.notify("Already fetching.", timeout=2)
            return
        self._fetch(self.requests.new("ingest"))

    @work(thread=True, exclusive=True, group="fetch")
    def _fetch(self, request: int) -> None:
        """Yesterday's and today's Daily Papers into <home>/fetched, then an ingest, as
        `papers fetch` does; the endpoint is HF_ENDPOINT's, or the Hub."""
        # Imported here: the HTTP client is loaded only by those who fetch.
        from papers.index.fetch import FetchFailed, Network, endpoint_from, fetch, plan_days

        worker = get_current_worker()

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(IngestProgress(request, stage, done, total, kind="fetch"))

        today = date.today()
        try:
            report = fetch(self.home, plan_days(today), today=today,
                           network=Network(endpoint=endpoint_from()), progress=progress,
                           cancelled=lambda: worker.is_cancelled, procs=1, lock_timeout=0.5)
        except LibraryBusy:
            self.post_message(IngestProgress(request, finished=True, busy=True, kind="fetch"))
            return
        except FetchFailed as exc:  # days fetched before the fault are in the library
            self.post_message(IngestProgress(request, finished=True, error=True, kind="fetch",
                                             said=str(exc), changed=exc.report.changed))
            return
        except (PapersError, OSError) as exc:
            self.post_message(IngestProgress(request, finished=True, error=True, kind="fetch",
                                             said=f"Fetch failed: {exc}"))
            return
        self.post_message(IngestProgress(request, finished=True, changed=report.changed,
                                         said="Fetched: " + report.summary(), kind="fetch"))

    @on(IngestProgress)
    def _ingest_progress(self, message: IngestProgress) -> None:
        reader = self.reader
        if not message.finished:
            reader.show_progress(message.stage, message.done, message.total)
            return
        reader.progress_done()
        if message.busy:
            self.notify("Another papers process is indexing; the reader will try again "
                        "soon.", timeout=3)
            again = self.fetch_now if message.kind == "fetch" else self.rescan_sources
            self.set_timer(INGEST_RETRY, again)
        if message.said:
            self.notify(message.said, severity="error" if message.error else "information",
                        markup=False)
        if message.changed:
            self._changed_elsewhere((self.store.library_generation(),
                                     self.store.data_version()))
        self.check_sources()

    def on_unmount(self) -> None:
        if self.store is None:
            return
        if self._reader is not None:
            self._reader.finish_writes()
            self._reader.thaw_heap()
        if self._sync_timer is not None and not self._syncing:
            # Marks made in the last seconds would wait for the next start to be sent: the
            # other machine may be the next one opened.
            with suppress(PapersError, OSError):  # too late to say; the next sync sends them
                self.store.sync()
        self.store.close()
