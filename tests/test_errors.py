"""Every command against every fault: one line, the documented exit code, never a traceback.

The exit codes (`papers --help` lists them): 0 done, 1 nothing found, 2 bad usage or input,
3 the library or the user data cannot be used. A command that can still do its job on a
fault does it (0); one that needs what is broken says so in one line (3).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, REPO, write

from papers.index.library import INDEX_DIR
from papers.index.userdata import FILENAME
from papers.tui.cli import cli

HEALTHY, INDEX, USERDATA, READ_ONLY = "healthy", "index", "userdata", "read-only"
INDEX_TOC = "index-toc"  # the same column as INDEX: garbage over the table of contents

# What each command exits with on each fault, and why where it is not obvious.
#                                            healthy index userdata read-only
EXPECTED = {
    # An ingest rebuilds a damaged index; a damaged store is only not backed up (warned).
    "add {digests}":                           (0, 0, 0, 3),
    "index":                                   (0, 0, 0, 3),
    "index --rebuild":                         (0, 0, 0, 3),
    "index --prune":                           (0, 0, 0, 3),
    # Listing sources reads sources.json and the manifest only.
    "sources":                                 (0, 0, 0, 0),
    "sources --json":                          (0, 0, 0, 0),
    # Unregistering writes sources.json and takes the papers out: an ingest.
    "remove {digests}":                        (0, 0, 0, 3),
    # Searching needs both the index and the user data (marks, is:, tag:); a read-only
    # disk still searches, shows and exports (the user data is read without writing).
    "find olmo":                               (0, 3, 3, 0),
    "find olmo --json":                        (0, 3, 3, 0),
    "find --sort newest --starred":            (0, 3, 3, 0),
    "show {pid}":                              (0, 3, 3, 0),
    "show {pid} --json":                       (0, 3, 3, 0),
    # stats reads only the index; on a read-only disk it can still count.
    "stats":                                   (0, 3, 0, 0),
    "stats --json":                            (0, 3, 0, 0),
    # doctor reports problems (1) whatever they are; --repair cannot write a read-only disk.
    "doctor":                                  (0, 1, 1, 1),
    "doctor --repair":                         (0, 0, 0, 3),
    # Marks resolve the id in the index and write the user data: both must be usable.
    "star {pid}":                              (0, 3, 3, 3),
    "unstar {pid}":                            (0, 3, 3, 3),
    "read {pid}":                              (0, 3, 3, 3),
    "unread {pid}":                            (0, 3, 3, 3),
    "tag {pid} later":                         (0, 3, 3, 3),
    "untag {pid} vision":                      (0, 3, 3, 3),
    "note {pid} --set hello":                  (0, 3, 3, 3),
    "skip {pid}":                              (0, 3, 3, 3),
    "unskip {pid}":                            (0, 3, 3, 3),
    "snooze {pid} tomorrow":                   (0, 3, 3, 3),
    "unsnooze {pid}":                          (0, 3, 3, 3),
    # A mute rule is checked by running it: it needs the index as well as the user data.
    "mute diffusion":                          (0, 3, 3, 3),
    # What is new is a search (of All and each saved search): it only reads both.
    "new":                                     (0, 3, 3, 0),
    "new --json":                              (0, 3, 3, 0),
    # These touch only the user data: a damaged index does not stop them; reading them
    # works on a read-only disk, changing them does not.
    "tags":                                    (0, 0, 3, 0),
    "undo":                                    (0, 0, 3, 3),
    "save mine2 olmo":                         (0, 0, 3, 3),
    "saved":                                   (0, 0, 3, 0),
    "unsave mine":                             (0, 0, 3, 3),
    "unmute agents":                           (0, 0, 3, 3),
    "mutes":                                   (0, 0, 3, 0),
    "mutes --json":                            (0, 0, 3, 0),
    "export":                                  (0, 3, 3, 0),
    "export --format json --tag vision":       (0, 3, 3, 0),
    "export -o {out}":                         (0, 3, 3, 0),
    # Sync reads and writes the user data and a shared folder; --status only reads.
    "sync {sync}":                             (0, 0, 3, 3),
    "sync --json {sync}":                      (0, 0, 3, 3),
    "sync --status {sync}":                    (0, 0, 3, 0),
}
FAULTS = (HEALTHY, INDEX, USERDATA, READ_ONLY)
# `papers demo` and `papers` alone open the reader (the demo on a library of its own).
# `papers fetch` talks to a server: tests/test_fetch.py runs it against one, with faults.
NOT_HERE = {"demo", "fetch"}


def test_the_table_covers_every_command():
    assert {line.split()[0] for line in EXPECTED} | NOT_HERE == set(cli.commands)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, str, Path]:
    """A library with a star, a tag, a saved search, a mute rule and a change to undo; a
    paper id in it, and its digests' folder."""
    root = tmp_path_factory.mktemp("errors")
    digests = root / "digests"
    for f in FIXTURES.glob("sample-*.txt"):
        write(digests / f.name, f.read_text("utf-8"))
    home = root / "home"
    runner = CliRunner()

    def ok(*args):
        result = runner.invoke(cli, ["--home", str(home), *args])
        assert result.exit_code == 0, result.output
        return result

    ok("add", str(digests))
    pid = json.loads(ok("find", "olmo", "--json").stdout)[0]["id"]
    ok("star", pid)
    ok("tag", pid, "vision")
    ok("save", "mine", "is:starred")
    ok("mute", "agents")
    return home, pid, digests


