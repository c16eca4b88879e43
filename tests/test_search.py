"""Library.search as the reader uses it: filters, the first page, cancellation."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, digest, entry, write

from papers.index.errors import QueryError
from papers.index.ingest import ingest
from papers.index.library import Library, SearchCancelled


@pytest.fixture
def lib(home, tmp_path):
    folder = tmp_path / "d"
    for f in FIXTURES.glob("sample-*.txt"):
        write(folder / f.name, f.read_text("utf-8"))
    ingest(home, [folder])
    return Library(home)


@pytest.mark.parametrize("limit", [3, None])
def test_include_and_exclude_hold_with_cancellation_enabled(lib, limit):
    every = [h.paper.id for h in lib.search("").hits()]
    keep = set(every[:2])
    found = lib.search("", limit=limit, include=keep, cancelled=lambda: False)
    assert {h.paper.id for h in found.hits()} == keep
    rest = lib.search("", limit=limit, exclude=keep, cancelled=lambda: False)
    assert keep.isdisjoint(h.paper.id for h in rest.hits())
    assert len(rest) == (min(limit, len(every) - 2) if limit else len(every) - 2)


def test_a_whole_list_search_stops_when_cancelled(lib):
    # A wildcard is scored by Whoosh, a match at a time: the pass that can take long.
    with pytest.raises(SearchCancelled):
        lib.search('model*', sort="date", cancelled=lambda: True)
    assert len(lib.search('model*', limit=1, cancelled=lambda: True)) == 1


def test_suggest_false_skips_did_you_mean(lib):
    assert lib.search("pixtrel").suggestion == "pixtral"
    assert lib.search("pixtrel", suggest=False).suggestion is None


def test_a_leading_minus_excludes_and_a_hyphen_inside_a_word_does_not(lib):
    def titles(text):
        found = lib.search(text)
        return {found.paper(i).title for i in range(len(found))}

    models = titles("models")
    assert any("Olmo" in t for t in models) and any("GPT-[n]" in t for t in models)
    without = titles("models -olmo")
    assert without == {t for t in models if "Olmo" not in t}
    assert titles("models -olmo") == titles("models NOT olmo")
    assert titles('models -"open language"') == without
    # "Text-to-Image" and "Fine-tuning" are words with hyphens, not exclusions.
    assert any("ECLIPSE" in t for t in titles("text-to-image"))
    assert any("Structured Sparsity" in t for t in titles("fine-tuning"))


def test_minus_keeps_ranges_and_a_not_before_it_and_errors_quote_what_was_typed(lib):
    def titles(text):
        found = lib.search(text)
        return {found.paper(i).title for i in range(len(found))}

    assert titles("models NOT -olmo") == titles("models NOT olmo")
    with pytest.raises(QueryError) as failed:
        lib.search("upvotes:[0 to -1] models")
    assert "upvotes:[0 to -1] models" in str(failed.value) and "NOT" not in str(failed.value)


def test_similar_papers_of_a_paper_with_no_words_to_go_on_is_an_empty_list(home, tmp_path):
    folder = tmp_path / "d"
    write(folder / "2025-12-09.txt", digest(
        "Dec 9",
        entry("A Title With Words", "It is a an the of."),  # every word a stop word
        entry("Words In Another Title", "Words about words and other words."),
    ))
    ingest(home, [folder])
    lib = Library(home)
    [pid] = [lib.search("").paper(i).id for i in range(2)
             if lib.search("").paper(i).title == "A Title With Words"]
    assert lib.more_like(pid) == []


def _sample_words() -> list[str]:
    import re

    text = " ".join(f.read_text("utf-8") for f in FIXTURES.glob("sample-*.txt"))
    return sorted(set(re.findall(r"[A-Za-z][A-Za-z0-9]*", text)))


def test_plain_words_are_asked_as_the_parser_would_ask_them(lib):
    """Words alone skip Whoosh's parser (a cold `papers find` saves its import); the query is
    the parser's own, stop words, repeats, capitals and words like 'and' or 'AND' included."""
    import random

    from papers.index.library import plain_query

    words = [*_sample_words(), "and", "or", "not", "to", "AND", "OR", "NOT", "TO", "a", "I"]
    rng = random.Random(0)
    texts = words + [" ".join(rng.choice(words) for _ in range(rng.randint(2, 5)))
                     for _ in range(3000)]
    fast = 0
    for text in texts:
        q = plain_query(text)
        if q is not None:
            fast += 1
            assert q == lib.parse(text), text
    assert fast > len(texts) * 0.9  # nearly every text of words takes the short way
    for text in ("GPT-4o", "title:diffusion", '"vision language"', "lora~", "model*",
                 "diffusion AND video", "a the", "x", ""):
        assert plain_query(text) is None, text


def test_plain_words_find_what_the_parser_finds(lib):
    from papers.index.library import plain_query

    for text in ("models", "language models", "the Language of MODELS", "sparsity sparsity"):
        assert plain_query(text) is not None
        found = lib.search(text)
        parsed = lib.search(f"({text})")  # a group: through the parser
        assert (found.docnums, found.scores) == (parsed.docnums, parsed.scores), text
        assert found.docnums, text


def test_an_open_library_sees_papers_a_commit_only_deleted(home, tmp_path):
    """The reader keeps one Library open: after `papers remove` (a commit that only deletes),
    its searches must not find the removed digest's papers."""
    folder = tmp_path / "two"
    write(folder / "a.txt", digest("December 9, 2025", entry("Kept Paper About Lions", "Lions.")))
    write(folder / "b.txt", digest("December 10, 2025", entry("Gone Paper About Lions", "Lions.")))
    ingest(home, [folder])
    library = Library(home)
    assert library.count() == 2 and len(library.search("lions")) == 2
    (folder / "b.txt").unlink()
    ingest(home, [folder], prune=True)
    assert library.count() == 1
    assert [h.paper.title for h in library.search("lions").hits()] == ["Kept Paper About Lions"]
    library.close()


def test_a_big_filter_reads_every_docnum_at_once_with_the_same_answer(home, tmp_path,
                                                                      monkeypatch):
    """Past a few thousand ids (New on a first start) the filter reads the id field once;
    it must keep exactly what looking each id up keeps: live papers, the newest copy of a
    paper written again, none a commit deleted."""
    import papers.index.library as library_mod

    folder = tmp_path / "three"
    write(folder / "a.txt", digest("December 9, 2025", entry("Lions One", "Lions."),
                                   entry("Lions Two", "Lions.")))
    write(folder / "b.txt", digest("December 10, 2025", entry("Lions Three", "Lions.")))
    ingest(home, [folder])
    # Lions Two seen again (a new copy in a new segment), Lions Three's digest gone.
    write(folder / "c.txt", digest("December 11, 2025", entry("Lions Two", "Lions again.")))
    (folder / "b.txt").unlink()
    ingest(home, [folder], prune=True)
    library = Library(home)
    wanted = {h.paper.id for h in library.search("").hits()} | {"0123456789ab"}
    one_by_one = [h.paper.id for h in library.search("lions", include=wanted).hits()]
    monkeypatch.setattr(library_mod, "_BULK_IDS", 0)
    at_once = [h.paper.id for h in library.search("lions", include=wanted).hits()]
    assert at_once == one_by_one and len(at_once) == 2
    assert [h.paper.abstract for h in library.search("lions", include=wanted,
                                                     sort="title").hits()] == [
        "Lions.", "Lions again."]
    library.close()
