"""The reader's list and search: typing a query, moving, sorting, filtering by view."""

from __future__ import annotations

from _app_library import filter_group, list_rows, screen_text, until

from papers.tui.pilot import settle


async def test_opens_on_every_paper_newest_first(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        rows = list_rows(app)
        assert len(rows) == 8
        assert "Diffusion Transformers at Scale" in rows[0] or "Sparse Attention" in rows[0]
        dates = [r.split()[1] for r in rows if r.split()[1][:2] == "20"]
        assert dates == sorted(dates, reverse=True)
        assert "8 papers" in str(app.reader.search_bar.query_one("#search-status").render())


async def test_typing_a_query_shows_matching_rows_with_hit_count(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"diffusion")
        await settle(pilot)
        rows = list_rows(app)
        assert len(rows) == 2
        assert all("Diffusion" in r for r in rows)
        assert "2 papers" in str(app.reader.search_bar.query_one("#search-status").render())
        # Esc leaves the search bar; the keys act on the list again.
        await pilot.press("escape")
        assert app.focused is app.reader.paper_list


async def test_no_match_says_did_you_mean_and_bad_syntax_is_a_message(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"difusion")
        await settle(pilot)
        status = str(app.reader.search_bar.query_one("#search-status").render())
        assert "0 papers" in status and "did you mean diffus" in status  # diffus(ion)
        app.reader.search_bar.input.value = '"unclosed'
        await settle(pilot)
        status = str(app.reader.search_bar.query_one("#search-status").render())
        assert "unbalanced quote" in status
        assert list_rows(app)  # the old rows stay; no exception


async def test_cursor_moves_with_j_k_g_G_and_highlights_the_detail(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        plist = app.reader.paper_list
        assert plist.cursor == 0
        await pilot.press("j", "j", "down")
        assert plist.cursor == 3
        await pilot.press("k", "up")
        assert plist.cursor == 1
        await pilot.press("G")
        assert plist.cursor == 7
        await settle(pilot)  # the detail pane follows the cursor once it rests
        assert app.reader.detail is not None and app.reader.detail.paper.id == plist.current.id
        await pilot.press("g")
        assert plist.cursor == 0
        await pilot.press("pagedown")
        assert plist.cursor == 7  # one page is more than the list
        await pilot.press("enter")
        await settle(pilot)
        assert app.reader.detail is not None
        assert app.reader.detail.paper.id == plist.current.id


async def test_sort_cycles_through_upvotes_and_title(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        # Relevance with no query is newest first: the first o goes on to upvotes.
        await pilot.press("o")
        await settle(pilot)
        assert app.reader.sort == "upvotes"
        assert "Diffusion Models for Video Generation" in list_rows(app)[0]
        await pilot.press("o")
        await settle(pilot)
        assert app.reader.sort == "title"
        titles = [app.reader.paper_list.listing.row(i).title for i in range(8)]
        assert titles == sorted(titles, key=str.casefold)


async def test_filter_pane_views_filter_the_list(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#filters")
        labels = [n.label.plain for n in pane.root.children]
        assert labels[0].startswith("All") and labels[0].endswith("8")
        digests = filter_group(app, "Digests")
        newest = digests.children[0]
        assert "2025-12-10" in newest.label.plain
        pane.select_node(newest)
        await settle(pilot)
        assert len(list_rows(app)) == 4
        assert app.reader.view.kind == "digest"
        # The backslash hides and shows the pane.
        await pilot.press("backslash")
        assert not pane.display
        await pilot.press("backslash")
        assert pane.display


async def test_mouse_click_selects_a_row(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        plist = app.reader.paper_list
        await pilot.click(plist, offset=(10, 2))
        assert plist.cursor == 2


async def test_the_cursor_paper_a_search_keeps_is_on_screen(tmp_path, shared_digests):
    """Typed on the real digests, a search keeps the cursor on a paper 100 rows down its
    list (its first page of 60 lacked it): the list scrolls there, rather than hiding the
    paper the keys act on."""
    from papers.index.ingest import ingest
    from papers.index.sources import add_sources
    from papers.tui.app import PapersApp

    home = tmp_path / "home"
    ingest(home, add_sources(home, [shared_digests]), procs=1)
    app = PapersApp(home, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"language model", "escape")
        await settle(pilot)
        plist = app.reader.paper_list
        top = plist.scroll_offset.y
        assert top <= plist.cursor < top + plist.size.height, (top, plist.cursor)


async def test_a_word_half_typed_shows_no_match_at_once_and_no_did_you_mean(app, monkeypatch):
    """Nothing matching is drawn as soon as it is known; "did you mean" waits for a pause
    in the typing (here, longer than the test), and a key typed meanwhile drops it."""
    from papers.tui.screens import main

    monkeypatch.setattr(main, "SUGGEST_AFTER_TYPING", 600.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"difusio")
        assert await until(pilot, lambda: "Nothing matches" in screen_text(app))
        assert app.reader.search_bar.value == "difusio"
        assert "did you mean" not in screen_text(app)
        await pilot.press("n")  # typed on: the search of "difusio" is dropped
        assert await until(pilot, lambda: app.reader.listing.query == "difusion"
                           and "Nothing matches" in screen_text(app))
        assert "did you mean" not in screen_text(app) and app.reader.listing.suggestion is None
