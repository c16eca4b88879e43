"""Parse one digest file (a saved Hugging Face Daily Papers page) into entries.

The format and its quirks are described in ../shared/docs/digest-format.md. Entries are
found by position (title, blank, abstract, optional metadata block), never by what a
title looks like: titles can be `Olmo 3`, `Jun 1` or start lowercase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from papers.index.models import Problem

HEADER_LINES = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "daily papers",
        "byak and the research community",
    }
)

MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}

_DATE_RE = re.compile(
    r"^(?P<mon>[A-Za-z]{3,9})\.? (?P<day>\d{1,2})(?:, (?P<year>\d{4}))?(?: (?P<up>\d+))?$"
)
_AUTHORS_RE = re.compile(r"^•\s*(?P<n>\d+)\s+authors?$")
_NAME_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Trailing punctuation is sentence punctuation, not part of the URL ("see https://x.y/z.").
_URL_RE = re.compile(r"(?:https?://|(?<![\w/.])github\.com/)[^\s<>\"'`{}|\\^]+", re.I)
_URL_TRAIL = ".,;:!?)]}'\""

_MAX_LINE = 20_000  # longer lines are data debris, not titles or abstracts we can show


@dataclass(frozen=True)
class Entry:
    """One paper as one digest shows it."""

    title: str
    abstract: str
    line: int
    authors: int | None = None
    organization: str | None = None
    org_handle: str | None = None
    published: date | None = None
    upvotes: int | None = None
    links: tuple[str, ...] = ()
    # Known only from Daily Papers JSON (index/dailyjson.py); a text dump leaves them empty.
    arxiv_id: str | None = None
    author_names: tuple[str, ...] = ()
    github: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    keywords: tuple[str, ...] = ()
    ai_summary: str | None = None
    comments: int | None = None
    submitter: str | None = None
    # Set only when this entry's digest day is not the file's (`Digest.date`), as in the
    # JSON-lines corpus where every line carries its own day.
    digest_date: date | None = None


@dataclass
class Digest:
    """A parsed digest file: its date, its entries and what was wrong with it."""

    path: str
    date: date | None
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_digest(path: Path) -> Digest:
    """Read and parse a digest file; the year falls back to the file's modification time."""
    data = path.read_bytes()
    mtime = datetime.fromtimestamp(path.stat().st_mtime).date()
    return parse_digest(data, name=str(path), mtime=mtime)


def parse_digest(data: bytes, *, name: str = "<digest>", mtime: date | None = None) -> Digest:
    """Parse the bytes of a digest file. Never raises on bad input: problems are reported."""
    problems: list[Problem] = []
    text = _decode(data, name, problems)
    if text is None:
        return Digest(path=name, date=None, problems=problems)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > _MAX_LINE:
            problems.append(Problem(name, i + 1, f"line of {len(line):,} characters cut"))
            lines[i] = line[:_MAX_LINE]
    parser = _Parser(lines, name, mtime, problems)
    digest = parser.run()
    has_meta = any(e.published or e.authors or e.organization for e in digest.entries)
    if digest.entries and not (parser.saw_header or parser.saw_date or has_meta
                               or _NAME_DATE_RE.search(Path(name).name)):
        # A notes file in a scanned folder must not turn into papers.
        problems[:] = [Problem(name, 1, "does not look like a Daily Papers digest "
                                        "(no header, no date line, no metadata); skipped")]
        digest.entries = []
    elif not digest.entries:
        problems.append(
            Problem(name, 1, "no digest entries found; is this a saved Daily Papers page?")
        )
    return digest


