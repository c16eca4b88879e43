"""One reading list on every machine: data directories that sync through one shared folder."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.index import sync as sync_mod
from papers.index.sync import read_log, sync
from papers.index.userdata import UserData
from papers.tui.cli import cli

IDS = [f"{i:02x}" * 6 for i in (0xa1, 0xb2, 0xc3, 0xd4, 0xe5)]
A, B, C = IDS[:3]


class Machine:
    """One data directory, as one machine would have it."""

    def __init__(self, root: Path, name: str, folder: Path):
        self.home = root / name
        self.folder = folder
        self.ud = UserData(self.home)

    def sync(self):
        return sync(self.home, self.folder, userdata=self.ud)

    @property
    def log(self) -> Path:
        return self.folder / f"{self.ud.machine}.jsonl"

    def seen(self) -> dict:
        """Everything a user sees of the user data."""
        ud = self.ud
        states = ud.states()
        return {
            "states": states,
            "tags": ud.tags(),
            "searches": ud.saved_searches(),
            "history": {pid: ud.note_history(pid) for pid in states},
        }


@pytest.fixture
def shared(tmp_path) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    return folder


@pytest.fixture
def machines(tmp_path, shared):
    made = [Machine(tmp_path, name, shared) for name in ("laptop", "workstation", "server")]
    yield made
    for m in made:
        m.ud.close()


@pytest.fixture
def clock(monkeypatch):
    """A clock that moves one millisecond at each change, so "later" is plain in a test
    that makes changes faster than the wall clock ticks."""
    now = [time.time_ns() // 1_000_000]
    real = sync_mod.tick

    def tick(last: int, now_ms: int | None = None) -> int:
        now[0] += 1
        return real(last, now[0])

    monkeypatch.setattr(sync_mod, "tick", tick)


def sync_all(*machines: Machine) -> None:
    """Two rounds: after the second every machine has every other's changes."""
    for _ in range(2):
        for m in machines:
            m.sync()


def entries(log: Path) -> list[tuple[str, int]]:
    return [(op.machine, op.clock) for op in read_log(log).ops]


# -- the plain cases ----------------------------------------------------------------------------


def test_marks_made_on_one_machine_reach_the_other(machines):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    laptop.ud.mark_read([A, B])
    laptop.ud.add_tags(A, ["LoRA", "nlp"])
    laptop.ud.set_note(A, "read section 3 again")
    laptop.ud.save_search("sparse", "sparse fine-tuning")
    report = laptop.sync()
    assert report.sent == 7 and report.arrived == 0
    report = desk.sync()
    assert report.received == {laptop.ud.machine: 7} and report.changed == 7
    assert desk.ud.state(A).starred and desk.ud.read_ids() == {A, B}
    assert desk.ud.state(A).tags == ("LoRA", "nlp")
    assert desk.ud.state(A).note == "read section 3 again"
    assert desk.ud.saved("sparse").query == "sparse fine-tuning"
    assert desk.seen() == laptop.seen()
    # Marks are keyed by paper id: neither machine has a library, and none is needed.
    again = desk.sync()
    assert again.arrived == 0 and again.sent == 0


def test_each_machine_writes_only_its_own_log(machines, shared):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    desk.ud.star([B])
    sync_all(laptop, desk)
    assert sorted(p.name for p in shared.iterdir()) == sorted(
        [f"{laptop.ud.machine}.jsonl", f"{desk.ud.machine}.jsonl"])
    assert {m for m, _ in entries(laptop.log)} == {laptop.ud.machine}
    assert {m for m, _ in entries(desk.log)} == {desk.ud.machine}


