from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from papers.index import userdata as userdata_module
from papers.index.errors import UserDataError
from papers.index.models import Paper, Sighting
from papers.index.userdata import FILENAME, UserData, normalise_tag

ROOT = Path(__file__).resolve().parent.parent
A, B, C = "a1" * 6, "b2" * 6, "c3" * 6


@pytest.fixture
def ud(tmp_path: Path):
    with UserData(tmp_path / "home") as store:
        yield store


# -- stars and read marks ---------------------------------------------------------------------


def test_star_reports_what_changed_and_undo_restores_exactly(ud: UserData) -> None:
    first = ud.star([A])
    starred_at = ud.state(A).starred_at
    assert first.changed == (A,) and first.unchanged == ()

    second = ud.star([A, B, B])  # A already starred; B given twice counts once
    assert second.changed == (B,) and second.unchanged == (A,)
    assert ud.starred_ids() == {A, B}

    assert ud.undo() == f"unstarred {B}"
    # A was starred before the command: it stays starred, with its original time.
    assert ud.starred_ids() == {A}
    assert ud.state(A).starred_at == starred_at

    assert ud.undo() == f"unstarred {A}"
    assert ud.starred_ids() == set()
    assert ud.undo() is None


def test_undo_of_unstar_brings_back_the_original_star_time(ud: UserData) -> None:
    ud.star([A, B])
    before = ud.states([A, B])
    assert ud.unstar([A, B, C]).changed == (A, B)
    assert ud.starred_ids() == set()
    assert ud.undo() == "starred 2 papers again"
    assert ud.states([A, B]) == before


def test_a_command_that_changed_nothing_is_undone_as_nothing(ud: UserData) -> None:
    ud.star([A])
    assert not ud.star([A])  # Change is falsy when nothing changed
    message = ud.undo()
    assert message is not None and message.startswith("nothing to revert")
    assert ud.starred_ids() == {A}  # the earlier, unrelated star survived
    ud.undo()
    assert ud.starred_ids() == set()


def test_read_marks_round_trip(ud: UserData) -> None:
    assert ud.mark_read([A, B]).changed == (A, B)
    assert ud.read_ids() == {A, B}
    assert ud.state(A).read and ud.state(A).read_at is not None
    assert ud.mark_unread(A).changed == (A,)  # a lone id is one id, not twelve letters
    assert ud.read_ids() == {B}
    assert ud.undo() == f"marked {A} read again"
    assert ud.read_ids() == {A, B}
    assert ud.undo() == "marked 2 papers unread"
    assert ud.read_ids() == set()


def test_a_bad_id_is_refused_before_anything_changes(ud: UserData) -> None:
    with pytest.raises(ValueError, match="not a paper id"):
        ud.star([A, "2401.12345"])
    assert ud.starred_ids() == set()
    assert ud.undo() is None


# -- tags -------------------------------------------------------------------------------------


def test_tags_keep_their_first_spelling_and_compare_without_case(ud: UserData) -> None:
    assert ud.add_tags(A, ["  LoRA ", "peft"]).changed == ("LoRA", "peft")
    change = ud.add_tags(B, ["lora", "PEFT", "lora"])
    assert change.changed == ("LoRA", "peft")  # one spelling library-wide
    assert ud.add_tags(B, ["LORA"]).unchanged == ("LORA",)
    assert ud.tags() == [("LoRA", 2), ("peft", 2)]
    assert ud.tagged_ids("lora") == {A, B}
    assert ud.state(B).tags == ("LoRA", "peft")


@pytest.mark.parametrize("bad", ["", "   ", "long context", "a,b", "x;y", "tab\there"])
def test_unusable_tags_are_refused_with_a_reason(ud: UserData, bad: str) -> None:
    with pytest.raises(ValueError):
        normalise_tag(bad)
    with pytest.raises(ValueError):
        ud.add_tags(A, ["fine", bad])
    assert ud.state(A).tags == ()


def test_undo_of_tag_removes_only_the_tags_it_added(ud: UserData) -> None:
    ud.add_tags(A, ["lora"])
    assert ud.add_tags(A, ["lora", "rlhf", "moe"]).changed == ("rlhf", "moe")
    assert ud.undo() == f"removed tags rlhf, moe from {A}"
    assert ud.state(A).tags == ("lora",)


def test_undo_of_untag_puts_back_the_same_tags(ud: UserData) -> None:
    ud.add_tags(A, ["LoRA", "rlhf"])
    removed = ud.remove_tags(A, ["lora", "never-there"])
    assert removed.changed == ("LoRA",) and removed.unchanged == ("never-there",)
    assert ud.state(A).tags == ("rlhf",)
    assert ud.undo() == f"put back tag LoRA on {A}"
    assert ud.state(A).tags == ("LoRA", "rlhf")
    assert ud.tagged_ids("LORA") == {A}


