from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from papers.index import export
from papers.index.export import CSV_FIELDS, ExportItem, bibtex_key, render, write_atomic
from papers.index.models import Paper, Sighting
from papers.index.userdata import PaperState

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TODAY = date(2026, 11, 22)

# GFM as markdown-it-py knows it (tables, strikethrough, linkify, raw HTML) plus task lists
# and `$` math, which GitHub and many note apps render.
MD = MarkdownIt("gfm-like").use(tasklists_plugin).use(dollarmath_plugin)

NASTY_TITLES = [
    "[CLS] Token Is All You Need",
    "Closing tags [/x] in prompts",
    "The Jumping Reasoning Curve? Tracking GPT-[n] and o-[n] Models",
    "*bold* claims about _emphasis_ and **strong**",
    "__init__ and __call__ Considered Harmful",
    "a|b testing | with pipes",
    "Do I look like a `cat.n.01` to you? ``double`` and ` lone",
    "DeepSeek-R1 Thoughtology: Let's <think> about LLM Reasoning",
    "Trailing backslash \\",
    "$λ$-ECLIPSE: Multi-Concept Personalized Text-to-Image",
    "Only 10\\% of Parameters",
    "Q&amp;A and R&D & &#35; &copy; &#x26;",
    "# Not a heading",
    "~~not struck~~ and ~single~",
    "Links [like](https://x.y) and ![images](x.png) and <https://auto.link>",
    "Bare https://bare.url/path and www.example.com",
    "Footnote[^1] style",
    "1. Ordered? - dash + plus = equals",
    "Escapes \\* stay \\_ literal \\[ \\]",
    "Ends with closing paren ) and bracket ]",
    "Math $x^2$ and $$y$$ and \\(z\\)",
    "HTML <b>bold</b> & <!-- comment -->",
    "Wiki [[Link|alias]] and {braces} and ^caret",
    "Non-ASCII: Ünïcödé — “quotes” and λ",
]


def paper(i: int = 0, **kw) -> Paper:
    fields = {
        "id": f"{i:012x}",
        "title": f"Paper {i}",
        "abstract": f"Abstract of paper {i}.",
        "published": date(2025, 1 + i % 12, 1),
        "upvotes": i,
        "arxiv_id": f"2501.{i:05d}",
    }
    return Paper(**(fields | kw))


def item(i: int = 0, state: PaperState | None = None, **kw) -> ExportItem:
    return ExportItem(paper(i, **kw), state or PaperState())


def folded(text: str) -> str:
    return " ".join(text.split())


# -- reading the Markdown back ----------------------------------------------------------------


def tasks(text: str) -> list[tuple[bool, Token]]:
    """(checked, inline token) of every task-list item, in order."""
    tokens = MD.parse(text)
    found = []
    for i, tok in enumerate(tokens):
        if tok.type == "list_item_open":
            assert tok.attrs.get("class") == "task-list-item", "every item is a task"
            inline = tokens[i + 2]
            box = inline.children[0]
            assert box.type == "html_inline" and "task-list-item-checkbox" in box.content
            found.append(("checked" in box.content, inline))
    return found


EMPTY_COMMENT = "<!-- -->"  # what keeps `@name` from pinging anyone; it renders as nothing


def link_of(inline: Token) -> tuple[str, str]:
    """(href, rendered text) of the first link of an item; only plain text may be inside
    (and empty comments, which render as nothing)."""
    children = inline.children
    start = next(i for i, c in enumerate(children) if c.type == "link_open")
    end = next(i for i, c in enumerate(children) if c.type == "link_close")
    inside = [c for c in children[start + 1 : end]
              if not (c.type == "html_inline" and c.content == EMPTY_COMMENT)]
    assert all(c.type == "text" for c in inside), [c.type for c in inside]
    return children[start].attrs["href"], "".join(c.content for c in inside)


def lines_of(inline: Token) -> list[str]:
    """The rendered text of an item, split at its line breaks."""
    out = []
    for c in inline.children[1:]:  # [0] is the checkbox
        if c.type in ("hardbreak", "softbreak"):
            out.append("\n")
        elif c.type in ("text", "code_inline", "math_inline"):
            out.append(c.content)
    return "".join(out).strip().split("\n")


