"""SIGKILL at random moments, beyond `papers index` (tests/test_crash_safety.py): the first
`papers add`, `papers doctor --repair`, bursts of stars, tags and notes, and `export -o`.
After each kill the library equals a clean build, and no change a command reported is lost.

CI mode: a few kills of each; `PAPERS_LONG=1` for many (PAPERS_SEED picks the moments).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from test_crash_safety import env_for, expected_ids, kill_at, run

from bench.corpus import write_corpus
from papers.index.doctor import ERROR, check
from papers.index.schema import INDEX_DIR
from papers.index.userdata import UserData

LONG = os.environ.get("PAPERS_LONG") == "1"
KILLS = 20 if LONG else 3


@pytest.fixture
def rng():
    seed = int(os.environ.get("PAPERS_SEED") or random.randrange(1 << 30))
    print(f"\nPAPERS_SEED={seed}")
    return random.Random(seed)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kill") / "digests"
    write_corpus(folder, 600, seed=3)
    return folder


def library_ids(home: Path) -> list[str]:
    found = run(home, "find", "--json", "--limit", "0")
    assert found.returncode in (0, 1), found.stderr
    return [p["id"] for p in json.loads(found.stdout or "[]")]


def no_errors(home: Path, after: str) -> None:
    errors = [str(f) for f in check(home) if f.severity == ERROR]
    assert not errors, f"after {after}: {errors}"


@pytest.mark.slow
def test_a_first_add_killed_anywhere_completes_to_a_clean_build(corpus, tmp_path, rng):
    want = expected_ids(corpus)
    for n in range(KILLS):
        home = tmp_path / f"home{n}"
        code, _ = kill_at(home, ["add", str(corpus)], rng.uniform(0.2, 2.5))
        assert code in (0, -signal.SIGKILL)
        no_errors(home, f"a first add killed ({code})")
        finish = run(home, "index")
        assert finish.returncode == 0 and "Traceback" not in finish.stderr, finish.stderr
        got = library_ids(home)
        assert len(got) == len(set(got)) and set(got) == want


@pytest.mark.slow
def test_doctor_repair_killed_anywhere_loses_nothing(corpus, tmp_path, rng):
    home = tmp_path / "home"
    assert run(home, "add", str(corpus)).returncode == 0
    with UserData(home) as ud:
        ud.star(sorted(expected_ids(corpus))[:7])
        before = ud.states()
    for n in range(KILLS):
        for victim in (home / INDEX_DIR).glob("*.trm"):
            victim.write_bytes(b"\x00garbage\xff" * 64)
        code, _ = kill_at(home, ["doctor", "--repair"], rng.uniform(0.1, 2.0))
        assert code in (0, -signal.SIGKILL), n
        again = run(home, "doctor", "--repair")
        assert "Traceback" not in again.stderr, again.stderr
        assert set(library_ids(home)) == expected_ids(corpus)
        with UserData(home) as ud:
            assert ud.states() == before


BURST = """
import sys
from papers.index.userdata import UserData
ud = UserData(sys.argv[1])
for pid in sys.argv[2:]:
    ud.star([pid])
    ud.add_tags(pid, ["burst"])
    ud.set_note(pid, "note " + pid)
    print(pid, flush=True)  # reported: from here on it must never be lost
"""


@pytest.mark.slow
def test_a_burst_of_marks_killed_anywhere_keeps_every_reported_change(tmp_path, rng):
    home = tmp_path / "home"
    ids = [f"{i:012x}" for i in range(400)]
    for _ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", BURST, str(home), *ids],
                                env=env_for(home), cwd=REPO, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        # Kill mid-burst: after a random number of reported changes, at once or a moment
        # later (inside the next transaction).
        reported = [proc.stdout.readline().decode().strip()
                    for _ in range(rng.randint(1, 60))]
        time.sleep(rng.choice([0, 0, rng.uniform(0, 0.01)]))
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        reported += out.decode().split()
        assert b"Traceback" not in err, err
        assert all(reported), "the burst ended before the kill"
        with UserData(home) as ud:  # opens and reads whole after every kill
            states = ud.states()
        for pid in reported:
            state = states[pid]
            assert state.starred and state.tags == ("burst",) and state.note == f"note {pid}"


@pytest.mark.slow
def test_export_killed_anywhere_leaves_the_old_file_or_the_whole_new_one(corpus, tmp_path,
                                                                        rng):
    home = tmp_path / "home"
    assert run(home, "add", str(corpus)).returncode == 0
    out = tmp_path / "list.md"
    out.write_text("the old list\n")
    every = ["export", "seen:[2000 to]", "--sort", "title"]
    whole = run(home, *every, "-o", str(tmp_path / "whole.md"))
    assert whole.returncode == 0 and whole.stderr.startswith("wrote 600 papers")
    for _ in range(KILLS):
        kill_at(home, [*every, "-o", str(out)], rng.uniform(0.1, 1.2))
        text = out.read_text()
        assert text == "the old list\n" or text == (tmp_path / "whole.md").read_text()
