"""Issue 15 in the reader: For you, New and Rising; not interested (`x`), snooze (`z`), undo;
"N new" in the filter pane, falling when a view is opened; the Why block."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from _app_library import detail_text, filter_group, list_rows, screen_text

from papers.index.foryou import HOW_TO_TEACH
from papers.index.library import Library
from papers.index.scope import FOR_YOU, NEW
from papers.index.userdata import UserData
from papers.tui.app import PapersApp
from papers.tui.pilot import settle

LIKED = "Diffusion Models for Video Generation"  # starred: For you ranks diffusion first
FIRST = "Diffusion Transformers at Scale"  # what For you ranks first, then
LONG_AGO = "2000-01-01T00:00:00.000000+00:00"  # a view looked at before the library was


def paper(home, title: str):
    lib = Library(home)
    try:
        found = lib.search("", sort="newest")
        return next(p for p in map(found.paper, range(len(found))) if p.title == title)
    finally:
        lib.close()


@pytest.fixture
def taught(app_home):
    """The user starred one diffusion paper: For you has a taste to rank by."""
    liked = paper(app_home, LIKED)
    with UserData(app_home) as ud:
        ud.star([liked.id], remember=[liked])
    return liked


def titles(app) -> list[str]:
    listing = app.reader.paper_list.listing
    return [listing.row(i).title for i in range(len(listing))]


def node(app, label: str):
    """A view's line in the filter pane, searched through the groups too."""
    pane = app.query_one("#filters")
    found = [*pane.root.children]
    for n in found:
        if n.label.plain.startswith(label) and n.data is not None:
            return n
        found.extend(n.children)
    raise AssertionError(f"no {label!r} in the filter pane")


async def open_view(pilot, label: str) -> None:
    """Open a view as the reader does: its line selected in the filter pane."""
    app = pilot.app
    app.query_one("#filters").select_node(node(app, label))
    await settle(pilot)


async def test_x_hides_a_paper_from_for_you_and_u_brings_it_back(app, app_home, taught):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await open_view(pilot, "For you")
        assert app.reader.view == FOR_YOU
        shown = titles(app)
        assert shown[0] == FIRST and LIKED not in shown  # what it learned from is not listed
        await pilot.press("x")
        await settle(pilot)
        # Gone from For you at once; the cursor is on the paper that came after it.
        assert titles(app) == shown[1:]
        assert app.reader.paper_list.current.title == shown[1]
        first = paper(app_home, FIRST)
        with UserData(app_home) as ud:
            assert ud.skipped_ids() == {first.id}
        await pilot.press("u")
        await settle(pilot)
        assert titles(app) == shown
        assert app.reader.paper_list.current.title == shown[1]  # the cursor stays put
        with UserData(app_home) as ud:
            assert ud.skipped_ids() == set()
        # Elsewhere a paper set aside stays listed, marked and said so.
        await pilot.press("g", "x")
        await settle(pilot)
        await open_view(pilot, "All")
        assert FIRST in titles(app)
        row = next(r for r in list_rows(app) if FIRST in r)
        assert row.startswith("✗")
        app.reader.paper_list.cursor = titles(app).index(FIRST)
        await settle(pilot)
        assert "✗ not interested" in detail_text(app)
        # x again on it: interested again, back in For you.
        await pilot.press("x")
        await settle(pilot)
        await open_view(pilot, "For you")
        assert titles(app) == shown


async def test_the_why_block_says_what_in_the_paper_made_it_rank(app, taught):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert "Why" not in detail_text(app)  # All ranks by no taste
        await open_view(pilot, "For you")
        text = detail_text(app)
        assert app.reader.detail.paper.title == FIRST
        why = app.reader.detail.why
        assert why and why[0] == f"like {LIKED}"
        assert "Why" in text and f"like {LIKED}" in text
        words = why[1:]
        assert words
        body = (FIRST + " " + app.reader.detail.paper.abstract).casefold()
        for word in words:
            assert word.casefold() in body, (word, body)
        # The same block under the foryou sort of All.
        await open_view(pilot, "All")
        while app.reader._shown_sort() != "foryou":
            await pilot.press("o")
        await settle(pilot)
        assert app.reader.detail.why


