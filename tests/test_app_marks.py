"""The reader's actions on papers: star, read, tags, saved searches, export, undo."""

from __future__ import annotations

from datetime import date

from _app_library import filter_group, hold_answer, list_rows, screen_text, until

from papers.index.userdata import UserData
from papers.tui.messages import CountsReady
from papers.tui.pilot import settle


async def search(pilot, text: str) -> None:
    pilot.app.reader.search_bar.input.value = text
    await settle(pilot)
    await pilot.press("escape")


async def test_star_shows_in_list_and_in_userdata(app, app_home):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "transformers")
        row = app.reader.paper_list.current
        assert row.title == "Diffusion Transformers at Scale"
        await pilot.press("s")
        await settle(pilot)
        assert list_rows(app)[0].startswith("★")
        assert "★ starred" in screen_text(app)
        with UserData(app_home) as ud:
            assert ud.starred_ids() == {row.id}
            assert ud.remembered(row.id).title == row.title
        await pilot.press("s")
        await settle(pilot)  # written by a worker
        with UserData(app_home) as ud:
            assert ud.starred_ids() == set()


async def test_opening_marks_read_and_r_toggles(app, app_home):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        row = app.reader.paper_list.current
        assert list_rows(app)[0][2] == "●"  # unread mark
        await pilot.press("enter")
        await settle(pilot)
        assert list_rows(app)[0][2] == " "
        with UserData(app_home) as ud:
            assert row.id in ud.read_ids()
        await pilot.press("r")
        await settle(pilot)
        with UserData(app_home) as ud:
            assert row.id not in ud.read_ids()
        assert list_rows(app)[0][2] == "●"
        # u undoes the last change: the paper is read again.
        await pilot.press("u")
        await settle(pilot)
        with UserData(app_home) as ud:
            assert row.id in ud.read_ids()


async def test_tags_editor_completes_and_saves(app, app_home):
    with UserData(app_home) as ud:
        other = next(iter(ud.states() or {}), None)
        assert other is None
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        first = app.reader.paper_list.current
        await pilot.press("t")
        await pilot.press(*"group", "enter")
        await settle(pilot)
        await pilot.press("j", "t")
        await pilot.press(*"gr")
        tags_input = app.screen.query_one("#tags")
        await until(pilot, lambda: tags_input._suggestion)  # looked up in a worker
        assert tags_input._suggestion == "group"
        await pilot.press("right", "space", *"todo", "enter")
        await settle(pilot)
        second = app.reader.paper_list.current
        with UserData(app_home) as ud:
            assert ud.state(first.id).tags == ("group",)
            assert ud.state(second.id).tags == ("group", "todo")
        # The tag appears in the filter pane with its count, and filters the list.
        pane = app.query_one("#filters")
        tags = filter_group(app, "Tags")
        assert [n.label.plain for n in tags.children] == ["#group  2", "#todo  1"]
        pane.select_node(tags.children[0])
        await settle(pilot)
        assert len(list_rows(app)) == 2


async def test_save_search_appears_in_filter_pane(app, app_home):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "diffusion")
        await pilot.press("ctrl+s")
        await pilot.press(*"diffusers", "enter")
        await settle(pilot)
        with UserData(app_home) as ud:
            assert [(s.name, s.query) for s in ud.saved_searches()] == [("diffusers", "diffusion")]
        pane = app.query_one("#filters")
        saved = filter_group(app, "Saved")
        assert [n.label.plain for n in saved.children] == ["diffusers  2"]
        await search(pilot, "")
        assert len(list_rows(app)) == 8
        pane.select_node(saved.children[0])
        await settle(pilot)
        assert len(list_rows(app)) == 2