def test_user_data_from_before_sync_is_sent_too(tmp_path, shared):
    """Stars made before this version recorded changes: the first sync sends them."""
    import sqlite3

    old = Machine(tmp_path, "old", shared)
    old.ud.star([A])
    old.ud.close()
    db = sqlite3.connect(old.home / "userdata.sqlite")
    with db:
        db.execute("DELETE FROM sync_ops")
        db.execute("DELETE FROM sync_registers")
        db.execute("INSERT INTO tags (id, key, tag, at) VALUES (?, 'ml', 'ML', ?)",
                   (B, "2025-01-01T00:00:00+00:00"))
    db.close()
    old.ud = UserData(old.home)
    new = Machine(tmp_path, "new", shared)
    sync_all(old, new)
    assert new.ud.starred_ids() == {A} and new.ud.state(B).tags == ("ML",)
    assert new.seen() == old.seen()
    new.ud.close()
    old.ud.close()


# -- the merge rules ----------------------------------------------------------------------------


def test_the_later_star_or_read_mark_wins(machines, clock):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    laptop.ud.mark_read([A])
    desk.ud.unstar([A])  # nothing to unstar here yet: changes nothing, sends nothing
    desk.ud.star([B])
    laptop.ud.unstar([B])  # neither
    sync_all(laptop, desk)
    assert laptop.ud.starred_ids() == desk.ud.starred_ids() == {A, B}
    # Between two syncs: the workstation unstars A, then the laptop stars it again.
    desk.ud.unstar([A])
    desk.ud.mark_unread([A])
    laptop.ud.star([A])  # already starred: no change, so the later unstar stands
    laptop.ud.mark_read([A])  # already read: the same
    sync_all(desk, laptop)
    assert laptop.ud.starred_ids() == desk.ud.starred_ids() == {B}
    assert laptop.ud.read_ids() == desk.ud.read_ids() == set()
    desk.ud.unstar([B])
    laptop.ud.unstar([B])
    laptop.ud.star([B])  # the later word
    sync_all(desk, laptop)
    assert laptop.ud.starred_ids() == desk.ud.starred_ids() == {B}


@pytest.mark.parametrize("later", ["add", "remove"])
def test_a_tag_added_on_one_machine_and_removed_on_the_other_ends_as_the_later_says(
        machines, clock, later):
    laptop, desk, _ = machines
    laptop.ud.add_tags(A, ["nlp", "vision"])
    sync_all(laptop, desk)
    first, second = ((desk, "remove"), (laptop, "add")) if later == "add" else (
        (laptop, "add"), (desk, "remove"))
    for machine, what in (first, second):
        if what == "add":
            machine.ud.add_tags(A, ["rl"])
            machine.ud.remove_tags(A, ["rl"])
            machine.ud.add_tags(A, ["rl"])
        else:
            machine.ud.add_tags(A, ["rl"])
            machine.ud.remove_tags(A, ["rl", "nlp"])
    sync_all(desk, laptop)
    want = ("rl", "vision") if later == "add" else ("vision",)
    assert laptop.ud.state(A).tags == desk.ud.state(A).tags == want
    # Tags are merged one by one: a tag only one side touched is as that side left it.
    assert "vision" in laptop.ud.state(A).tags


def test_a_note_edited_on_two_machines_keeps_the_other_text_in_its_history(machines, clock):
    laptop, desk, _ = machines
    laptop.ud.set_note(A, "first draft")
    sync_all(laptop, desk)
    assert desk.ud.note_history(A) == []  # one machine's edits in a row are no conflict
    laptop.ud.set_note(A, "the laptop's text")
    desk.ud.set_note(A, "the workstation's text")  # later
    sync_all(laptop, desk)
    for m in (laptop, desk):
        assert m.ud.state(A).note == "the workstation's text"
        [other] = m.ud.note_history(A)
        assert (other.text, other.machine) == ("the laptop's text", laptop.ud.machine)
    # An edit made after seeing both replaces the note; the kept text stays kept.
    laptop.ud.set_note(A, "merged by hand")
    sync_all(laptop, desk)
    assert desk.ud.state(A).note == "merged by hand"
    assert [v.text for v in desk.ud.note_history(A)] == ["the laptop's text"]
    # A note removed on one machine while edited on the other: the text is not lost.
    desk.ud.set_note(B, "keep me")
    sync_all(laptop, desk)
    desk.ud.set_note(B, "keep me, edited")
    laptop.ud.set_note(B, "")  # later: the note is removed
    sync_all(laptop, desk)
    assert laptop.ud.state(B).note is desk.ud.state(B).note is None
    assert [v.text for v in laptop.ud.note_history(B)] == ["keep me, edited"]
    assert laptop.seen() == desk.seen()


