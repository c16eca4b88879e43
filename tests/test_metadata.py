"""Daily Papers JSON in the library: one paper whether it came from a saved page or the API,
its arXiv id, authors and links searchable, and exports that real parsers read back."""

from __future__ import annotations

import json
from datetime import date
from itertools import groupby
from pathlib import Path

import bibtexparser
import pytest
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON
from conftest import SHARED, digest, entry, write

from papers.index.export import ExportItem, render
from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.scope import ALL, Scope, select
from papers.index.sources import add_sources
from papers.index.userdata import UserData

TITLE = "EnvHarness: Awakening Static Worlds for Agent Learning"


def api_entry(title: str, arxiv: str, *, day: str = "2026-08-21", authors=("Tomás Pfister",),
              summary: str = "Agents learn in worlds we build. Code: https://github.com/x/y",
              **paper) -> dict:
    """One entry of the Daily Papers API, hard-wrapped as the API sends text."""
    return {
        "paper": {"id": arxiv, "title": title.replace(" for ", "\n  for "),
                  "summary": summary, "publishedAt": "2026-08-20T00:00:00.000Z",
                  "authors": [{"name": n} for n in authors], "upvotes": 12, **paper},
        "publishedAt": f"{day}T10:00:00.000Z", "title": title, "numComments": 2,
        "submittedBy": {"name": "taesiri"},
    }


def json_file(path: Path, *entries: dict) -> Path:
    return write(path, json.dumps(list(entries)))


@pytest.fixture
def mixed(home, tmp_path) -> Path:
    """A saved page with the paper, starred, then the API's JSON of the same day added."""
    folder = tmp_path / "digests"
    write(folder / "2026-08-21.txt", digest("Aug 21, 2026", entry(TITLE, "Agents learn."),
                                            entry("Only On The Page", "Text only.")))
    ingest(home, add_sources(home, [folder]))
    with UserData(home) as store:
        store.star([paper_id(TITLE)])
    json_file(folder / "api" / "2026-08-21.json",
              api_entry(TITLE, "2608.19880", githubRepo="https://github.com/g/envharness",
                        projectPage="https://envharness.com", ai_keywords=["LLM agents"]),
              api_entry("Diffusion for Everyone", "2608.00001", authors=("Ana Lee", "Bo Xu")))
    ingest(home, [folder])
    return home


def papers_of(home: Path, query: str = "") -> dict[str, ExportItem]:
    with UserData(home) as store:
        lib = Library(home)
        items = select(lib, store, Scope(ALL, query, "newest")).items
        lib.close()
    return {it.paper.id: it for it in items}


def test_a_paper_from_a_page_and_from_json_is_one_paper_that_keeps_its_star(mixed):
    found = papers_of(mixed)
    assert len(found) == 3  # the page's two, and the one only the JSON has
    paper = found[paper_id(TITLE)]
    assert paper.state.starred
    assert {Path(s.file).suffix for s in paper.paper.digests} == {".txt", ".json"}
    assert paper.paper.arxiv_id == "2608.19880"
    assert paper.paper.author_names == ("Tomás Pfister",)
    assert paper.paper.url == "https://arxiv.org/abs/2608.19880"
    # The abstract's URL is listed as a link of the paper, never taken for its page.
    assert "https://github.com/x/y" in paper.paper.links
    assert found[paper_id("Only On The Page")].paper.url.startswith(
        "https://arxiv.org/search/?query=Only+On+The+Page")


def test_the_arxiv_id_joins_entries_whose_title_changed(mixed, tmp_path):
    json_file(tmp_path / "digests" / "api" / "2026-08-22.json",
              api_entry(TITLE + " (v2)", "2608.19880", day="2026-08-22"))
    ingest(mixed, [tmp_path / "digests"])
    found = papers_of(mixed)
    assert len(found) == 3
    assert len(found[paper_id(TITLE)].paper.digests) == 3


@pytest.mark.parametrize(("query", "titles"), [
    ('author:"tomas pfister"', {TITLE}),  # accents and case folded
    ("author:PFISTER", {TITLE}),
    ('author:"bo xu"', {"Diffusion for Everyone"}),
    ("arxiv:2608.19880", {TITLE}),
    ("has:code", {TITLE}),
    ("has:project", {TITLE}),
    ("kw:agents", {TITLE}),
    ("has:code is:starred", {TITLE}),
])
def test_the_query_language_knows_authors_ids_code_and_keywords(mixed, query, titles):
    assert {it.paper.title for it in papers_of(mixed, query).values()} == titles


