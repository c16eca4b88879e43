"""Two processes on one library: ingests queue or say "library busy"; readers see commits."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, digest, entry, write

import papers.index.ingest as ingest_mod
from bench.corpus import write_corpus
from papers.index.digest import read_digest
from papers.index.identity import paper_id
from papers.index.ingest import LOCK_FILE, ingest
from papers.index.library import Library
from papers.index.sources import add_sources
from papers.index.userdata import UserData
from papers.tui.cli import cli

# Enough papers that an ingest lasts a few seconds and uses the forking bulk writer.
PAPERS = 2_000  # BULK_DOCS: the least that makes ingest fork sub-writers


def papers(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "papers.tui", *args], cwd=REPO,
                            env={**os.environ, "PAPERS_HOME": str(home), "NO_COLOR": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lock_held(home: Path) -> bool:
    """Whether some process holds the ingest lock (flock locks per open file)."""
    path = home / LOCK_FILE
    if not path.exists():
        return False
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh, fcntl.LOCK_UN)
        return False


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def ids_in(folder: Path) -> set[str]:
    return {paper_id(e.title) for f in folder.glob("*.txt") for e in read_digest(f).entries}


@pytest.fixture
def big(tmp_path) -> Path:
    folder = tmp_path / "big"
    write_corpus(folder, PAPERS)
    return folder


def test_two_ingests_at_once_queue_or_say_busy_and_finish_the_library(home, big):
    add_sources(home, [big])
    first = papers(home, "index")
    wait_for(lambda: lock_held(home) or first.poll() is not None)
    second = papers(home, "index")
    _, err1 = first.communicate(timeout=300)
    out2, err2 = second.communicate(timeout=300)
    assert first.returncode == 0, err1
    assert "Traceback" not in err1 + err2
    # The second one either waited for the first (then found nothing to do) or gave up.
    if second.returncode == 0:
        assert "nothing changed" in out2 or "files scanned" in out2
    else:
        assert "library busy" in err2
    lib = Library(home)
    ids = [h.paper.id for h in lib.search("").hits()]
    assert len(ids) == len(set(ids)) and set(ids) == ids_in(big)


def test_busy_library_is_a_message_and_exit_code_not_a_traceback(home, tmp_path, monkeypatch):
    write(tmp_path / "d" / "2025-12-09.txt", digest("Dec 9", entry("Only Paper", "Text.")))
    add_sources(home, [tmp_path / "d"])
    real_lock = ingest_mod.ingest_lock
    # Wait 0.2 s instead of the CLI's 10 s before giving up.
    monkeypatch.setattr(ingest_mod, "ingest_lock", lambda h, timeout: real_lock(h, 0.2))
    with real_lock(home, timeout=1):
        result = CliRunner().invoke(cli, ["index"])
    assert result.exit_code != 0
    assert "library busy" in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_open_searcher_sees_papers_another_process_commits(home, tmp_path, big):
    small = tmp_path / "small"
    write(small / "2025-12-09.txt", digest("Dec 9", entry("Already Here", "Before.")))
    ingest(home, [small])
    lib = Library(home)
    assert lib.count() == 1
    add_sources(home, [small, big])
    writer = papers(home, "index")
    seen = set()
    # Searching all through the other process's ingest: never an error, never half a commit.
    while writer.poll() is None:
        seen.add(lib.count())
        assert len(lib.search("").hits(5)) >= 1
        time.sleep(0.05)
    _, err = writer.communicate()
    assert writer.returncode == 0, err
    assert seen <= {1, 1 + PAPERS}
    lib.searcher()  # refresh: the new commit becomes visible
    assert lib.count() == 1 + PAPERS
    title = read_digest(next(big.glob("*.txt"))).entries[0].title
    assert lib.get(paper_id(title)).title == title
    lib.close()


def test_user_data_changed_by_another_process_is_seen(home, tmp_path):
    write(tmp_path / "d" / "2025-12-09.txt", digest("Dec 9", entry("Star Me", "Text.")))
    ingest(home, add_sources(home, [tmp_path / "d"]))
    pid = paper_id("Star Me")
    with UserData(home) as ud:
        version = ud.data_version()
        assert ud.starred_ids() == set()
        for args in (["star", pid], ["tag", pid, "later"]):
            proc = papers(home, *args)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        assert ud.data_version() > version
        assert ud.starred_ids() == {pid} and ud.state(pid).tags == ("later",)
    found = papers(home, "find", "--starred", "--json")
    out, err = found.communicate(timeout=60)
    assert found.returncode == 0, err
    assert [p["id"] for p in json.loads(out)] == [pid]


def test_open_searcher_sees_a_rebuild_by_another_process(home, tmp_path):
    folder = tmp_path / "d"
    write(folder / "2025-12-09.txt", digest("Dec 9", entry("One", "A."), entry("Two", "B.")))
    ingest(home, add_sources(home, [folder]))
    lib = Library(home)
    assert lib.count() == 2
    write(folder / "2025-12-10.txt", digest("Dec 10", entry("Three", "C.")))
    proc = papers(home, "index", "--rebuild")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    write(folder / "2025-12-11.txt", digest("Dec 11", entry("Four", "D.")))
    proc = papers(home, "index")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    ids = [h.paper.id for h in lib.search("").hits()]
    assert sorted(ids) == sorted(paper_id(t) for t in ("One", "Two", "Three", "Four"))