def test_undo_of_a_synced_change_is_a_new_change(machines, clock):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    sync_all(laptop, desk)
    desk.ud.unstar([A])
    sync_all(desk, laptop)
    assert laptop.ud.starred_ids() == set()
    lines = len(entries(desk.log))
    assert desk.ud.undo() == f"starred {A} again"
    sync_all(desk, laptop)
    assert laptop.ud.starred_ids() == desk.ud.starred_ids() == {A}
    assert len(entries(desk.log)) == lines + 1  # appended; nothing taken back from the log
    # Undo on the laptop reverts its own last command (its star) as a new change too.
    assert laptop.ud.undo() == f"unstarred {A}"
    sync_all(laptop, desk)
    assert desk.ud.starred_ids() == set()


def test_undo_of_a_command_a_sync_already_reverted_changes_nothing(machines, clock):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    sync_all(laptop, desk)
    desk.ud.unstar([A])
    sync_all(desk, laptop)
    sent = len(entries(laptop.log))
    assert laptop.ud.undo() == f"unstarred {A}"
    laptop.sync()
    assert len(entries(laptop.log)) == sent  # no change, so nothing to send


def test_kinds_of_change_a_newer_version_makes_are_kept_and_merged(machines, shared, clock):
    """A mark a later issue adds (mute, snooze) from a newer papers on another machine is
    kept, merged by the same rule, and passed on, not dropped."""
    laptop, desk, server = machines
    newer = "newer-machine-1"
    base = sync_mod.tick(0)
    lines = [
        {"m": newer, "c": base + 1, "kind": "reminders", "key": ["some author"],
         "value": {"until": "never"}},
        {"m": newer, "c": base + 2, "kind": "stars", "key": [C],
         "value": {"at": "2026-01-01T00:00:00+00:00", "colour": "red"}},
    ]
    (shared / f"{newer}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    report = laptop.sync()
    assert report.received == {newer: 2} and report.problems == []
    assert laptop.ud.starred_ids() == {C}  # a known kind with a field it does not know
    assert laptop.ud.unknown_kinds() == {"reminders": 1}
    sync_all(laptop, desk, server)
    assert desk.ud.unknown_kinds() == server.ud.unknown_kinds() == {"reminders": 1}
    assert server.seen() == laptop.seen()


# -- random interleavings -----------------------------------------------------------------------

TAGS = ["nlp", "LoRA", "lora", "vision", "rl"]
NOTES = ["", "a", "b", "a longer note\nwith two lines", "ünïcödé ✓"]

action = st.one_of(
    st.tuples(st.just("star"), st.integers(0, 2), st.lists(st.sampled_from(IDS), min_size=1,
                                                            max_size=3)),
    st.tuples(st.just("unstar"), st.integers(0, 2), st.lists(st.sampled_from(IDS), min_size=1,
                                                              max_size=3)),
    st.tuples(st.just("mark_read"), st.integers(0, 2), st.lists(st.sampled_from(IDS),
                                                                 min_size=1, max_size=3)),
    st.tuples(st.just("mark_unread"), st.integers(0, 2), st.lists(st.sampled_from(IDS),
                                                                   min_size=1, max_size=3)),
    st.tuples(st.just("add_tags"), st.integers(0, 2), st.sampled_from(IDS),
              st.lists(st.sampled_from(TAGS), min_size=1, max_size=2)),
    st.tuples(st.just("remove_tags"), st.integers(0, 2), st.sampled_from(IDS),
              st.lists(st.sampled_from(TAGS), min_size=1, max_size=2)),
    st.tuples(st.just("set_tags"), st.integers(0, 2), st.sampled_from(IDS),
              st.lists(st.sampled_from(TAGS), max_size=3)),
    st.tuples(st.just("set_note"), st.integers(0, 2), st.sampled_from(IDS),
              st.sampled_from(NOTES)),
    st.tuples(st.just("save_search"), st.integers(0, 2), st.sampled_from(["s1", "s2"]),
              st.sampled_from(["q1", "q2", "is:starred"])),
    st.tuples(st.just("unsave_search"), st.integers(0, 2), st.sampled_from(["s1", "s2"])),
    st.tuples(st.just("undo"), st.integers(0, 2)),
    st.tuples(st.just("sync"), st.integers(0, 2)),
    st.tuples(st.just("sync"), st.integers(0, 2)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(actions=st.lists(action, min_size=150, max_size=400), data=st.data())
def test_random_interleavings_end_identical_on_every_machine(actions, data):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "shared"
        folder.mkdir()
        ms = [Machine(root, f"m{i}", folder) for i in range(3)]
        try:
            for name, who, *args in actions:
                machine = ms[who]
                if name == "sync":
                    machine.sync()
                else:
                    getattr(machine.ud, name)(*args)
            order = data.draw(st.permutations(ms), label="final sync order")
            sync_all(*order)
            seen = [m.seen() for m in ms]
            assert seen[0] == seen[1] == seen[2]
            for m in ms:  # each log holds its machine's changes, each once, in order
                logged = read_log(m.log).ops if m.log.exists() else []
                assert logged == m.ud.local_ops()
            # A new machine that reads the logs alone, one at a time in any order, agrees.
            fresh = Machine(root, "fresh", folder)
            try:
                logs = data.draw(st.permutations(sorted(folder.glob("*.jsonl"))),
                                 label="log order")
                for log in logs:
                    fresh.ud.apply([read_log(log)])
                assert fresh.seen() == seen[0]
            finally:
                fresh.ud.close()
        finally:
            for m in ms:
                m.ud.close()


# -- the ways sync tools behave -----------------------------------------------------------------


def test_a_half_copied_last_line_waits_for_the_next_run(tmp_path, shared):
    laptop = Machine(tmp_path, "laptop", tmp_path / "laptop-view")
    laptop.folder.mkdir()
    desk = Machine(tmp_path, "desk", shared)
    laptop.ud.star([A, B])
    laptop.ud.add_tags(C, ["nlp"])
    laptop.sync()
    whole = laptop.log.read_bytes()
    copy = shared / laptop.log.name
    copy.write_bytes(whole[:-20])  # the sync tool is still copying the last line
    report = desk.sync()
    assert report.arrived == 2 and report.problems == []
    assert desk.ud.starred_ids() == {A, B} and desk.ud.state(C).tags == ()
    copy.write_bytes(whole)
    report = desk.sync()
    assert report.arrived == 1 and report.problems == []
    assert desk.ud.state(C).tags == ("nlp",)
    assert {m: n for m, n, _ in desk.ud.machines()} == {laptop.ud.machine: 3}
    laptop.ud.close()
    desk.ud.close()


def test_conflict_copies_are_read_like_any_log_and_nothing_is_applied_twice(machines, shared):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    laptop.sync()
    older = laptop.log.read_bytes()
    laptop.ud.add_tags(A, ["nlp"])
    laptop.sync()
    # Syncthing kept the older version as a conflict copy; Dropbox made a "(1)" copy.
    stem = laptop.log.name.removesuffix(".jsonl")
    (shared / f"{stem}.sync-conflict-20261201-101010-ABCDEFG.jsonl").write_bytes(older)
    shutil.copyfile(laptop.log, shared / f"{stem} (1).jsonl")
    laptop.log.unlink()  # and the original is not there yet on this side
    report = desk.sync()
    assert report.received == {laptop.ud.machine: 2} and report.problems == []
    assert desk.ud.state(A).tags == ("nlp",) and desk.ud.starred_ids() == {A}
    laptop.sync()  # writes its log afresh
    assert len(entries(laptop.log)) == 2
    assert desk.sync().arrived == 0


def test_a_log_that_went_back_is_reported_and_not_applied_twice(machines, shared):
    laptop, desk, _ = machines
    laptop.ud.star([A, B])
    laptop.sync()
    older = laptop.log.read_bytes()
    laptop.ud.star([C])
    laptop.ud.set_note(C, "three")
    laptop.sync()
    assert desk.sync().arrived == 4
    laptop.log.write_bytes(older)  # a sync tool brought back an older version
    report = desk.sync()
    assert report.arrived == 0 and report.changed == 0
    assert any("got shorter" in p for p in report.problems)
    assert desk.ud.starred_ids() == {A, B, C}
    # The laptop notices its log went back and writes what is missing again.
    assert laptop.sync().sent == 2
    assert len(entries(laptop.log)) == 4
    report = desk.sync()
    assert report.arrived == 0 and report.problems == []
    # Rewritten in place under what was read: reported, read again, applied once.
    text = laptop.log.read_text().replace('"value":{"at"', '"value": {"at"', 1)
    laptop.log.write_text(text)
    report = desk.sync()
    assert report.arrived == 0 and any("changed" in p for p in report.problems)


def test_lines_that_are_not_changes_are_reported_and_the_rest_applied(machines, shared):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    laptop.ud.star([B])
    laptop.sync()
    lines = laptop.log.read_bytes().splitlines(keepends=True)
    hostile = json.dumps({"m": "evil", "c": 5, "kind": "stars", "key": ["../x"],
                          "value": {"at": "now"}})
    other = shared / "other.jsonl"
    other.write_bytes(lines[0] + b"\x00\x00garbage\n" + hostile.encode() + b"\n" + lines[1])
    laptop.log.unlink()
    report = desk.sync()
    assert desk.ud.starred_ids() == {A, B}
    assert len(report.problems) == 2  # one line that is no change, one that cannot apply


def test_a_log_of_ours_cut_by_a_killed_sync_is_mended(machines):
    laptop, desk, _ = machines
    laptop.ud.star([A, B])
    laptop.sync()
    with open(laptop.log, "ab") as f:
        f.write(b'{"m":"' + laptop.ud.machine.encode() + b'","c":12')  # killed mid-line
    laptop.ud.star([C])
    assert laptop.sync().sent == 1
    ops = read_log(laptop.log)
    assert not ops.partial and ops.bad == 0 and len(ops.ops) == 3
    desk.sync()
    assert desk.ud.starred_ids() == {A, B, C}


def test_a_machine_that_lost_its_user_data_gets_it_back_from_its_log(machines):
    laptop, desk, _ = machines
    laptop.ud.star([A])
    laptop.ud.add_tags(A, ["nlp"])
    sync_all(laptop, desk)
    laptop.ud.close()
    for f in laptop.home.glob("userdata.sqlite*"):
        f.unlink()
    laptop.ud = UserData(laptop.home)
    assert laptop.ud.starred_ids() == set()
    laptop.ud.star([B])  # a change before the next sync: it must not take an old one's place
    sync_all(laptop, desk)
    assert laptop.ud.starred_ids() == desk.ud.starred_ids() == {A, B}
    assert laptop.ud.state(A).tags == ("nlp",) and laptop.seen() == desk.seen()
    assert read_log(laptop.log).ops == laptop.ud.local_ops()


def test_a_kill_during_papers_sync_loses_nothing_and_applies_nothing_twice(tmp_path, shared):
    laptop = Machine(tmp_path, "laptop", shared)
    desk = Machine(tmp_path, "desk", shared)

    def work(n: int) -> None:
        """A round of changes on both sides, so that each run has both to apply and to send:
        about what the timed run below had."""
        new = [f"{0xf00000000 + n * 10_000 + i:012x}" for i in range(1500)]
        laptop.ud.star(new)
        laptop.ud.add_tags(new[0], [f"round{n}"])
        laptop.sync()
        desk.ud.mark_read(new[::3])
        desk.ud.set_note(new[1], f"round {n}")

    def papers_sync(home: Path, folder: Path = shared) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "papers.tui", "--home", str(home),
                                 "sync", str(folder)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    work(-1)
    # How long starting takes, and a whole run, here and now (on copies of both: the copy
    # has desk's id). Closed while copied: closing a copy's handle would drop this
    # process's SQLite locks on the file.
    started = time.monotonic()
    assert papers_sync(tmp_path / "empty", tmp_path).wait(timeout=120) == 0
    startup = time.monotonic() - started
    desk.ud.close()
    shutil.copytree(desk.home, tmp_path / "probe")
    desk.ud = UserData(desk.home)
    shutil.copytree(shared, tmp_path / "probe-shared")
    started = time.monotonic()
    assert papers_sync(tmp_path / "probe", tmp_path / "probe-shared").wait(timeout=120) == 0
    whole = time.monotonic() - started
    rng = random.Random(17)
    killed = 0
    for n in range(8):
        work(n)
        proc = papers_sync((desk, laptop)[n % 2].home)
        try:
            proc.wait(timeout=rng.uniform(startup * 0.8, max(whole, startup)))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            killed += 1
    assert killed  # at least one run was cut short
    sync_all(desk, laptop)
    assert laptop.seen() == desk.seen()
    assert len(desk.ud.starred_ids()) == 9 * 1500
    assert desk.ud.state(f"{0xf00000000 + 7 * 10_000 + 1:012x}").note == "round 7"
    for m in (laptop, desk):
        ops = read_log(m.log)
        assert not ops.partial and ops.bad == 0
        assert ops.ops == m.ud.local_ops()  # each change once, none missing
    for a, b in ((laptop, desk), (desk, laptop)):
        by_machine = {m: n for m, n, _ in b.ud.machines()}
        assert by_machine[a.ud.machine] == len(a.ud.local_ops())
    laptop.ud.close()
    desk.ud.close()


# -- the command line ---------------------------------------------------------------------------


def papers(runner, home: Path, *args, code: int = 0):
    result = runner.invoke(cli, ["--home", str(home), *args])
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def digests(tmp_path) -> Path:
    folder = tmp_path / "digests"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    return folder


def test_papers_sync_keeps_the_folder_and_papers_index_syncs_on_its_own(
        tmp_path, shared, runner, digests):
    laptop, desk = tmp_path / "laptop", tmp_path / "desk"
    papers(runner, laptop, "add", str(digests))
    papers(runner, desk, "add", str(digests))
    found = json.loads(papers(runner, laptop, "find", "--json", "--limit", "0").output)
    first, second = found[0]["id"], found[1]["id"]
    papers(runner, laptop, "star", first)
    papers(runner, laptop, "tag", second, "to-read")
    papers(runner, desk, "sync", code=2)  # no folder yet, and none given
    out = papers(runner, laptop, "sync", str(shared)).output
    assert "sent 2" in out and "is now the sync folder" in out
    assert sync_mod.sync_dir(laptop) == shared.resolve()
    summary = json.loads(papers(runner, desk, "sync", str(shared), "--json").output)
    assert summary["changed"] == 2 and summary["saved_as_sync_dir"] is True
    starred = json.loads(papers(runner, desk, "find", "--starred", "--json").output)
    assert [p["id"] for p in starred] == [first]
    # From now on `papers index` syncs too.
    papers(runner, desk, "untag", second, "to-read")
    out = papers(runner, desk, "index").output
    assert "synced with" in out and "sent 1" in out
    out = papers(runner, laptop, "index", "--json").stdout  # then the sync, silently
    assert json.loads(out)["files_changed"] == 0
    found = json.loads(papers(runner, laptop, "find", "--json", "--limit", "0").stdout)
    assert [p["tags"] for p in found if p["id"] == second] == [[]]
    status = json.loads(papers(runner, laptop, "sync", "--status", "--json").output)
    assert {m["this"] for m in status["machines"]} == {True, False}
    assert status["to_send"] == 0 and status["to_apply"] == 0 and status["waiting"] == []


def test_marks_on_papers_a_machine_has_not_seen_wait_for_them(tmp_path, shared, runner, digests):
    laptop, desk = tmp_path / "laptop", tmp_path / "desk"
    papers(runner, laptop, "add", str(digests))
    pid = json.loads(papers(runner, laptop, "find", "--json", "--limit", "1").output)[0]["id"]
    papers(runner, laptop, "star", pid)
    papers(runner, laptop, "sync", str(shared))
    papers(runner, desk, "sync", str(shared))
    status = json.loads(papers(runner, desk, "sync", "--status", "--json").output)
    assert status["waiting"] == [pid]
    text = papers(runner, desk, "sync", "--status").output
    assert "waiting for their papers" in text and pid in text
    papers(runner, desk, "add", str(digests))  # the digests arrive
    status = json.loads(papers(runner, desk, "sync", "--status", "--json").output)
    assert status["waiting"] == []
    starred = json.loads(papers(runner, desk, "find", "--starred", "--json").output)
    assert [p["id"] for p in starred] == [pid]
    # Once seen, it is remembered as a star made here would be: it outlives its digest.
    papers(runner, desk, "sync")
    papers(runner, desk, "remove", str(digests))
    starred = json.loads(papers(runner, desk, "find", "--starred", "--json").output)
    assert [p["id"] for p in starred] == [pid]


def test_sync_status_says_what_is_pending_and_who_was_seen(tmp_path, shared, runner):
    laptop, desk = Machine(tmp_path, "laptop", shared), Machine(tmp_path, "desk", shared)
    laptop.ud.star([A])
    laptop.ud.set_note(A, "laptop text")
    desk.ud.set_note(A, "desk text")
    laptop.sync()
    out = papers(runner, desk.home, "sync", str(shared), "--status").output
    assert f"this machine: {desk.ud.machine}" in out
    assert "not sent yet: 1 change" in out
    assert "in the folder, not applied yet: 2 changes" in out
    desk.sync()
    laptop.sync()
    status = json.loads(papers(runner, laptop.home, "sync", "--status", "--json",
                               str(shared)).output)
    assert {m["machine"] for m in status["machines"]} == {laptop.ud.machine, desk.ud.machine}
    assert status["to_send"] == status["to_apply"] == 0
    [(pid, [kept])] = status["note_conflicts"].items()
    assert pid == A and kept["text"] in {"laptop text", "desk text"}
    out = papers(runner, laptop.home, "sync", "--status", str(shared)).output
    assert "also edited elsewhere" in out and kept["text"] in out
    laptop.ud.close()
    desk.ud.close()


def test_a_sync_log_is_told_from_a_daily_papers_jsonl(machines, tmp_path):
    laptop, _, _ = machines
    laptop.ud.star([A])
    laptop.sync()
    assert sync_mod.is_log(laptop.log)
    daily = write(tmp_path / "daily.jsonl", json.dumps({"title": "A paper", "paper": {}}) + "\n")
    assert not sync_mod.is_log(daily)


def test_a_sync_folder_that_is_not_there_is_bad_input(tmp_path, runner):
    result = papers(runner, tmp_path / "h", "sync", str(tmp_path / "nowhere"), code=2)
    assert "does not exist" in result.output


def test_a_data_directory_copied_to_another_machine_takes_a_new_id(tmp_path, monkeypatch):
    home = tmp_path / "h"
    first = sync_mod.machine_id(home)
    assert sync_mod.machine_id(home) == first
    monkeypatch.setattr(sync_mod, "_this_machine", lambda: "another machine")
    monkeypatch.setattr("socket.gethostname", lambda: "another-host")
    second = sync_mod.machine_id(home)
    assert second != first and second.startswith("another-host-")
    assert os.path.exists(home / "machine-id")