async def test_export_asks_where_offering_a_name_with_the_query(app, tmp_path):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "language")
        await pilot.press("s")  # star the first, to see the mark in the export
        await pilot.press("e")
        await settle(pilot)
        path = app.screen.query_one("#export-path")
        assert path.value == str(tmp_path / f"papers-language-{date.today()}.md")
        await pilot.press("enter")
        await settle(pilot)
        files = list(tmp_path.glob("papers-*.md"))
        assert [f.name for f in files] == [f"papers-language-{date.today()}.md"]
        text = files[0].read_text("utf-8")
        plist = app.reader.paper_list
        titles = [plist.listing.row(i).title for i in range(len(plist))]
        assert len(titles) == 2
        for title in titles:
            assert title.split()[0] in text
        assert "language" in text  # the query heads the list
        assert text.index(titles[0].split()[0]) < text.index(titles[1].split()[0])
        assert text.count("<details>") == 2  # the abstracts, as `papers export` writes them
        # Another query, another name.
        await search(pilot, "diffusion")
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.query_one("#export-path").value.endswith(
            f"papers-diffusion-{date.today()}.md")
        await pilot.press("escape")
        await settle(pilot)
        assert len(list(tmp_path.glob("papers-*.md"))) == 1  # Esc wrote nothing


async def test_export_never_replaces_a_file_without_asking(app, tmp_path):
    target = tmp_path / f"papers-language-{date.today()}.md"
    target.write_text("my notes\n", "utf-8")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await search(pilot, "language")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert target.read_text("utf-8") == "my notes\n"
        assert "exists" in screen_text(app)
        await pilot.press("enter")  # asked, and confirmed
        await settle(pilot)
        assert "<details>" in target.read_text("utf-8")


async def test_open_link_and_copy_use_the_papers_page_not_a_link_in_its_abstract(
        app, monkeypatch):
    import webbrowser

    opened, copied = [], []
    monkeypatch.setattr(webbrowser, "get", lambda *a: object())  # a machine with a browser
    async with app.run_test(size=(140, 40)) as pilot:
        monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await settle(pilot)
        await search(pilot, "survey")
        await pilot.press("O", "y")
        # Its abstract names a GitHub repo: that is not the paper.
        assert opened == [("https://arxiv.org/search/?query=GPT-%5Bn%5D+and+o-%5Bn%5D+Models"
                           "%3A+A+Survey+of+Bracketed+Names&searchtype=title")]
        assert copied[0].startswith("GPT-[n] and o-[n] Models")
        assert copied[0].endswith(opened[0])
        await search(pilot, "plan")
        await pilot.press("O")
        assert opened[-1] == ("https://arxiv.org/search/?query=Language+Agents+That+Plan"
                              "&searchtype=title")


async def test_changes_by_another_process_show_up(app, app_home):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        row = app.reader.paper_list.current
        with UserData(app_home) as ud:
            ud.star([row.id])
        app.poll_changes()
        await settle(pilot)
        assert list_rows(app)[0].startswith("★")


async def test_the_starred_count_is_the_latest_when_counts_answer_out_of_order(app):
    # A cancelled count that had passed its last check still answers; here it is held
    # until the newer count is shown.
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)

        def counting(starred):
            return lambda message: (isinstance(message, CountsReady)
                                    and message.counts.starred == starred)

        first_waiting, second_shown = hold_answer(app.reader, counting(1), counting(2))
        await pilot.press("s")
        await until(pilot, first_waiting.is_set)
        await pilot.press("j", "s")
        await settle(pilot)
        assert second_shown.is_set()
        assert filter_group(app, "Starred").label.plain == "Starred  2"


async def test_a_star_written_late_stars_the_paper_the_key_was_pressed_on(app, app_home):
    # Writes run in a worker: here the star is written only after the cursor moved on.
    import threading

    moved = threading.Event()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        first = app.reader.paper_list.current
        userdata = app.store.userdata
        star = userdata.star

        def late_star(*args, **kwargs):
            moved.wait(10)
            return star(*args, **kwargs)

        userdata.star = late_star
        await pilot.press("s", "j")
        assert app.reader.paper_list.current.id != first.id
        moved.set()
        await settle(pilot)
        with UserData(app_home) as ud:
            assert ud.starred_ids() == {first.id}
        rows = list_rows(app)
        assert rows[0].startswith("★") and not rows[1].startswith("★")
