"""Plain-word queries answered by index.ranker rank exactly as Whoosh's own search does.

The library here has what makes a Ranker's job hard: two segments (written by two
processes), deleted documents (papers updated by a later digest), boosts in the title.
"""

from __future__ import annotations

import shutil

import pytest
from whoosh import sorting

from bench.corpus import write_corpus
from papers.index import findcache
from papers.index.ingest import ingest
from papers.index.library import Library, SearchCancelled
from papers.index.ranker import Ranker

QUERIES = [
    "diffusion", "language models", "video generation with diffusion", "reasoning agents",
    "reinforcement learning", "title:benchmark", "abstract:transformer attention",
    "diffusion NOT video", "NOT diffusion video", "diffusion OR video", "(video OR audio) model",
    "diffusion AND model AND data AND learning AND method", "zzzyqx", "model zzzyqx",
]
SORTS = {"date": ("sort_date", True), "upvotes": ("sort_upvotes", True),
         "title": ("sort_title", False)}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    work = tmp_path_factory.mktemp("ranker")
    write_corpus(work / "digests", 2400, seed=7, per_day=60)
    home = work / "home"
    ingest(home, [work / "digests"], procs=2)
    # Seen again in a later digest, a paper is rewritten: its old document is deleted.
    first, later = sorted((work / "digests").glob("*.txt"))[:2]
    shutil.copy(first, work / "digests" / "2099-01-01.txt")
    shutil.copy(later, work / "digests" / "2099-01-02.txt")
    ingest(home, [work / "digests"])
    return home


# The reader scores plain words as arrays from the find cache (index.termarrays), every
# other caller through the Ranker's own reading of Whoosh's postings: both must be Whoosh's.
@pytest.fixture(scope="module", params=["postings", "arrays"])
def lib(home, request):
    library = Library(home, arrays=request.param == "arrays")
    library.prepare()
    s = library.searcher()
    assert len(s.leaf_searchers()) >= 2
    assert s.reader().has_deletions()
    assert (library.ranker_for(s).arrays is not None) == library.arrays
    return library


def whoosh_search(lib, text, **kwargs):
    return lib.searcher().search(lib.parse(text), **kwargs)


def canonical(docnums, scores):
    """Result order with runs of equal scores (to 1e-9) put in docnum order: Whoosh adds a
    query's parts up in a tree, the Ranker left to right, and the last bit can differ."""
    out, run, first = [], [], None
    for doc, score in zip(docnums, scores, strict=True):
        if run and abs(score - first) > 1e-9:
            out += sorted(run)
            run = []
        if not run:
            first = score
        run.append(doc)
    return out + sorted(run)


@pytest.mark.parametrize("text", [*QUERIES, "title:diffusion^2 model"])
@pytest.mark.parametrize("limit", [None, 10])
def test_relevance_ranking_and_scores_are_whooshs(lib, text, limit):
    assert Ranker.handles(lib.searcher(), lib.parse(text))
    ours = lib.search(text, limit=None)
    theirs = whoosh_search(lib, text, limit=None)
    their_scores = [s for s, _ in theirs.top_n]
    assert canonical(ours.docnums, ours.scores) == canonical(
        [d for _, d in theirs.top_n], their_scores)
    assert ours.scores == pytest.approx(their_scores, rel=1e-12)
    assert ours.total == len(theirs)
    first = lib.search(text, limit=limit)
    assert first.docnums == ours.docnums[:limit] and first.total == ours.total


@pytest.mark.parametrize("text", QUERIES[:8])
@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("limit", [None, 10])
def test_sorted_results_are_in_whooshs_order(lib, text, sort, limit):
    column, reverse = SORTS[sort]
    theirs = whoosh_search(lib, text, limit=limit,
                           sortedby=sorting.FieldFacet(column, reverse=reverse))
    ours = lib.search(text, sort=sort, limit=limit)
    assert ours.docnums == [d for _, d in theirs.top_n]


def test_no_paper_appears_twice_and_deleted_versions_never_show(lib):
    found = lib.search("model")
    ids = [found.paper(i).id for i in range(len(found))]
    assert len(ids) == len(set(ids))
    deleted = set()
    for leaf, base in lib.searcher().leaf_searchers():
        reader = leaf.reader()
        deleted |= {base + d for d in range(reader.doc_count_all()) if reader.is_deleted(d)}
    assert deleted and deleted.isdisjoint(found.docnums)


def test_user_data_filters_apply(lib):
    every = lib.search("learning")
    ids = [every.paper(i).id for i in range(40)]
    keep = set(ids[:25])
    kept = lib.search("learning", include=keep, exclude=set(ids[:5]))
    assert {kept.paper(i).id for i in range(len(kept))} == keep - set(ids[:5])
    assert kept.total == 20