def test_set_tags_is_one_command_that_undoes_in_one_step(ud: UserData) -> None:
    ud.add_tags(A, ["LoRA", "rlhf"])
    before = ud.state(A)
    change = ud.set_tags(A, ["lora", "moe", " MoE "])
    assert change.changed == ("rlhf", "moe") and change.unchanged == ("LoRA",)
    assert ud.state(A).tags == ("LoRA", "moe")
    assert ud.undo() == f"restored the tags of {A}"
    assert ud.state(A) == before
    assert not ud.set_tags(A, ["rlhf", "LORA"])  # same set: nothing changes


# -- notes ------------------------------------------------------------------------------------


def test_note_edits_undo_back_to_the_previous_text(ud: UserData) -> None:
    assert ud.set_note(A, "first thoughts\n").changed == (A,)
    assert ud.state(A).note == "first thoughts"  # editors' final newline dropped
    ud.set_note(A, "second thoughts")
    assert ud.set_note(A, "second thoughts").unchanged == (A,)
    ud.undo()  # the no-op
    assert ud.undo() == f"restored the note of {A}"
    assert ud.state(A).note == "first thoughts"

    ud.set_note(A, "  ")  # blank deletes
    assert ud.state(A).note is None and A not in ud.all_ids()
    assert ud.undo() == f"restored the note of {A}"
    assert ud.state(A).note == "first thoughts"
    assert ud.undo() == f"removed the note of {A}"
    assert ud.state(A).note is None


# -- saved searches ---------------------------------------------------------------------------


def test_saved_searches_replace_and_undo(ud: UserData) -> None:
    ud.save_search(" lora ", "lora AND starred")
    created = ud.saved("lora").created
    assert ud.save_search("lora", "lora OR peft").changed == ("lora",)
    replaced = ud.saved("lora")
    assert replaced.query == "lora OR peft" and replaced.created == created
    assert ud.undo() == "restored the saved search 'lora'"
    assert ud.saved("lora").query == "lora AND starred"

    ud.save_search("Agents", "agent")
    assert [s.name for s in ud.saved_searches()] == ["Agents", "lora"]
    assert ud.unsave_search("agents").unchanged == ("agents",)  # names are exact
    assert ud.unsave_search("Agents").changed == ("Agents",)
    assert ud.saved("Agents") is None
    ud.undo()
    ud.undo()
    assert ud.saved("Agents").query == "agent"


# -- reads ------------------------------------------------------------------------------------


def test_states_of_a_hundred_thousand_ids_is_one_quick_read(ud: UserData) -> None:
    ud.star([A])
    ud.add_tags(B, ["x", "a"])
    ud.set_note(C, "note")
    ids = [f"{i:012x}" for i in range(100_000)] + [A, B, C]
    t0 = time.perf_counter()
    states = ud.states(ids)
    elapsed = time.perf_counter() - t0
    assert len(states) == len(ids)
    assert states[A].starred and states[B].tags == ("a", "x") and states[C].note == "note"
    assert not states["000000000000"].starred
    assert elapsed < 1.0, elapsed
    assert set(ud.states()) == {A, B, C} == ud.all_ids()


def test_data_version_moves_when_another_process_commits(tmp_path: Path) -> None:
    with UserData(tmp_path) as reader, UserData(tmp_path) as writer:
        v0 = reader.data_version()
        assert reader.data_version() == v0  # reading does not move it
        writer.star([A])
        v1 = reader.data_version()
        assert v1 != v0
        assert reader.undo() == f"unstarred {A}"  # undo is shared: the log is in the file
        assert writer.data_version() not in (v0, v1)
        assert writer.starred_ids() == set()


def test_remembered_paper_round_trips(ud: UserData) -> None:
    paper = Paper(
        id=A,
        title="LoRA: Low-Rank Adaptation",
        abstract="We propose…",
        authors=7,
        organization="Microsoft",
        published=date(2021, 6, 17),
        upvotes=42,
        digests=(Sighting("/d/2024-03-12.md", date(2024, 3, 12)), Sighting("/d/x.md", None)),
        first_seen=date(2024, 3, 12),
        last_seen=date(2024, 3, 12),
        links=("https://arxiv.org/abs/2106.09685",),
    )
    assert ud.remembered(A) is None
    ud.remember(paper)
    assert ud.remembered(A) == paper
    assert ud.undo() is None  # remembering is not a user change


