"""`index.doctor` and `index.backup`: damage is found, repaired, and nothing is thrown away."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from papers.index import backup as backup_mod
from papers.index.backup import KEEP, backup_userdata, daily_backup, list_backups
from papers.index.doctor import ERROR, check, healthy, repair
from papers.index.errors import LibraryError
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.schema import INDEX_DIR
from papers.index.sources import add_sources
from papers.index.userdata import FILENAME, UserData

N = 80


@pytest.fixture
def library(home, tmp_path) -> Path:
    folder = tmp_path / "digests"
    write_corpus(folder, N)
    ingest(home, add_sources(home, [folder]))
    return home


@pytest.fixture
def starred(library) -> tuple[str, str]:
    """Two papers with user data, backed up, then one more change made after the backup."""
    first, second, third = (h.paper.id for h in Library(library).search("").hits(3))
    with UserData(library) as ud:
        ud.star([first, second])
        ud.add_tags(first, ["keep", "LoRA"])
        ud.set_note(second, "read again")
    assert backup_userdata(library, "before test") is not None
    with UserData(library) as ud:
        ud.star(third)  # made after the backup: a restore cannot bring it back
    return first, second


def errors(findings, what: str) -> list[str]:
    return [f.detail for f in findings if f.severity == ERROR and f.what == what]


def damaged_copies(home: Path) -> list[Path]:
    """The user-data files moved aside, without the WAL files that go with them."""
    return [p for p in home.glob(FILENAME + ".damaged-*") if not p.name.endswith(("-wal", "-shm"))]


def segment_file(home: Path, suffix: str) -> Path:
    return next((home / INDEX_DIR).glob(f"MAIN_*{suffix}"))


def test_a_fresh_library_is_healthy(library):
    findings = check(library)
    assert healthy(findings), [str(f) for f in findings]
    assert {f.what for f in findings} == {"index", "manifest", "user data", "sources", "backups"}
    assert all(isinstance(f.to_json()["detail"], str) for f in findings)


@pytest.mark.parametrize("suffix", [".pst", ".trm", "._stored.col", ".sort_date.col",
                                    "._title_len.col"])
def test_truncated_segment_is_reported_and_rebuilt(library, suffix):
    victim = segment_file(library, suffix)
    half = victim.stat().st_size // 2
    with open(victim, "r+b") as fh:
        fh.truncate(half)
    [detail] = errors(check(library), "index")
    assert "is damaged" in detail
    done = repair(library)
    assert any("moved the damaged index" in d for d in done)
    assert any("rebuilt the index" in d for d in done)
    [aside] = library.glob("index.damaged-*")
    assert (aside / victim.name).stat().st_size == half  # kept as it was found
    assert healthy(check(library))
    assert Library(library).count() == N


def test_missing_toc_is_reported_and_rebuilt(library):
    for toc in (library / INDEX_DIR).glob("_MAIN_*.toc"):
        toc.unlink()
    [detail] = errors(check(library), "index")
    assert "table of contents" in detail
    with pytest.raises(LibraryError, match=r"damaged.*table of contents"):
        Library(library).searcher()
    repair(library)
    assert len(list(library.glob("index.damaged-*"))) == 1
    assert healthy(check(library)) and Library(library).count() == N


def test_manifest_listing_papers_the_index_lacks_is_an_error(library):
    import json

    path = library / INDEX_DIR / "manifest.json"
    manifest = json.loads(path.read_text())
    next(iter(manifest["files"].values()))["papers"].append("0123456789ab")
    path.write_text(json.dumps(manifest))
    assert errors(check(library), "manifest")
    repair(library)
    assert healthy(check(library))


@pytest.mark.parametrize("where", ["header", "page"])
def test_damaged_userdata_is_kept_aside_and_restored_from_backup(library, starred, where):
    path = library / FILENAME
    data = bytearray(path.read_bytes())
    assert not path.with_name(FILENAME + "-wal").exists()  # closed cleanly: all in the file
    if where == "header":
        data[:100] = b"\x00garbage" * 12 + b"\x00" * 4
    else:  # every page after the schema page: tables and indexes unreadable
        data[4096:] = b"\xa5" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    [detail] = errors(check(library), "user data")
    assert "damaged" in detail
    done = repair(library)
    assert any("restored the user data from" in d for d in done), done
    [aside] = damaged_copies(library)
    assert aside.read_bytes() == bytes(data)  # what could not be read is kept as it was
    first, second = starred
    with UserData(library) as ud:
        assert ud.starred_ids() == {first, second}
        assert ud.state(first).tags == ("keep", "LoRA")
        assert ud.state(second).note == "read again"
    assert healthy(check(library))


def test_damaged_userdata_without_backup_starts_afresh_and_keeps_the_file(library):
    (library / FILENAME).write_bytes(b"not a database at all" * 100)
    done = repair(library)
    assert any("no readable backup" in d for d in done)
    assert len(damaged_copies(library)) == 1
    with UserData(library) as ud:
        assert ud.starred_ids() == set()


def test_a_damaged_backup_is_skipped_when_restoring(library, starred):
    good = list_backups(library)[0]
    bad = good.with_name("userdata-29991231-235959-bad.sqlite")  # sorts as the newest
    bad.write_bytes(b"\x00" * 8192)
    (library / FILENAME).write_bytes(b"garbage" * 1000)
    done = repair(library)
    assert f"restored the user data from {good}" in done


def test_repair_on_a_healthy_library_only_backs_up(library, starred):
    before = len(list_backups(library))
    done = repair(library)
    assert len(done) == 1 and done[0].startswith("backed up the user data")
    assert len(list_backups(library)) == before + 1


# -- backups -------------------------------------------------------------------------------


def test_backup_names_carry_time_and_reason(library, starred):
    before = datetime.now().strftime("%Y%m%d")
    made = backup_userdata(library, "Before rebuild!")
    after = datetime.now().strftime("%Y%m%d")  # the run may cross midnight
    assert made.parent == library / "backups"
    assert made.name.split("-")[1] in {before, after}
    assert made.name.startswith("userdata-") and made.name.endswith("-before-rebuild.sqlite")
    assert list_backups(library)[0] == made


def test_no_userdata_no_backup_and_no_store_created(home):
    assert backup_userdata(home, "x") is None
    assert daily_backup(home) is None
    assert not (home / FILENAME).exists()


def test_only_the_newest_backups_are_kept(library, starred, monkeypatch):
    times = iter(datetime(2025, 1, 1) + timedelta(minutes=i) for i in range(KEEP + 5))

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return next(times)

    for f in list_backups(library):
        f.unlink()
    monkeypatch.setattr("papers.index.userdata.datetime", Clock)
    made = [backup_userdata(library, f"n{i}") for i in range(KEEP + 5)]
    assert list_backups(library) == made[::-1][:KEEP]


def test_daily_backup_once_a_day(library, starred):
    for f in list_backups(library):
        f.unlink()
    first = daily_backup(library)
    assert first is not None and first.name.endswith("-daily.sqlite")
    assert daily_backup(library) is None
    assert len(list_backups(library)) == 1


def test_a_damaged_store_is_not_backed_up(library, starred, monkeypatch):
    before = list_backups(library)
    monkeypatch.setattr(backup_mod, "integrity_problem", lambda path: "page 3 is bad")
    with pytest.raises(backup_mod.UserDataError, match="not backed up"):
        backup_userdata(library, "x")
    assert list_backups(library) == before  # the rotation keeps its good copies


def test_daily_backup_ignores_other_files(library, starred):
    for f in list_backups(library):
        f.unlink()
    (library / "backups" / "notes.txt").write_text("mine")
    os.utime(library / "backups" / "notes.txt")
    assert daily_backup(library) is not None


# -- what the CLI says on a damaged index (tui/cli.py and index/library.py are the lead's) --


def _damage(home: Path, what: str, keep: float = 0.5) -> None:
    if what == "toc":
        for toc in (home / INDEX_DIR).glob("_MAIN_*.toc"):
            toc.unlink()
        return
    for victim in (home / INDEX_DIR).glob(f"MAIN_*{what}"):
        with open(victim, "r+b") as fh:
            fh.truncate(int(victim.stat().st_size * keep))


# Where the cut falls decides how Whoosh fails (the records hold file paths, so it moves
# with the temporary directory's name): several cuts.
@pytest.mark.parametrize(("what", "keep"), [
    (".trm", 0.5),
    *((".pst", keep) for keep in (0.3, 0.6, 0.9)),
    *(("._stored.col", keep / 20) for keep in range(1, 20)),
    ("toc", 0),
])
def test_find_on_a_damaged_index_says_so_without_a_traceback(library, what, keep):
    from click.testing import CliRunner

    from papers.tui.cli import cli

    _damage(library, what, keep)
    said = []
    for args in (["find", "--limit", "0"], ["find", "model OR learning", "--limit", "0"]):
        result = CliRunner().invoke(cli, ["--home", str(library), *args])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            repr(result.exception))
        if result.exit_code:
            said.append((result.output + result.stderr).replace(str(library), "HOME"))
    # Browsing needs no postings: a cut postings file shows once words are searched.
    assert said and all("damaged" in s and "doctor" in s for s in said)


@pytest.mark.parametrize("command", [["show", "{pid}"], ["star", "{pid}"], ["stats"]])
def test_other_commands_on_an_index_without_its_toc_say_it_is_damaged(library, command):
    """Not 'no library yet', and not a paper shown as gone from every digest."""
    from click.testing import CliRunner

    from papers.tui.cli import cli

    pid = Library(library).search("").hits(1)[0].paper.id
    _damage(library, "toc")
    args = [part.format(pid=pid[:6]) for part in command]
    result = CliRunner().invoke(cli, ["--home", str(library), *args])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    said = (result.output + result.stderr).replace(str(library), "HOME")
    assert "damaged" in said and "no longer in any digest" not in said


def test_a_stored_record_that_reads_back_empty_is_damage_not_a_key_error(library,
                                                                          monkeypatch):
    """What a stored-fields file cut at some places gives back (seen in a CI run)."""
    lib = Library(library)
    found = lib.search("")
    pid = found.paper(0).id
    monkeypatch.setattr(lib.searcher(), "stored_fields", lambda docnum: {})
    with pytest.raises(LibraryError, match="damaged"):
        found.paper(0)
    with pytest.raises(LibraryError, match="damaged"):
        lib.get(pid)
