"""The digest parser: fields, date rules, layout quirks and bad input."""

from __future__ import annotations

import codecs
from datetime import date

import pytest
from conftest import FIXTURES, digest, entry

from papers.index.digest import parse_digest, read_digest

AUTHORS4 = "  • 4 authors\n·\nNov 30, 2025"


def parse(text: str | bytes, name: str = "digest.txt", mtime: date = date(2025, 12, 10)):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_digest(data, name=name, mtime=mtime)


def by_title(d):
    return {e.title: e for e in d.entries}


def test_fixture_digest_every_metadata_variant():
    d = read_digest(FIXTURES / "sample-2025-12-09.txt")
    assert d.date == date(2025, 12, 9)  # the file name carries the year
    assert d.problems == []
    e = by_title(d)
    assert len(d.entries) == 6
    olmo = e["Olmo 3"]
    assert (olmo.authors, olmo.published, olmo.upvotes) == (15, date(2025, 1, 22), 6)
    assert olmo.links == ("https://github.com/example/olmo3",)
    gpt = next(x for x in d.entries if x.title.startswith("GPT-[n]"))
    assert (gpt.authors, gpt.published, gpt.upvotes) == (1, date(2024, 12, 26), 2)
    lam = next(x for x in d.entries if x.title.startswith("$λ$-ECLIPSE"))
    assert (lam.organization, lam.org_handle, lam.authors) == ("CodeFuse AI", "codefuse-ai", None)
    # `Jun 1` without a year, in a Dec 9 digest: June of the same year, no upvotes shown.
    assert (lam.published, lam.upvotes) == (date(2025, 6, 1), None)
    assert lam.links == ("https://eclipse.example.org/lambda",)
    assert e["aMUSEd: An Open MUSE Reproduction"].published is None
    # A title that looks like a date is a title, found by its position.
    june = e["Jun 1"]
    assert june.abstract.startswith("A paper whose title looks like a date.")
    assert (june.authors, june.published, june.upvotes) == (None, None, None)


def test_hard_wrapped_abstract_is_one_paragraph():
    d = read_digest(FIXTURES / "sample-2025-12-09.txt")
    s2ft = d.entries[-1]
    assert s2ft.abstract == (
        "Sparse fine-tuning, with the title written one way in this digest and hard-wrapped "
        "over two lines here."
    )
    assert (s2ft.authors, s2ft.published, s2ft.upvotes) == (4, date(2025, 11, 30), None)


def test_wrapped_paragraph_with_two_space_indent():
    text = digest("Mar 3", entry("T", "  First line of a wrapped\n  abstract that goes on."))
    assert parse(text).entries[0].abstract == "First line of a wrapped abstract that goes on."


def test_metadata_belongs_to_the_entry_it_follows():
    text = digest(
        "Dec 9",
        entry("No Meta Paper", "Abstract without metadata."),
        entry("Meta Paper", "Abstract with metadata.", "  • 12 authors\n·\nDec 26, 2024 2"),
    )
    e = by_title(parse(text))
    assert e["No Meta Paper"].authors is None and e["No Meta Paper"].upvotes is None
    assert (e["Meta Paper"].authors, e["Meta Paper"].upvotes) == (12, 2)


@pytest.mark.parametrize(
    ("digest_line", "name", "mtime", "expected"),
    [
        ("Dec 9", "digest.txt", date(2025, 12, 10), date(2025, 12, 9)),  # year of the mtime
        ("Dec 9", "digest.txt", date(2026, 1, 5), date(2025, 12, 9)),  # would be future: back
        ("Dec 9, 2023", "digest.txt", date(2026, 1, 5), date(2023, 12, 9)),  # header year
        ("Dec 9", "2024-12-09.txt", date(2026, 1, 5), date(2024, 12, 9)),  # file name year
        ("Dec 9, 2023", "2024-12-09 page.txt", date(2026, 1, 5), date(2024, 12, 9)),
    ],
)
def test_digest_year_rules(digest_line, name, mtime, expected):
    text = digest(digest_line, entry("T", "A."))
    assert parse(text, name=name, mtime=mtime).date == expected


def test_entry_date_after_digest_date_is_last_year():
    text = digest("Mar 11", entry("T", "A.", "  • 2 authors\n·\nDec 30 3"),
                  entry("U", "B.", "  • 2 authors\n·\nMar 10"))
    e = by_title(parse(text, name="2025-03-11.txt"))
    assert e["T"].published == date(2024, 12, 30)
    assert e["U"].published == date(2025, 3, 10)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be"])
