"""The rest of issue 11: a suggestion in one key, j/k in the filter pane, the note editor's
file, the one-line view picker on a narrow screen."""

from __future__ import annotations

import contextlib
import os
import stat

from _app_library import list_rows, record_notices, screen_text, searched

from papers.index.userdata import UserData
from papers.tui.app import PapersApp
from papers.tui.notefile import SCISSORS
from papers.tui.pilot import settle


def status(app) -> str:
    return str(app.reader.search_bar.query_one("#search-status").render())


async def test_tab_takes_the_did_you_mean_from_the_search_bar_and_from_the_list(app):
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"difusion")
        await settle(pilot)
        suggestion = app.reader.listing.suggestion
        assert suggestion and suggestion.startswith("diffus")
        assert f"did you mean {suggestion}? tab takes it" in status(app)
        await pilot.press("tab")
        await settle(pilot)
        assert app.reader.search_bar.value == suggestion
        assert len(list_rows(app)) == 2
        assert app.focused is app.reader.search_bar.input  # still typing
        # From the list: the empty list says which key, and the key takes it.
        await pilot.press("ctrl+u", *"atention", "escape")
        await settle(pilot)
        assert "tab takes it" in screen_text(app)
        suggestion = app.reader.listing.suggestion
        await pilot.press("tab")
        await settle(pilot)
        assert app.reader.search_bar.value == suggestion
        assert [r for r in list_rows(app) if "Sparse Attention" in r]
        # With papers listed, tab moves to the next pane as before.
        await pilot.press("tab")
        assert app.focused is not app.reader.paper_list
        assert app.reader.search_bar.value == suggestion


async def test_j_and_k_move_in_the_filter_pane(app):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#filters")
        pane.focus()
        await pilot.pause()
        start = pane.cursor_line
        await pilot.press("j", "j")
        assert pane.cursor_line == start + 2
        await pilot.press("k")
        assert pane.cursor_line == start + 1
        await pilot.press("enter")
        await settle(pilot)
        assert app.reader.view.kind == "unread"


async def test_at_80_columns_the_filters_fold_into_a_one_line_view_picker(app, app_home,
                                                                          tmp_path):
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.query_one("#filters").display
        picker = app.query_one("#view-picker")
        assert picker.display and picker.region.height == 1
        assert "View: All" in screen_text(app).splitlines()[1]
        await pilot.press("v")  # one key opens it
        await settle(pilot)
        await pilot.press("down", "down", "enter")
        await settle(pilot)
        assert app.reader.view.kind == "starred"
        assert "View: Starred" in screen_text(app).splitlines()[1]
        assert app.focused is app.reader.paper_list
        # `\` brings the whole pane back instead, and the picker goes.
        await pilot.press("backslash")
        await pilot.pause()
        assert app.query_one("#filters").display and not picker.display
    app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert app.query_one("#filters").display
        assert not app.query_one("#view-picker").display


@contextlib.contextmanager
def editor(tmp_path, script: str):
    """A real editor: a shell script that edits the file it is given, and keeps a copy of
    what it was given (and its name) for the test to read."""
    path = tmp_path / "editor.sh"
    path.write_text("#!/bin/sh\n" f'echo "$1" > "{tmp_path}/name"\ncp "$1" "{tmp_path}/given"\n'
                    + script, "utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    old = {k: os.environ.pop(k, None) for k in ("VISUAL", "EDITOR")}
    os.environ["EDITOR"] = str(path)
    try:
        yield
    finally:
        os.environ.pop("EDITOR")
        os.environ.update({k: v for k, v in old.items() if v is not None})


async def test_the_note_keeps_markdown_headings_and_its_file_names_the_paper(
        app, app_home, tmp_path):
    # Write a heading and a line above the scissors, leave the instructions below.
    script = ('{ printf "# Why it matters\\n\\nRead section 3.\\n\\n"; cat "$1"; } > "$1.new" '
              '&& mv "$1.new" "$1"\n')
    app.suspend = contextlib.nullcontext  # the Pilot has no terminal to hand over
    with editor(tmp_path, script):
        async with app.run_test(size=(120, 35)) as pilot:
            await settle(pilot)
            await searched(pilot, "transformers")
            pid = app.reader.current_paper_id()
            said = record_notices(app)
            await pilot.press("n")
            await settle(pilot)
            assert said == ["Note saved."]
    name = os.path.basename((tmp_path / "name").read_text().strip())
    assert name.startswith("papers-note-diffusion-transformers-at-scale")
    given = (tmp_path / "given").read_text("utf-8")
    assert SCISSORS in given and "Diffusion Transformers at Scale" in given.split(SCISSORS)[1]
    ud = UserData(app_home)
    try:
        assert ud.state(pid).note == "# Why it matters\n\nRead section 3."
    finally:
        ud.close()


async def test_a_50_paper_day_is_triaged_in_62_keys(tmp_path):
    """Open what is new (the day), star 5, mark 45 read: the keys counted by a Pilot script
    (bench/bench_reader.py --triage); 109 before space, N, A and j/k in the filter pane, 65
    before the New view."""
    from _app_library import build_day_library

    from bench.bench_reader import TRIAGE_BEFORE, triage

    result = await triage(build_day_library(tmp_path))
    assert result == {"papers": 50, "starred": 5, "read": 45, "keys": 62,
                      "keys_before": TRIAGE_BEFORE}
    assert TRIAGE_BEFORE == 109