@pytest.mark.parametrize(("query", "titles"), [
    ('author:"lee bo"', set()),  # a phrase is words of one name, not across two
    ('author:"ana lee"', {"Diffusion for Everyone"}),
    ("author:pfist*", {TITLE}),
    ("author:p?ister", {TITLE}),
    ("author:pf*er", {TITLE}),
    ("author:fister", set()),  # whole words only
    ('author:"TOMÁS"', {TITLE}),
    ("author:xu OR author:pfister", {TITLE, "Diffusion for Everyone"}),
    ("author:xu diffusion", {"Diffusion for Everyone"}),
    ("author:xu envharness", set()),
    ("NOT author:xu", {TITLE, "Only On The Page"}),
    ("author:[a to z]", set()),
    ('author:""', set()),
])
def test_author_names_match_whole_words_of_one_name(mixed, query, titles):
    assert {it.paper.title for it in papers_of(mixed, query).values()} == titles


def test_author_queries_follow_a_paper_whose_authors_change(mixed, tmp_path):
    """A paper written again (its JSON corrected) matches its new authors only, and a new
    segment's papers are found beside the old segment's."""
    json_file(tmp_path / "digests" / "api" / "2026-08-21.json",
              api_entry(TITLE, "2608.19880", authors=("Tomás Pfister", "Zoë Ünal")),
              api_entry("Diffusion for Everyone", "2608.00001", authors=("Ana Lee",)))
    json_file(tmp_path / "digests" / "api" / "2026-08-22.json",
              api_entry("Later Work", "2608.00002", day="2026-08-22", authors=("Bo Xu",)))
    ingest(mixed, [tmp_path / "digests"])
    assert {it.paper.title for it in papers_of(mixed, "author:xu").values()} == {"Later Work"}
    assert {it.paper.title for it in papers_of(mixed, 'author:"zoe unal"').values()} == {TITLE}
    assert {it.paper.title for it in papers_of(mixed, "author:lee").values()} == {
        "Diffusion for Everyone"}


def test_bibtex_has_the_authors_eprint_and_the_arxiv_year(mixed):
    items = sorted(papers_of(mixed).values(), key=lambda it: it.paper.title)
    library = bibtexparser.parse_string(render(items, "bibtex"))
    assert not library.failed_blocks
    by_title = {e.fields_dict["title"].value.strip("{}"): e.fields_dict for e in library.entries}
    env = by_title[TITLE]
    assert env["author"].value == "Tomás Pfister"
    assert env["eprint"].value == "2608.19880" and env["archivePrefix"].value == "arXiv"
    assert env["year"].value == "2026" and env["url"].value == "https://arxiv.org/abs/2608.19880"
    everyone = by_title["Diffusion for Everyone"]
    assert everyone["author"].value == "Ana Lee and Bo Xu"
    page_only = by_title["Only On The Page"]
    assert "author" not in page_only and "eprint" not in page_only
    assert "year" not in page_only  # no first-seen year passed off as publication year


def test_csl_json_is_read_and_formatted_by_a_csl_processor(mixed):
    items = sorted(papers_of(mixed).values(), key=lambda it: it.paper.title)
    data = json.loads(render(items, "csl"))
    assert {d["type"] for d in data} == {"article"} and len(data) == 3
    env = next(d for d in data if d["title"] == TITLE)
    assert env["author"] == [{"family": "Pfister", "given": "Tomás"}]
    assert env["issued"] == {"date-parts": [[2026, 8, 20]]} and env["number"] == "2608.19880"
    source = CiteProcJSON(data)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    for d in data:
        bibliography.register(Citation([CitationItem(d["id"])]))
    text = "\n".join(str(b) for b in bibliography.bibliography())
    assert "Pfister, T." in text and "Lee, A. and Xu, B." in text and "2026" in text


def test_markdown_links_the_arxiv_page_and_names_the_authors(mixed):
    items = [papers_of(mixed)[paper_id("Diffusion for Everyone")]]
    text = render(items, "markdown", today=date(2026, 8, 22))
    assert "(https://arxiv.org/abs/2608.00001)" in text
    assert "Ana Lee, Bo Xu · 2026-08-20" in text


def test_a_file_that_is_not_daily_papers_json_is_a_problem_not_a_stop(home, tmp_path):
    folder = tmp_path / "d"
    write(folder / "object.json", '{"papers": []}')
    write(folder / "cut.json", json.dumps([api_entry(TITLE, "2608.19880")])[:-40])
    json_file(folder / "good.json", api_entry("Diffusion for Everyone", "2608.00001"))
    report = ingest(home, add_sources(home, [folder]))
    assert {Path(p.file).name for p in report.problems} >= {"object.json", "cut.json"}
    assert "Diffusion for Everyone" in {it.paper.title for it in papers_of(home).values()}


