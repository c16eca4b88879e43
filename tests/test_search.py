"""Library.search as the reader uses it: filters, the first page, cancellation."""

from __future__ import annotations

import pytest
from conftest import FIXTURES, write

from index.ingest import ingest
from index.library import Library, SearchCancelled


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
