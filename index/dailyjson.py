"""Read Hugging Face Daily Papers JSON into the same `Digest` the text parser gives.

Two inputs, told apart by content, never by file name (see `sniff`):

- the API response (`/api/daily_papers?date=YYYY-MM-DD`): an array of entries, each with a
  `paper` object. Its shape changed over the years (2024 files have no `submittedBy`,
  `organization`, `ai_keywords`, `githubRepo`; only 2025-03 and later have
  `paper.submittedOnDailyAt`), so every field is optional and checked for its type.
- the flat JSON-lines form of the corpus (`arxiv_id, title, abstract, authors, ...,
  digest_date`), where every line carries its own digest day.

Bad input is data too: a wrong type in a field, a cut-off file or bytes that are not UTF-8
become `Problem`s with the file name, and every entry that can be read is still returned.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

from papers.index.digest import Digest, Entry, find_links
from papers.index.models import Problem

_MAX_TEXT = 20_000  # as the text parser's longest line: anything longer is debris, not prose
_MAX_PROBLEMS = 100  # a file of 100,000 bad entries needs a few examples, not 100,000 lines

_WS = re.compile(r"[ \t\n\r]*")
_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# arXiv titles wrap as newline + indent; any newline in a title is a wrap.
_TITLE_WRAP = re.compile(r"[ \t]*(?:\r\n?|\n)[ \t]*")
# Control characters cannot be shown and lone surrogates cannot be written as UTF-8.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# New-style (2405.15738) and old-style (hep-th/9901001) arXiv ids, with an optional version.
_ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
_URL = re.compile(r"https?://[^\s\"<>]+", re.I)
_URL_WRAP = re.compile(r"\s*\n\s*")
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)+(?:/|$)")
# Resynchronise after a broken entry at the next thing that starts an API entry.
_NEXT_ENTRY = re.compile(r",\s*(\{\s*\"paper\"\s*:)")


def sniff(data: bytes) -> str | None:
    """`"array"` for the API form, `"lines"` for JSON lines or a JSON object, else None.

    Precise enough that a text digest starting with a title like `[Re] Attention` is not
    taken for JSON: an array must open with an object, an array, a string or `]`.
    """
    head = data[:512]
    encoding = "utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    if text[:1] == "[":
        return "array" if text[1:].lstrip()[:1] in ("{", "[", '"', "]") else None
    if text[:1] == "{":
        return "lines" if text[1:].lstrip()[:1] in ('"', "}") else None
    return None


def parse_daily_json(data: bytes, *, name: str = "<json>", mtime: date | None = None) -> Digest:
    """Parse Daily Papers JSON. Never raises on bad input: problems are reported.

    `mtime` is accepted for the same call as `parse_digest`; JSON dates carry their year.
    """
    report = _Report(name)
    text = _decode(data, report)
    if text is None:
        return Digest(path=name, date=None, problems=report.done())
    start = _WS.match(text).end()
    found: list[tuple[Entry, date | None]] = []
    stamps: Counter[date] = Counter()
    if text.startswith("[", start):
        _read_array(text, start, report, found, stamps)
    elif text.startswith("{", start):
        _read_lines(text, report, found, stamps)
    else:
        report.add(1, "not Daily Papers JSON (an array of entries, or JSON lines); skipped")
    days = Counter(day for _, day in found if day is not None)
    if days:
        file_day: date | None = days.most_common(1)[0][0]
    else:
        file_day = _name_date(name) or (stamps.most_common(1)[0][0] if stamps else None)
    entries = [
        e if day is None or day == file_day else _with_day(e, day) for e, day in found
    ]
    if not entries and not report.problems:
        report.add(1, "no papers in this file")
    return Digest(path=name, date=file_day, entries=entries, problems=report.done())


# -- reading ------------------------------------------------------------------------------


class _Report:
    """The file's problems, at most _MAX_PROBLEMS of them and then how many more."""

    def __init__(self, name: str):
        self.name = name
        self.problems: list[Problem] = []
        self.more = 0

    def add(self, line, message: str) -> None:
        """`line` is a number or a function that counts it (only for a problem shown)."""
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(Problem(self.name, line if type(line) is int else line(),
                                         message))
        else:
            self.more += 1

    def done(self) -> list[Problem]:
        if self.more:
            last = self.problems[-1].line if self.problems else 1
            self.problems.append(Problem(self.name, last, f"and {self.more:,} more problems"))
            self.more = 0
        return self.problems


