"""The reader with real metadata (issue 13): authors, links, and opening the paper, its PDF
and its code, or copying the link when no browser can be started."""

from __future__ import annotations

import webbrowser

import pytest
from _app_library import (
    AUTHORS,
    BARE_PAPER,
    CODE_PAPER,
    build_json_library,
    detail_text,
    record_notices,
    screen_text,
    searched,
    until,
)

from papers.tui.app import PapersApp
from papers.tui.pilot import settle


@pytest.fixture(scope="module")
def json_library(tmp_path_factory):
    return build_json_library(tmp_path_factory.mktemp("jsonlib"))


@pytest.fixture
def app(json_library, tmp_path):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(json_library, home)
    return PapersApp(home, export_dir=tmp_path, rescan=False)


@pytest.fixture
def browser(monkeypatch):
    """A machine with a browser: what the reader asks it to open."""
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "get", lambda *a: object())
    monkeypatch.setattr(PapersApp, "open_url", lambda self, url, **kw: opened.append(url))
    return opened


@pytest.fixture
def no_browser(monkeypatch):
    def none(*args):
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "get", none)


async def test_detail_shows_the_first_authors_and_all_on_demand(app):
    async with app.run_test(size=(160, 45)) as pilot:
        await searched(pilot, "experts")
        shown = detail_text(app)
        assert "Ada Lovelace, Émile Borel, Grace Hopper  +4 more" in shown
        assert "Emmy Noether" not in shown
        await pilot.press("a")
        assert ", ".join(AUTHORS) in detail_text(app)
        assert "+4 more" not in screen_text(app)
        # A click on the authors gives the first few back.
        await pilot.click("#detail-authors")
        assert "+4 more" in detail_text(app)
        assert "+4 more" in screen_text(app)


async def test_detail_lists_the_papers_links_and_what_the_json_knows(app):
    async with app.run_test(size=(160, 45)) as pilot:
        await searched(pilot, "experts")
        shown = detail_text(app)
        for line in ("arXiv         https://arxiv.org/abs/2512.01234",
                     "PDF           https://arxiv.org/pdf/2512.01234",
                     "Hugging Face  https://huggingface.co/papers/2512.01234",
                     "Code          https://github.com/example/moe-meaning  ★ 1,234",
                     "Project       https://example.org/moe",
                     "In abstract   https://example.org/demo",
                     "Routing by meaning helps.",
                     "Keywords  mixture of experts, routing"):
            assert line in shown
        # A paper from a saved page: its link is arXiv's title search, and the URL its
        # abstract mentions is listed as such.
        await searched(pilot, "survey")
        shown = detail_text(app)
        assert "arXiv search  https://arxiv.org/search/?query=GPT" in shown
        assert "In abstract   https://github.com/example/gpt-n" in shown
        assert "\nCode " not in shown


async def test_O_opens_the_paper_p_its_pdf_and_c_its_code(app, browser):
    async with app.run_test(size=(160, 45)) as pilot:
        await searched(pilot, "experts")
        footer = screen_text(app).splitlines()[-1]
        assert "PDF" in footer and "Code" in footer
        await pilot.press("O", "p", "c")
        assert browser == ["https://arxiv.org/abs/2512.01234",
                           "https://arxiv.org/pdf/2512.01234",
                           "https://github.com/example/moe-meaning"]
        # The paper's link is its page, never a URL its abstract mentions.
        await searched(pilot, "survey")
        said = record_notices(app)
        await pilot.press("O", "p", "c")
        assert browser[-1].startswith("https://arxiv.org/search/?query=GPT-%5Bn%5D")
        assert len(browser) == 4
        assert "No PDF known" in said[-2] and "No code known" in said[-1]


async def test_the_palette_opens_the_pdf_and_the_code(app, browser):
    from textual.command import CommandList

    async with app.run_test(size=(160, 45)) as pilot:
        await searched(pilot, "experts")
        for words in ("pdf", "code on github"):
            await pilot.press("ctrl+p")
            await pilot.press(*words)
            options = app.screen.query_one(CommandList)
            await until(pilot, lambda options=options: options.option_count == 1)
            await pilot.press("enter")
            await settle(pilot)
        assert browser == ["https://arxiv.org/pdf/2512.01234",
                           "https://github.com/example/moe-meaning"]


async def test_without_a_browser_the_link_is_copied_and_said_once(app, no_browser):
    async with app.run_test(size=(160, 45)) as pilot:
        await searched(pilot, BARE_PAPER.split()[-1])  # "Id"
        assert app.reader.detail.paper.title == BARE_PAPER
        said = record_notices(app)
        await pilot.press("O")
        assert app.clipboard == "https://arxiv.org/abs/2512.05678"
        assert len(said) == 1
        assert "No browser" in said[0] and "https://arxiv.org/abs/2512.05678" in said[0]
        await pilot.press("p")
        assert app.clipboard == "https://arxiv.org/pdf/2512.05678"
        assert len(said) == 2


async def test_a_code_paper_is_one_paper_with_its_text_and_json_fields(app):
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        titles = [app.reader.paper_list.listing.row(i).title
                  for i in range(len(app.reader.paper_list))]
        assert titles.count(CODE_PAPER) == 1 and BARE_PAPER in titles
