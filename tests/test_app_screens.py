"""The reader's screens and safety: help, palette, welcome, demo, literal text."""

from __future__ import annotations

import itertools

from _app_library import (
    detail_text,
    hold_answer,
    list_rows,
    record_notices,
    screen_text,
    searched,
    until,
)
from textual.command import CommandList

from papers.tui.app import PapersApp
from papers.tui.launch import build_demo
from papers.tui.messages import ChangesSeen, DetailReady, SimilarReady
from papers.tui.pilot import settle
from papers.tui.widgets.paper_list import plain_lines


async def test_titles_render_literally_in_list_and_detail(app):
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("o", "o")  # sort by title: the nasty ones are on screen
        await settle(pilot)
        listed = "\n".join(plain_lines(app.reader.paper_list))
        assert "GPT-[n] and o-[n] Models: A Survey of Bracketed Names" in listed
        assert "Closing Tags Like [/x] and [dev] Are Not Markup" in listed
        assert "Red \\x1b[31mAlert\\x1b[0m: Escape Sequences" in listed
        for y in range(app.reader.paper_list.size.height):
            for segment in app.reader.paper_list.render_line(y):
                assert "\x1b" not in segment.text
        for title in ("GPT-[n] and o-[n]", "[/x] and [dev]", "Red \x1b[31mAlert"):
            index = next(i for i in range(len(app.reader.paper_list))
                         if title in app.reader.paper_list.listing.row(i).title)
            app.reader.paper_list.cursor = index
            await pilot.press("enter")
            await settle(pilot)
            shown = screen_text(app)
            body = detail_text(app)
            if "Red" in title:
                assert "Red \\x1b[31mAlert\\x1b[0m: Escape" in body
                assert "\x1b[31m" not in body
            else:
                assert title in body
            # The screen carries the same literal text (the list, and the detail's title).
            assert title.replace("\x1b", "\\x1b") in shown


