"""The keys act on what the user sees (issue 11): typed fast, on the paper shown."""

from __future__ import annotations

from _app_library import detail_text, list_rows, record_notices, searched, until
from textual import events

from papers.index.userdata import UserData
from papers.tui.pilot import settle


def burst(app, keys: str) -> None:
    """Keys arriving in one batch (a paste, a fast typist, a laggy SSH link): all queued
    before the app handles the first."""
    names = {"/": "slash", " ": "space"}
    for ch in keys:
        app.post_message(events.Key(names.get(ch, ch), ch))


async def test_every_key_after_a_slash_in_one_batch_reaches_the_search_bar(app, app_home):
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        burst(app, "/quant")
        await settle(pilot)
        assert app.is_running
        assert app.reader.search_bar.value == "quant"
        burst(app, "\x1b")  # nothing
        await pilot.press("escape")
        app.reader.search_bar.input.value = ""
        await settle(pilot)
        burst(app, "/sparse")  # s stars, r marks read, e exports: none of them here
        await settle(pilot)
        assert app.reader.search_bar.value == "sparse"
        with UserData(app_home) as ud:
            assert ud.starred_ids() == set() and ud.read_ids() == set()
        # A slash inside a query is part of it.
        await pilot.press("slash")
        assert app.reader.search_bar.value == "sparse/"


async def open_a_similar_paper(app, pilot) -> str:
    """Search, tab into "Similar papers", go down, press enter: the id of the paper opened."""
    from textual.widgets import OptionList

    await searched(pilot, "diffusion")
    similar = app.query_one("#similar", OptionList)
    assert similar.display
    await pilot.press("tab", "tab")
    assert app.focused is similar
    await pilot.press("down", "enter")
    await settle(pilot)
    shown = app.reader.detail.paper
    assert shown.id != app.reader.paper_list.current.id
    return shown.id


async def test_keys_act_on_the_paper_the_detail_pane_shows(app, app_home):
    async with app.run_test(size=(160, 48)) as pilot:
        shown = await open_a_similar_paper(app, pilot)
        under_cursor = app.reader.paper_list.current.id
        # Back in the list, the pane still shows the similar paper, and says the keys act
        # on it.
        app.reader.paper_list.focus()
        await until(pilot, lambda: app.focused is app.reader.paper_list)
        assert app.query_one("#detail-origin").display
        said = record_notices(app)
        await pilot.press("s")
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.starred_ids() == {shown}
        assert under_cursor not in app.store.starred
        assert said == ["Starred " + app.reader.detail.paper.title]


async def test_backspace_goes_back_to_the_paper_shown_before(app):
    async with app.run_test(size=(160, 48)) as pilot:
        await searched(pilot, "diffusion")
        first = app.reader.detail.paper.id
        shown = await open_a_similar_paper(app, pilot)
        assert app.reader.detail.paper.id == shown
        await pilot.press("backspace")
        await settle(pilot)
        assert app.reader.detail.paper.id == first
        assert not app.query_one("#detail-origin").display
        assert app.reader.detail.paper.title in detail_text(app)
        await pilot.press("backspace")  # nothing more to go back to: nothing happens
        await settle(pilot)
        assert app.reader.detail.paper.id == first and list_rows(app)
        assert await until(pilot, lambda: app.is_running)


async def test_space_N_and_A_triage_a_day(app, app_home):
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        plist = app.reader.paper_list
        ids = [plist.listing.row(i).id for i in range(len(plist))]
        said = record_notices(app)
        await pilot.press("space", "space")  # read, next; read, next
        await settle(pilot)
        assert plist.cursor == 2
        with UserData(app_home) as ud:
            assert ud.read_ids() == set(ids[:2])
        await pilot.press("g", "N")  # the next unread is the third
        assert plist.cursor == 2
        await pilot.press("j", "j", "A")
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.read_ids() == set(ids[:4])
        assert said[-1].startswith("Marked 2 papers above read (2 already were)")
        await pilot.press("u")  # one change: one undo
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.read_ids() == set(ids[:2])
        assert said[-1] == "Marked 2 papers unread"
        await pilot.press("s", "u")  # an undo names the paper by its title, not its id
        await settle(pilot)
        title = plist.listing.row(4).title
        assert title[:20] in said[-1] and ids[4] not in said[-1]


async def test_a_move_and_a_star_in_one_batch_star_the_paper_moved_to(app, app_home):
    """j then s typed fast: the star goes to the paper the cursor moved to, not the one the
    detail pane still showed (it loads after the cursor rests)."""
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        plist = app.reader.paper_list
        first, second, third = (plist.listing.row(i).id for i in range(3))
        burst(app, "js")  # star the second
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.starred_ids() == {second}
        burst(app, "jsks")  # star the third, then back up and unstar the second
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.starred_ids() == {third} and first not in ud.starred_ids()
