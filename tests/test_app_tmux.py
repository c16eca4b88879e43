"""End to end in a real terminal: start `papers` in tmux, search, star, quit; then a
separate `papers find --json` sees the star."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from _app_library import build_library
from test_fetch import PROXY_VARIABLES, hub, papers_in  # noqa: F401  (hub: a fixture)

TMUX = shutil.which("tmux")
PAPERS = Path(sys.executable).with_name("papers")

pytestmark = pytest.mark.skipif(
    TMUX is None or not PAPERS.exists(), reason="needs tmux and the papers script"
)


class Terminal:
    """One tmux session on a private server socket, so the user's tmux is never touched."""

    def __init__(self, tmp: Path, command: str) -> None:
        self.socket = f"papers-test-{os.getpid()}"
        self.name = "reader"
        self.run("new-session", "-d", "-s", self.name, "-x", "120", "-y", "32", command)

    def run(self, *args: str) -> str:
        done = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def wait_gone(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text not in shown:
                return shown
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never went away; screen:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(
                [TMUX, "-L", self.socket, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True)


def test_search_star_quit_then_find_sees_the_star(tmp_path):
    home = build_library(tmp_path)
    # The digests' folder stays registered: the reader re-scans it on start, as for real.
    term = Terminal(tmp_path, f"env PAPERS_HOME={home} TERM=xterm-256color {PAPERS}")
    try:
        term.wait_for("8 papers")
        # The footer shows where the keys go: letters typed before the search bar has focus
        # would act on the list, and a key sent with a pending ESC would read as alt+key.
        term.keys("/")
        term.wait_for("Leave search")
        term.keys("transformers")
        term.wait_for("1 paper")
        term.keys("Escape")
        term.wait_gone("Leave search")
        term.keys("s")
        shown = term.wait_for("★ starred")
        assert "Diffusion Transformers at Scale" in shown
        term.keys("q")
        deadline = time.monotonic() + 10
        while term.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not term.alive()
    finally:
        term.close()

    env = {**os.environ, "PAPERS_HOME": str(home)}
    found = subprocess.run(
        [str(PAPERS), "find", "--json", "transformers"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    papers = json.loads(found.stdout)
    assert [p["title"] for p in papers] == ["Diffusion Transformers at Scale"]
    assert papers[0]["starred"] is True
    starred = subprocess.run([str(PAPERS), "find", "--json", "--starred"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert [p["title"] for p in json.loads(starred.stdout)] == ["Diffusion Transformers at Scale"]


def test_slash_and_a_word_sent_at_once_all_reach_the_search_bar(tmp_path):
    home = build_library(tmp_path)
    term = Terminal(tmp_path, f"env PAPERS_HOME={home} TERM=xterm-256color {PAPERS}")
    try:
        term.wait_for("8 papers")
        term.run("send-keys", "-t", term.name, "-l", "/quant")  # one write: q must not quit
        shown = term.wait_for("0 papers")
        assert term.alive()
        assert "quant" in shown.splitlines()[0]
    finally:
        term.close()


def test_the_readers_fetch_brings_new_papers_into_the_open_list(tmp_path, hub):  # noqa: F811
    """Issue 14: F in a real terminal fetches from a server on 127.0.0.1 (HF_ENDPOINT)."""
    home = build_library(tmp_path)
    hub.files[date.today().isoformat()] = hub.files["2025-10-03"]
    new = len(papers_in(date(2025, 10, 3)))
    # No proxy between the reader and 127.0.0.1, whatever the machine's settings.
    unset = " ".join(f"-u {v} -u {v.upper()}" for v in PROXY_VARIABLES)
    term = Terminal(tmp_path, f"env {unset} PAPERS_HOME={home} HF_ENDPOINT={hub.url} "
                              f"TERM=xterm-256color {PAPERS}")
    try:
        term.wait_for("· 8 papers")
        term.keys("F")
        term.wait_for(f"· {8 + new} papers", timeout=60)
        assert term.alive()
    finally:
        term.close()


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="needs root and unshare(1) to mount the data directory read-only")
def test_a_read_only_data_directory_reads_and_a_star_says_why_it_is_not_saved(tmp_path):
    """Issue 12, for real: the papers home bind-mounted read-only in a mount namespace of
    the test's own; the reader lists and searches, and `s` says why nothing was saved."""
    from papers.index.userdata import UserData

    home = build_library(tmp_path)
    UserData(home).close()  # the user data exists, as it does after the first mark
    script = (f'mount --bind "{home}" "{home}" && mount -o remount,ro,bind "{home}" "{home}" '
              f'&& exec env PAPERS_HOME="{home}" TERM=xterm-256color "{PAPERS}"')
    probe = subprocess.run(["unshare", "--mount", "sh", "-c",
                            f'mount --bind "{home}" "{home}" && mount -o remount,ro,bind '
                            f'"{home}" "{home}" && echo ok'], capture_output=True, text=True)
    if probe.stdout.strip() != "ok":
        pytest.skip(f"read-only bind mounts are not allowed here: {probe.stderr.strip()}")
    term = Terminal(tmp_path, f"unshare --mount sh -c {shlex.quote(script)}")
    try:
        term.wait_for("· 8 papers")
        term.wait_for("Read-only")  # the start-up re-scan cannot write: said, in one line
        term.keys("s")
        shown = term.wait_for("read-only")
        assert "Traceback" not in shown and "★ starred" not in shown
        term.keys("/")
        term.wait_for("Leave search")
        term.keys("transformers")
        term.wait_for("1 paper")
        assert term.alive()
    finally:
        term.close()


def test_a_star_made_in_another_data_directory_reaches_the_open_reader_by_sync(tmp_path):
    """Issue 17: `papers star` in one data directory, `papers sync` there, and the reader open
    on the other shows the star, and says where it came from."""
    laptop = build_library(tmp_path / "laptop")
    desk = tmp_path / "desk"
    shutil.copytree(laptop, desk)
    shared = tmp_path / "shared"
    shared.mkdir()

    def papers(home: Path, *args: str) -> str:
        done = subprocess.run([str(PAPERS), "--home", str(home), *args], capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    papers(desk, "sync", str(shared))  # the desk's sync folder, kept as its setting
    found = json.loads(papers(laptop, "find", "--json", "transformers"))
    assert [p["title"] for p in found] == ["Diffusion Transformers at Scale"]
    term = Terminal(tmp_path, f"env PAPERS_HOME={desk} TERM=xterm-256color {PAPERS}")
    try:
        title = "Diffusion Transformers at Scale"

        def starred_rows() -> list[str]:
            return [line for line in term.screen().splitlines()
                    if "★" in line and "title" not in line]  # not the list's header

        term.wait_for("8 papers")
        term.wait_for(title)
        assert starred_rows() == []
        papers(laptop, "star", found[0]["id"])
        papers(laptop, "sync", str(shared))
        shown = term.wait_for("1 change from")
        deadline = time.monotonic() + 20
        while not any(title in line for line in starred_rows()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [line for line in starred_rows() if title in line], term.screen()
        assert "Traceback" not in shown and term.alive()
    finally:
        term.close()
