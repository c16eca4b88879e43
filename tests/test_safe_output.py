"""Nothing unsafe leaves the program: one rule (index.controls) for the terminal, every
export and every CLI line; no formula for a spreadsheet; no @mention for GitHub."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import digest, entry, write
from markdown_it import MarkdownIt

from papers.index.controls import UNSAFE
from papers.index.export import ExportItem, render
from papers.index.models import Paper
from papers.tui.cli import cli

ESC_TITLE = "Red \x1b[31mAlert\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 \x9b2J"
BIDI_TITLE = "Harmless \u202etxt.exe\u202c and \u2066isolate\u2069 and\u2028separated"


def paper(title: str, **kw) -> Paper:
    return Paper(id="0123456789ab", title=title, abstract=f"About {title}", **kw)


@pytest.mark.parametrize("fmt", ["markdown", "csv", "bibtex"])
@pytest.mark.parametrize("title", [ESC_TITLE, BIDI_TITLE])
def test_exports_for_people_show_controls_as_visible_escapes(fmt, title):
    text = render([ExportItem(paper(title))], fmt, abstracts=True)
    assert not UNSAFE.search(text.replace("\r\n", "\n")), repr(text)
    assert "\\x1b" in text or "\\u202e" in text


@pytest.mark.parametrize("fmt", ["json", "csl"])
def test_json_exports_escape_them_and_parse_back_to_the_same_text(fmt):
    text = render([ExportItem(paper(ESC_TITLE)), ExportItem(paper(BIDI_TITLE))], fmt)
    assert not UNSAFE.search(text)
    assert [d["title"] for d in json.loads(text)] == [ESC_TITLE, " ".join(BIDI_TITLE.split())
                                                      if fmt == "csl" else BIDI_TITLE]


@pytest.mark.parametrize(("title", "cell"), [
    ("=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"),
    ("+1 Trick", "'+1 Trick"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTabbed", "'\tTabbed"), ("Plain = fine", "Plain = fine"),
])
def test_csv_cells_are_never_formulas(title, cell):
    [row] = list(csv.DictReader(io.StringIO(render([ExportItem(paper(title))], "csv"))))
    assert row["title"] == cell


def test_markdown_mentions_ping_nobody_and_still_read_as_written():
    text = render([ExportItem(paper("Thanks @octocat and @github/team, mail a@b.c"))],
                  "markdown")
    assert "@octocat" not in text and "@github" not in text
    html = MarkdownIt("gfm-like").render(text)
    shown = html.replace("<!-- -->", "")
    assert "Thanks @octocat and @github/team, mail a@b.c" in shown


@pytest.fixture
def marked(home, tmp_path, runner):
    """A library whose tag, saved search name and paper title carry escapes."""
    write(tmp_path / "d" / "2025-12-09.txt",
          digest("Dec 9, 2025", entry(ESC_TITLE, "Abstract."), entry(BIDI_TITLE, "Other.")))
    assert runner.invoke(cli, ["add", str(tmp_path / "d")]).exit_code == 0
    ids = [p["id"] for p in json.loads(runner.invoke(cli, ["find", "--json"]).stdout)]
    return ids


@pytest.mark.parametrize("args", [
    ["tag", "{id}", "evil\x1b[2Jtag"], ["tags"], ["save", "name\x1b]0;title\x07", "alert"],
    ["saved"], ["undo"], ["find", "alert"], ["find"], ["show", "{id}"], ["export"],
    ["export", "--format", "csv"], ["export", "--format", "bibtex"], ["sources"],
])
def test_no_cli_line_carries_a_control_character(marked, runner, args):
    runner.invoke(cli, ["star", *marked])
    runner.invoke(cli, ["tag", marked[0], "evil\x1b[2Jtag"])
    runner.invoke(cli, ["save", "name\x1b]0;title\x07", "alert"])
    result = runner.invoke(cli, [a.format(id=marked[0]) for a in args])
    assert result.exit_code in (0, 1), result.output
    out = (result.stdout + result.stderr).replace("\r\n", "\n")
    assert not UNSAFE.search(out), repr(out)


# -- where exports go -------------------------------------------------------------------------


def test_export_through_a_symlink_writes_its_target(tmp_path):
    from papers.index.export import write_atomic

    target = tmp_path / "notes" / "list.md"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "list.md"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_export_to_a_fifo_or_a_device_writes_in_place(tmp_path):
    import os
    import stat
    import threading

    from papers.index.export import write_atomic

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    write_atomic(fifo, "through the pipe\n")
    reader.join(10)
    assert got == ["through the pipe\n"] and stat.S_ISFIFO(os.stat(fifo).st_mode)
    if os.geteuid() == 0:  # a /dev/null of the test's own: never risk the machine's
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        write_atomic(null, "gone\n")
        assert stat.S_ISCHR(os.stat(null).st_mode)  # still the device, not a file
