"""Repair salvages, then tells: every row still readable in a damaged user-data file is kept,
what the newest backup adds is merged, and what could not be saved is said."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from papers.index.backup import backup_userdata
from papers.index.doctor import check, healthy, repair
from papers.index.userdata import FILENAME, UserData, salvage
from papers.tui.cli import cli

PAGE = 4096


def ids(n: int, start: int = 0) -> list[str]:
    return [f"{i:012x}" for i in range(start, start + n)]


@pytest.fixture
def store_home(tmp_path) -> Path:
    """300 stars, 80 tags and 20 notes, as in the report that found the bug; a backup made
    when there were 10 more stars than now survive in the file."""
    home = tmp_path / "home"
    with UserData(home) as ud:
        ud.star(ids(310))
        backup_userdata(home, "test")
        ud.unstar(ids(10, 300))  # the backup still has these ten
        for pid in ids(80):
            ud.add_tags(pid, ["kept"])
        for pid in ids(20):
            ud.set_note(pid, f"note on {pid}")
    db = sqlite3.connect(home / FILENAME)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return home


def damage_a_page(path: Path, table: str) -> None:
    """Overwrite the middle leaf page of `table`'s rows with garbage, as a bad sector would."""
    db = sqlite3.connect(path)
    leaves = [r[0] for r in db.execute(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
        (table,))]
    db.close()
    assert len(leaves) >= 3, leaves
    start = (leaves[len(leaves) // 2] - 1) * PAGE
    data = bytearray(path.read_bytes())
    data[start : start + PAGE] = b"\xff" * PAGE
    path.write_bytes(bytes(data))


def test_salvage_reads_around_a_damaged_page(store_home):
    path = store_home / FILENAME
    damage_a_page(path, "stars")
    found = salvage(path)
    assert 0 < found.count("stars") < 300 and found.lost.get("stars", 0) > 0
    assert found.count("tags") == 80 and found.count("notes") == 20


def test_repair_keeps_every_readable_row_adds_the_backup_and_says_what_it_lost(store_home):
    path = store_home / FILENAME
    damage_a_page(path, "stars")
    readable = salvage(path)
    findings = check(store_home)
    assert not healthy(findings)
    assert any(f.what == "user data" and "damaged" in f.detail for f in findings)
    done = repair(store_home)
    said = "\n".join(done)
    assert f"saved from the damaged file: {readable.describe()}" in said
    assert "added from the backup" in said and "could not be read:" in said
    with UserData(store_home) as ud:
        stars = ud.starred_ids()
        # Every star the damaged file could still show, and the backup's on top.
        assert {row["id"] for row in readable.rows["stars"]} <= stars
        assert set(ids(10, 300)) <= stars  # only the backup had them
        assert len(ud.tags()) == 1 and ud.tags()[0][1] == 80
        assert ud.state(ids(1)[0]).note == f"note on {ids(1)[0]}"
    after = check(store_home)
    assert all(f.severity != "error" for f in after), after


def test_doctor_is_not_healthy_while_an_aside_holds_marks_the_store_lacks(store_home):
    path = store_home / FILENAME
    damage_a_page(path, "stars")
    repair(store_home)
    with UserData(store_home) as ud:  # the user unstars some, or the merge missed them
        ud.unstar(ids(5))
    findings = check(store_home)
    lacking = [f for f in findings if "lacks" in f.detail]
    assert lacking and not healthy(findings)
    result = CliRunner().invoke(cli, ["--home", str(store_home), "doctor", "--repair"])
    assert "merged from userdata.sqlite.damaged-" in result.stdout, result.stdout
    assert "lacks" not in result.stdout  # (no index or sources here: those it reports)