def _decode(data: bytes, report: _Report) -> str | None:
    if data.isspace() or not data:  # isspace stops at the first other byte; strip copies
        report.add(1, "empty file")
        return None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.add(line, f"bytes that are not {encoding.upper()} replaced with \ufffd")
        return data.decode(encoding, errors="replace")


# strict=False: a raw control character inside a string is an oddity to clean, not a reason
# to lose the entry.
_DECODER = json.JSONDecoder(strict=False)


def _read_array(text: str, start: int, report: _Report, found: list, stamps: Counter) -> None:
    """Read the array entry by entry, so that a broken entry costs only itself."""
    _ArrayReader(text, report, found, stamps).run(start)


class _ArrayReader:
    def __init__(self, text: str, report: _Report, found: list, stamps: Counter):
        self.text = text
        self.end = len(text.rstrip())  # once: a copy of the text per broken entry is quadratic
        self.report = report
        self.found = found
        self.stamps = stamps

    def at(self, pos: int):
        """The line of `pos`, counted only if the problem is going to be shown."""
        return lambda: _line_at(self.text, pos)

    def run(self, start: int) -> None:
        text, report = self.text, self.report
        scan = _DECODER.raw_decode
        pos = _WS.match(text, start + 1).end()
        if text.startswith("]", pos):
            self.trailing(pos + 1)
            return
        index = 0
        while pos >= 0:
            index += 1
            try:
                obj, end = scan(text, pos)
            except json.JSONDecodeError as exc:
                pos = self.broken(exc, index, pos)
                continue
            except (ValueError, RecursionError) as exc:  # a 5,000-digit number, deep nesting
                pos = self.skip(pos, index, f"cannot be read ({_why(exc)})")
                continue
            _read_entry(obj, index, self.at(pos), report, self.found, self.stamps)
            pos = _WS.match(text, end).end()
            if pos >= len(text):
                report.add(self.at(pos), f"the file ends after entry {index} without closing "
                                         "the array (truncated?)")
                return
            if text[pos] == "]":
                self.trailing(pos + 1)
                return
            if text[pos] != ",":
                pos = self.skip(pos, index + 1, "does not follow a ','")
                continue
            pos = _WS.match(text, pos + 1).end()
            if text.startswith("]", pos):  # a trailing comma: harmless, but not JSON
                report.add(self.at(pos), "a ',' after the last entry")
                self.trailing(pos + 1)
                return

    def broken(self, exc: json.JSONDecodeError, index: int, pos: int) -> int:
        if exc.pos >= self.end or exc.msg.startswith("Unterminated"):
            self.report.add(self.at(pos), f"the file ends inside entry {index} (truncated?)")
            return self.resync(pos, quiet=True)
        return self.skip(pos, index, f"is not valid JSON ({exc.msg} at line {exc.lineno} "
                                     f"column {exc.colno})")

    def skip(self, pos: int, index: int, why: str) -> int:
        self.report.add(self.at(pos), f"entry {index} {why}; skipped")
        return self.resync(pos)

    def resync(self, pos: int, quiet: bool = False) -> int:
        """Where the next entry starts after a broken one, or -1."""
        m = _NEXT_ENTRY.search(self.text, pos + 1)
        if m is None:
            if not quiet and pos < self.end:
                self.report.add(self.at(pos), "the rest of the file could not be read")
            return -1
        return m.start(1)

    def trailing(self, pos: int) -> None:
        pos = _WS.match(self.text, pos).end()
        if pos < len(self.text):
            self.report.add(self.at(pos), "text after the end of the array; ignored")