async def test_o_cycles_to_foryou_and_rising(app, taught):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        seen = []
        for _ in range(6):
            await pilot.press("o")
            await settle(pilot)
            header = str(app.query_one("#list-header").render())
            seen.append(header.split("sort: ")[1].split(" ")[0])
            if seen[-1] == "foryou":
                assert titles(app)[0] == FIRST  # ranked by the taste, not by date
        assert seen[:5] == ["upvotes", "title", "foryou", "rising", "relevance"] or \
            seen[:5] == ["upvotes", "title", "foryou", "rising", "newest"]


async def test_with_nothing_to_learn_from_for_you_says_how_to_teach_it(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await open_view(pilot, "For you")
        assert titles(app) == []
        shown = " ".join(screen_text(app).split())
        assert HOW_TO_TEACH[:40] in shown


async def test_n_new_falls_when_the_view_is_opened(app, app_home, taught):
    with UserData(app_home) as ud:
        ud.save_search("diffusion", "diffusion")
        for view in ("", "diffusion", FOR_YOU.query):
            ud.mark_seen(view, at=LONG_AGO)
        version = ud.data_version()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert node(app, "All").label.plain == "All  8  8 new"
        saved = filter_group(app, "Saved").children[0]
        assert saved.label.plain == "diffusion  2  2 new"
        assert node(app, "For you").label.plain.endswith(f"{len(titles_for_you(app_home))} new")
        assert node(app, "New").label.plain == "New  8"
        rows = list_rows(app)
        await open_view(pilot, "All")
        # The badge is gone, the list is the same, and no other reader sees a change.
        assert node(app, "All").label.plain == "All  8"
        assert list_rows(app) == rows
        assert node(app, "New").label.plain == "New  0"
        assert app.store.data_version() == version
        await open_view(pilot, "diffusion")
        assert filter_group(app, "Saved").children[0].label.plain == "diffusion  2"
        await open_view(pilot, "For you")
        assert node(app, "For you").label.plain == "For you"
        assert app.store.data_version() == version
    with UserData(app_home) as ud:
        assert all(ud.seen_at(v) > LONG_AGO for v in ("", "diffusion", FOR_YOU.query))


def titles_for_you(home) -> list[str]:
    from papers.index.scope import Scope, search

    lib, ud = Library(home), UserData(home)
    try:
        found = search(lib, ud, Scope(FOR_YOU))
        return [found.paper(i).title for i in range(len(found))]
    finally:
        lib.close()
        ud.close()


async def test_a_muted_paper_is_gone_from_new(app, app_home):
    with UserData(app_home) as ud:
        ud.mark_seen("", at=LONG_AGO)
        ud.mute("title:sparse")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await open_view(pilot, "New")
        assert app.reader.view == NEW
        assert len(titles(app)) == 7
        assert "Sparse Attention for Long Context" not in titles(app)
        await open_view(pilot, "All")
        assert "Sparse Attention for Long Context" in titles(app)


async def test_a_snoozed_paper_comes_back_on_its_day(app, app_home, taught):
    today = {"day": date(2026, 12, 8)}
    app.store.today = lambda: today["day"]  # the reader's clock, set here: no sleeping
    with UserData(app_home) as ud:
        ud.mark_seen("", at=LONG_AGO)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await open_view(pilot, "For you")
        shown = titles(app)
        first = shown[0]
        # Escape cancels: nothing is written.
        await pilot.press("z")
        await settle(pilot)
        assert "Next week" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert titles(app) == shown
        # Tomorrow: gone from For you and New until then.
        await pilot.press("z")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert titles(app) == shown[1:]
        with UserData(app_home) as ud:
            assert list(ud.snoozes().values()) == [date(2026, 12, 9)]
        await open_view(pilot, "New")
        new = set(titles(app))
        assert len(new) == 7 and first not in new
        await open_view(pilot, "For you")
        assert first not in titles(app)
        # The next day it is back, in both.
        today["day"] = date(2026, 12, 9)
        await open_view(pilot, "For you")
        assert titles(app) == shown
        with UserData(app_home) as ud:
            ud.mark_seen("is:new", at=LONG_AGO)  # New as it was, to look again
        await open_view(pilot, "New")
        assert set(titles(app)) == new | {first}


async def test_new_stays_while_it_is_triaged_and_is_old_once_left(app, app_home):
    with UserData(app_home) as ud:
        ud.mark_seen("", at=LONG_AGO)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await open_view(pilot, "New")
        shown = titles(app)
        assert len(shown) == 8
        await pilot.press("x")  # searched again: the rest of New is still new
        await settle(pilot)
        assert titles(app) == shown[1:]
        await pilot.press("slash", *"diffusion", "escape")
        await settle(pilot)
        assert titles(app) == [LIKED]  # the other diffusion paper was set aside
        await pilot.press("slash", "ctrl+u", "escape")
        await settle(pilot)
        assert titles(app) == shown[1:]
        # Left, New has been looked at: its papers are old, and the list of New is empty.
        await open_view(pilot, "Starred")
        assert node(app, "New").label.plain == "New  0"
        await open_view(pilot, "New")
        assert titles(app) == []


async def test_a_date_typed_in_the_snooze_screen(app, app_home):
    today = date(2026, 12, 8)
    app.store.today = lambda: today
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        pid = app.reader.current_paper_id()
        await pilot.press("z", "tab", *"2026-12-01", "enter")  # not after today: refused
        await settle(pilot)
        assert app.screen.__class__.__name__ == "SnoozeScreen"
        await pilot.press(*["backspace"] * 10, *"2w", "enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ != "SnoozeScreen"
        with UserData(app_home) as ud:
            assert ud.snoozes() == {pid: today + timedelta(weeks=2)}
        row = next(r for r in list_rows(app) if app.reader.paper_list.current.title[:20] in r)
        assert row.startswith("z")  # still listed in All, marked
        assert "snoozed until 2026-12-22" in detail_text(app)


async def test_help_and_palette_list_the_new_keys(app):
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        shown = screen_text(app)
        for said in ("Not interested", "Snooze: it leaves", "for:me"):
            assert said in shown
        assert " ".join(shown.split()).count("foryou, rising") == 1, shown
        await pilot.press("escape")
        await settle(pilot)
        assert "x Not interested" in screen_text(app).splitlines()[-1]


async def test_the_new_views_at_80_by_24(app, taught, tmp_path, app_home):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        shown = screen_text(app)
        assert "View: For you" in shown and "View: New" in shown
        await pilot.press("escape")
        app.reader.pick_view(FOR_YOU)
        await settle(pilot)
        lines = screen_text(app).splitlines()
        assert "View: For you" in lines[1]
        assert FIRST in "\n".join(lines)
        await pilot.press("z")
        await settle(pilot)
        shown = screen_text(app)
        assert "Tomorrow" in shown and "Next month" in shown
        await pilot.press("escape")


def test_a_reader_closed_on_a_view_leaves_it_seen(app_home, tmp_path):
    import asyncio

    with UserData(app_home) as ud:
        ud.mark_seen("", at=LONG_AGO)

    async def run():
        app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            assert node(app, "New").label.plain == "New  8"

    asyncio.run(run())
    with UserData(app_home) as ud:
        assert ud.seen_at("") > LONG_AGO  # the next start's New is what came after this one


async def test_past_the_limit_a_view_has_no_badge_until_opened(app, app_home, monkeypatch):
    """A view not looked at since thousands of papers came in is not counted (seconds of
    index lookups, with the searches waiting); All is, from the manifest's id sets."""
    from papers.tui import store

    monkeypatch.setattr(store, "FRESH_LIMIT", 3)  # 8 papers came in: past it
    with UserData(app_home) as ud:
        ud.save_search("diffusion", "diffusion")
        for view in ("", "diffusion"):
            ud.mark_seen(view, at=LONG_AGO)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert node(app, "All").label.plain == "All  8  8 new"
        assert filter_group(app, "Saved").children[0].label.plain == "diffusion  2"
        await open_view(pilot, "diffusion")
        await open_view(pilot, "All")
        assert node(app, "All").label.plain == "All  8"
        assert filter_group(app, "Saved").children[0].label.plain == "diffusion  2"
