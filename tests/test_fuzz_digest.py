"""Property-based fuzzing of the digest parser (see docs/fuzzing.md).

Well-formed digests, built from random entries, must come back entry for entry; mangled
ones (shuffled, cut, re-encoded, sprinkled with random bytes) must never make the parser
raise, and every problem must point at a line that exists.

`HYPOTHESIS_PROFILE=ci` (the default) keeps this file to a few seconds; `long` is for
runs by hand: `HYPOTHESIS_PROFILE=long pytest tests/test_fuzz_digest.py`.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.index.digest import parse_digest

settings.register_profile(
    "ci", max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=20_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# A decorator, not load_profile(): loading would change every other test file's settings.
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci")
                            if os.environ.get("HYPOTHESIS_PROFILE") in ("ci", "long") else "ci")

HEADER = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
          "byAK and the research community"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
LONG_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
_AUTHORS = re.compile(r"^•\s*\d+\s+authors?$")

# Titles and abstracts people actually see, plus ones built to look like something else.
TRICKY = [
    "Olmo 3", "Pixtral 12B", "Jun 1", "Jan 22 6", "Dec 17, 2024 2", "June 30", "aMUSEd",
    "$λ$-ECLIPSE: \\textsc{CLIP}", "GPT-[n] and o-[n] Models", "[CLS] is all you need?",
    "Earn $1 Million -- or not |x|", "X^{2}: 10\\% faster", "<think> twice", "A · B · C",
    "·x", "• 3", "•3 authorship", "new", "Subscribe", "Daily Papers", "αβγ: Greek first",
    "S$^{2}$FT", "[link=https://x]click[/link]", "[/]", "codefuse-ai CodeFuse AI",
]


def _line_text(min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """One line of visible text: no controls, no line separators, no edge whitespace."""
    chars = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"))
    return (st.text(chars, min_size=min_size, max_size=max_size)
            .map(str.strip)
            .filter(lambda s: s and s != "·" and not _AUTHORS.match(s)))


def _word_text() -> st.SearchStrategy[str]:
    return st.one_of(_line_text(), st.sampled_from(TRICKY))


@dataclass(frozen=True)
class Meta:
    kind: str  # "authors", "org" or "bare" (a block that starts at the '·')
    authors: int | None
    handle: str | None
    display: str | None
    published: date
    with_year: bool
    upvotes: int | None

    def lines(self) -> list[str]:
        out = []
        if self.kind == "authors":
            out.append(f"  • {self.authors} author{'s' if self.authors != 1 else ''}")
        elif self.kind == "org":
            out.append(f"{self.handle} {self.display}" if self.display else self.handle)
        day = f"{MONTHS[self.published.month - 1]} {self.published.day}"
        if self.with_year:
            day += f", {self.published.year}"
        if self.upvotes:
            day += f" {self.upvotes}"
        return [*out, "·", day]


@dataclass(frozen=True)
class Gen:
    title: str
    abstract_lines: tuple[str, ...]
    meta: Meta | None
    blanks: tuple[int, int, int]  # after title, after abstract (before meta), after entry

    @property
    def abstract(self) -> str:
        stripped = [line.strip() for line in self.abstract_lines]
        if len(stripped) == 1:
            return stripped[0]
        return " ".join(" ".join(stripped).split())


DIGEST_DAY = date(2025, 12, 9)


@st.composite
def metas(draw) -> Meta:
    kind = draw(st.sampled_from(["authors", "org", "bare"]))
    with_year = draw(st.booleans())
    if with_year:
        published = draw(st.dates(date(1990, 1, 1), date(2030, 12, 31)))
    else:
        # Without a year the date is read in the digest's year, or the year before: only
        # generate dates that reading gives back, and no Feb 29 (which year it is in is a guess).
        published = draw(st.dates(DIGEST_DAY - timedelta(days=364), DIGEST_DAY)
                         .filter(lambda d: (d.month, d.day) != (2, 29)))
    handle = draw(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True))
    display = draw(st.one_of(st.none(), _line_text(max_size=30)))
    return Meta(kind, draw(st.integers(1, 500)), handle, display, published, with_year,
                draw(st.one_of(st.none(), st.integers(1, 5000))))


@st.composite
def gens(draw) -> Gen:
    title = draw(_word_text())
    if draw(st.booleans()):
        abstract = (draw(_word_text()),)
    else:
        indent = draw(st.sampled_from(["", "  "]))
        abstract = tuple(indent + s for s in draw(st.lists(_word_text(), min_size=2, max_size=5)))
    meta = draw(st.one_of(st.none(), metas()))
    # A block may follow its abstract directly, except one that starts at the '·': the
    # abstract's last line would then read as an organisation line (a real ambiguity).
    least = 0 if meta and meta.kind != "bare" else 1
    blanks = (draw(st.integers(1, 2)), draw(st.integers(least, 2)), draw(st.integers(1, 2)))
    return Gen(title, abstract, meta, blanks)


@st.composite
def well_formed(draw) -> tuple[list[str], list[Gen]]:
    """The lines of a digest (no line ends yet) and the entries it holds."""
    header = draw(st.lists(st.sampled_from(HEADER), max_size=5, unique=True))
    lines: list[str] = []
    for h in header:
        lines += [h, ""] if draw(st.booleans()) else [h]
    lines += [f"{MONTHS[DIGEST_DAY.month - 1]} {DIGEST_DAY.day}, {DIGEST_DAY.year}", ""]
    entries = draw(st.lists(gens(), min_size=1, max_size=8))
    for e in entries:
        lines += [e.title] + [""] * e.blanks[0] + list(e.abstract_lines)
        if e.meta:
            lines += [""] * e.blanks[1] + e.meta.lines()
        lines += [""] * e.blanks[2]
    return lines, entries


def parse(data: bytes):
    return parse_digest(data, name="digest.txt", mtime=date(2026, 1, 5))


def expected_fields(g: Gen) -> tuple:
    m = g.meta
    if m is None:
        return (g.title, g.abstract, None, None, None, None, None)
    org = (m.display or m.handle) if m.kind == "org" else None
    return (g.title, g.abstract, m.authors if m.kind == "authors" else None, org,
            m.handle if m.kind == "org" else None, m.published, m.upvotes)


def got_fields(e) -> tuple:
    return (e.title, e.abstract, e.authors, e.organization, e.org_handle, e.published,
            e.upvotes)


def max_line(data: bytes) -> int:
    """How many lines the file has, however its lines end (an upper bound for UTF-16)."""
    return data.count(b"\n") + data.count(b"\r") + 1


def assert_sane(data: bytes, d) -> None:
    limit = max_line(data)
    for p in d.problems:
        assert 1 <= p.line <= limit, (p, limit)
        assert p.message
    for e in d.entries:
        assert 1 <= e.line <= limit
        assert e.title.strip() and e.abstract.strip()


# -- well-formed files: every entry back, exactly -----------------------------------------


@FUZZ
@given(well_formed())
def test_well_formed_entries_come_back_exactly(doc):
    lines, entries = doc
    data = ("\n".join(lines) + "\n").encode("utf-8")
    d = parse(data)
    assert d.problems == []
    assert d.date == DIGEST_DAY
    assert [got_fields(e) for e in d.entries] == [expected_fields(g) for g in entries]
    text_lines = data.decode("utf-8").split("\n")
    for e in d.entries:
        assert text_lines[e.line - 1].strip() == e.title


@FUZZ
@given(well_formed(), st.sampled_from(["\r\n", "\r", "\n"]),
       st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "utf-16-be-bom"]))
def test_line_ends_and_encodings_do_not_change_entries(doc, newline, encoding):
    lines, entries = doc
    text = newline.join(lines) + newline
    if encoding.endswith("-bom"):
        codec = encoding[:-4]
        bom = codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE
        data = bom + text.encode(codec)
    else:
        data = text.encode(encoding)
    d = parse(data)
    assert d.problems == []
    assert [got_fields(e) for e in d.entries] == [expected_fields(g) for g in entries]


# -- mangled files: never raises, problems point at real lines ----------------------------

STRAY = ["·", "  • 3 authors", "• 1 author", "Jan 22 6", "Dec 17, 2024", "Feb 30", "Jun 1",
         "new", "Subscribe", "codefuse-ai CodeFuse AI", "", "  ", "\t", "\x0c", "\u2028",
         "\ufeff", "\x85"]


@st.composite
def mangled(draw) -> bytes:
    lines, _ = draw(well_formed())
    ops = draw(st.lists(st.sampled_from(
        ["shuffle", "drop_blanks", "drop_line", "stray", "huge", "dup", "swap"]), max_size=6))
    for op in ops:
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "shuffle":
            lines = draw(st.permutations(lines))
        elif op == "drop_blanks":
            lines = [x for x in lines if x.strip()]
        elif op == "drop_line":
            del lines[i]
        elif op == "stray":
            lines.insert(i, draw(st.sampled_from(STRAY)))
        elif op == "huge":
            lines.insert(i, draw(st.sampled_from(["x", "· ", "[", "é"])) * draw(
                st.sampled_from([19_999, 20_000, 20_001, 100_000])))
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    # Each line gets its own line end: files pasted together mix them.
    ends = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines),
                         max_size=len(lines)))
    text = "".join(x + e for x, e in zip(lines, ends, strict=True))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le",
                                     "utf-16-be", "latin-1-ish"]))
    if encoding == "latin-1-ish":
        data = text.encode("utf-8", "replace").replace(b"\xc2", b"")  # broken UTF-8
    else:
        data = text.encode(encoding, "surrogatepass")
    # Random bytes and cuts: what a half-downloaded or binary file looks like.
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(max_size=16)) + data[at:]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@FUZZ
@given(mangled())
def test_mangled_files_never_raise_and_problems_have_lines(data):
    assert_sane(data, parse(data))


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes_never_raise(data):
    assert_sane(data, parse(data))


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(STRAY + TRICKY + HEADER), _line_text(max_size=20)),
                max_size=40),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_random_lines_never_raise(lines, newline, bom):
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.join(lines).encode("utf-8")
    assert_sane(data, parse(data))