def _decode(data: bytes, name: str, problems: list[Problem]) -> str | None:
    if not data.strip():
        problems.append(Problem(name, 1, "empty file"))
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif _binary(data[:4096]):
        # UTF-16 without a BOM shows NULs in every other byte of ASCII text.
        even, odd = data[0:4096:2].count(0), data[1:4096:2].count(0)
        if odd > len(data[:4096]) // 4 and even == 0:
            encoding = "utf-16-le"
        elif even > len(data[:4096]) // 4 and odd == 0:
            encoding = "utf-16-be"
        else:
            problems.append(Problem(name, 1, "binary data, not a text file; skipped"))
            return None
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        if encoding == "utf-8":
            # What a browser on Windows saves: smart quotes and the bullet survive, and
            # the metadata lines are still recognised.
            text = data.decode("cp1252", errors="replace")
            problems.append(Problem(name, line, "not UTF-8: read as Windows-1252"))
        else:
            problems.append(Problem(
                name, line, f"bytes that are not {encoding.upper()} replaced with \ufffd"))
            text = data.decode(encoding, errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x00" in text:
        # A stray NUL in a text file (a copy gone wrong) costs that character, not the file.
        problems.append(Problem(name, text[: text.index("\x00")].count("\n") + 1,
                                "NUL bytes removed"))
        text = text.replace("\x00", "")
    return text


def _binary(head: bytes) -> bool:
    """NULs in more than one byte of 256, as in binary data or UTF-16 without a BOM; fewer
    are stray bytes in a text file."""
    return head.count(0) > len(head) // 256 + 1


def parse_date_line(line: str) -> tuple[int, int, int | None, int | None] | None:
    """`Jan 22 6` -> (1, 22, None, 6); `Dec 17, 2024 2` -> (12, 17, 2024, 2); else None."""
    m = _DATE_RE.match(line.strip())
    if not m:
        return None
    month = MONTHS.get(m["mon"][:3].lower())
    day = int(m["day"])
    if month is None or not 1 <= day <= 31:
        return None
    year = int(m["year"]) if m["year"] else None
    if _safe_date(year or 2000, month, day) is None:
        return None
    return month, day, year, int(m["up"]) if m["up"] else None


def find_links(text: str) -> tuple[str, ...]:
    """GitHub and project URLs mentioned in an abstract, in order, without duplicates."""
    low = text.lower()
    # Every match holds one of these, case folded (no other character folds to their
    # letters): most abstracts have none, and the pattern tried at each of their
    # characters was most of a digest's parse. The search starts at the first one (two
    # characters before, for a "github.com/"), when lowering kept every character's place.
    http, github = low.find("http"), low.find("thub.com/")
    if http < 0 and github < 0:
        return ()
    start = 0
    if len(low) == len(text):
        start = min(i for i in (http, max(github - 2, 0) if github >= 0 else -1) if i >= 0)
    links: list[str] = []
    for m in _URL_RE.finditer(text, start):
        url = m.group(0)
        while url and url[-1] in _URL_TRAIL:
            # Keep a closing bracket that closes one opened inside the URL.
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        if not url.lower().startswith("http"):
            url = "https://" + url
        if "://" in url and len(url.split("://", 1)[1]) > 3 and url not in links:
            links.append(url)
    return tuple(links)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


class _Parser:
    """A single pass over the lines: header, then entries by position."""

    def __init__(self, lines: list[str], name: str, mtime: date | None, problems: list[Problem]):
        self.lines = lines
        self.name = name
        self.mtime = mtime
        self.problems = problems
        self.i = 0
        self.date: date | None = None
        self.saw_header = False
        self.saw_date = False

    def problem(self, line_index: int, message: str) -> None:
        # Something missing at the end of the file is reported on its last line.
        line_index = max(0, min(line_index, len(self.lines) - 1))
        self.problems.append(Problem(self.name, line_index + 1, message))

    def peek_nonblank(self, start: int) -> int:
        j = start
        while j < len(self.lines) and not self.lines[j].strip():
            j += 1
        return j

    def line(self, j: int) -> str:
        return self.lines[j].strip() if j < len(self.lines) else ""

    def run(self) -> Digest:
        self.read_header()
        digest = Digest(path=self.name, date=self.date, problems=self.problems)
        while True:
            self.i = self.peek_nonblank(self.i)
            if self.i >= len(self.lines):
                break
            entry = self.read_entry()
            if entry is not None:
                digest.entries.append(entry)
        return digest

    # -- header -------------------------------------------------------------------------

    def read_header(self) -> None:
        j = self.peek_nonblank(0)
        while j < len(self.lines) and self.line(j).lower() in HEADER_LINES:
            self.saw_header = True
            j = self.peek_nonblank(j + 1)
        parsed = parse_date_line(self.line(j)) if j < len(self.lines) else None
        # A date line right at the top is the digest date even without header lines,
        # unless it carries an upvote count (then it is a title that looks like a date).
        if parsed and parsed[3] is None:
            self.saw_date = True
            self.date = self.digest_date(parsed[0], parsed[1], parsed[2])
            j += 1
        else:
            if self.saw_header or j < len(self.lines):
                self.problem(min(j, len(self.lines) - 1), "no digest date line after the header")
            self.date = self.digest_date(None, None, None)
        self.i = j

    def digest_date(self, month: int | None, day: int | None, year: int | None) -> date | None:
        named = _NAME_DATE_RE.search(Path(self.name).name)
        name_date = None
        if named:
            name_date = _safe_date(int(named[1]), int(named[2]), int(named[3]))
        if month is None or day is None:
            return name_date
        if name_date is not None:
            return _safe_date(name_date.year, month, day) or name_date
        if year is not None:
            return _safe_date(year, month, day)
        ref = self.mtime or date.today()
        d = _safe_date(ref.year, month, day) or _safe_date(ref.year - 1, month, day)
        # A page cannot have been saved before its own date: it is last year's page.
        if d is not None and d > ref:
            d = _safe_date(d.year - 1, month, day) or d
        return d

    # -- entries ------------------------------------------------------------------------

    def read_entry(self) -> Entry | None:
        start = self.i
        title = self.line(start)
        if self.is_metadata_start(start):
            end = self.skip_metadata(start)
            self.problem(start, "metadata block without a title and abstract; skipped")
            self.i = end
            return None
        j = start + 1
        if j < len(self.lines) and self.lines[j].strip() and not self.is_metadata_start(j):
            self.problem(j, "no blank line between title and abstract")
        else:
            j = self.peek_nonblank(j)
        if j >= len(self.lines) or self.is_metadata_start(j):
            self.problem(start, f"title with no abstract (truncated entry?): {title[:60]!r}")
            self.i = self.skip_metadata(j) if j < len(self.lines) else j
            return None
        abstract_lines = []
        while j < len(self.lines) and self.lines[j].strip() and not self.is_metadata_start(j):
            abstract_lines.append(self.lines[j].strip())
            j += 1
        # A page dump's abstract is one line, kept as written; wrapped text is one paragraph.
        abstract = " ".join(" ".join(abstract_lines).split()) if len(abstract_lines) > 1 \
            else abstract_lines[0]
        meta: dict = {}
        k = self.peek_nonblank(j)
        if k < len(self.lines) and self.is_metadata_start(k):
            j = self.read_metadata(k, meta)
        self.i = j
        return Entry(title=title, abstract=abstract, line=start + 1,
                     links=find_links(abstract), **meta)

    def is_metadata_start(self, j: int) -> bool:
        """A metadata block starts with `• N authors`, an organisation line before `·`, or `·`."""
        text = self.line(j)
        if text == "·" or _AUTHORS_RE.match(text):
            return True
        k = j + 1
        return k < len(self.lines) and self.line(k) == "·" and bool(text)

    def skip_metadata(self, j: int) -> int:
        meta: dict = {}
        return self.read_metadata(j, meta, report=False)

    def read_metadata(self, j: int, meta: dict, report: bool = True) -> int:
        text = self.line(j)
        authors = _AUTHORS_RE.match(text)
        if authors:
            meta["authors"] = int(authors["n"])
            j += 1
        elif text != "·":
            handle, _, display = text.partition(" ")
            meta["org_handle"] = handle
            meta["organization"] = display.strip() or handle
            j += 1
        if self.line(j) != "·":
            if report:
                self.problem(j, "metadata block without its '·' line")
            return j
        j += 1
        parsed = parse_date_line(self.line(j)) if j < len(self.lines) else None
        if parsed is None:
            if report:
                self.problem(j, "metadata block without a date line")
            return j
        month, day, year, upvotes = parsed
        meta["published"] = self.entry_date(month, day, year)
        meta["upvotes"] = upvotes
        return j + 1

    def entry_date(self, month: int, day: int, year: int | None) -> date | None:
        if year is not None:
            return _safe_date(year, month, day)
        ref = self.date or self.mtime or date.today()
        d = _safe_date(ref.year, month, day) or _safe_date(ref.year - 1, month, day)
        if d is not None and d > ref:
            d = _safe_date(ref.year - 1, month, day) or d
        return d
