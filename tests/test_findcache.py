"""The find cache ranks plain words exactly as the Library (and so Whoosh) does, holds each
paper's find object as schema's document -> Paper makes it, is refused once the index moves
on, and reads marks as UserData does.

The library has what makes ranking hard: two segments, deleted documents, title boosts.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import date

import pytest
from conftest import SHARED
from test_ranker import canonical

from bench.corpus import write_corpus
from papers.index import findcache, marks
from papers.index.ingest import ingest
from papers.index.library import Library, plain_query
from papers.index.schema import document_to_paper
from papers.index.userdata import EMPTY, UserData

QUERIES = ["diffusion", "language models", "video generation with diffusion",
           "reasoning agents", "reinforcement learning", "Diffusion MODEL", "the model",
           "diffusion model data learning method", "model diffusion", "zzzyqx",
           "model zzzyqx", "learning learning learns", "a b c model"]


def build(work, n=2400, seed=7):
    write_corpus(work / "digests", n, seed=seed, per_day=60)
    home = work / "home"
    ingest(home, [work / "digests"], procs=2)
    # Seen again in a later digest, a paper is rewritten: its old document is deleted.
    first, later = sorted((work / "digests").glob("*.txt"))[:2]
    shutil.copy(first, work / "digests" / "2099-01-01.txt")
    shutil.copy(later, work / "digests" / "2099-01-02.txt")
    ingest(home, [work / "digests"])
    return home


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    home = build(tmp_path_factory.mktemp("findcache"))
    lib = Library(home)
    assert len(lib.searcher().leaf_searchers()) >= 2
    assert lib.searcher().reader().has_deletions()
    assert findcache.refresh(home / "index")
    return home


@pytest.fixture
def home(built, tmp_path):
    """A copy of the library, whose digests stay where they are."""
    mine = tmp_path / "home"
    shutil.copytree(built, mine)
    return mine


def stems(cache, text):
    out = []
    for word in findcache.plain_words(text) or ():
        stem = cache.stem(word)
        if stem is not None and stem not in out:
            out.append(stem)
    return out


def same_as_library(home, queries=QUERIES):
    cache = findcache.Cache.open(str(home))
    assert cache is not None
    lib = Library(home)
    for text in queries:
        if plain_query(text) is None:  # only stop words: not ours either
            assert not stems(cache, text), text
            continue
        theirs = lib.search(text, limit=None)
        ranked, total = cache.ranked(stems(cache, text), None)
        assert [d for _, d in ranked] == theirs.docnums, text
        assert [s for s, _ in ranked] == theirs.scores, text  # the very floats
        assert total == theirs.total
        top, _ = cache.ranked(stems(cache, text), 10)
        assert top == ranked[:10]


def test_rankings_and_scores_are_the_librarys(built):
    same_as_library(built)


PHRASES = ['"language models"', '"video generation"', '"diffusion model"', '"model model"',
           '"large language models"', '"vision of the language"', '"zzzyqx model"',
           '"Reinforcement Learning from human feedback"', '"model of the model"']


def same_phrases_as_library(home, phrases=PHRASES):
    cache = findcache.Cache.open(str(home))
    lib = Library(home)
    for text in phrases:
        terms = [t for t in map(cache.stem, findcache.phrase_words(text)) if t]
        assert len(terms) > 1 and repr(lib.parse(text)).count("Phrase(") == 2, text
        theirs = lib.search(text, limit=None)
        ranked, total = cache.phrase_ranked(str(home), terms, None)
        assert [d for _, d in ranked] == theirs.docnums, text
        assert [s for s, _ in ranked] == theirs.scores, text
        assert total == len(theirs.docnums)
        assert cache.phrase_ranked(str(home), terms, 5)[0] == ranked[:5]


def test_phrases_rank_as_the_library(built):
    same_phrases_as_library(built)
    assert findcache.phrase_words('"diffusion"') is None  # one word: the parser's Term
    assert findcache.phrase_words('"diffusion AND model"') is None


def test_a_few_documents_at_a_time_rank_the_same(built, monkeypatch):
    """Searched 64 documents at a time, only the best few kept and the documents that can
    no longer reach them skipped: the same documents with the same scores."""
    cache = findcache.Cache.open(str(built))
    lib = Library(built)
    monkeypatch.setattr(findcache, "CHUNK", 64)
    for text in QUERIES:
        terms = stems(cache, text)
        if not terms:
            continue
        theirs = lib.search(text, limit=None)
        ranked, total = cache.ranked(terms, None)
        assert [d for _, d in ranked] == theirs.docnums, text
        assert [s for s, _ in ranked] == theirs.scores, text
        assert total == theirs.total
        for limit in (1, 3, 20):
            assert cache.ranked(terms, limit)[0] == ranked[:limit], (text, limit)
    for text in PHRASES:
        terms = [t for t in map(cache.stem, findcache.phrase_words(text)) if t]
        theirs = lib.search(text, limit=None)
        ranked, total = cache.phrase_ranked(str(built), terms, None)
        assert [d for _, d in ranked] == theirs.docnums, text
        assert [s for s, _ in ranked] == theirs.scores, text
        assert total == len(theirs.docnums)
        for limit in (1, 3, 20):
            assert cache.phrase_ranked(str(built), terms, limit)[0] == ranked[:limit]


@pytest.mark.parametrize("text", QUERIES[:6])
def test_scores_are_whooshs_own(built, text):
    cache = findcache.Cache.open(str(built))
    lib = Library(built)
    theirs = lib.searcher().search(lib.parse(text), limit=None)
    ranked, _ = cache.ranked(stems(cache, text), None)
    their_scores = [s for s, _ in theirs.top_n]
    assert canonical([d for _, d in ranked], [s for s, _ in ranked]) == canonical(
        [d for _, d in theirs.top_n], their_scores)
    assert [s for s, _ in ranked] == pytest.approx(their_scores, rel=1e-12)


def test_stems_are_the_query_parsers(built):
    cache = findcache.Cache.open(str(built))
    for text in [*QUERIES, "Agents", "studies", "running", "x", "it is", "GPT4o"]:
        q = plain_query(text)
        terms = [] if q is None else sorted({t for _, t in q.iter_all_terms()})
        assert sorted(stems(cache, text)) == terms, text


def test_title_words_are_stemmed_without_the_stemmer(built):
    """Each segment keeps its titles' words with their Porter stems; a word no title has is
    stemmed by Porter's code itself."""
    from whoosh.lang.porter import stem

    cache = findcache.Cache.open(str(built))
    reader = Library(built).searcher().reader()
    words = [w.decode() for w in reader.lexicon("spell_title") if w.isalnum() and w.islower()
             and w[:1].isalpha() and w.isascii()]
    assert len(words) > 100
    for word in words:
        kept = [seg.stemmed(word.encode()) for seg in cache.segments]
        assert any(kept), word
        assert {k for k in kept if k is not None} == {stem(word)}, word
    for word in ("zzzyqxing", "Qqxrunning", "flibbertigibbets"):
        assert all(seg.stemmed(word.lower().encode()) is None for seg in cache.segments)
        assert cache.stem(word) == stem(word.lower())


