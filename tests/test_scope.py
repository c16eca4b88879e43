"""The one query path: every view is query text, and a scope means the same papers wherever
it is asked for. `digest:` and `month:` name the digests a paper was seen in."""

from __future__ import annotations

import pytest
from _app_library import DAY_ONE, DAY_TWO, build_library

from papers.index.errors import InputError, NotFound, QueryError
from papers.index.identity import paper_id
from papers.index.library import Library
from papers.index.scope import (
    ALL,
    SORTS,
    STARRED,
    Scope,
    digest_view,
    month_view,
    saved_scope,
    search,
    select,
    sort_name,
    tag_view,
)
from papers.index.userdata import UserData

ONE = {paper_id(t) for t, _, _ in DAY_ONE}
TWO = {paper_id(t) for t, _, _ in DAY_TWO}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return build_library(tmp_path_factory.mktemp("scope"))


@pytest.fixture
def lib(home):
    library = Library(home)
    yield library
    library.close()


@pytest.fixture
def store(home, tmp_path):
    # Each test its own user data: copy nothing, just point a fresh store at a fresh home
    # that shares the index by symlink.
    mine = tmp_path / "home"
    mine.mkdir()
    (mine / "index").symlink_to(home / "index")
    with UserData(mine) as ud:
        yield ud


def ids(lib, store, query: str, sort: str = "relevance") -> set[str]:
    return {item.paper.id for item in select(lib, store, Scope(ALL, query, sort)).items}


def test_digest_by_day_and_by_file_name(lib, store):
    assert ids(lib, store, "digest:2025-12-09") == ONE
    assert ids(lib, store, "digest:2025-12-10.txt") == TWO
    assert ids(lib, store, '"digest:2025-12-10.txt"') != TWO  # a quoted phrase is words
    assert ids(lib, store, "digest:1999-01-01") == set()


def test_digest_and_month_combine_with_words_and_negation(lib, store):
    assert ids(lib, store, "month:2025-12") == ONE | TWO
    diffusion = ids(lib, store, "diffusion")
    assert ids(lib, store, "diffusion digest:2025-12-10") == diffusion & TWO
    assert ids(lib, store, "diffusion -digest:2025-12-10") == diffusion - TWO
    assert ids(lib, store, "NOT digest:2025-12-09") == TWO


def test_a_month_must_look_like_one(lib, store):
    with pytest.raises(QueryError, match="month:2025-3"):
        ids(lib, store, "month:2025-3")


def test_every_view_is_query_text_that_selects_the_same_papers(lib, store):
    video = paper_id("Diffusion Models for Video Generation")
    store.star([video])
    store.add_tags(video, ["to-read"])
    views = [STARRED, tag_view("to-read"), digest_view("/x/2025-12-09.txt", "2025-12-09"),
             month_view("2025-12")]
    for view in views:
        by_view = {i.paper.id for i in select(lib, store, Scope(view)).items}
        by_text = ids(lib, store, view.query)
        assert by_view == by_text and by_view, view


def test_a_digest_sharing_its_day_is_named_by_file():
    assert digest_view("/d/a.txt", "2025-12-09").query == "digest:2025-12-09"
    assert digest_view("/d/my day.txt", "2025-12-09", same_day=2).query == 'digest:"my day.txt"'


def test_a_saved_search_narrowed_by_typing_keeps_both(lib, store):
    store.save_search("day two", "digest:2025-12-10 (plan OR scale)")
    scope = saved_scope(store, "day two", "agents")
    assert "digest:2025-12-10" in scope.query and "agents" in scope.query
    assert {i.paper.id for i in select(lib, store, scope).items} == {
        paper_id("Language Agents That Plan")}
    with pytest.raises(NotFound):
        saved_scope(store, "nope")


def test_one_list_of_sorts_with_date_as_an_old_name(lib, store):
    assert SORTS == ("relevance", "newest", "upvotes", "title", "foryou", "rising")
    assert sort_name("date") == "newest" and sort_name("Newest") == "newest"
    with pytest.raises(QueryError, match="choose one of relevance, newest"):
        sort_name("oldest")
    newest = search(lib, store, Scope(ALL, "", "newest"))
    days = [newest.paper(i).published or newest.paper(i).first_seen for i in range(len(newest))]
    assert days == sorted(days, reverse=True)


def test_filters_that_leave_only_operators_or_empty_groups_still_parse(lib, store):
    store.star([paper_id("Sparse Attention for Long Context")])
    assert ids(lib, store, "(is:starred) AND (digest:2025-12-10)") == {
        paper_id("Sparse Attention for Long Context")}
    assert ids(lib, store, "sparse AND is:starred") == {
        paper_id("Sparse Attention for Long Context")}


@pytest.mark.parametrize(("query", "found"), [
    ("published:[1950 to 2030]", True), ("published:>1969", True), ("published:1969", False),
    ("seen:<1970-01-01", False), ("published:[1900 to 1960]", False),
])
def test_dates_before_1970_are_dates(lib, store, query, found):
    assert bool(ids(lib, store, query)) is found


@pytest.mark.parametrize("query", ["tag:a,b", 'tag:"a b"'])
def test_a_tag_that_cannot_be_is_bad_input(lib, store, query):
    with pytest.raises(InputError, match="separate words"):  # exit 2, one line
        ids(lib, store, query)