class HtmlText(HTMLParser):
    """Tags and text runs of an HTML fragment, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.paragraphs: list[str] = []
        self.outside: list[str] = []  # text outside <p> and <summary>

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        self.paragraphs.append("")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append("/" + tag)

    def handle_data(self, data: str) -> None:
        if self.tags and self.tags[-1] in ("p", "summary"):
            self.paragraphs[-1] += data
        elif data.strip():
            self.outside.append(data)


def headings(text: str) -> list[str]:
    tokens = MD.parse(text)
    return [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]


# -- Markdown ---------------------------------------------------------------------------------


def test_every_nasty_title_renders_exactly_as_written() -> None:
    items = [item(i, title=t) for i, t in enumerate(NASTY_TITLES)]
    found = tasks(render(items, "markdown", today=TODAY))
    assert len(found) == len(NASTY_TITLES)
    for (_, inline), title, it in zip(found, NASTY_TITLES, items, strict=True):
        href, text = link_of(inline)
        assert text == title
        assert href == f"https://arxiv.org/abs/{it.paper.arxiv_id}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(
        st.sampled_from(list("\\`*_[]()<>|~$#&!-+=.:;'\"{}^%@ \n\tabcxyz019λé")), min_size=1
    ).filter(str.strip),
    note=st.text(st.sampled_from(list("\\`*_[]<>|~$#&;-+=.1 \nab")), max_size=40),
    org=st.text(st.sampled_from(list("\\`*_[]<>|~$#&;-+=.1 ab")), max_size=12),
)
def test_any_text_renders_as_written(title: str, note: str, org: str) -> None:
    state = PaperState(read=True, note=note.strip() or None)
    it = item(1, state, title=title, organization=org.strip() or None, published=None, upvotes=None)
    [(checked, inline)] = tasks(render([it], "markdown", today=TODAY))
    assert checked
    assert link_of(inline)[1] == folded(title)
    lines = lines_of(inline)
    if it.paper.organization:
        assert lines[1] == folded(org)  # the only detail: no date, upvotes, tags
    if state.note:
        note_lines = [folded(x) for x in state.note.splitlines() if x.strip()]
        assert lines[-len(note_lines) :] == ["Note: " + note_lines[0], *note_lines[1:]]


def test_task_boxes_follow_read_marks_and_details_follow_the_title() -> None:
    items = [
        item(1, PaperState(read=True, starred=True, tags=("LoRA", "peft")), organization="Meta"),
        item(2, PaperState(note="first line\n\n- looks like a list\n1. and an ordered one")),
        item(3, title="Untitled link", arxiv_id=None, published=None,
             first_seen=date(2024, 3, 12)),
    ]
    found = tasks(render(items, "markdown", today=TODAY))
    assert [checked for checked, _ in found] == [True, False, False]
    assert lines_of(found[0][1])[1:] == [
        "2025-02-01 · 1 upvote · Meta · starred · tags: LoRA, peft"
    ]
    assert lines_of(found[1][1])[2:] == [
        "Note: first line",
        "- looks like a list",
        "1. and an ordered one",
    ]
    href, _ = link_of(found[2][1])
    assert href == "https://arxiv.org/search/?query=Untitled+link&searchtype=title"
    assert lines_of(found[2][1])[1] == "first seen 2024-03-12 · 3 upvotes"


def test_header_names_the_date_the_query_and_the_count() -> None:
    for query in ["lora", "tag:`x` AND ``y``", "`starts with a backtick", " a | b *c* "]:
        text = render([item(1), item(2)], "markdown", query=query, today=TODAY)
        tokens = MD.parse(text)
        assert tokens[0].tag == "h1" and tokens[1].content == "Reading list"
        header = tokens[4].children
        assert header[0].content == "Exported 2026-11-22 · query: "
        assert header[1].type == "code_inline" and header[1].content == folded(query)
        assert header[2].content == " · 2 papers"
    assert "query" not in render([], "markdown", today=TODAY)
    assert "0 papers" in render([], "markdown", today=TODAY)


def test_abstracts_fold_into_details_and_render_as_written() -> None:
    abstracts = [
        "We show <think> tags & entities like &amp; and a </details> inside.",
        "First paragraph with *stars* and $x$.\n\nSecond paragraph.\n\n\n  Third, indented.",
        "Line one\nwrapped like the digests do\n  with an indent",
    ]
    items = [item(i, abstract=a) for i, a in enumerate(abstracts)]
    text = render(items, "markdown", abstracts=True, today=TODAY)
    tokens = MD.parse(text)
    assert len(tasks(text)) == 3  # no abstract swallowed the next item
    blocks = [t for t in tokens if t.type == "html_block"]
    assert len(blocks) == 3
    for block, abstract in zip(blocks, abstracts, strict=True):
        # The block sits inside its list item, one level deeper than the list.
        assert block.level == 2
        assert block.content.startswith("<details>") and block.content.endswith("</details>\n")
        # What a browser would see: these tags only, and the abstract as text.
        parser = HtmlText()
        parser.feed(block.content)
        parser.close()
        expected = [folded(p) for p in re.split(r"\n\s*\n", abstract)]
        assert [p for p in parser.paragraphs if p] == ["Abstract", *expected]
        assert parser.outside == []
        paragraph_tags = ["p", "/p"] * len(expected)
        assert parser.tags == ["details", "summary", "/summary", *paragraph_tags, "/details"]
    assert "<details>" not in render(items, "markdown", today=TODAY)


def test_grouping_by_tag_lists_a_paper_under_each_of_its_tags() -> None:
    items = [
        item(1, PaperState(tags=("rlhf",))),
        item(2, PaperState(tags=("LoRA", "rlhf"))),
        item(3),
    ]
    text = render(items, "markdown", group_by="tag", today=TODAY)
    assert headings(text) == ["Reading list", "LoRA", "rlhf", "Untagged"]
    titles = [link_of(inline)[1] for _, inline in tasks(text)]
    assert titles == ["Paper 2", "Paper 1", "Paper 2", "Paper 3"]
    assert "3 papers" in text


def test_grouping_by_digest_and_month_puts_the_newest_first() -> None:
    d = [date(2026, 1, 5), date(2026, 2, 9)]
    items = [
        item(1, digests=(Sighting("/a", d[0]), Sighting("/b", d[1])), published=date(2025, 12, 30)),
        item(2, digests=(Sighting("/a", d[0]),), published=date(2026, 1, 2)),
        item(3, digests=(Sighting("/c", None),), published=None),
        # Gone from every digest, though its remembered snapshot still names one.
        ExportItem(paper(4, digests=(Sighting("/a", d[0]),)), gone=True),  # published May 2025
    ]
    by_digest = render(items, "markdown", group_by="digest", today=TODAY)
    assert headings(by_digest)[1:] == [
        "Digest of 2026-02-09",
        "Digest of 2026-01-05",
        "Undated digests",
        "No longer in any digest",
    ]
    titles = [link_of(inline)[1] for _, inline in tasks(by_digest)]
    assert titles == ["Paper 1", "Paper 1", "Paper 2", "Paper 3", "Paper 4"]

    by_month = render(items, "markdown", group_by="month", today=TODAY)
    assert headings(by_month)[1:] == [
        "January 2026",
        "December 2025",
        "May 2025",
        "Publication date unknown",
    ]


def test_unknown_format_or_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        render([], "docx")
    with pytest.raises(ValueError, match="grouping"):
        render([], "markdown", group_by="author")


@pytest.mark.skipif(not (SHARED / "corpus").exists(), reason="needs ../shared/corpus")
def test_real_titles_of_the_corpus_render_as_written() -> None:
    lines = (SHARED / "corpus" / "hf-daily-papers.jsonl").read_text(encoding="utf-8").splitlines()
    titles = [json.loads(line)["title"] for line in lines]
    # Every title with a character beyond words and plain punctuation, plus every 20th one;
    # a few hundred per document, because the task-list plugin slows down on long lists.
    picked = [t for i, t in enumerate(titles) if i % 20 == 0 or re.search(r"[^\w\s\-:,.?']", t)]
    assert len(picked) > 500
    for start in range(0, len(picked), 300):
        chunk = picked[start : start + 300]
        items = [item(i, title=t) for i, t in enumerate(chunk)]
        found = tasks(render(items, "markdown", today=TODAY))
        assert [link_of(inline)[1] for _, inline in found] == [folded(t) for t in chunk]


# -- JSON and CSV -----------------------------------------------------------------------------


def rich_items() -> list[ExportItem]:
    return [
        ExportItem(
            paper(
                7,
                title='Quotes "inside", commas, and\nnewlines',
                organization="Org; Inc.",
                authors=3,
                digests=(Sighting("/d/2026-01-05.md", date(2026, 1, 5)), Sighting("/d/x.md", None)),
                first_seen=date(2026, 1, 5),
                last_seen=date(2026, 1, 5),
                links=("https://arxiv.org/abs/2601.00001", "https://github.com/a/b"),
            ),
            PaperState(starred=True, read=False, tags=("LoRA", "peft"), note='multi\nline "note"'),
        ),
        item(8, published=None),
    ]


def test_json_round_trips_with_the_user_marks() -> None:
    items = rich_items()
    data = json.loads(render(items, "json"))
    assert data == [it.to_json() for it in items]
    assert [Paper.from_json(d) for d in data] == [it.paper for it in items]
    assert data[0]["starred"] is True and data[0]["tags"] == ["LoRA", "peft"]
    assert set(data[1]) == set(CSV_FIELDS)


def test_csv_parses_back_to_the_same_fields() -> None:
    items = rich_items()
    rows = list(csv.DictReader(io.StringIO(render(items, "csv"), newline="")))
    assert len(rows) == 2 and list(rows[0]) == list(CSV_FIELDS)
    first = rows[0]
    p = items[0].paper
    assert first["title"] == p.title and first["note"] == items[0].state.note
    assert first["organization"] == "Org; Inc."
    assert first["digests"].split(";") == ["2026-01-05", "/d/x.md"]
    assert first["links"].split() == list(p.links)
    assert first["tags"].split(";") == ["LoRA", "peft"]
    assert (first["starred"], first["read"], first["authors"]) == ("true", "false", "3")
    assert rows[1]["published"] == "" and rows[1]["tags"] == "" and rows[1]["note"] == ""


# -- BibTeX -----------------------------------------------------------------------------------

_UNTEX = {
    r"\textbackslash{}": "\\",
    r"\textbraceleft{}": "{",
    r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~",
    r"\textasciicircum{}": "^",
    r"\textless{}": "<",
    r"\textgreater{}": ">",
    r"\textbar{}": "|",
}


def untex(value: str) -> str:
    """What LaTeX prints for our escaped text (enough to check the escaping)."""
    pattern = "|".join(re.escape(k) for k in _UNTEX) + r"|\\([&%$#_])"
    return re.sub(pattern, lambda m: m.group(1) or _UNTEX[m.group()], value)


def entries(text: str) -> list[tuple[str, dict[str, str]]]:
    """Parse our BibTeX the way BibTeX does: by counting braces, escaped or not."""
    out = []
    for m in re.finditer(r"@misc\{([^,]+),\n", text):
        i, depth, fields = m.end(), 1, {}
        while depth:
            line_end = text.index("\n", i)
            line = text[i:line_end]
            i = line_end + 1
            if line == "}":
                depth = 0
                break
            name, value = line.strip().split(" = ", 1)
            assert value.endswith(",")
            value = value[:-1]
            level = 0
            for ch in value:
                level += {"{": 1, "}": -1}.get(ch, 0)
                assert level >= 0, f"unbalanced: {value}"
            assert level == 0, f"unbalanced: {value}"
            fields[name] = value
        out.append((m.group(1), fields))
    return out


def test_bibtex_entries_are_balanced_and_titles_print_as_written() -> None:
    items = [item(i, title=t) for i, t in enumerate(NASTY_TITLES)]
    items.append(item(99, PaperState(tags=("a_b",), note="50% {off"), title="Unbalanced { brace"))
    text = render(items, "bibtex", abstracts=True)
    parsed = entries(text)
    assert len(parsed) == len(items) == text.count("@misc{")
    for (_key, fields), it in zip(parsed, items, strict=True):
        title = fields["title"]
        assert title.startswith("{{") and title.endswith("}}")
        assert untex(title[2:-2]) == folded(it.paper.title)
        assert fields["year"] == "{2025}"
        assert fields["url"] == "{https://arxiv.org/abs/" + it.paper.arxiv_id + "}"
    last = parsed[-1][1]
    assert untex(last["note"][1:-1]) == "50% {off" and untex(last["keywords"][1:-1]) == "a_b"
    assert "abstract" in last and "abstract" not in dict(entries(render(items, "bibtex"))[-1][1])


def test_bibtex_keys_are_stable_readable_and_distinct() -> None:
    items = [item(i, title=t) for i, t in enumerate(NASTY_TITLES)]
    keys = [key for key, _ in entries(render(items, "bibtex"))]
    assert keys == [key for key, _ in entries(render(items, "bibtex"))]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z0-9]+(\d{4})?-[0-9a-f]{6}", k) for k in keys), keys
    lora = paper(0x1F, id="3f2a9c0d1e2b", title="LoRA: Low-Rank Adaptation", published=None)
    assert bibtex_key(lora) == "lora-3f2a9c"
    seen = Paper(id="3f2a9c0d1e2b", title="The $\\textit{Trans-LoRA}$", abstract="",
                 first_seen=date(2024, 5, 1))  # fmt: skip
    assert bibtex_key(seen) == "trans-3f2a9c"  # no year rather than a digest's; TeX skipped


# -- writing files ----------------------------------------------------------------------------


def test_write_atomic_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "list.md"
    write_atomic(target, "first\n")
    assert target.read_text() == "first\n"
    target.chmod(0o640)
    write_atomic(target, "second λ\n")
    assert target.read_text(encoding="utf-8") == "second λ\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.md"]


@pytest.mark.parametrize("failing", ["fsync", "replace"])
def test_an_interrupted_export_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "list.md"
    target.write_text("the previous export\n")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, failing, boom)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, "x" * 100_000)
    monkeypatch.undo()
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["list.md"]


def test_write_atomic_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(tmp_path / "nope" / "list.md", "x")
    assert os.listdir(tmp_path) == []