def test_each_paper_is_what_the_library_prints(built):
    cache = findcache.Cache.open(str(built))
    s = Library(built).searcher()
    reader = s.reader()
    deleted = 0
    for doc in range(s.doc_count_all()):
        if reader.is_deleted(doc):
            deleted += 1
            continue
        assert cache.record(doc) == document_to_paper(s.stored_fields(doc)).to_json()
    assert deleted


def test_a_commit_makes_the_cache_stale_until_refreshed(built, home, tmp_path, monkeypatch):
    import papers.index.ingest as ingest_mod

    folder = home / findcache.DIR
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*")}
    more = tmp_path / "more"
    write_corpus(more, 120, seed=99, per_day=60)
    # A commit that did not refresh the cache (an older papers, a crash after the commit).
    monkeypatch.setattr(ingest_mod, "_cache_for_find", lambda *args: None)
    ingest(home, [built.parent / "digests", more])  # new papers: every idf moves
    assert findcache.Cache.open(str(home)) is None
    assert findcache.refresh(home / "index")
    state = json.loads((folder / findcache.STATE).read_text())
    after = {p.name: p.stat().st_mtime_ns for p in folder.glob("seg-*")}
    # One file per segment of the index now; a segment the commit kept is not read again.
    assert set(after) == {findcache.segment_file(segid, state["code"])
                          for segid, _, _ in state["segments"]}
    assert all(after[name] == before[name] for name in set(before) & set(after))
    same_as_library(home)
    same_phrases_as_library(home)


