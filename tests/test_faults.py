"""A fault of the environment is not damage: a full disk or a read-only home changes
nothing, says what is wrong, and `papers doctor --repair` leaves a readable file alone."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO, write

from papers.index.errors import StorageError, UserDataDamaged
from papers.index.userdata import FILENAME, UserData
from papers.tui.cli import cli


@pytest.fixture
def library(home, tmp_path) -> tuple[Path, str]:
    """A library with user data (a star, a tag and a note) on a paper, and that paper's id."""
    folder = tmp_path / "digests"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    runner = CliRunner()
    assert runner.invoke(cli, ["add", str(folder)]).exit_code == 0
    pid = json.loads(runner.invoke(cli, ["find", "olmo", "--json"]).stdout)[0]["id"]
    for args in (["star", pid], ["tag", pid, "keep"], ["note", pid, "--set", "mine"]):
        assert runner.invoke(cli, args).exit_code == 0
    return home, pid


def test_a_full_disk_is_said_and_changes_nothing(library, monkeypatch):
    home, pid = library

    def full(self, statement):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(UserData, "_patiently", full)
    result = CliRunner().invoke(cli, ["unstar", pid])
    assert result.exit_code == 3
    assert result.stderr.strip() == (f"papers: cannot save to the user data at {home / FILENAME}: "
                                     "the disk is full; nothing was changed")
    monkeypatch.undo()
    with UserData(home) as store:
        assert store.starred_ids() == {pid}


def test_damage_is_told_apart_from_faults(tmp_path):
    (tmp_path / FILENAME).write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(UserDataDamaged):
        UserData(tmp_path)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare(1) to mount a small tmpfs of its own")
def test_a_really_full_disk_is_not_damage_and_repair_keeps_the_file(library, tmp_path):
    """A 2 MB tmpfs filled to the last byte, in a mount namespace of the test's own."""
    home, pid = library
    script = f"""
set -e
mount -t tmpfs -o size=2m tmpfs "$1"
cp -a "$2/." "$1/"
dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
for args in "star --json {pid}" "unstar {pid}" "doctor" "doctor --repair" "find olmo --json"; do
  echo "== $args"
  "$3" -m papers.tui --home "$1" $args 2>&1 || echo "exit $?"
done
ls "$1"
"""
    mnt = tmp_path / "full"
    mnt.mkdir()
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(mnt), str(home),
                           sys.executable], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    if "mount:" in proc.stderr and "permission denied" in proc.stderr.lower():
        pytest.skip(f"tmpfs mounts are not allowed here: {proc.stderr.strip()}")
    out = proc.stdout
    sections = dict(part.split("\n", 1) for part in out.split("== ")[1:])
    assert "Traceback" not in out, out
    unstar = sections[f"unstar {pid}"]
    assert "the disk is full; nothing was changed" in unstar, out
    assert "exit 3" in unstar
    assert "damaged" not in sections["doctor"], out
    assert "damaged" not in sections["doctor --repair"] and ".damaged" not in out, out
    listing = sections["find olmo --json"]
    found = json.loads(listing[:listing.rindex("]") + 1])
    assert found[0]["starred"] is True and found[0]["tags"] == ["keep"], out


def test_a_read_only_store_reads_and_refuses_writes_in_words(library, monkeypatch):
    _, pid = library
    real_open = UserData._open

    def read_only_disk(self, target, uri=False):
        if not uri:  # the normal read-write open fails as on a read-only mount
            raise StorageError(f"cannot use the user data at {self.path}: attempt to write a "
                               "readonly database (its folder is read-only)")
        return real_open(self, target, uri)

    monkeypatch.setattr(UserData, "_open", read_only_disk)
    runner = CliRunner()
    found = json.loads(runner.invoke(cli, ["find", "olmo", "--json"]).stdout)
    assert found[0]["starred"] is True and found[0]["note"] == "mine"
    result = runner.invoke(cli, ["tag", pid, "more"])
    assert result.exit_code == 3 and "read-only" in result.stderr
    assert "nothing was changed" in result.stderr
    doctor = runner.invoke(cli, ["doctor"])
    assert "read-only" in doctor.stdout and "damaged" not in doctor.stdout


def test_an_empty_library_is_a_library(library, tmp_path):
    """Every digest gone (and pruned): no papers is a normal state, not damage, and the
    starred paper that left every digest stays reachable."""
    _, pid = library
    runner = CliRunner()
    for f in (tmp_path / "digests").iterdir():
        f.unlink()
    assert runner.invoke(cli, ["index", "--prune"]).exit_code == 0
    nothing = runner.invoke(cli, ["find"])
    assert nothing.exit_code == 1 and nothing.stderr == "papers: the library has no papers\n"
    assert runner.invoke(cli, ["find", "olmo"]).exit_code == 1
    stats = json.loads(runner.invoke(cli, ["stats", "--json"]).stdout)
    assert stats["papers"] == 0
    starred = runner.invoke(cli, ["find", "--starred", "--json"])
    assert starred.exit_code == 0 and json.loads(starred.stdout)[0]["id"] == pid
    export = runner.invoke(cli, ["export"])
    assert export.exit_code == 0 and "no longer in any digest" in export.stdout
    doctor = runner.invoke(cli, ["doctor"])
    assert "index: 0 papers" in doctor.stdout and "damaged" not in doctor.stdout


def test_flipped_bytes_in_the_table_of_contents_are_damage_said_in_one_line(library):
    home, _ = library
    import random

    from papers.index.schema import INDEX_DIR, TOC_GLOB

    [toc] = (home / INDEX_DIR).glob(TOC_GLOB)
    good = toc.read_bytes()
    rng = random.Random(12)
    for _ in range(40):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        toc.write_bytes(bytes(data))
        result = CliRunner().invoke(cli, ["find", "olmo"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception))
        assert result.exit_code in (0, 3), result.output
        if result.exit_code == 3:
            assert result.stderr.count("\n") == 1 and "damaged" in result.stderr
    toc.write_bytes(good)
