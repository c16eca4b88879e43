"""SIGKILL `papers index` at random moments: the library survives every kill.

CI mode: 3,000 papers (enough for the bulk writer's worker processes), 5 kills.
`PAPERS_LONG=1`: 10,000 papers and 50 kills, for runs by hand (PAPERS_SEED picks the moments).
"""

from __future__ import annotations

import contextlib
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

from bench.corpus import write_corpus
from papers.index.digest import read_digest
from papers.index.doctor import ERROR, check, healthy
from papers.index.identity import paper_id
from papers.index.library import Library
from papers.index.manifest import MANIFEST
from papers.index.schema import INDEX_DIR
from papers.index.sources import add_sources
from papers.index.userdata import UserData

LONG = os.environ.get("PAPERS_LONG") == "1"
PAPERS = 10_000 if LONG else 3_000
KILLS = 50 if LONG else 5


def papers_cmd(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "papers.tui", *args]


def env_for(home: Path) -> dict:
    return {**os.environ, "PAPERS_HOME": str(home), "NO_COLOR": "1"}


def run(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(papers_cmd(home, *args), env=env_for(home), cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


def expected_ids(folder: Path) -> set[str]:
    return {paper_id(e.title) for f in folder.glob("*.txt") for e in read_digest(f).entries}


def kill_at(home: Path, args: list[str], delay: float) -> tuple[int, float]:
    """Start `papers ARGS`, SIGKILL its whole process group after `delay` seconds."""
    started = time.monotonic()
    # A session of its own: the bulk writer forks sub-writers that must die with it.
    proc = subprocess.Popen(papers_cmd(home, *args), env=env_for(home), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    else:
        # Finished first: any worker it left behind still goes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    err = proc.stderr.read().decode("utf-8", "replace")
    proc.stderr.close()
    assert "Traceback" not in err, err
    return proc.returncode, time.monotonic() - started


def mutate(folder: Path, parked: Path, rng: random.Random, n: int) -> None:
    """Give the next run something to do: edit a title, or park or return a digest."""
    files = sorted(folder.glob("*.txt"))
    choice = rng.random()
    if choice < 0.5:
        f = rng.choice(files)
        lines = f.read_text("utf-8").split("\n")
        first_title = read_digest(f).entries[0].line - 1
        lines[first_title] = f"Crash Test Paper Number {n}: Edited In Place"
        f.write_text("\n".join(lines), "utf-8")
    elif choice < 0.75 and len(files) > 2:
        f = rng.choice(files)
        f.rename(parked / f.name)
    else:
        for f in parked.glob("*.txt"):
            f.rename(folder / f.name)


def library_opens(home: Path) -> str:
    """Open the library and count it; say which known interrupted state it is in, if any."""
    lib = Library(home)
    try:
        if not lib.exists:
            # Nothing committed yet, or a rebuild killed between its two renames (the next
            # papers index puts index.old back).
            assert not (home / INDEX_DIR).exists() or (home / "index.old").exists()
            return "no library yet"
        if not (home / INDEX_DIR / MANIFEST).exists():
            # A first ingest killed before its manifest: the library opens; the next
            # papers index reads every file again and completes it.
            lib.count()
            return "first ingest interrupted"
        lib.count()
        return "opens, rebuild cut short" if (home / "index.new").exists() else "opens"
    finally:
        lib.close()


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path):
    seed = int(os.environ.get("PAPERS_SEED") or random.randrange(1 << 30))
    print(f"\nPAPERS_SEED={seed}")  # to replay the same kill moments
    rng = random.Random(seed)
    folder, parked, home = tmp_path / "digests", tmp_path / "parked", tmp_path / "home"
    parked.mkdir()
    write_corpus(folder, PAPERS)
    add_sources(home, [folder])

    # User data made before any index exists: it must come through every kill untouched.
    ids = sorted(expected_ids(folder))
    chosen = rng.sample(ids, 20)
    with UserData(home) as ud:
        ud.star(chosen[:10])
        for pid in chosen[5:15]:
            ud.add_tags(pid, ["crash", f"t{pid[:3]}"])
        ud.set_note(chosen[0], "survives SIGKILL")
        before = ud.states()

    # How long each kind of run takes, learnt as runs finish, so kills land anywhere in one.
    kills, finished, longest = 0, 0, {"index": 2.5, "rebuild": 2.5}
    n, states = 0, {}
    while kills < KILLS:
        n += 1
        mode = "rebuild" if rng.random() < 0.3 else "index"
        args = ["index", "--rebuild"] if mode == "rebuild" else ["index"]
        code, took = kill_at(home, args, rng.uniform(0.3, longest[mode]))
        if code == -signal.SIGKILL:
            kills += 1
            longest[mode] *= 1.4  # now and then a run gets to finish
        else:
            assert code == 0, f"papers {' '.join(args)} exited {code}"
            finished += 1
            longest[mode] = max(1.0, took * 1.1)
            mutate(folder, parked, rng, n)
        state = library_opens(home)
        states[state] = states.get(state, 0) + 1
        errors = [str(f) for f in check(home) if f.severity == ERROR]
        assert not errors, f"after kill {kills} ({' '.join(args)}): {errors}"
        assert n < KILLS * 6, "the runs keep finishing before the kill"

    final = run(home, "index")
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr
    found = run(home, "find", "--json", "--limit", "0")
    assert found.returncode == 0, found.stderr
    got = [p["id"] for p in json.loads(found.stdout)]
    assert len(got) == len(set(got)), "a paper is in the library twice"
    assert set(got) == expected_ids(folder)
    with UserData(home) as ud:
        assert ud.states() == before
    findings = check(home)
    assert healthy(findings), [str(f) for f in findings]
    doctor = run(home, "doctor", "--json")
    assert doctor.returncode == 0 and json.loads(doctor.stdout)["healthy"], doctor.stdout
    print(f"\n{kills} kills survived, {finished} runs finished, {n} runs, "
          f"{len(got)} papers; states after each run: {states}")


def test_library_opens_after_a_first_ingest_killed_before_its_manifest(home, tmp_path,
                                                                      monkeypatch):
    import papers.index.ingest as ingest_mod
    from papers.index import manifest as manifest_file

    folder = tmp_path / "d"
    write_corpus(folder, 10)

    def killed(*args):
        raise KeyboardInterrupt  # stands in for SIGKILL between index commit and manifest

    monkeypatch.setattr(manifest_file, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        ingest_mod.ingest(home, [folder])
    assert Library(home).count() == 10