def test_encodings(encoding):
    text = digest("Dec 9", entry("Ünïcödé Title λ", "Abstract with é and 中文."))
    raw = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # with a BOM, as editors write them
        bom = codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE
        raw = bom + raw
    d = parse(raw)
    assert [e.title for e in d.entries] == ["Ünïcödé Title λ"]
    assert d.entries[0].abstract == "Abstract with é and 中文."
    assert d.problems == []


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends(newline):
    text = digest("Dec 9", entry("T one", "A one.", AUTHORS4), entry("T two", "A two."))
    d = parse(text.replace("\n", newline))
    assert [(e.title, e.abstract, e.authors) for e in d.entries] == [
        ("T one", "A one.", 4), ("T two", "A two.", None)]


def test_text_that_is_not_utf8_is_read_as_windows_1252_and_reported_once():
    """What a browser on Windows saves: smart quotes and the bullet of the metadata line
    survive, and the metadata is still recognised (not U+FFFD and junk papers)."""
    meta = "  \u2022 5 authors\n\u00b7\nDec 8 40"
    text = digest("Dec 9", entry("Good", "Fine."),
                  entry("\u201cQuoted\u201d \u2013 Title", "X.", meta))
    d = parse(text.encode("cp1252"))
    assert [e.title for e in d.entries] == ["Good", "\u201cQuoted\u201d \u2013 Title"]
    assert d.entries[1].authors == 5 and d.entries[1].upvotes == 40
    assert len(d.problems) == 1
    assert d.problems[0].line == 17 and "Windows-1252" in d.problems[0].message


def test_a_stray_nul_byte_costs_a_character_not_the_file():
    raw = digest("Dec 9", entry("Good", "Fine."), entry("Also\x00 Good", "Yes.")).encode()
    d = parse(raw)
    assert [e.title for e in d.entries] == ["Good", "Also Good"]
    assert [p.message for p in d.problems] == ["NUL bytes removed"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
        (b"just some notes\nnothing like a digest\n", "does not look like"),
        (b"new\n\nSubscribe\n\nDec 9\n\n", "no digest entries"),
    ],
)
def test_files_that_are_not_digests_are_reported(data, message):
    d = parse(data)
    assert d.entries == []
    assert any(message in p.message for p in d.problems)


def test_truncated_last_entry_is_reported_and_the_rest_kept():
    text = digest("Dec 9", entry("Complete", "Whole.", AUTHORS4)) + "Truncated Title\n"
    d = parse(text)
    assert [e.title for e in d.entries] == ["Complete"]
    [problem] = d.problems
    assert "no abstract" in problem.message and problem.line == 21


def test_missing_blank_between_title_and_abstract_is_reported():
    d = parse(digest("Dec 9", "Title\nAbstract right below.\n\n"))
    assert [(e.title, e.abstract) for e in d.entries] == [("Title", "Abstract right below.")]
    assert "no blank line" in d.problems[0].message


def test_header_lines_missing_or_reordered():
    d = parse("byAK and the research community\n\nSubscribe\nMar 3\n\nT\n\nA.\n")
    assert d.date == date(2025, 3, 3) and [e.title for e in d.entries] == ["T"]
    d = parse("T\n\nA.\n", name="2025-01-02.txt")
    assert d.date == date(2025, 1, 2) and [e.title for e in d.entries] == ["T"]


def test_text_survives_exactly():
    titles = ["GPT-[n] and o-[n] Models", "[CLS] is all you need?", "Earn $1 Million -- or not |x|",
              "$λ$-ECLIPSE", "<think> twice", "X^{2}: 10\\% faster \\textsc{Thing}"]
    text = digest("Dec 9", *(entry(t, f"About {t} [1] jailbreaksx2013methods.") for t in titles))
    d = parse(text)
    assert [e.title for e in d.entries] == titles
    abstracts = [f"About {t} [1] jailbreaksx2013methods." for t in titles]
    assert [e.abstract for e in d.entries] == abstracts


def test_stray_metadata_block_is_skipped_and_reported():
    text = digest("Dec 9", "  • 3 authors\n·\nJan 2\n\n", entry("Real", "Paper."))
    d = parse(text)
    assert [e.title for e in d.entries] == ["Real"]
    assert any("metadata block without a title" in p.message for p in d.problems)
