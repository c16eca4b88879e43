"""A library the reader cannot read opens a screen saying why and what to do, not a
traceback."""

from __future__ import annotations

from _app_library import screen_text, until

from papers.tui.app import PapersApp
from papers.tui.pilot import settle


def flat(text: str) -> str:
    """The text on screen in order, out of its box and its wrapped lines (a long path
    is folded anywhere): without any space."""
    return "".join(text.replace("│", " ").split())


async def shows_the_error_and_quits(app, *says: str) -> None:
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert await until(pilot, lambda: app.screen.__class__.__name__ == "ErrorScreen")
        shown = flat(screen_text(app))
        for words in says:
            assert flat(words) in shown
        assert "Traceback" not in shown
        await pilot.press("q")
        assert await until(pilot, lambda: not app.is_running)


async def test_damaged_user_data_is_shown_with_the_way_out(app_home, tmp_path):
    (app_home / "userdata.sqlite").write_bytes(b"not a database " * 100)
    app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
    await shows_the_error_and_quits(
        app, "cannot open this library", "userdata.sqlite is damaged: file is not a database",
        "papers doctor --repair")


async def test_damaged_index_is_shown_whole_with_the_repair_command(app_home, tmp_path):
    for terms in (app_home / "index").glob("*.trm"):
        terms.write_bytes(terms.read_bytes()[:10])  # cut short, as by a full disk
    app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
    await shows_the_error_and_quits(
        app, "cannot open this library", "is damaged",
        "`papers doctor --repair` rebuilds it from your digests, keeping your stars, tags "
        "and notes")


async def test_the_damage_and_its_remedy_are_whole_at_120_and_80_columns(app_home, tmp_path):
    for postings in (app_home / "index").glob("*.pst"):
        postings.unlink()  # a file lost: the message names it, a long line
    for size in ((120, 35), (80, 24)):
        app = PapersApp(app_home, export_dir=tmp_path, rescan=False)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            assert await until(pilot, lambda app=app: app.screen.__class__.__name__
                               == "ErrorScreen")
            shown = screen_text(app)
            lines = [line.strip(" │") for line in shown.splitlines()]
            # Wrapped at spaces, the command on one line, nothing cut at the box's edge.
            assert any("`papers doctor --repair`" in line for line in lines)
            assert "FileNotFoundError" in flat(shown)
            assert "keeping your stars, tags and notes" in " ".join(lines)
            assert "…" not in shown
