"""Incremental ingest: what is re-read, what is removed, rebuilds, locks and crashes."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date

import pytest
from conftest import FIXTURES, digest, entry, write

import papers.index.ingest as ingest_mod
from papers.index import manifest as manifest_file
from papers.index.errors import LibraryBusy
from papers.index.identity import paper_id
from papers.index.ingest import BULK_DOCS, ingest, ingest_lock
from papers.index.library import Library
from papers.index.manifest import MANIFEST
from papers.index.schema import INDEX_DIR


@pytest.fixture
def folder(tmp_path):
    out = tmp_path / "digests"
    for f in FIXTURES.glob("sample-*.txt"):
        write(out / f.name, f.read_text("utf-8"))
    return out


def titles(home):
    lib = Library(home)
    return sorted(h.paper.title for h in lib.search("").hits())


def test_same_paper_in_two_digests_is_one_paper(home, folder):
    report = ingest(home, [folder])
    assert report.files_changed == 2 and report.papers_added == 7
    lib = Library(home)
    s2ft = lib.get(paper_id("S^{2}FT: Efficient, Scalable and Generalizable LLM Fine-tuning "
                            "by Structured Sparsity"))
    assert [(s.file.endswith("12-09.txt"), s.date) for s in s2ft.digests] == [
        (True, date(2025, 12, 9)), (False, date(2025, 12, 10))]
    assert (s2ft.first_seen, s2ft.last_seen) == (date(2025, 12, 9), date(2025, 12, 10))
    # The newest digest gives the text and the latest upvote count.
    assert s2ft.title.startswith("S$^{2}$FT") and s2ft.upvotes == 12


def test_second_run_reads_nothing_touch_reads_one(home, folder):
    ingest(home, [folder])
    again = ingest(home, [folder])
    assert (again.files_read, again.files_changed, again.changed) == (0, 0, False)
    assert "nothing changed" in again.summary()
    target = folder / "sample-2025-12-10.txt"
    os.utime(target, (1_800_000_000, 1_800_000_000))  # touched, same bytes
    touched = ingest(home, [folder])
    assert (touched.files_read, touched.files_changed) == (1, 0)
    assert ingest(home, [folder]).files_read == 0  # the new mtime was remembered
    target.write_text(target.read_text("utf-8").replace("Pixtral 12B", "Pixtral 13B"), "utf-8")
    edited = ingest(home, [folder])
    assert (edited.files_read, edited.files_changed) == (1, 1)
    assert (edited.papers_added, edited.papers_removed) == (1, 1)
    assert "Pixtral 13B" in titles(home) and "Pixtral 12B" not in titles(home)


def test_deleting_a_file_removes_exactly_its_papers(home, folder):
    ingest(home, [folder])
    (folder / "sample-2025-12-10.txt").unlink()
    report = ingest(home, [folder])
    assert (report.files_removed, report.papers_removed, report.papers_updated) == (1, 1, 1)
    assert "Pixtral 12B" not in titles(home)
    s2ft = Library(home).get(paper_id("S2FT: Efficient, Scalable and Generalizable LLM "
                                      "Fine-tuning by Structured Sparsity"))
    assert len(s2ft.digests) == 1 and s2ft.upvotes is None  # metadata of the digest left
    assert len(titles(home)) == 6


def test_rebuild_gives_the_same_library(home, folder):
    ingest(home, [folder])
    before = [p.paper.to_json() for p in Library(home).search("").hits()]
    report = ingest(home, [folder], rebuild=True)
    assert report.rebuilt and report.papers_added == 7
    assert [p.paper.to_json() for p in Library(home).search("").hits()] == before
    assert not (home / "index.new").exists() and not (home / "index.old").exists()


def test_schema_change_rebuilds_with_a_message(home, folder):
    ingest(home, [folder])
    path = home / INDEX_DIR / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["schema"] = 0
    path.write_text(json.dumps(manifest))
    report = ingest(home, [folder])
    assert report.rebuilt and "format changed" in report.reason
    assert len(titles(home)) == 7


def test_second_ingest_reports_library_busy(home, folder):
    with ingest_lock(home, timeout=1), pytest.raises(LibraryBusy, match="library busy"):
        ingest(home, [folder], lock_timeout=0.2)


def test_crash_between_commit_and_manifest_never_duplicates(home, folder, monkeypatch):
    def crash(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(manifest_file, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        ingest(home, [folder])
    monkeypatch.undo()
    report = ingest(home, [folder])
    assert report.files_changed == 2  # the manifest was never written: read again
    lib = Library(home)
    assert lib.count() == 7 and len(titles(home)) == 7


def test_crash_in_the_middle_of_writing_leaves_the_old_library(home, folder, monkeypatch):
    ingest(home, [folder])
    extra = write(folder / "2025-12-11.txt", digest("Dec 11", entry("New Paper", "New.")))
    monkeypatch.setattr(ingest_mod, "paper_to_document",
                        lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        ingest(home, [folder])
    monkeypatch.undo()
    assert len(titles(home)) == 7
    assert ingest(home, [folder]).papers_added == 1
    assert "New Paper" in titles(home)
    extra.unlink()


def test_unreadable_and_odd_sources_are_reported_not_fatal(home, folder, tmp_path):
    (folder / "folder.txt").mkdir()
    write(folder / "binary.txt", b"\x00\x01\x02garbage\x00")
    os.symlink(folder, folder / "loop")
    report = ingest(home, [folder, tmp_path / "missing"])
    messages = " ".join(p.message for p in report.problems)
    assert "binary" in messages and "missing" in messages
    assert len(titles(home)) == 7


def test_index_deleted_is_rebuilt(home, folder):
    ingest(home, [folder])
    shutil.rmtree(home / INDEX_DIR)
    report = ingest(home, [folder])
    assert report.papers_added == 7 and len(titles(home)) == 7


def test_a_digest_added_then_removed_leaves_no_empty_segment(home, folder):
    ingest(home, [folder])
    lib = Library(home)
    before = len(lib.searcher().leaf_searchers())
    extra = write(folder / "2025-12-11.txt", digest("Dec 11", entry("A Passing Paper", "Here.")))
    ingest(home, [folder])
    extra.unlink()
    ingest(home, [folder])
    lib = Library(home)
    assert lib.search("passing").docnums == []
    assert len(lib.searcher().leaf_searchers()) <= before


def test_problems_of_skipped_entries_are_remembered_until_the_file_changes(home, tmp_path):
    from papers.index.doctor import NOTE, check

    folder = tmp_path / "p"
    bad = write(folder / "bad.txt", digest("Dec 9", entry("Fine", "Ok.")) + "Cut off title\n")
    first = ingest(home, [folder])
    assert first.problems and not first.standing
    again = ingest(home, [folder])  # nothing read again, the problem still counted
    assert not again.problems and [p.message for p in again.standing] == [
        p.message for p in first.problems]
    assert "1 earlier problem in 1 digest" in again.summary()
    notes = [f for f in check(home) if f.what == "digests"]
    assert [f.severity for f in notes] == [NOTE] and str(bad) in notes[0].detail
    write(bad, digest("Dec 9", entry("Fine", "Ok.")))
    fixed = ingest(home, [folder])
    assert not fixed.problems and not fixed.standing
    assert not [f for f in check(home) if f.what == "digests"]


def test_a_segment_file_cut_short_is_damage_whatever_a_search_reads(home, tmp_path):
    """Whoosh notices a cut postings file only when a search reads its end; the sizes the
    manifest keeps say so on opening, for any query."""
    from papers.index.errors import LibraryDamaged

    folder = tmp_path / "d"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    ingest(home, [folder])
    assert len(Library(home).search("models")) > 0
    # The term table: with rare terms' postings kept in it, a small index's postings file
    # may be all but empty.
    terms = next((home / INDEX_DIR).glob("MAIN_*.trm"))
    with open(terms, "r+b") as fh:
        fh.truncate(terms.stat().st_size - 1)
    with pytest.raises(LibraryDamaged, match="doctor"):
        Library(home).search("")
    # A segment merged away after the manifest was written is no damage.
    ingest(home, [folder], rebuild=True)
    sizes = manifest_file.read(home / INDEX_DIR).segments
    assert sizes and all((home / INDEX_DIR / name).stat().st_size == size
                         for name, size in sizes.items())
    data = json.loads((home / INDEX_DIR / MANIFEST).read_text("utf-8"))
    data["segments"] = {"MAIN_gone.pst": 1, **data["segments"]}
    (home / INDEX_DIR / MANIFEST).write_text(json.dumps(data, separators=(",", ":")), "utf-8")
    assert len(Library(home).search("models")) > 0


@pytest.mark.parametrize("limitmb", [128, 0.002])  # sorted in memory; in many runs on disk
def test_the_faster_writer_writes_the_bytes_whooshs_own_writer_writes(tmp_path, monkeypatch,
                                                                       limitmb):
    """Analysis in one pass and the faster commit change nothing on disk: saved pages, API
    JSON (authors with accents, AI keywords, code) and odd text, through Whoosh's own
    add_document and commit and through ours, give the same files byte for byte."""
    from bench.corpus import write_corpus
    from papers.index.dailyjson import parse_daily_json
    from papers.index.digest import Entry, parse_digest
    from papers.index.ingest import merge_paper
    from papers.index.schema import create_index, paper_to_document
    from papers.index.whooshwriter import WHOOSH_COMMIT

    write_corpus(tmp_path / "digests", 300)
    found = [parse_digest(f.read_bytes(), name=str(f), mtime=date(2025, 12, 10))
             for f in sorted((tmp_path / "digests").glob("*.txt"))]
    found += [parse_daily_json(f.read_bytes(), name=str(f))
              for f in sorted((FIXTURES / "json").glob("*.json*"))]
    odd = [Entry("The A of an İstanbul ǅemal", "a I. e.g. 3.5x x.y.z_w  ** the *end*", 1,
                 author_names=("Ｆｕｌｌ Width", "Łukasz Ąę", "ß"), keywords=("the", "of a")),
           Entry("", "", 2, organization="The a", author_names=("",)),
           Entry("of the and", "to be or not to be", 3, keywords=("and",))]
    docs = []
    for page in [*found, type(found[0])(path="odd", date=date(2026, 1, 1), entries=odd)]:
        for e in page.entries:
            docs.append(paper_to_document(*merge_paper(
                paper_id(e.title) + str(len(docs)), None, {page.path: (e, page.date)},
                set())))
    assert len(docs) >= 320 and sum("author_names" in d and "kw" in d for d in docs) >= 4

    def write(folder):
        folder.mkdir()
        writer = create_index(folder).writer(limitmb=limitmb, compound=False)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
        return {p.name.split(".", 1)[1]: p.read_bytes() for p in folder.glob("MAIN_*.*")}

    ours = write(tmp_path / "ours")
    for (cls, name), method in WHOOSH_COMMIT.items():
        monkeypatch.setattr(cls, name, method)
    whooshs = write(tmp_path / "whoosh")
    assert "pst" in ours and "trm" in ours
    assert ours == whooshs


def test_the_format_check_reads_the_manifests_head_and_sees_it_change(home, tmp_path):
    """`papers find` reads only the manifest's first bytes for its format, and asks once per
    command; a manifest rewritten meanwhile (another version's) is seen at once."""
    folder = tmp_path / "d"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    ingest(home, [folder])
    index_dir = home / INDEX_DIR
    whole = manifest_file.read(index_dir)
    assert manifest_file.schema_hint(index_dir) == whole.schema
    assert manifest_file.segment_sizes(index_dir) == whole.segments != {}
    lib = Library(home)
    assert lib.outdated is None
    older = json.loads((index_dir / MANIFEST).read_text("utf-8"))
    older["schema"] = whole.schema - 1
    # As any papers writes it: a new file renamed over the old.
    (index_dir / "other.tmp").write_text(json.dumps(older, separators=(",", ":")), "utf-8")
    os.replace(index_dir / "other.tmp", index_dir / MANIFEST)
    assert manifest_file.schema_hint(index_dir) == whole.schema - 1
    assert f"format {whole.schema - 1}" in lib.outdated


def test_new_papers_count_from_when_their_file_first_came_in(home, folder, monkeypatch):
    """"New since you last looked" is what came in after a moment; reading a file again or
    rebuilding the index must not make its papers new again."""
    ingest(home, [folder])
    first = manifest_file.read(home / INDEX_DIR)
    stamps = {key: rec.added for key, rec in first.files.items()}
    assert all(stamps.values())
    later = "9999-01-01T00:00:00+00:00"
    assert first.added_since("2000-01-01T00:00:00+00:00") == first.paper_ids()
    assert first.added_since(later) == set()

    target = folder / "sample-2025-12-10.txt"
    target.write_text(target.read_text("utf-8").replace("Pixtral 12B", "Pixtral 13B"), "utf-8")
    ingest(home, [folder])
    ingest(home, [folder], rebuild=True)
    again = manifest_file.read(home / INDEX_DIR)
    assert {key: rec.added for key, rec in again.files.items()} == stamps

    newest = max(stamps.values())
    write(folder / "extra.txt", digest("December 11, 2025", entry("A Brand New Paper", "Text.")))
    ingest(home, [folder])
    assert manifest_file.read(home / INDEX_DIR).added_since(newest) == {
        paper_id("A Brand New Paper")}


def test_a_bulk_ingest_on_two_processes_gives_the_library_one_process_gives(tmp_path):
    """Thousands of papers are written by two processes, a segment each, with the papers
    already in the library replaced; every paper, its order and its score come out as
    from one process."""
    from bench.corpus import write_corpus

    digests = tmp_path / "digests"
    write_corpus(digests, 4500)
    files = sorted(digests.glob("*.txt"))
    early = tmp_path / "early"
    early.mkdir()
    for f in files[:len(files) // 4]:
        shutil.copy(f, early / f.name)

    one, two = tmp_path / "one", tmp_path / "two"
    for home in (one, two):
        ingest(home, [early], procs=1)
    first = Library(two).count()
    for f in files[len(files) // 4 - 3:len(files) // 4]:  # the same papers, seen again
        shutil.copy(f, digests / ("again-" + f.name))
    ingest(one, [digests, early], procs=1)
    report = ingest(two, [digests, early], procs=2)
    assert report.papers_added >= BULK_DOCS and report.papers_updated > 0
    assert len(list((two / INDEX_DIR).glob("*.trm"))) >= 2  # a segment per process

    def library(home):
        lib = Library(home)
        try:
            papers = sorted((h.paper.to_json() for h in lib.search("").hits()),
                            key=lambda p: p["id"])
            found = [(h.paper.id, round(h.score, 4)) for h in lib.search("diffusion models").hits()]
            return papers, found, lib.count()
        finally:
            lib.close()

    ours, theirs = library(two), library(one)
    assert ours[2] == theirs[2] > first
    assert ours[1] == theirs[1] and ours[1]
    strip = [{**p, "digests": len(p["digests"])} for p in ours[0]]
    assert strip == [{**p, "digests": len(p["digests"])} for p in theirs[0]]


def test_optimize_with_nothing_changed_merges_without_a_rebuild(home, folder):
    """`papers index --optimize` on an up-to-date library merges its segments in place; it
    once failed inside and was taken for a damaged index, rebuilt from the digests."""
    ingest(home, [folder / "sample-2025-12-09.txt"])
    ingest(home, [folder])
    before = titles(home)
    report = ingest(home, [folder], optimize=True)
    assert not report.rebuilt and report.reason is None and not report.problems
    assert len(list((home / INDEX_DIR).glob("*.pst"))) == 1  # one segment
    assert titles(home) == before


def test_a_noop_rescan_answers_from_the_manifests_head_as_the_whole_manifest_would(
        home, tmp_path, monkeypatch):
    """Nothing changed: the re-scan reads only the head's stamps and problems, and says
    what a re-scan reading the whole manifest says (files, earlier problems, a missing
    source's kept papers); a manifest an older papers wrote (no stamps) is read whole."""
    folder = tmp_path / "é digests"  # a path that is not ASCII, before the head's end
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    write(folder / "bad.txt", digest("Dec 9", entry("Fine", "Ok.")) + "Cut off title\n")
    gone = tmp_path / "unmounted"
    write(gone / "2025-12-01.txt", digest("Dec 1", entry("Kept Paper", "Kept.")))
    ingest(home, [folder, gone])
    shutil.rmtree(gone)
    full = ingest(home, [folder, gone])  # the source went: read whole, its papers kept
    index_dir = home / INDEX_DIR
    head = manifest_file.stamps(index_dir)
    whole = manifest_file.read(index_dir)
    assert head.files == {k: [r.size, r.mtime_ns] for k, r in whole.files.items()}
    assert head.problems == whole.problems and head.problems

    def no_full_read(*args, **kwargs):
        raise AssertionError("the whole manifest was read")

    with monkeypatch.context() as m:
        m.setattr(manifest_file, "load", no_full_read)
        quick = ingest(home, [folder, gone])
    assert quick.summary() == full.summary() and quick.to_json() == full.to_json()
    assert quick.kept_files == 1 and not quick.changed

    older = json.loads((index_dir / MANIFEST).read_text("utf-8"))
    del older["stamps"]
    (index_dir / MANIFEST).write_text(json.dumps(older, separators=(",", ":")), "utf-8")
    assert manifest_file.stamps(index_dir) is None
    assert ingest(home, [folder, gone]).to_json() == full.to_json()
    os.utime(folder / "bad.txt", (1_800_000_000, 1_800_000_000))  # touched: read again
    assert ingest(home, [folder, gone]).files_read == 1
    assert ingest(home, [folder, gone], prune=True).files_removed == 1


def test_a_bulk_ingests_writers_cache_their_own_segments_for_find(tmp_path, monkeypatch):
    """Each process of a bulk ingest writes its segment's find-cache file as soon as the
    segment is written, so the refresh after the commit has none left to make; a writer
    that cannot (a full disk) leaves its segment to the refresh, and find still answers."""
    from bench.corpus import write_corpus
    from papers.index import findcache

    digests = tmp_path / "digests"
    write_corpus(digests, 2400)
    left: list[int] = []
    real_write_segments = findcache._write_segments
    monkeypatch.setattr(findcache, "_write_segments", lambda folder, code, readers: (
        left.extend(r.doc_count_all() for r in readers),
        real_write_segments(folder, code, readers))[1])
    home = tmp_path / "one"
    assert ingest(home, [digests], procs=2).papers_added >= BULK_DOCS
    assert left == [] and findcache.Cache.open(str(home)) is not None
    cached = sorted(p.name for p in (home / findcache.DIR).glob("seg-*"))
    assert len(cached) == 2

    def failing(path, reader):
        raise OSError("no space left on device")

    other = tmp_path / "other"
    with monkeypatch.context() as m:
        m.setattr(findcache, "_write_segment", failing)
        m.setattr(findcache, "refresh", lambda index_dir, **kw: False)
        assert ingest(other, [digests], procs=2).papers_added >= BULK_DOCS
    assert not list((other / findcache.DIR).glob("seg-*"))
    monkeypatch.undo()
    assert findcache.refresh(other / INDEX_DIR)
    assert findcache.Cache.open(str(other)) is not None


def test_an_ingest_in_a_threaded_process_leaves_its_frozen_heap_alone(tmp_path):
    """The reader freezes its heap so that full collections skip it, and re-scans in a
    worker thread: the ingest must not thaw it (every search after would walk it again)."""
    import gc
    import threading

    from bench.corpus import write_corpus

    write_corpus(tmp_path / "digests", 120)
    kept = []
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        worker = threading.Thread(target=lambda: kept.append(
            ingest(tmp_path / "home", [tmp_path / "digests"]).papers_added))
        worker.start()
        worker.join()
        assert kept and kept[0] > 0
        # Still frozen (a few frozen objects may have been freed meanwhile); thawed, none.
        assert gc.get_freeze_count() > frozen // 2
    finally:
        gc.unfreeze()
