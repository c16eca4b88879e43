"""The index's format: nothing of ours pickled in it, and an index written by an older papers
rebuilds itself from the digests, with one message, keeping the user's data.

`fixtures/index-v3` is a real index written by papers before this format (schema 3, its day
fields a class of ours, `index.library.DayField`, pickled in the table of contents) from the
two digests `_app_library` writes; `fixtures/index-v5` is one of the format before this one
(each sighting repeating its digest's metadata, no `sort_rising`), from the same digests, its
manifest naming their folder `/DIGESTS`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _app_library import DAY_ONE, DAY_TWO, build_library, digest_text

from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.schema import INDEX_DIR, SCHEMA_VERSION, TOC_GLOB
from papers.index.sources import add_sources
from papers.index.userdata import UserData

OLD_INDEX = Path(__file__).parent / "fixtures" / "index-v3"
PREVIOUS_INDEX = Path(__file__).parent / "fixtures" / "index-v5"
VIDEO = paper_id("Diffusion Models for Video Generation")
AGENTS = paper_id("Language Agents That Plan")


def old_library(tmp_path: Path, fixture: Path = OLD_INDEX) -> Path:
    """A home holding the old index, its digests registered, and some user data."""
    digests = tmp_path / "digests"
    digests.mkdir()
    (digests / "2025-12-09.txt").write_text(digest_text("Dec 9, 2025", DAY_ONE), "utf-8")
    (digests / "2025-12-10.txt").write_text(digest_text("Dec 10, 2025", DAY_TWO), "utf-8")
    home = tmp_path / "home"
    shutil.copytree(fixture, home / INDEX_DIR)
    manifest = home / INDEX_DIR / "manifest.json"
    manifest.write_text(manifest.read_text("utf-8").replace("/DIGESTS", str(digests)), "utf-8")
    add_sources(home, [digests])
    with UserData(home) as store:
        store.star([VIDEO])
        store.add_tags(AGENTS, ["to-read"])
        store.set_note(AGENTS, "compare with ReAct")
    return home


def papers(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real entry point, from a folder where no `index` package of ours is importable
    (as for a user: the old index names `index.library`)."""
    env = {**os.environ, "PAPERS_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "papers.tui", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_fixture_is_an_index_of_the_old_format():
    toc = next(OLD_INDEX.glob(TOC_GLOB)).read_bytes()
    assert b"index.library" in toc and b"DayField" in toc
    assert json.loads((OLD_INDEX / "manifest.json").read_text())["schema"] < SCHEMA_VERSION


@pytest.mark.parametrize("fixture", [OLD_INDEX, PREVIOUS_INDEX], ids=["v3", "v5"])
def test_an_old_index_rebuilds_itself_with_one_message_and_keeps_user_data(tmp_path, fixture):
    home = old_library(tmp_path, fixture)
    arrived = {key: rec["added"] for key, rec in
               json.loads((home / INDEX_DIR / "manifest.json").read_text("utf-8"))["files"].items()
               if rec.get("added")}
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()

    first = papers(home, "find", "diffusion", "--json", cwd=elsewhere)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr
    said = first.stderr.strip().splitlines()
    assert len(said) == 1 and "rebuild" in said[0] and "format" in said[0]
    found = {p["id"]: p for p in json.loads(first.stdout)}
    assert found[VIDEO]["starred"] is True

    again = papers(home, "find", "agents", "--json", cwd=elsewhere)
    assert again.returncode == 0 and again.stderr == ""
    [agents] = [p for p in json.loads(again.stdout) if p["id"] == AGENTS]
    assert agents["tags"] == ["to-read"] and agents["note"] == "compare with ReAct"
    assert Library(home).outdated is None
    # Papers that came in before the rebuild are not new again because of it.
    rebuilt = json.loads((home / INDEX_DIR / "manifest.json").read_text("utf-8"))["files"]
    assert {key: rec["added"] for key, rec in rebuilt.items() if key in arrived} == arrived
    rising = papers(home, "find", "--sort", "rising", "--json", cwd=elsewhere)
    assert rising.returncode == 0 and len(json.loads(rising.stdout)) == 8


def test_ingest_says_why_it_rebuilt_an_old_index(tmp_path):
    home = old_library(tmp_path)
    assert Library(home).outdated  # says why, before anything opened it
    report = ingest(home, [tmp_path / "digests"])
    assert report.rebuilt and "format changed" in report.reason
    assert Library(home).count() == 8
    assert UserData(home).starred_ids() == {VIDEO}


def test_no_class_of_ours_is_pickled_in_the_index(tmp_path):
    """Renaming or moving one of our modules must never make an index unreadable."""
    home = build_library(tmp_path)
    toc = next((home / INDEX_DIR).glob(TOC_GLOB)).read_bytes()
    assert b"whoosh.fields" in toc  # the schema is there, pickled...
    assert b"papers" not in toc and b"index.library" not in toc  # ...in Whoosh's types only
