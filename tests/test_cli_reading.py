"""Stars, tags, read marks, notes, saved searches, undo and export from the command line."""

from __future__ import annotations

import json
import shutil

import pytest
from markdown_it import MarkdownIt

from papers.tui.cli import cli


def run(runner, *args, ok=True):
    result = runner.invoke(cli, list(args))
    if ok:
        assert result.exit_code == 0, result.output
    return result


def find(runner, *args):
    result = runner.invoke(cli, ["find", "--json", "--limit", "0", *args])
    return json.loads(result.stdout) if result.exit_code in (0, 1) else result


def pid(runner, query):
    return find(runner, query)[0]["id"]


def test_star_read_tag_note_show_in_find(samples, runner):
    olmo, pix = pid(runner, "olmo"), pid(runner, "pixtral")
    assert "starred 2 papers" in run(runner, "star", olmo[:6], pix).output
    assert "(1 already starred)" in run(runner, "star", olmo).output
    run(runner, "read", olmo)
    run(runner, "tag", olmo, "to-read", "llm")
    run(runner, "note", pix, "--set", "Compare with [dev] *notes*")
    rows = {r["id"]: r for r in find(runner, "--starred")}
    assert set(rows) == {olmo, pix}
    assert (rows[olmo]["read"], rows[olmo]["tags"]) == (True, ["llm", "to-read"])
    assert rows[pix]["note"] == "Compare with [dev] *notes*" and rows[pix]["read"] is False
    assert [r["id"] for r in find(runner, "is:starred", "is:unread")] == [pix]
    assert [r["id"] for r in find(runner, "--tag", "llm")] == [olmo]
    assert [r["id"] for r in find(runner, "tag:to-read model")] == [olmo]
    assert "2  " not in run(runner, "tags").output and "llm" in run(runner, "tags").output


def test_saved_searches(samples, runner):
    run(runner, "save", "sparse", "sparse OR pixtral")
    assert "sparse\tsparse OR pixtral" in run(runner, "saved").output
    assert len(find(runner, "--saved", "sparse")) == 2
    bad = run(runner, "save", "broken", "title:(", ok=False)
    assert bad.exit_code == 2 and "unclosed" in bad.output
    run(runner, "unsave", "sparse")
    gone = run(runner, "find", "--saved", "sparse", ok=False)
    # A saved search that is not there is "not found" (1), like an id that is not there.
    assert gone.exit_code == 1 and "no saved search named 'sparse'" in gone.stderr


@pytest.mark.parametrize(
    ("change", "undo_says"),
    [(("star",), "unstarred"), (("read",), "unread"), (("tag", "x"), "removed"),
     (("note", "--set", "hello"), "note")],
)
def test_undo_restores_the_previous_state(samples, runner, change, undo_says):
    olmo = pid(runner, "olmo")
    before = find(runner, "olmo")[0]
    verb, *rest = change
    run(runner, verb, olmo, *rest)
    assert find(runner, "olmo")[0] != before
    assert undo_says in run(runner, "undo").output
    assert find(runner, "olmo")[0] == before
    assert "nothing to undo" in run(runner, "undo").output


def test_user_data_survives_rebuild_index_deletion_and_digest_removal(samples, runner, home):
    pix, olmo = pid(runner, "pixtral"), pid(runner, "olmo")
    run(runner, "star", pix, olmo)
    run(runner, "tag", pix, "vision")
    run(runner, "note", pix, "--set", "keep me")
    run(runner, "read", olmo)
    run(runner, "save", "mine", "is:starred")

    def state():
        return {r["id"]: (r["starred"], r["read"], r["tags"], r["note"])
                for r in find(runner, "--starred")}

    expected = {pix: (True, False, ["vision"], "keep me"), olmo: (True, True, [], None)}
    assert state() == expected
    run(runner, "index", "--rebuild")
    assert state() == expected
    shutil.rmtree(home / "index")
    run(runner, "index")
    assert state() == expected
    assert len(find(runner, "--saved", "mine")) == 2
    # Pixtral was only in this digest: it is kept, shown as no longer in any digest.
    (samples / "sample-2025-12-10.txt").unlink()
    run(runner, "index")
    assert state() == expected
    shown = run(runner, "show", pix[:6])
    assert "no longer in any digest" in shown.output and "Pixtral 12B" in shown.output
    assert find(runner, "pixtral") == []  # not in the index any more


def test_export_markdown_reading_list(samples, runner, tmp_path):
    gpt = pid(runner, "survey")
    olmo = pid(runner, "olmo")
    run(runner, "star", gpt, olmo)
    run(runner, "read", olmo)
    out = tmp_path / "list.md"
    run(runner, "export", "-o", str(out))
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(out.read_text("utf-8"))
    items = [t for t in tokens if t.type == "list_item_open"]
    inlines = [t for t in tokens if t.type == "inline"]
    assert len(items) == 2
    text = out.read_text("utf-8")
    assert text.count("- [x] ") == 1 and text.count("- [ ] ") == 1
    titles = set()
    for inline in inlines:
        kids = inline.children or []
        opens = [i for i, k in enumerate(kids) if k.type == "link_open"]
        if opens and kids[0].content.startswith(("[x] ", "[ ] ")):
            close = next(i for i, k in enumerate(kids) if k.type == "link_close")
            titles.add("".join(k.content for k in kids[opens[0] + 1:close]))
    assert titles == {"Olmo 3", "GPT-[n] and o-[n] Models: A Survey of [CLS] Tokens, *Stars* "
                                "and __dunder__ Names"}


def test_export_formats(samples, runner):
    run(runner, "star", pid(runner, "olmo"))
    data = json.loads(run(runner, "export", "--format", "json").stdout)
    assert [d["title"] for d in data] == ["Olmo 3"] and data[0]["starred"] is True
    csv_text = run(runner, "export", "--format", "csv").stdout
    assert csv_text.splitlines()[0].startswith("id,title")
    bib = run(runner, "export", "--format", "bibtex").stdout
    assert bib.startswith("@misc{") and bib.count("{") == bib.count("}")
    everything = json.loads(run(runner, "export", "olmo OR pixtral", "--format", "json").stdout)
    assert len(everything) == 2


def test_note_in_the_editor_keeps_markdown_headings(samples, runner, monkeypatch):
    """`papers note ID` writes the reader's note file: lines the user starts with `# ` are
    the note's headings, kept; only what is below the scissors line is dropped."""
    import click

    pid = json.loads(runner.invoke(cli, ["find", "olmo", "--json"]).stdout)[0]["id"]

    def edit(text, extension):
        assert "Olmo 3" in text and ">8" in text
        return "# Why\n\nOpen weights.\n\n" + text
    monkeypatch.setattr(click, "edit", edit)
    assert runner.invoke(cli, ["note", pid[:6]]).exit_code == 0
    shown = json.loads(runner.invoke(cli, ["show", pid[:6], "--json"]).stdout)
    assert shown["note"] == "# Why\n\nOpen weights."