def test_backup_is_a_complete_readable_copy(ud: UserData, tmp_path: Path) -> None:
    ud.star([A])
    ud.add_tags(B, ["lora"])
    first = ud.backup(tmp_path / "backups")
    second = ud.backup(tmp_path / "backups")
    assert first != second and first.exists() and second.exists()
    assert [p.name for p in (tmp_path / "backups").iterdir() if p.name.startswith(".")] == []
    copy_home = tmp_path / "restored"
    copy_home.mkdir()
    (copy_home / FILENAME).write_bytes(first.read_bytes())
    with UserData(copy_home) as copy:
        assert copy.starred_ids() == {A} and copy.tagged_ids("lora") == {B}


def test_undo_log_keeps_only_the_recent_commands(
    ud: UserData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(userdata_module, "UNDO_DEPTH", 3)
    for pid in (A, B, C, "d4" * 6):
        ud.star([pid])
    undone = [ud.undo() for _ in range(4)]
    assert undone[3] is None and ud.starred_ids() == {A}


# -- two processes at once --------------------------------------------------------------------


WORKER = str(ROOT / "tests" / "_userdata_worker.py")


def _run_pair(mode: str, where: Path, *rest: object) -> list[subprocess.Popen[str]]:
    """Workers 1 and 2 of _userdata_worker.py, started at once."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return [
        subprocess.Popen(
            [sys.executable, WORKER, mode, str(where), str(w), *map(str, rest)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in (1, 2)
    ]


def _finish(workers: list[subprocess.Popen[str]]) -> None:
    for w in workers:
        _, err = w.communicate(timeout=60)
        assert w.returncode == 0, err


def test_two_processes_writing_at_once_lose_nothing_and_neither_starves(tmp_path: Path) -> None:
    home, go, n = tmp_path / "home", tmp_path / "go", 120
    # Both create the store at once, then each holds the lock for 10 ms per change, as on a
    # slow disk: 1.2 s of writing each. With a busy timeout of 1 s, a worker that could get
    # the lock only once the other had finished would fail: waiting must be fair.
    workers = _run_pair("write", home, n, go, 1.0, 0.01)
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{w}").exists() for w in (1, 2)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.01)
    go.touch()  # both interpreters are up: they start writing at the same moment
    _finish(workers)
    with UserData(home) as ud:
        for worker in (1, 2):
            ids = {f"{worker:02x}{i:010x}" for i in range(n // 2)}
            assert ud.starred_ids() >= ids
            assert ud.tagged_ids(f"w{worker}") == ids
        tags = dict(ud.tags())
        assert all(tags[f"n{i}"] == 2 for i in range(1, n, 2))
        assert len(ud.starred_ids()) == n


def test_two_processes_creating_the_store_at_the_same_instant_both_succeed(
    tmp_path: Path,
) -> None:
    # Two commands run at once on a new machine (a cron job and the reader) both create the
    # store. SQLite may refuse one of them at once rather than wait; it must not show.
    rounds = 30
    _finish(_run_pair("create", tmp_path, rounds))
    for r in range(rounds):
        with UserData(tmp_path / str(r) / "home") as ud:
            assert ud.starred_ids() == {f"{w:02x}{r:010x}" for w in (1, 2)}


# -- damaged or unusable files ----------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_reported_and_kept(tmp_path: Path) -> None:
    damaged = tmp_path / FILENAME
    content = b"these are my notes, not a database\n" * 200
    damaged.write_bytes(content)
    with pytest.raises(UserDataError) as caught:
        UserData(tmp_path)
    message = str(caught.value)
    assert str(damaged) in message and "damaged" in message and "not a database" in message
    assert damaged.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILENAME]


def test_a_corrupted_page_is_reported_not_raised_raw(tmp_path: Path) -> None:
    with UserData(tmp_path) as ud:
        ud.star([f"{i:012x}" for i in range(2000)])  # several pages of the stars table
    path = tmp_path / FILENAME
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page * 2 : page * 4] = b"\xff" * (page * 2)  # scribble over pages 3 and 4
    path.write_bytes(bytes(data))
    damaged = bytes(data)
    with pytest.raises(UserDataError, match="damaged"), UserData(tmp_path) as ud:
        ud.starred_ids()
        ud.star([A])
    assert path.read_bytes() == damaged


def test_a_store_from_a_newer_papers_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(UserDataError, match="newer version of papers"):
        UserData(tmp_path)


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / FILENAME)
    db.execute("CREATE TABLE moz_places (url TEXT)")
    db.commit()
    db.close()
    with pytest.raises(UserDataError, match="not a papers user-data file"):
        UserData(tmp_path)
    db = sqlite3.connect(tmp_path / FILENAME)
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["moz_places"]
    db.close()


def test_a_home_that_is_a_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "home").write_text("oops")
    with pytest.raises(UserDataError, match="cannot create"):
        UserData(tmp_path / "home")


# -- not interested, mute rules, snoozes, views seen (issue 15) ---------------------------------


def test_skip_is_undoable_and_shows_in_the_paper_state(ud: UserData) -> None:
    assert ud.skip([A, B]).changed == (A, B)
    assert ud.skip([A]).unchanged == (A,)
    assert ud.skipped_ids() == {A, B}
    assert ud.state(A).skipped and ud.state(A).to_json()["skipped"] is True
    assert A in ud.all_ids()
    ud.undo()  # the skip that changed nothing
    assert ud.undo() == "unskipped 2 papers"
    assert ud.skipped_ids() == set() and not ud.state(A).skipped
    ud.skip([A])
    assert ud.unskip([A, C]).changed == (A,)
    assert ud.undo() == f"skipped {A} again"
    assert ud.skipped_ids() == {A}


def test_mute_rules_are_listed_oldest_first_and_undo_says_which(ud: UserData) -> None:
    assert ud.mute("  diffusion ").changed == ("diffusion",)
    assert ud.mute("tag:robotics").changed == ("tag:robotics",)
    assert not ud.mute("diffusion")  # already a rule
    assert [m.query for m in ud.mutes()] == ["diffusion", "tag:robotics"]
    assert ud.mutes()[0].at.tzinfo is not None
    ud.undo()
    assert ud.undo() == "unmuted 'tag:robotics'"
    assert ud.unmute("diffusion").changed == ("diffusion",)
    assert ud.mutes() == []
    assert ud.undo() == "muted 'diffusion' again"
    assert [m.query for m in ud.mutes()] == ["diffusion"]
    with pytest.raises(ValueError, match="mute rule needs a query"):
        ud.mute("   ")


def test_a_snoozed_paper_is_hidden_until_the_day_it_ends(ud: UserData) -> None:
    ud.snooze([A, B], date(2026, 12, 9))
    assert ud.snoozed_ids(date(2026, 12, 8)) == {A, B}
    assert ud.snoozed_ids(date(2026, 12, 9)) == set()  # back on the 9th
    assert ud.snoozes() == {A: date(2026, 12, 9), B: date(2026, 12, 9)}
    state = ud.state(A)
    assert state.snoozed_until == date(2026, 12, 9)
    assert state.to_json()["snoozed_until"] == "2026-12-09"
    assert ud.state(C).to_json()["snoozed_until"] is None


def test_undo_of_a_new_snooze_date_puts_back_the_earlier_one(ud: UserData) -> None:
    ud.snooze([A], date(2026, 12, 9))
    change = ud.snooze([A, B], date(2027, 1, 1))
    assert change.changed == (A, B)
    assert not ud.snooze([B], date(2027, 1, 1))
    ud.undo()
    assert ud.undo() == f"unsnoozed {B}, put back the earlier date of {A}"
    assert ud.snoozes() == {A: date(2026, 12, 9)}
    assert ud.unsnooze([A, C]).changed == (A,)
    assert ud.snoozes() == {}
    assert ud.undo() == f"snoozed {A} again"
    assert ud.snoozes() == {A: date(2026, 12, 9)}


def test_views_seen_is_bookkeeping_that_neither_undo_nor_the_version_sees(ud: UserData) -> None:
    ud.star([A])
    version = ud.data_version()
    assert ud.seen_at("") is None
    ud.mark_seen("")
    first = ud.seen_at("")
    assert first is not None and "." in first  # to the microsecond
    ud.mark_seen("tag:nlp", at="2026-12-01T08:00:00.000001+00:00")
    assert ud.seen() == {"": first, "tag:nlp": "2026-12-01T08:00:00.000001+00:00"}
    assert ud.data_version() == version  # a reader polling the version does not reload
    assert ud.undo() == f"unstarred {A}"  # undo skips over it to the last real change
    assert ud.seen_at("tag:nlp") is not None
    with pytest.raises(ValueError, match="not an ISO time"):
        ud.mark_seen("", at="yesterday")


def _as_before_issue_15(path: Path) -> None:
    """Make `path` the store an older papers (format 2) wrote."""
    db = sqlite3.connect(path)
    for table in ("skips", "mutes", "snoozes", "views_seen"):
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_an_older_store_opens_keeps_its_marks_and_gains_the_new_tables(tmp_path: Path) -> None:
    with UserData(tmp_path) as ud:
        ud.star([A])
    _as_before_issue_15(tmp_path / FILENAME)
    with UserData(tmp_path) as ud:
        assert ud.starred_ids() == {A}
        ud.skip([B])
        ud.mute("diffusion")
        ud.snooze([C], date(2026, 12, 9))
        ud.mark_seen("")
    with UserData(tmp_path) as ud:
        assert ud.skipped_ids() == {B} and ud.snoozes() == {C: date(2026, 12, 9)}
        assert [m.query for m in ud.mutes()] == ["diffusion"] and ud.seen_at("") is not None


def _open_read_only(monkeypatch) -> None:
    """The read-write open fails as it does on a read-only disk (tests may run as root)."""
    real_open = UserData._open

    def read_only_disk(self, target, uri=False):
        if not uri:
            raise userdata_module.StorageError("cannot use the user data: attempt to write a "
                                               "readonly database")
        return real_open(self, target, uri)

    monkeypatch.setattr(UserData, "_open", read_only_disk)


def test_a_read_only_older_store_reads_as_having_no_new_marks(tmp_path: Path,
                                                               monkeypatch) -> None:
    with UserData(tmp_path) as ud:
        ud.star([A])
    _as_before_issue_15(tmp_path / FILENAME)
    before = (tmp_path / FILENAME).read_bytes()
    _open_read_only(monkeypatch)
    with UserData(tmp_path) as ud:
        assert ud.read_only
        assert ud.starred_ids() == {A} and ud.state(A).starred and not ud.state(A).skipped
        assert ud.skipped_ids() == set() and ud.mutes() == [] and ud.snoozes() == {}
        assert ud.snoozed_ids(date(2026, 12, 9)) == set() and ud.seen() == {}
        ud.mark_seen("")  # silently nothing
        assert ud.seen_at("") is None
        with pytest.raises(userdata_module.StorageError, match="nothing was changed"):
            ud.skip([B])
    assert (tmp_path / FILENAME).read_bytes() == before


def test_a_read_only_current_store_shows_its_marks(tmp_path: Path, monkeypatch) -> None:
    with UserData(tmp_path) as ud:
        ud.skip([A])
        ud.mark_seen("", at="2026-12-01T08:00:00.000001+00:00")
    _open_read_only(monkeypatch)
    with UserData(tmp_path) as ud:
        assert ud.read_only and ud.skipped_ids() == {A}
        ud.mark_seen("")
        assert ud.seen_at("") == "2026-12-01T08:00:00.000001+00:00"


def test_salvage_and_merge_keep_the_new_rows(tmp_path: Path) -> None:
    with UserData(tmp_path / "old") as ud:
        ud.skip([A])
        ud.mute("diffusion")
        ud.snooze([B], date(2026, 12, 9))
        ud.mark_seen("tag:nlp", at="2026-12-01T08:00:00.000001+00:00")
    found = userdata_module.salvage(tmp_path / "old" / FILENAME)
    assert found.describe() == ("1 not-interested mark, 1 mute rule, 1 snooze, 1 seen view")
    with UserData(tmp_path / "new") as ud:
        added = ud.merge(found, replace=False)
        assert added == {"skips": 1, "mutes": 1, "snoozes": 1, "views_seen": 1}
        assert ud.skipped_ids() == {A} and [m.query for m in ud.mutes()] == ["diffusion"]
        assert ud.snoozes() == {B: date(2026, 12, 9)} and ud.seen_at("tag:nlp") is not None


def test_a_skip_mute_and_snooze_made_on_one_machine_reach_another(tmp_path: Path) -> None:
    from papers.index.sync import sync

    folder = tmp_path / "shared"
    folder.mkdir()
    with UserData(tmp_path / "laptop") as laptop, UserData(tmp_path / "desk") as desk:
        laptop.skip([A])
        laptop.mute("diffusion")
        laptop.snooze([B], date(2026, 12, 9))
        laptop.mark_seen("")  # local: not sent
        assert sync(tmp_path / "laptop", folder, userdata=laptop).sent == 3
        report = sync(tmp_path / "desk", folder, userdata=desk)
        assert report.changed == 3 and report.problems == []
        assert desk.skipped_ids() == {A} and desk.snoozes() == {B: date(2026, 12, 9)}
        assert [m.query for m in desk.mutes()] == ["diffusion"] and desk.seen() == {}
        desk.unskip([A])  # and back: the later change wins on both
        sync(tmp_path / "desk", folder, userdata=desk)
        sync(tmp_path / "laptop", folder, userdata=laptop)
        assert laptop.skipped_ids() == set()
