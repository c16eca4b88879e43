"""The whole real corpus (10,049 papers), rendered into one digest file per day, ingested."""

from __future__ import annotations

import pytest
from conftest import SHARED

from bench.corpus import load_corpus, normalise_abstract, normalise_title, write_corpus
from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library

CORPUS = SHARED / "corpus" / "hf-daily-papers.jsonl"


@pytest.mark.skipif(not CORPUS.exists(), reason="../shared is not present")
def test_every_real_paper_ingested_once_with_its_text(tmp_path):
    papers = load_corpus(CORPUS)
    info = write_corpus(tmp_path / "digests", len(papers), real=CORPUS)
    assert info.real == len(papers) == 10_049
    report = ingest(tmp_path / "home", [tmp_path / "digests"], procs=2)
    assert report.problems == []
    assert report.papers_added == len(papers)

    lib = Library(tmp_path / "home")
    results = lib.search("")
    stored = {}
    for i in range(len(results)):
        paper = results.paper(i)
        assert paper.id not in stored, f"duplicate paper {paper.id}"
        stored[paper.id] = paper
    assert len(stored) == len(papers)
    for original in papers:
        paper = stored[paper_id(original.title)]
        assert paper.title == normalise_title(original.title)
        assert paper.abstract == normalise_abstract(original.abstract)
        assert paper.upvotes == (original.upvotes or None)
        assert paper.published == original.published
