"""A missing source is not an empty source: an unmounted folder keeps its papers until the
user says otherwise, and sources are registered once, resolved."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import digest, entry, write

from papers.index.errors import Unavailable
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.sources import add_sources, load_sources
from papers.tui.cli import cli


def day(folder: Path, name: str, *titles: str) -> Path:
    return write(folder / name, digest("Dec 9, 2025", *(entry(t, f"About {t}.") for t in titles)))


@pytest.fixture
def two(home, tmp_path) -> tuple[Path, Path]:
    """Two registered folders, one paper each, ingested."""
    a, b = tmp_path / "a", tmp_path / "b"
    day(a, "2025-12-09.txt", "Alpha Paper")
    day(b, "2025-12-10.txt", "Beta Paper")
    ingest(home, add_sources(home, [a, b]))
    return a, b


def titles(home: Path) -> set[str]:
    lib = Library(home)
    results = lib.search("")
    return {results.paper(i).title for i in range(len(results))}


def papers(home: Path, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_an_unmounted_folder_keeps_its_papers_until_pruned(home, two):
    _, b = two
    shutil.move(b, b.with_name("elsewhere"))  # as if its disk were unmounted
    report = ingest(home, load_sources(home))
    assert titles(home) == {"Alpha Paper", "Beta Paper"}
    assert report.missing == [str(b)] and report.kept_files == 1
    assert "missing" in report.summary() and "--prune" in report.summary()
    result = papers(home, "index", "--prune")
    assert result.exit_code == 0, result.output
    assert titles(home) == {"Alpha Paper"}


def test_a_folder_suddenly_empty_is_taken_for_unmounted(home, two):
    _, b = two
    (b / "2025-12-10.txt").unlink()  # an empty mount point looks like this
    report = ingest(home, load_sources(home))
    assert titles(home) == {"Alpha Paper", "Beta Paper"}
    assert any("empty" in p.message for p in report.problems)


def test_a_file_deleted_from_a_folder_that_is_there_takes_its_papers(home, two):
    _, b = two
    day(b, "2025-12-11.txt", "Gamma Paper")
    ingest(home, load_sources(home))
    (b / "2025-12-10.txt").unlink()
    ingest(home, load_sources(home))
    assert titles(home) == {"Alpha Paper", "Gamma Paper"}


def test_a_rebuild_with_a_source_missing_is_refused_unless_pruned(home, two):
    _, b = two
    shutil.rmtree(b)
    with pytest.raises(Unavailable, match="--prune"):
        ingest(home, load_sources(home), rebuild=True)
    assert titles(home) == {"Alpha Paper", "Beta Paper"}
    result = papers(home, "index", "--rebuild")
    assert result.exit_code == 3 and "--prune" in result.stderr
    assert papers(home, "index", "--rebuild", "--prune").exit_code == 0
    assert titles(home) == {"Alpha Paper"}


def test_sources_lists_each_with_its_status(home, two):
    a, b = two
    shutil.rmtree(b)
    result = papers(home, "sources", "--json")
    assert result.exit_code == 0, result.output
    rows = {r["source"]: r for r in json.loads(result.stdout)}
    assert rows[str(a)]["status"] == "ok" and rows[str(a)]["papers"] == 1
    assert rows[str(b)]["status"] == "missing" and rows[str(b)]["papers"] == 1
    plain = papers(home, "sources").stdout
    assert "missing" in plain and str(b) in plain


def test_remove_unregisters_and_takes_only_its_papers(home, two):
    a, b = two
    result = papers(home, "remove", str(b))
    assert result.exit_code == 0, result.output
    assert load_sources(home) == [a]
    assert titles(home) == {"Alpha Paper"}
    assert (b / "2025-12-10.txt").exists()  # the files themselves are left alone
    assert papers(home, "remove", str(b)).exit_code == 1


def test_sources_are_registered_once_resolved(home, tmp_path):
    folder = tmp_path / "d"
    day(folder, "2025-12-09.txt", "Alpha Paper")
    link = tmp_path / "link"
    link.symlink_to(folder)
    add_sources(home, [folder / "2025-12-09.txt"])
    add_sources(home, [link])  # the folder, by another name, replaces the file inside it
    assert load_sources(home) == [folder.resolve()]
    add_sources(home, [folder / "2025-12-09.txt", tmp_path / "d" / ".." / "d"])
    assert load_sources(home) == [folder.resolve()]


def test_stats_and_doctor_say_a_source_is_missing(home, two):
    _, b = two
    shutil.rmtree(b)
    stats = json.loads(papers(home, "stats", "--json").stdout)
    assert stats["sources"] == 2 and stats["missing_sources"] == 1 and stats["papers"] == 2
    doctor = papers(home, "doctor")
    assert doctor.exit_code == 1
    assert f"{b} is missing; its papers are kept" in doctor.stdout


def test_a_sync_folder_inside_a_digest_folder_is_not_read_as_digests(home, two, tmp_path):
    a, _ = two
    other = tmp_path / "other-home"
    from papers.index.sync import sync
    from papers.index.userdata import UserData

    with UserData(other) as ud:
        ud.star(["0123456789ab"])
    (a / "sync").mkdir()
    sync(other, a / "sync")
    assert list((a / "sync").glob("*.jsonl"))
    report = ingest(home, load_sources(home))
    assert not report.problems and titles(home) == {"Alpha Paper", "Beta Paper"}
