"""The reader never hides the user's data (issue 12): a missing source is marked and said
once, problems of digest files are counted and listed, and a read-only data directory
reads and says why a change cannot be saved."""

from __future__ import annotations

from _app_library import (
    build_library,
    detail_text,
    filter_group,
    list_rows,
    record_notices,
    screen_text,
    until,
)

from papers.index.errors import StorageError
from papers.index.ingest import ingest
from papers.index.sources import load_sources
from papers.index.userdata import UserData
from papers.tui.app import PapersApp
from papers.tui.pilot import settle


def alerts(app) -> str:
    widget = app.reader.query_one("#alerts")
    return str(widget.render()) if widget.display else ""


async def test_a_missing_source_keeps_its_papers_is_said_once_and_marked(tmp_path):
    app_home = build_library(tmp_path)
    [source] = load_sources(app_home)
    source.rename(source.with_name("unmounted"))  # gone, as an unmounted disk is
    app = PapersApp(app_home, export_dir=tmp_path, rescan=True)
    said = record_notices(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert await until(pilot, lambda: "1 source missing" in alerts(app), 30)
        assert len(list_rows(app)) == 8  # the start-up re-scan kept every paper
        warnings = [s for s in said if str(source) in s]
        assert len(warnings) == 1 and "kept" in warnings[0]
        digests = filter_group(app, "Digests")
        assert "⚠" in digests.label.plain
        digests.expand()
        await pilot.pause()
        assert all("source missing" in n.label.plain for n in digests.children)
        assert "2025-12-10.txt  ⚠ source missing" in detail_text(app)  # where it was seen
        # Checked again (a fetch, a re-scan): still missing, not said again.
        app.check_sources()
        await settle(pilot)
        assert len([s for s in said if str(source) in s]) == 1
        await pilot.press("exclamation_mark")
        await settle(pilot)
        shown = [str(line.render()) for line in app.screen.query(".problem")]
        assert shown == [f"{source}: the source is missing (gone or unreadable): its papers "
                         "are kept"]


async def test_problems_of_digest_files_are_counted_and_listed(tmp_path):
    app_home = build_library(tmp_path)
    [source] = load_sources(app_home)
    (source / "2025-12-11.json").write_text('[{"paper": {"id": "1", "title": ', "utf-8")
    (source / "2025-12-12.txt").write_text("hello\n\nnot a digest at all\n", "utf-8")
    ingest(app_home, [source], procs=1)
    app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert "2 problems (!)" in alerts(app)
        assert "2 problems (!)" in screen_text(app)
        await pilot.click("#alerts")
        await settle(pilot)
        shown = [str(line.render()) for line in app.screen.query(".problem")]
        assert shown[0].startswith(f"{source}/2025-12-11.json:1: the file ends inside entry 1")
        assert shown[1].startswith(f"{source}/2025-12-12.txt:1: no digest date line")
        assert "2 problems" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is app.reader


async def test_a_read_only_data_directory_reads_and_says_why_a_change_is_not_saved(
        app_home, tmp_path, monkeypatch):
    """The monkeypatched variant (as in test_faults): the read-write open fails as it does
    on a read-only mount; the store opens the file read-only."""
    UserData(app_home).close()  # the file exists; its folder is read-only from now on
    real_open = UserData._open

    def read_only_disk(self, target, uri=False):
        if not uri:
            raise StorageError(f"cannot use the user data at {self.path}: attempt to write a "
                               "readonly database (its folder is read-only)")
        return real_open(self, target, uri)

    monkeypatch.setattr(UserData, "_open", read_only_disk)
    app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert len(list_rows(app)) == 8  # reads work
        assert "read-only: changes are not saved (!)" in alerts(app)
        said = record_notices(app)
        await pilot.press("s")
        await settle(pilot)
        assert len(said) == 1 and "read-only" in said[0] and "Traceback" not in said[0]
        assert app.is_running and "★" not in list_rows(app)[0]
        await pilot.press("slash", *"diffusion", "escape")
        await settle(pilot)
        assert len(list_rows(app)) == 2