async def test_highlights_query_terms_in_the_list(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app.reader.search_bar.input.value = "attention"
        await settle(pilot)
        strip = app.reader.paper_list.render_line(0)
        lit = [s.text for s in strip if s.style and s.style.underline]
        assert lit == ["Attention"]


async def test_help_screen_lists_every_key(app):
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        shown = screen_text(app)
        for key in ("ctrl+s", "Export this view", "Star or unstar", "$EDITOR", "PgUp / PgDn",
                    "is:starred"):
            assert key in shown
        await pilot.press("escape")
        assert app.screen.__class__.__name__ != "HelpScreen"


async def palette(pilot, words: str) -> list[str]:
    """Open the palette, type `words`: the commands it offers (all of them for "")."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.press(*words)
    options = app.screen.query_one(CommandList)
    # Its own workers search; the list is whole once the count stops moving.
    seen = -1
    while True:
        await until(pilot, lambda: options.option_count > 0)
        await pilot.pause(0.1)
        if options.option_count == seen:
            break
        seen = options.option_count
    return [str(options.get_option_at_index(i).prompt).split("\n")[0]
            for i in range(options.option_count)]


async def test_palette_runs_an_action(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        offered = await palette(pilot, "unstar")
        assert "unstar" in offered[0]  # the best match first
        await pilot.press("enter")
        await settle(pilot)
        assert list_rows(app)[0].startswith("★")


async def test_palette_offers_each_action_once_and_every_view_by_name(app):
    from papers.tui.screens.main import ACTIONS

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        offered = await palette(pilot, "")
        titles = [what for _, _, what in ACTIONS]
        assert sorted(t for t in offered if not t.startswith("View")) == sorted(titles)
        assert len(set(offered)) == len(offered)  # nothing twice
        assert not any(t in offered for t in ("Theme", "Screenshot", "Maximize", "Keys"))
        assert {"View All", "View Unread", "View Starred", "View digest 2025-12-10",
                "View digest 2025-12-09", "View month 2025-12"} <= set(offered)
        await pilot.press("escape")
        # "starred" finds the view, and taking it shows the view.
        offered = await palette(pilot, "starred")
        assert offered[0] == "View Starred"
        await pilot.press("enter")
        await settle(pilot)
        assert app.reader.view.kind == "starred"
        assert app.query_one("#filters").selected.kind == "starred"


async def test_empty_library_opens_the_welcome_screen(tmp_path):
    app = PapersApp(tmp_path / "empty", rescan=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.screen.__class__.__name__ == "WelcomeScreen"
        shown = screen_text(app)
        assert "papers add" in shown and "demo" in shown
        await pilot.press("d")
        await pilot.pause()
    assert app.return_value == "demo"


async def test_the_welcome_screen_reads_whole_and_only_its_keys_work(tmp_path):
    for size in ((80, 24), (120, 35)):
        app = PapersApp(tmp_path / "empty", rescan=False)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            said = record_notices(app)
            await pilot.press("e", "s", "o", "r", "slash")
            await pilot.pause()
            assert said == [] and app.screen.__class__.__name__ == "WelcomeScreen"
            lines = screen_text(app).splitlines()
            footer = lines[-1]
            assert "Open the demo" in footer and "Quit" in footer
            assert not any(word in footer for word in ("Star", "Sort", "Export", "Search"))
            inside = [line.strip().strip("│").strip() for line in lines if "│" in line]
            assert "Welcome to papers" in inside  # all of it fits: nothing scrolled away
            # No line in the middle of a paragraph is cut short: words are wrapped by the
            # box, not by a hard line break made for another width.
            width = max(len(line) for line in inside)
            text = inside[:next(i for i, line in enumerate(inside) if "▔" in line)]
            for line, after in itertools.pairwise(text):
                if line and after and not after.startswith("papers add"):
                    assert len(line) + 1 + len(after.split()[0]) > width, (line, after)


async def test_demo_library_has_every_metadata_variant(tmp_path):
    home = build_demo(tmp_path)
    app = PapersApp(home, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert len(app.reader.paper_list) == 12
        papers = [app.reader.paper_list.listing.paper(i) for i in range(12)]
        assert any(p.authors == 1 for p in papers)
        assert any(p.organization for p in papers)
        assert any(p.upvotes is None and p.published for p in papers)
        assert any(p.published is None for p in papers)
        titles = {p.title for p in papers}
        assert {"<think> Before You Speak: Deliberate Decoding for Dialogue Agents",
                "[CLS] Tokens Are All You Need for Sentence Retrieval"} <= titles
        assert any(t.startswith("$λ$-ECLIPSE") for t in titles)
        assert any(t.startswith("GPT-[n] and o-[n] Models") for t in titles)


async def test_narrow_terminal_puts_the_detail_below(app):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        reading = app.query_one("#reading")
        assert reading.has_class("-narrow")
        detail, plist = app.query_one("#detail"), app.reader.paper_list
        assert detail.region.y > plist.region.y


async def test_similar_papers_follow_a_pause_and_open_on_enter(app):
    from textual.widgets import OptionList

    async with app.run_test(size=(160, 48)) as pilot:
        await searched(pilot, "diffusion")
        shown = app.reader.detail.paper.title
        assert "Diffusion" in shown
        similar = app.query_one("#similar", OptionList)
        assert similar.display
        titles = [str(similar.get_option_at_index(i).prompt)
                  for i in range(similar.option_count)]
        assert shown not in titles
        [other] = [t for t in titles if "Diffusion" in t]  # the other diffusion paper
        similar.focus()
        similar.highlighted = titles.index(other)
        await pilot.press("enter")
        await settle(pilot)
        assert app.reader.detail.paper.title == other
        assert other in detail_text(app)


async def test_an_opened_similar_paper_stays_when_another_process_changes_data(app, app_home):
    from textual.widgets import OptionList

    from papers.index.userdata import UserData

    async with app.run_test(size=(160, 48)) as pilot:
        await searched(pilot, "diffusion")
        under_cursor = app.reader.paper_list.current
        similar = app.query_one("#similar", OptionList)
        similar.focus()
        similar.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        opened = app.reader.detail.paper
        assert opened.id != under_cursor.id
        # A cron job or a second reader stars the paper under the list's cursor: the list
        # is redrawn around the same paper, and the paper being read stays put.
        with UserData(app_home) as ud:
            ud.star([under_cursor.id])
        app.poll_changes()
        await settle(pilot)
        assert list_rows(app)[0].startswith("★")
        assert app.reader.paper_list.current.id == under_cursor.id
        assert app.reader.detail.paper.id == opened.id
        assert opened.title in detail_text(app)
        # The user's own cursor keys bring the detail pane back to the list, even `g` on
        # the paper the cursor is already on.
        app.reader.paper_list.focus()
        await pilot.press("g")
        await settle(pilot)
        assert app.reader.paper_list.current.id == under_cursor.id
        assert app.reader.detail.paper.id == under_cursor.id


async def test_opening_a_similar_paper_while_a_poll_answers_late_keeps_it(app, app_home):
    # The poll for other processes' changes reads the store, then answers. Here its answer
    # arrives after the reader opened a similar paper (a change of its own: read), and
    # before that paper was shown.
    import threading

    from textual.widgets import OptionList

    from papers.index.userdata import UserData

    poll_waiting, opened, poll_done = threading.Event(), threading.Event(), threading.Event()
    async with app.run_test(size=(160, 48)) as pilot:
        await searched(pilot, "diffusion")
        under_cursor = app.reader.paper_list.current
        similar = app.query_one("#similar", OptionList)
        other = similar.get_option_at_index(0).id
        post_to_app, post_to_reader = app.post_message, app.reader.post_message

        def poll_answers(message):
            if isinstance(message, ChangesSeen):  # the poll's worker thread
                poll_waiting.set()
                opened.wait(10)
                posted = post_to_app(message)
                poll_done.set()
                return posted
            return post_to_app(message)

        def detail_answers(message):
            if isinstance(message, DetailReady) and message.paper_id == other:
                opened.set()
                poll_done.wait(10)
            return post_to_reader(message)

        app.post_message = poll_answers
        app.reader.post_message = detail_answers
        with UserData(app_home) as ud:
            ud.star([under_cursor.id])
        app.poll_changes()
        await until(pilot, poll_waiting.is_set)
        similar.focus()
        similar.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert poll_done.is_set()
        assert app.reader.detail.paper.id == other
        assert list_rows(app)[0].startswith("★")


async def test_similar_papers_arriving_leave_the_detail_where_it_was_scrolled(app):
    import threading

    scrolled_down = threading.Event()
    async with app.run_test(size=(100, 16)) as pilot:  # short: the detail pane scrolls
        await settle(pilot)
        similar = app.store.similar

        def held(*args, **kwargs):  # similar papers are found only once the user scrolled
            scrolled_down.wait(10)
            return similar(*args, **kwargs)

        app.store.similar = held
        await pilot.press("slash", *"diffusion", "escape")
        # The paper is shown; its similar papers are still to come.
        await until(pilot, lambda: app.reader.detail is not None
                    and "Diffusion" in app.reader.detail.paper.title)
        assert not app.query_one("#similar").display
        detail = app.query_one("#detail")
        detail.scroll_end(animate=False)
        await pilot.pause(0.05)
        scrolled = detail.scroll_offset.y
        assert scrolled > 0
        scrolled_down.set()
        await settle(pilot)
        assert app.query_one("#similar").display
        assert detail.scroll_offset.y >= scrolled


async def test_the_detail_follows_the_cursor_when_loads_answer_out_of_order(app):
    # A cancelled detail load that had passed its last check still answers; here it is
    # held until the next paper is shown.
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        first, second = (app.reader.paper_list.listing.row(i) for i in (0, 1))
        # With no similar papers nothing arrives later to put the right paper back.
        app.store.similar = lambda *args, **kwargs: []

        def showing(paper):
            return lambda message: (isinstance(message, DetailReady)
                                    and message.paper_id == paper.id)

        first_waiting, second_shown = hold_answer(app.reader, showing(first), showing(second))
        await pilot.press("enter")
        await until(pilot, first_waiting.is_set)
        await pilot.press("j")
        await settle(pilot)
        assert second_shown.is_set()
        assert app.reader.detail.paper.id == second.id
        assert second.title in detail_text(app)


async def test_starring_the_paper_being_read_keeps_its_place_and_similar_papers(app):
    async with app.run_test(size=(100, 16)) as pilot:  # short: the detail pane scrolls
        await searched(pilot, "diffusion")
        similar = app.query_one("#similar")
        titles = [str(o.prompt) for o in similar.options]
        assert similar.display and titles
        detail = app.query_one("#detail")
        detail.focus()
        detail.scroll_end(animate=False)
        await pilot.pause(0.05)
        scrolled = detail.scroll_offset.y
        assert scrolled > 0
        await pilot.press("s")
        # The star shows at once, and the similar papers stay while it does.
        await until(pilot, lambda: app.reader.detail.state.starred)
        assert "★ starred" in detail_text(app)
        assert similar.display
        assert [str(o.prompt) for o in similar.options] == titles
        await settle(pilot)
        assert detail.scroll_offset.y == scrolled
        assert [str(o.prompt) for o in similar.options] == titles


async def test_closing_while_similar_papers_are_found_is_clean(app):
    # A worker that answers while the app closes must not touch widgets that are gone, or
    # the user sees a traceback after quitting. Here the similar-papers lookup is held until
    # the app is closing and the detail pane has been taken down, then answers.
    import threading
    import time

    from papers.tui.widgets.detail import DetailPane

    looking, closing = threading.Event(), threading.Event()
    late: list[BaseException | bool] = []

    def hook(message) -> None:
        if not closing.is_set() and not app.is_running and not app.reader.query(DetailPane):
            closing.set()
            time.sleep(0.2)  # the worker answers now

    async with app.run_test(size=(160, 48), message_hook=hook) as pilot:
        await settle(pilot)
        similar = app.store.similar

        def held(*args, **kwargs):
            looking.set()
            closing.wait(10)
            return similar(*args, **kwargs)

        app.store.similar = held
        post = app.reader.post_message

        def answering(message):
            answered_late = closing.is_set() and isinstance(message, SimilarReady)
            try:
                posted = post(message)
            except BaseException as exc:
                late.append(exc)
                raise
            if answered_late:
                late.append(posted)
            return posted

        app.reader.post_message = answering
        await pilot.press("slash", *"diffusion", "escape")
        await until(pilot, lambda: app.reader.detail is not None
                    and "Diffusion" in app.reader.detail.paper.title)
        await until(pilot, looking.is_set)  # the lookup begins after the typing pause
        assert looking.is_set()
    assert late == [False]  # the late answer came, and was refused without an error


async def test_a_tag_that_looks_like_markup_is_named_as_written_in_the_status_line(app,
                                                                                 app_home):
    from papers.index.userdata import UserData

    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        with UserData(app_home) as ud:
            ud.add_tags(app.reader.paper_list.current.id, ["GPT-[n]", "[bold]x"])
        app.poll_changes()
        await settle(pilot)
        for name in ("GPT-[n]", "[bold]x"):
            view = next(v for v, _ in app.reader.views() if v.label == f"#{name}")
            app.reader.pick_view(view)
            await settle(pilot)
            said = str(app.reader.query_one("#status-text").render())
            assert said.startswith(f"#{name} · 1 paper · sort:"), said
