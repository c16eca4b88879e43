"""The reader and the command line ask for a view's papers the same way (one query path)."""

from __future__ import annotations

import json

from _app_library import DAY_ONE, DAY_TWO, filter_group, list_rows
from click.testing import CliRunner

from papers.index.userdata import UserData
from papers.tui.cli import cli
from papers.tui.pilot import settle


def papers(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home), *args])


async def open_digest(app, pilot, day: str) -> None:
    """Pick the digest of `day` in the filter pane, as a user would."""
    await settle(pilot)
    digests = filter_group(app, "Digests")
    node = next(n for n in digests.children if n.label.plain.startswith(day))
    app.query_one("#filters").select_node(node)
    await settle(pilot)
    assert app.reader.view.kind == "digest"


async def test_export_of_a_digest_view_is_what_papers_export_writes(app, app_home, tmp_path):
    async with app.run_test(size=(140, 40)) as pilot:
        await open_digest(app, pilot, "2025-12-09")
        assert len(list_rows(app)) == len(DAY_ONE)
        await pilot.press("e", "enter")  # the name offered
        await settle(pilot)
    [written] = tmp_path.glob("papers-*.md")
    assert written.name.startswith("papers-digest-2025-12-09-")
    exported = written.read_text("utf-8")
    cli_export = papers(app_home, "export", "digest:2025-12-09")
    assert cli_export.exit_code == 0, cli_export.output
    assert exported == cli_export.output
    # Exactly that digest's papers, with their abstracts.
    assert exported.count("- [ ] ") == len(DAY_ONE)
    for _, abstract, _ in DAY_ONE:
        assert abstract.split(".")[0] in exported
    for title, _, _ in DAY_TWO:
        assert title not in exported


async def test_a_search_saved_on_a_digest_view_keeps_the_digest(app, app_home):
    async with app.run_test(size=(140, 40)) as pilot:
        await open_digest(app, pilot, "2025-12-09")
        await pilot.press("slash", *"diffusion", "escape")
        await settle(pilot)
        assert len(list_rows(app)) == 1  # the other day's diffusion paper is not here
        await pilot.press("ctrl+s")
        await pilot.press(*"video", "enter")
        await settle(pilot)
    with UserData(app_home) as ud:
        [saved] = ud.saved_searches()
    assert saved.name == "video" and "digest:2025-12-09" in saved.query
    found = papers(app_home, "find", "--saved", "video", "--json")
    assert found.exit_code == 0, found.output
    titles = [row["title"] for row in json.loads(found.output)]
    assert titles == ["Diffusion Models for Video Generation"]