# -- the real files ---------------------------------------------------------------------------


def real(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip("../shared is not present")
    return path


def test_real_pages_then_real_json_keep_every_star(home, shared_digests):
    ingest(home, add_sources(home, [shared_digests]))
    before = papers_of(home)
    starred = sorted(before)[::25]
    with UserData(home) as store:
        store.star(starred)
    ingest(home, add_sources(home, [real("hf-api")]))
    after = papers_of(home)
    assert set(before) <= set(after)
    assert {pid for pid, it in after.items() if it.state.starred} == set(starred)
    titles = [it.paper.title.casefold() for it in after.values()]
    assert len(titles) == len(set(titles))  # each paper once


def test_the_real_corpus_rendered_as_pages_and_the_api_files_are_one_library(home, tmp_path):
    """The corpus's papers of the API files' days, as saved pages, then the API files: each
    paper once, with both sightings."""
    from bench.corpus import load_corpus, render_digest

    api = real("hf-api")
    days = {date.fromisoformat(p.stem) for p in api.glob("*.json")}
    corpus = [p for p in load_corpus(real("corpus/hf-daily-papers.jsonl"))
              if p.digest_date in days]
    pages = tmp_path / "pages"
    for day, group in groupby(corpus, key=lambda p: p.digest_date):
        write(pages / f"{day}.txt", render_digest(day, list(group)), mtime=None)
    ingest(home, add_sources(home, [pages]))
    with UserData(home) as store:
        store.star(sorted(papers_of(home))[::10])
        starred = store.starred_ids()
    ingest(home, add_sources(home, [api]))
    found = papers_of(home)
    both = [it for it in found.values()
            if {Path(s.file).suffix for s in it.paper.digests} == {".txt", ".json"}]
    on_pages = {paper_id(p.title) for p in corpus}
    assert len(both) >= 0.95 * len(on_pages), (len(both), len(on_pages))
    assert all(it.paper.arxiv_id for it in both)
    assert {pid for pid, it in found.items() if it.state.starred} == starred


def test_rising_puts_the_paper_gaining_fastest_first(home, tmp_path):
    """`rising` sorts by upvotes gained per day between a paper's first and last digest:
    a paper with few upvotes that gains fast comes before a popular one that gains slowly,
    and one seen once has gained nothing."""
    folder = tmp_path / "digests"
    fast, slow, once = "Fast Climber Agents", "Popular But Slow Agents", "Seen Once Agents"
    json_file(folder / "2026-08-20.json",
              api_entry(fast, "2608.00010", day="2026-08-20", upvotes=10),
              api_entry(slow, "2608.00020", day="2026-08-20", upvotes=200))
    json_file(folder / "2026-08-24.json",
              api_entry(fast, "2608.00010", day="2026-08-24", upvotes=90),  # 20 a day
              api_entry(slow, "2608.00020", day="2026-08-24", upvotes=210),  # 2.5 a day
              api_entry(once, "2608.00030", day="2026-08-24", upvotes=500))
    ingest(home, add_sources(home, [folder]))

    def order(text: str, sort: str) -> list[str]:
        lib = Library(home)
        try:
            return [h.paper.title for h in lib.search(text, sort=sort).hits()]
        finally:
            lib.close()

    assert order("", "upvotes") == [once, slow, fast]
    assert order("", "rising") == [fast, slow, once]
    assert order("agents", "rising") == [fast, slow, once]  # plain words: the ranker
    assert order("seen:2026-08", "rising") == [fast, slow, once]  # through Whoosh's sorting
    with UserData(home) as store:  # the CLI's and the reader's path: `--sort rising`
        lib = Library(home)
        assert [it.paper.title for it in select(lib, store, Scope(ALL, "", "rising")).items] \
            == [fast, slow, once]
        lib.close()

    # The first digest goes and a next day comes: each climb counts from what is left.
    (folder / "2026-08-20.json").unlink()
    json_file(folder / "2026-08-25.json",
              api_entry(fast, "2608.00010", day="2026-08-25", upvotes=91),  # 1 a day
              api_entry(slow, "2608.00020", day="2026-08-25", upvotes=310))  # 100 a day
    ingest(home, [folder])
    assert order("", "rising") == [slow, fast, once]