def test_similar_papers_are_whooshs_more_like(lib):
    s = lib.searcher()
    for i in range(0, 400, 40):
        paper = lib.search("", sort="date").paper(i)
        theirs = s.more_like(s.document_number(id=paper.id), "abstract", top=5, numterms=12)
        ours = lib.more_like(paper.id)
        assert [h.paper.id for h in ours] == [h["id"] for h in theirs]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], rel=1e-12)


def test_a_cancelled_search_stops_before_reading_postings(lib):
    fresh = Library(lib.home, arrays=lib.arrays)
    with pytest.raises(SearchCancelled):
        fresh.search("learning method", limit=10, cancelled=lambda: True)
    assert len(fresh.search("learning method", limit=10, cancelled=lambda: False)) == 10


@pytest.mark.parametrize("text", ['"language models"', "diff*", "(diffusion model)^2",
                                  "upvotes:>10 diffusion", "difusion~"])
def test_other_queries_stay_with_whoosh_and_agree(lib, text):
    assert not Ranker.handles(lib.searcher(), lib.parse(text))
    ours = lib.search(text, limit=None)
    assert ours.docnums == [d for _, d in whoosh_search(lib, text, limit=None).top_n]


def test_a_small_cache_still_answers_right(lib):
    small = Library(lib.home, cache=500, arrays=lib.arrays)
    for text in QUERIES:
        assert small.search(text).docnums == lib.search(text).docnums


@pytest.mark.parametrize("sort", list(SORTS))
@pytest.mark.parametrize("limit", [None, 25])
def test_browsing_without_a_query_is_in_whooshs_order(lib, sort, limit):
    from whoosh import query

    column, reverse = SORTS[sort]
    facet = sorting.FieldFacet(column, reverse=reverse)
    s = lib.searcher()
    theirs = s.search(query.Every(), limit=limit, sortedby=facet)
    ours = lib.search("", sort=sort, limit=limit)
    assert ours.docnums == [d for _, d in theirs.top_n]
    assert ours.total == s.doc_count() == len(theirs)
    # A view: its papers only (a starred view), or all but some (the unread view).
    some = {s.stored_fields(d)["id"] for d in ours.docnums[:limit or 40:3]}
    allowed = s.search(query.Every(), limit=None, sortedby=facet,
                       filter={s.document_number(id=i) for i in some})
    assert lib.search("", sort=sort, include=some).docnums == [d for _, d in allowed.top_n]
    masked = s.search(query.Every(), limit=limit, sortedby=facet,
                      mask={s.document_number(id=i) for i in some})
    assert lib.search("", sort=sort, limit=limit, exclude=some).docnums == [
        d for _, d in masked.top_n]


def test_arrays_wait_for_a_fresh_cache_and_answer_the_same_meanwhile(tmp_path, monkeypatch):
    write_corpus(tmp_path / "digests", 300, seed=3, per_day=50)
    home = tmp_path / "home"
    ingest(home, [tmp_path / "digests"])
    reader = Library(home, arrays=True)
    reader.prepare()
    assert reader.ranker_for(reader.searcher()).arrays is not None
    # A commit another process made, its find cache not yet refreshed: the new searcher
    # reads Whoosh's postings until the cache is of its commit.
    write_corpus(tmp_path / "more", 120, seed=4, per_day=40)
    refresh = findcache.refresh
    monkeypatch.setattr(findcache, "refresh", lambda index_dir, **kw: False)
    ingest(home, [tmp_path / "digests", tmp_path / "more"])
    monkeypatch.setattr(findcache, "refresh", refresh)
    stale = reader.search("model data", limit=None)
    s = reader.searcher()
    assert reader.ranker_for(s).arrays is None
    assert stale.docnums == Library(home).search("model data", limit=None).docnums
    findcache.refresh(home / "index")
    fresh = reader.search("model data", limit=None)
    assert reader.ranker_for(s).arrays is not None
    assert (fresh.docnums, fresh.scores) == (stale.docnums, stale.scores)


def test_preparing_the_arrays_of_no_library_or_an_old_one_is_quiet(tmp_path):
    Library(tmp_path / "nothing", arrays=True).prepare()
    (tmp_path / "old" / "index").mkdir(parents=True)
    (tmp_path / "old" / "index" / "_MAIN_1.toc").write_bytes(b"not a table of contents")
    Library(tmp_path / "old", arrays=True).prepare()


def test_a_cache_that_fails_to_load_leaves_the_search_to_the_ranker(lib, monkeypatch):
    def broken(self, searcher):
        raise RuntimeError("unreadable")

    monkeypatch.setattr(findcache.Cache, "matches", broken)
    reader = Library(lib.home, arrays=True)
    found = reader.search("diffusion model", limit=None)
    assert reader.ranker_for(reader.searcher()).arrays is None
    assert found.docnums == lib.search("diffusion model", limit=None).docnums
