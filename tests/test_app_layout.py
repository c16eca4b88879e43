"""Titles readable at every size (issue 11): measured on real-length titles."""

from __future__ import annotations

import pytest
from _app_library import LONG_TITLES, build_long_library, screen_text

from papers.tui.app import PapersApp
from papers.tui.pilot import settle
from papers.tui.widgets.paper_list import plain_lines


@pytest.fixture(scope="module")
def long_library(tmp_path_factory):
    return build_long_library(tmp_path_factory.mktemp("long"))


def title_chars(row: str, title: str) -> int:
    start = row.find(title[:12])
    n = 0
    while start >= 0 and n < len(title) and start + n < len(row) and row[start + n] == title[n]:
        n += 1
    return n


@pytest.mark.parametrize(("size", "least"), [((80, 24), 50), ((120, 35), 70)])
async def test_rows_show_enough_of_each_title(long_library, tmp_path, size, least):
    app = PapersApp(long_library, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        plist = app.reader.paper_list
        rows = plain_lines(plist)
        shown = [title_chars(rows[i], plist.listing.row(i).title) for i in range(len(plist))]
        assert min(shown) >= least, shown
        # The selected paper's title is whole on screen, in the detail pane.
        d = app.query_one("#detail").region
        lines = screen_text(app).splitlines()[d.y:d.y + d.height]
        pane = "".join("".join(line[d.x:d.x + d.width - 1] for line in lines).split())
        assert "".join(plist.current.title.split()) in pane


async def test_the_list_header_names_columns_view_sort_and_count(long_library, tmp_path):
    app = PapersApp(long_library, export_dir=tmp_path, rescan=False)
    async with app.run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        header = str(app.query_one("#list-header").render())
        assert "date" in header and "title" in header
        assert "All" in header and "sort: newest" in header
        assert f"{len(LONG_TITLES)} papers" in header
        # No paper has upvotes: no upvotes column, in the header or the rows.
        assert "▲" not in header
        row = plain_lines(app.reader.paper_list)[0]
        assert row.index(app.reader.paper_list.current.title[:10]) == 16
        # The first o changes the order shown, and says so where the list is.
        await pilot.press("o")
        assert "sort: upvotes" in str(app.query_one("#list-header").render())