def _line_at(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _read_lines(text: str, report: _Report, found: list, stamps: Counter) -> None:
    """JSON lines; a file that is one JSON object (an error answer, a wrapper) is reported."""
    loads = _DECODER.decode
    lines = text.split("\n")
    bad = 0
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = loads(line)
        except (ValueError, RecursionError) as exc:
            bad += 1
            if bad == 1 and _is_one_object(text):
                report.problems.clear()
                report.more = 0
                report.add(1, "a JSON object, not Daily Papers JSON (an array of entries, "
                              "or one entry a line); skipped")
                return
            report.add(i, f"not a JSON object ({_why(exc)}); skipped")
            continue
        if isinstance(obj, dict) and "title" not in obj and "paper" not in obj \
                and isinstance(obj.get("error"), str):
            report.add(i, f"the API answered with an error: {_clean(obj['error'])[:200]!r}")
            continue
        _read_entry(obj, i, i, report, found, stamps)


def _is_one_object(text: str) -> bool:
    try:
        return isinstance(_DECODER.decode(text), dict)
    except (ValueError, RecursionError):
        return False


def _why(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:100]


# -- entries --------------------------------------------------------------------------------


def _read_entry(obj, index: int, where, report: _Report, found: list,
                stamps: Counter | None) -> None:
    """One entry, API-shaped (`paper` inside) or flat; `where` is its line (or counts it)."""
    if not isinstance(obj, dict):
        report.add(where, f"entry {index} is {_kind(obj)}, not a paper entry; skipped")
        return
    if "paper" not in obj and "title" not in obj:
        report.add(where, f"entry {index} has neither 'paper' nor 'title': not a Daily "
                            "Papers entry; skipped")
        return
    fields = _Fields(obj, index, where, report)
    got = _api_entry(obj, fields, stamps) if "paper" in obj else _flat_entry(obj, fields)
    if got is not None:
        found.append(got)


class _Fields:
    """Typed access to one entry's fields; a wrong type is a problem and the field unknown."""

    def __init__(self, obj: dict, index: int, where, report: _Report):
        self.obj = obj
        self.index = index
        self.where = where
        self.report = report

    def problem(self, message: str) -> None:
        self.report.add(self.where, f"entry {self.index}: {message}")

    def get(self, obj: dict, key: str, kind: type, label: str):
        value = obj.get(key)
        if value is None:
            return None
        ok = type(value) is int if kind is int else isinstance(value, kind)
        if not ok:
            self.problem(f"{label} is {_kind(value)}, not {_KINDS[kind]}; left out")
            return None
        return value

    def text(self, obj: dict, key: str, label: str) -> str | None:
        value = obj.get(key)
        if type(value) is str and len(value) <= _MAX_TEXT and (
                value.isprintable() or _UNSAFE.search(value) is None):
            return value  # the common case, checked without the reporting below
        value = self.get(obj, key, str, label)
        if value is None:
            return None
        if len(value) > _MAX_TEXT:
            self.problem(f"{label} of {len(value):,} characters cut")
            value = value[:_MAX_TEXT]
        if _UNSAFE.search(value):
            self.problem(f"control characters or broken escapes in {label} removed")
            value = _clean(value)
        return value

    def texts(self, obj: dict, key: str, label: str) -> tuple[str, ...]:
        return self.strings(self.get(obj, key, list, label), label)

    def strings(self, items: list | None, label: str) -> tuple[str, ...]:
        if not items:
            return ()
        try:
            joined = "".join(items)  # a TypeError unless every item is a string
        except TypeError:
            pass
        else:
            if joined.isprintable() and len(joined) <= _MAX_TEXT * 10:
                return tuple(filter(None, map(str.strip, items)))
        out = []
        for item in items:
            if not isinstance(item, str):
                self.problem(f"an item of {label} is {_kind(item)}; left out")
                continue
            if not item.isprintable():
                item = " ".join(_clean(item[:_MAX_TEXT]).split())
            item = item.strip()
            if item:
                out.append(item)
        return tuple(out)

    def day(self, obj: dict, key: str, label: str) -> date | None:
        value = self.get(obj, key, str, label)
        if value is None:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            self.problem(f"{label} {value[:40]!r} is not a date; left out")
            return None

    def url(self, obj: dict, key: str, label: str) -> str | None:
        value = self.get(obj, key, str, label)
        if value is None or not value.strip():
            return None
        value = value.strip()  # 2025-03-17.json has " https://sites.google.com/..."
        if "\n" in value:  # a URL hard-wrapped like the text around it (the corpus has some)
            value = _URL_WRAP.sub("", value)
        if not value.lower().startswith(("http://", "https://")) and _HOST.match(value):
            value = "https://" + value
        if _URL.fullmatch(value) is None or len(value) > 2_000:
            self.problem(f"{label} {value[:60]!r} is not a web address; left out")
            return None
        return value

    def count(self, obj: dict, key: str, label: str) -> int | None:
        value = obj.get(key)
        if type(value) is int and value >= 0:
            return value
        value = self.get(obj, key, int, label)
        if value is not None and value < 0:
            self.problem(f"{label} is negative; left out")
            return None
        return value


def _api_entry(obj: dict, f: _Fields, stamps: Counter | None):
    paper = f.get(obj, "paper", dict, "paper")
    if paper is None:
        f.problem("no paper object; skipped")
        return None
    title = f.text(paper, "title", "paper.title") or f.text(obj, "title", "title")
    title = unwrap_title(title) if title else ""
    if not title:
        f.problem("no title; skipped")
        return None
    summary = f.text(paper, "summary", "paper.summary") or f.text(obj, "summary", "summary")
    if summary is None:
        f.problem("no abstract")
    abstract = unwrap_abstract(summary) if summary else ""
    arxiv_id = f.text(paper, "id", "paper.id")
    if arxiv_id is not None and not _ARXIV_ID.fullmatch(arxiv_id.strip()):
        f.problem(f"paper.id {arxiv_id[:40]!r} is not an arXiv id; left out")
        arxiv_id = None
    names: tuple[str, ...] = ()
    count = None
    authors = f.get(paper, "authors", list, "paper.authors")
    if authors is not None:
        count = len(authors)
        try:
            raw = [a["name"] for a in authors]
        except (KeyError, TypeError):
            raw = [a.get("name") if isinstance(a, dict) else a for a in authors]
        names = f.strings(raw, "paper.authors")
    org = f.get(obj, "organization", dict, "organization") \
        or f.get(paper, "organization", dict, "paper.organization")
    organization = handle = None
    if org:
        handle = f.text(org, "name", "organization.name")
        organization = f.text(org, "fullname", "organization.fullname") or handle
    submitter = None
    by = f.get(obj, "submittedBy", dict, "submittedBy")
    if by:
        submitter = f.text(by, "name", "submittedBy.name")
    else:
        by = f.get(paper, "submittedOnDailyBy", dict, "paper.submittedOnDailyBy")
        if by:
            submitter = f.text(by, "user", "paper.submittedOnDailyBy.user")
    ai_summary = f.text(paper, "ai_summary", "paper.ai_summary")
    if stamps is not None:
        stamp = _page_stamp(obj, paper, f)
        if stamp is not None:
            stamps[stamp] += 1
    entry = Entry(
        title=title,
        abstract=abstract,
        line=f.index,
        authors=count,
        organization=_one_line(organization),
        org_handle=_one_line(handle),
        published=f.day(paper, "publishedAt", "paper.publishedAt"),
        upvotes=f.count(paper, "upvotes", "paper.upvotes"),
        links=_links(abstract),
        arxiv_id=arxiv_id.strip() if arxiv_id else None,
        author_names=names,
        github=f.url(paper, "githubRepo", "paper.githubRepo"),
        github_stars=f.count(paper, "githubStars", "paper.githubStars"),
        project_page=f.url(paper, "projectPage", "paper.projectPage"),
        keywords=f.texts(paper, "ai_keywords", "paper.ai_keywords"),
        ai_summary=unwrap_abstract(ai_summary) if ai_summary else None,
        comments=f.count(obj, "numComments", "numComments"),
        submitter=_one_line(submitter),
    )
    # The day it was on the page: only `submittedOnDailyAt` says so for sure. The entry's own
    # `publishedAt` is the arXiv time in files from 2025-03 on (see _page_stamp).
    return entry, f.day(paper, "submittedOnDailyAt", "paper.submittedOnDailyAt")


def _page_stamp(obj: dict, paper: dict, f: _Fields) -> date | None:
    """The entry's `publishedAt` day when it is the time it was put on the page.

    Until early 2025 it was (`2024-05-27T03:50:58.348Z` in 2024-05-27.json); from 2025-03 on
    it is the arXiv time moved by a few hours (`...T04:36:55.000Z` beside the paper's
    `...T08:36:55.000Z`), which says nothing about the page. A last resort after the file name.
    """
    stamp, arxiv = obj.get("publishedAt"), paper.get("publishedAt")
    if not isinstance(stamp, str):
        return None
    if isinstance(arxiv, str) and len(stamp) > 13 and stamp[13:] == arxiv[13:]:
        return None
    return f.day(obj, "publishedAt", "publishedAt")


def _flat_entry(obj: dict, f: _Fields):
    title = f.text(obj, "title", "title")
    title = unwrap_title(title) if title else ""
    if not title:
        f.problem("no title; skipped")
        return None
    summary = f.text(obj, "abstract", "abstract")
    if summary is None:
        f.problem("no abstract")
    abstract = unwrap_abstract(summary) if summary else ""
    arxiv_id = f.text(obj, "arxiv_id", "arxiv_id")
    if arxiv_id is not None and not _ARXIV_ID.fullmatch(arxiv_id.strip()):
        f.problem(f"arxiv_id {arxiv_id[:40]!r} is not an arXiv id; left out")
        arxiv_id = None
    names = f.texts(obj, "authors", "authors")
    count = f.count(obj, "n_authors", "n_authors")
    if count is None and names:
        count = len(names)
    organization = f.text(obj, "organization", "organization")
    entry = Entry(
        title=title,
        abstract=abstract,
        line=f.index,
        authors=count,
        organization=_one_line(organization),
        published=f.day(obj, "published", "published"),
        upvotes=f.count(obj, "upvotes", "upvotes"),
        links=_links(abstract),
        arxiv_id=arxiv_id.strip() if arxiv_id else None,
        author_names=names,
        github=f.url(obj, "github", "github"),
    )
    return entry, f.day(obj, "digest_date", "digest_date")


# -- text -----------------------------------------------------------------------------------


def unwrap_title(title: str) -> str:
    """A title on one line: each wrap (a newline and the spaces around it) becomes a space."""
    if "\n" in title or "\r" in title:
        title = _TITLE_WRAP.sub(" ", title)
    return title.strip()


def unwrap_abstract(text: str) -> str:
    """Paragraphs separated by one blank line, each on one line; the rest byte for byte.

    In an arXiv abstract a plain newline is a wrap, and a blank line or a newline followed
    by an indent starts a paragraph (checked against the 31 API files and the 10k corpus).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" not in text:
        return text.strip()
    if "\n " not in text and " \n" not in text and "\n\n" not in text and "\t" not in text:
        return text.replace("\n", " ").strip()  # plain wraps, the common case
    # A loop over lines: a regex that may start at every space is five times slower.
    lines = text.split("\n")
    # Text indented throughout is indented, not a paragraph a line.
    indents = all(line[:1] in (" ", "\t") for line in lines if line.strip(" \t"))
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        stripped = line.strip(" \t")
        if current and (not stripped or (not indents and line[:1] in (" ", "\t"))):
            paragraphs.append(" ".join(current))
            current = []
        if stripped:
            current.append(stripped)
    if current:
        paragraphs.append(" ".join(current))
    return "\n\n".join(paragraphs)


def _links(abstract: str) -> tuple[str, ...]:
    """`find_links(abstract)`, run only over the words that can hold an address.

    find_links's case-blind regex costs as much as the rest of an entry. Every match holds
    "://" or a case form of "github.com/", which lowercases to "thub.com" whatever its "i";
    no match spans a space or a newline, and one at the start of a word matches the same
    at the start of a string (its look-behind sees neither a letter, "/" nor ".").
    """
    low = abstract.lower()
    if "://" not in abstract and "thub.com" not in low:
        return ()
    if len(low) != len(abstract):  # a character that lowercases to two: positions differ
        return find_links(abstract)
    spots = []
    for needle, hay in (("://", abstract), ("thub.com", low)):
        i = hay.find(needle)
        while i >= 0:
            spots.append(i)
            i = hay.find(needle, i + 1)
    spots.sort()
    words = []
    end = -1
    for at in spots:
        if at < end:
            continue
        start = max(abstract.rfind(" ", 0, at), abstract.rfind("\n", 0, at)) + 1
        space, newline = abstract.find(" ", at), abstract.find("\n", at)
        end = min(e for e in (space, newline, len(abstract)) if e >= 0)
        words.append(abstract[start:end])
    return find_links(" ".join(words))


def _clean(text: str) -> str:
    if _UNSAFE.search(text) is None:
        return text
    text = _SURROGATE.sub("\ufffd", text)
    return _UNSAFE.sub("", text)


def _one_line(text: str | None) -> str | None:
    if text is None:
        return None
    return " ".join(text.split()) or None


def _with_day(entry: Entry, day: date) -> Entry:
    # dataclasses.replace is five times slower, and the corpus calls this 10,000 times.
    return Entry(**{**entry.__dict__, "digest_date": day})


def _name_date(name: str) -> date | None:
    m = _NAME_DATE.search(Path(name).name)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


_KINDS = {str: "text", int: "a whole number", list: "a list", dict: "an object"}


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
