"""The five real digests in ../shared: counts, fields, and text kept byte for byte."""

from __future__ import annotations

from datetime import date

from papers.index.digest import read_digest
from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library


def test_counts_entries_and_distinct_papers(shared_digests, tmp_path):
    digests = [read_digest(p) for p in sorted(shared_digests.glob("*.txt"))]
    assert sum(len(d.entries) for d in digests) == 389
    assert all(d.problems == [] for d in digests)
    ids = {paper_id(e.title) for d in digests for e in d.entries}
    assert len(ids) == 290
    report = ingest(tmp_path / "home", [shared_digests])
    assert report.papers_added == 290 and report.problems == []
    assert Library(tmp_path / "home").count() == 290


def test_every_field_of_004(shared_digests):
    d = read_digest(shared_digests / "004_dac66c501102c837.txt")
    assert d.date == date(2025, 12, 9)
    assert len(d.entries) == 49
    assert sum(1 for e in d.entries if e.published is None) == 1
    e = {x.title.split(":")[0]: x for x in d.entries}
    assert (e["VideoLLaMA 3"].authors, e["VideoLLaMA 3"].published, e["VideoLLaMA 3"].upvotes) \
        == (15, date(2025, 1, 22), 6)
    agent = e["AgentTTS"]
    assert (agent.authors, agent.organization, agent.published, agent.upvotes) == (None,) * 4
    tpo = e["Task Preference Optimization"]
    assert (tpo.authors, tpo.published, tpo.upvotes) == (12, date(2024, 12, 26), 2)
    assert e["Orion-MSP"].organization == "Lexsi Labs"
    assert e["Orion-MSP"].links == ("https://github.com/Lexsi-Labs/Orion-MSP",)


def test_titles_and_abstracts_byte_identical_to_the_file(shared_digests):
    for path in sorted(shared_digests.glob("*.txt")):
        lines = path.read_text("utf-8").split("\n")
        for e in read_digest(path).entries:
            assert lines[e.line - 1] == e.title
            assert lines[e.line + 1] == e.abstract