def test_refresh_with_a_budget_leaves_a_big_library_to_the_ingest(home):
    shutil.rmtree(home / findcache.DIR)
    assert not findcache.refresh(home / "index", budget=100)
    assert findcache.Cache.open(str(home)) is None
    assert findcache.refresh(home / "index")


def test_a_rebuilt_index_is_cached_anew_and_old_segments_go(built, home):
    old = {p.name for p in (home / findcache.DIR).glob("seg-*")}
    ingest(home, [built.parent / "digests"], rebuild=True)  # refreshes the cache itself
    assert findcache.Cache.open(str(home)) is not None
    assert not old & {p.name for p in (home / findcache.DIR).glob("seg-*")}
    same_as_library(home, QUERIES[:4])


@pytest.mark.parametrize("damage", ["truncate", "garbage", "state", "state-json", "gone"])
def test_a_damaged_cache_is_refused_without_a_traceback(home, damage):
    folder = home / findcache.DIR
    seg = sorted(folder.glob("seg-*"))[0]
    if damage == "truncate":
        seg.write_bytes(seg.read_bytes()[: seg.stat().st_size // 2])
    elif damage == "garbage":
        seg.write_bytes(b"\0" * 100)
    elif damage == "state":
        (folder / findcache.STATE).write_bytes(b"{")
    elif damage == "state-json":
        state = json.loads((folder / findcache.STATE).read_text())
        state["segments"] = "nonsense"
        (folder / findcache.STATE).write_text(json.dumps(state))
    else:
        seg.unlink()
    assert findcache.Cache.open(str(home)) is None
    assert findcache.refresh(home / "index")  # and a refresh mends it
    same_as_library(home, QUERIES[:3])


def test_a_damaged_index_leaves_no_cache(home):
    trm = sorted((home / "index").glob("*.trm"))[0]
    trm.write_bytes(trm.read_bytes()[:100])
    assert not findcache.refresh(home / "index")
    assert findcache.Cache.open(str(home)) is None


def test_marks_are_read_as_userdata_reads_them(home):
    lib = Library(home)
    ids = [lib.search("diffusion", limit=8).paper(i).id for i in range(8)]
    with UserData(home) as store:
        store.star(ids[:3])
        store.mark_read(ids[1:4])
        store.add_tags(ids[0], ["b-tag", "A-tag", "c"])
        store.set_note(ids[2], "a note\nwith two lines")
        if hasattr(store, "skip"):
            store.skip(ids[4])
            store.snooze(ids[5], until=date(2031, 2, 3))
        store.star("0123456789ab")  # a paper not asked for
        theirs = store.states(ids)
    layout = tuple(EMPTY.to_json())
    from papers.index.userdata import SCHEMA_VERSION

    ours = marks.read(str(home), set(ids), layout, SCHEMA_VERSION)
    assert ours is not None and set(ours) <= set(ids)
    for pid in ids:
        assert ours.get(pid, marks.empty(layout)) == theirs[pid].to_json()
    assert marks.read(str(home), set(ids), layout, SCHEMA_VERSION + 1) is None
    assert marks.read(str(home), set(ids), ("starred", "other"), SCHEMA_VERSION) is None
    assert marks.read(str(home / "elsewhere"), set(ids), layout, SCHEMA_VERSION) is None


REAL = SHARED / "corpus" / "hf-daily-papers.jsonl"


@pytest.mark.skipif(not REAL.exists(), reason="../shared is not present")
def test_real_papers_rank_as_the_library_ranks_them(tmp_path):
    write_corpus(tmp_path / "digests", 3000, real=REAL)
    home = tmp_path / "home"
    ingest(home, [tmp_path / "digests"], procs=2)
    assert findcache.refresh(home / "index")
    lib = Library(home)
    words = set()
    for i in range(0, 3000, 97):
        words |= {w for w in lib.search("", limit=3000).paper(i).title.split()
                  if findcache.plain_words(w)}
    words = sorted(words)
    queries = [*words[:60], *(f"{a} {b}" for a, b in zip(words[::7], words[3::7], strict=False))]
    same_as_library(home, [*QUERIES, *queries])
    phrases = ['"language models"', '"large language models"', '"diffusion models"',
               '"reinforcement learning"', '"vision language"', '"chain of thought"']
    same_phrases_as_library(home, phrases)


def test_every_ingest_leaves_a_fresh_cache(home, tmp_path):
    """`papers add` and `papers index` end with the cache brought up to their commit, and a
    library whose cache went missing gets it back at the next re-scan, even a no-op one."""
    digests = tmp_path / "digests"
    write_corpus(digests, 120, seed=5, per_day=60)
    ingest(home, [digests])
    assert findcache.Cache.open(str(home)) is not None
    more = tmp_path / "more"
    write_corpus(more, 60, seed=6, per_day=60)
    ingest(home, [digests, more])
    assert findcache.Cache.open(str(home)) is not None
    same_as_library(home)
    shutil.rmtree(home / findcache.DIR)
    assert ingest(home, [digests, more]).changed is False
    assert findcache.Cache.open(str(home)) is not None


def test_big_segments_are_cached_by_processes_at_once_with_the_same_answers(home,
                                                                          monkeypatch):
    """A bulk ingest leaves a big segment a core; their cache files are written in forked
    processes at once, and answer exactly as the library does. A child that fails leaves
    its segment to this process."""
    monkeypatch.setattr(findcache, "PARALLEL_DOCS", 0)
    forks = []
    real_fork = os.fork

    def counted_fork():
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted_fork)
    shutil.rmtree(home / findcache.DIR)
    assert findcache.refresh(home / "index")
    assert forks  # the segments but the last were written by children
    same_as_library(home)
    same_phrases_as_library(home)

    shutil.rmtree(home / findcache.DIR)
    real = findcache._write_segment
    parent = os.getpid()

    def failing_in_children(path, reader):
        if os.getpid() != parent:
            raise OSError("no space left on device")
        real(path, reader)

    monkeypatch.setattr(findcache, "_write_segment", failing_in_children)
    assert findcache.refresh(home / "index")
    same_as_library(home, QUERIES[:4])


def test_a_threaded_process_caches_without_forking(home, monkeypatch):
    """The reader re-scans in a worker thread: there the cache is written in-process."""
    import threading

    monkeypatch.setattr(findcache, "PARALLEL_DOCS", 0)

    def no_fork():
        raise AssertionError("forked with other threads running")

    monkeypatch.setattr(os, "fork", no_fork)
    shutil.rmtree(home / findcache.DIR)
    done = []
    worker = threading.Thread(target=lambda: done.append(findcache.refresh(home / "index")))
    worker.start()
    worker.join()
    assert done == [True]
    same_as_library(home, QUERIES[:4])


@pytest.mark.parametrize("batch", [7, 1 << 16])
def test_a_big_segments_occurrences_made_with_numpy_are_the_same_bytes(built, tmp_path,
                                                                      monkeypatch, batch):
    """A big segment's phrase keys are made a batch of postings at a time with numpy, a
    day's small one a posting at a time: the files must not differ by a byte."""
    reader = max((leaf.reader() for leaf, _ in Library(built).searcher().leaf_searchers()),
                 key=lambda r: r.doc_count_all())
    monkeypatch.setattr(findcache, "_BATCH", batch)
    monkeypatch.setattr(findcache, "NUMPY_DOCS", 0)
    findcache._write_segment(str(tmp_path / "numpy.bin"), reader)
    monkeypatch.setattr(findcache, "NUMPY_DOCS", 1 << 30)
    findcache._write_segment(str(tmp_path / "python.bin"), reader)
    made = (tmp_path / "numpy.bin").read_bytes()
    assert made == (tmp_path / "python.bin").read_bytes()
    segment = findcache._Segment(str(tmp_path / "numpy.bin"), 0, [])
    assert all(segment.has_occurrences(f) for f in findcache.FIELDS)
    assert len(segment.view("abstract.occ")) > reader.doc_count_all()
