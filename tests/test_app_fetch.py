"""The reader's fetch (issue 14): `F` or the palette downloads today's Daily Papers from a
real HTTP server on 127.0.0.1 (the one `papers fetch` is tested against), with progress in
the status line, and the list shows the new papers."""

from __future__ import annotations

from datetime import date, timedelta

from _app_library import record_notices, screen_text, until
from test_fetch import Hub, hub, no_proxies, papers_in  # noqa: F401  (fixtures)

from papers.tui.pilot import settle

DAY = date(2025, 10, 3)  # a day the server has papers for


def serve_today(server: Hub) -> int:
    """The server's papers of DAY served as today's (the reader asks for today and
    yesterday); returns how many."""
    server.files[date.today().isoformat()] = server.files[DAY.isoformat()]
    return len(papers_in(DAY))


async def test_F_fetches_today_and_the_open_list_shows_the_new_papers(
        app, hub, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    new = serve_today(hub)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        before = len(app.reader.listing)
        digests = len(app.reader.counts.digests)
        said = record_notices(app)
        status = app.reader.query_one("#status-text")
        shown: list[str] = []
        update = status.update
        status.update = lambda text="": (shown.append(str(text)), update(text))[1]
        await pilot.press("F")
        assert await until(pilot, lambda: len(app.reader.listing) == before + new, 60)
        await settle(pilot)
        assert said and said[-1].startswith("Fetched: 1 day fetched")
        assert f"papers: {new} added" in said[-1]
        yesterday = (date.today() - timedelta(days=1)).isoformat()
        assert sorted(hub.days_asked()) == [yesterday, date.today().isoformat()]
        assert len(app.reader.counts.digests) == digests + 1  # a view of its own
        # Progress in the status line: the days, then the ingest's stages.
        assert "fetching Daily Papers: day 1 of 2" in shown
        fetching = shown.index("fetching Daily Papers: day 1 of 2")
        assert any(not s.startswith(("fetching", "All")) for s in shown[fetching:]), shown
        assert f"{before + new} papers" in screen_text(app)


async def test_the_palette_fetches_and_a_fault_is_one_line_with_the_library_intact(
        app, hub, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    serve_today(hub)
    hub.faults[:] = [("html",)] * 10
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        before = len(app.reader.listing)
        said = record_notices(app)
        await pilot.press("ctrl+p", *"fetch today")
        await until(pilot, lambda: "Fetch today" in screen_text(app))
        await pilot.press("enter")
        assert await until(pilot, lambda: bool(said), 60)
        await settle(pilot)
        assert len(said) == 1 and "\n" not in said[0] and "nothing changed" in said[0]
        assert len(app.reader.listing) == before
        assert app.is_running
