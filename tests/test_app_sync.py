"""Issue 17 in the reader: with a sync folder set, the open reader syncs on its own (on start,
when another machine's log in the folder changes, every minute, and soon after its own marks),
and says when another machine's changes arrive."""

from __future__ import annotations

import json
import shutil

import pytest
from _app_library import list_rows, record_notices, screen_text, until
from click.testing import CliRunner

from papers.index import sync as sync_mod
from papers.tui import app as app_mod
from papers.tui.cli import cli
from papers.tui.pilot import settle


def papers(home, *args) -> str:
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def machines(app_library, app_home, tmp_path):
    """Two data directories with the same digests (the reader's is `app_home`), and the
    folder they share, which is the reader's `sync_dir`."""
    other = tmp_path / "other-home"
    shutil.copytree(app_library, other)
    for home in (app_home, other):
        (home / sync_mod.MACHINE_FILE).unlink(missing_ok=True)  # each makes its own id
    shared = tmp_path / "shared"
    shared.mkdir()
    sync_mod.save_sync_dir(app_home, shared)
    return other, shared


async def test_a_star_made_on_another_machine_arrives_in_the_open_reader(
        app, machines):
    """No key and no trigger: the reader's poll sees the other machine's log grow."""
    other, shared = machines
    said = record_notices(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        row = app.reader.paper_list.current
        assert not list_rows(app)[0].startswith("★")
        papers(other, "star", row.id)
        papers(other, "sync", str(shared))
        who = sync_mod.machine_id(other)
        assert await until(pilot, lambda: list_rows(app)[0].startswith("★"), seconds=20)
        assert await until(pilot, lambda: "★ starred" in screen_text(app))  # the detail pane
        assert f"1 change from {who}" in said
        assert said.count(f"1 change from {who}") == 1  # the syncs after it bring nothing


async def test_the_readers_own_star_is_sent_soon_after_it_is_made(app, machines, monkeypatch):
    other, shared = machines
    monkeypatch.setattr(app_mod, "SYNC_AFTER_WRITE", 0.1)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        row = app.reader.paper_list.current
        await pilot.press("s")
        await settle(pilot)
        mine = shared / f"{app.store.userdata.machine}{sync_mod.LOG_SUFFIX}"
        assert await until(pilot, lambda: mine.exists() and not app.syncing, seconds=20)
    assert f"1 change from {app.store.userdata.machine} (1)" in papers(other, "sync", str(shared))
    starred = json.loads(papers(other, "find", "--starred", "--json"))
    assert [p["id"] for p in starred] == [row.id]


async def test_marks_made_just_before_quitting_are_sent_on_the_way_out(
        app, machines, monkeypatch):
    other, shared = machines
    monkeypatch.setattr(app_mod, "SYNC_AFTER_WRITE", 3600.0)  # only quitting sends it
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: not app.syncing)
        row = app.reader.paper_list.current
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("q")
    papers(other, "sync", str(shared))
    starred = json.loads(papers(other, "find", "--starred", "--json"))
    assert [p["id"] for p in starred] == [row.id]


async def test_a_sync_that_fails_is_said_once_and_the_reader_reads_on(app, app_home, machines):
    said = record_notices(app)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await until(pilot, lambda: not app.syncing)
        (app_home / sync_mod.SETTINGS_FILE).write_text("{not json", "utf-8")
        app.sync_now()
        assert await until(pilot, lambda: any("Sync failed" in s for s in said))
        app.sync_now()
        await until(pilot, lambda: not app.syncing)
        failed = [s for s in said if "Sync failed" in s]
        assert len(failed) == 1 and "settings" in failed[0]
        await pilot.press("j")
        await settle(pilot)
        assert app.reader.paper_list.current is not None