def damage(home: Path, fault: str) -> None:
    if fault == INDEX:
        for victim in (home / INDEX_DIR).glob("*.trm"):
            victim.write_bytes(b"\x00not a term file\xff" * 64)
    elif fault == INDEX_TOC:
        for victim in (home / INDEX_DIR).glob("_MAIN_*.toc"):
            victim.write_bytes(b"\x00not a table of contents\xff" * 16)
    elif fault == USERDATA:
        (home / FILENAME).write_bytes(b"\x00garbage, not SQLite\xff" * 512)


def command_line(template: str, home: Path, pid: str, digests: Path) -> list[str]:
    (home.parent / "sync").mkdir(exist_ok=True)
    return [part.format(pid=pid[:6], digests=digests, out=home.parent / "out.md",
                        sync=home.parent / "sync")
            for part in template.split()]


def check(fault: str, template: str, code: int, stdout: str, stderr: str) -> None:
    """The documented code, no traceback, and a failure said in one line."""
    fault = INDEX if fault == INDEX_TOC else fault
    assert "Traceback" not in stdout + stderr, stderr
    assert code == EXPECTED[template][FAULTS.index(fault)], (code, stdout, stderr)
    if code in (2, 3):
        [line] = stderr.strip().splitlines()
        if "--json" in template:
            assert set(json.loads(line)) == {"error"}
            line = json.loads(line)["error"]
        else:
            assert line.startswith("papers: ")
        said = {INDEX: ("damaged",), USERDATA: ("user data",),
                READ_ONLY: ("read-only", "permission denied")}[fault]
        assert any(s in line.lower() for s in said), line
    elif code == 1:  # doctor: the findings on stdout
        assert "problems found" in stdout


@pytest.mark.parametrize("fault", [HEALTHY, INDEX, INDEX_TOC, USERDATA])
@pytest.mark.parametrize("template", list(EXPECTED))
def test_every_command_on_a_fault(base, tmp_path, fault, template):
    source, pid, digests = base
    home = tmp_path / "h" / "home"
    shutil.copytree(source, home)
    damage(home, fault)
    args = command_line(template, home, pid, digests)
    result = CliRunner().invoke(cli, ["--home", str(home), *args])
    # Our code ends with SystemExit; any other exception escaped the boundary.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    check(fault, template, result.exit_code, result.stdout, result.stderr)


# -- the real entry point -----------------------------------------------------------------


def papers(*args: str, home: Path, wrap: list[str] = ()) -> subprocess.CompletedProcess:
    """`python -m papers.tui ARGS` in a subprocess, optionally under `wrap`."""
    return subprocess.run([*wrap, sys.executable, "-m", "papers.tui", "--home", str(home),
                           *args], capture_output=True, text=True, cwd=REPO,
                          stdin=subprocess.DEVNULL, timeout=120)


@pytest.mark.parametrize(("fault", "template"), [
    (INDEX, "find olmo"), (INDEX, "find olmo --json"), (USERDATA, "show {pid}"),
    (USERDATA, "tags"), (INDEX, "tags"),
])
def test_the_entry_point_on_a_fault(base, tmp_path, fault, template):
    source, pid, digests = base
    home = tmp_path / "h" / "home"
    shutil.copytree(source, home)
    damage(home, fault)
    proc = papers(*command_line(template, home, pid, digests), home=home)
    check(fault, template, proc.returncode, proc.stdout, proc.stderr)


def _read_only_wrap(home: Path) -> list[str]:
    """How to run a command with `home` read-only, or skip.

    Root writes through file modes, so as root the home is bind-mounted read-only in a
    mount namespace of the command's own (nothing outside it sees the mount)."""
    if os.geteuid() != 0:
        subprocess.run(["chmod", "-R", "a-w", str(home)], check=True)
        return []
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root, where chmod does not stop writes, and no unshare(1) "
                    "to mount the data directory read-only")
    wrap = [unshare, "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(home)]
    probe = subprocess.run([*wrap, "touch", str(home / "probe")], capture_output=True)
    if probe.returncode == 0 or (home / "probe").exists():
        pytest.skip("running as root, where chmod does not stop writes, and a read-only bind "
                    f"mount is not allowed here: {probe.stderr.decode().strip()}")
    return wrap


@pytest.fixture(scope="module")
def read_only_home(base, tmp_path_factory):
    source, pid, digests = base
    home = tmp_path_factory.mktemp("ro") / "h" / "home"
    shutil.copytree(source, home)
    wrap = _read_only_wrap(home)
    yield home, pid, digests, wrap
    if not wrap:
        subprocess.run(["chmod", "-R", "u+w", str(home.parent)], check=True)


@pytest.mark.parametrize("template", list(EXPECTED))
def test_every_command_on_a_read_only_data_directory(read_only_home, template):
    home, pid, digests, wrap = read_only_home
    proc = papers(*command_line(template, home, pid, digests), home=home, wrap=wrap)
    check(READ_ONLY, template, proc.returncode, proc.stdout, proc.stderr)
