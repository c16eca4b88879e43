"""The index's disk format: the Whoosh schema and its version, and paper <-> document.

Only Whoosh's own field types are used, and the index is always opened with the schema made
here rather than the one Whoosh pickled into its table of contents, so renaming or moving a
module of ours can never make an index unreadable. What the schema cannot say (how a
document's stored record is laid out) is versioned by SCHEMA_VERSION, kept in the manifest.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import date, timedelta
from pathlib import Path

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import index as whoosh_index
from whoosh import query
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemmingAnalyzer,
)
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from papers.index.models import Paper, Sighting

# 4: Whoosh's NUMERIC for days instead of a field class of ours pickled in the index.
# 5: what the Daily Papers JSON tells: arXiv id, authors, code, project, AI keywords.
SCHEMA_VERSION = 5
INDEX_DIR = "index"
TOC_GLOB = "_MAIN_*.toc"  # Whoosh's table of contents: an index has one per generation
DAY_FIELDS = ("published", "seen")  # days since 1970, one term per day


def _dumps(obj, protocol=None) -> bytes:
    return pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)


# Whoosh's W3 codec pickles each block of postings with protocol 2, where every bytes
# object (a posting's positions) goes through `_codecs.encode`: protocol 5 writes them as
# they are, which makes the index a quarter smaller and its blocks quicker to read. Any
# protocol reads back the same, so indexes written before read as ever.
whoosh3.dumps = _dumps


def make_schema() -> Schema:
    # One analyzer instance: its stemming cache is shared by title and abstract.
    text = StemmingAnalyzer(cachesize=-1)
    return Schema(
        id=ID(unique=True, stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=2.0, spelling=True),
        abstract=TEXT(analyzer=text, stored=True),
        org=TEXT(stored=False),
        # Names folded for case and accents: `author:"tomas pfister"` finds Tomás Pfister.
        author=TEXT(analyzer=RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)),
        arxiv=ID(),
        kw=TEXT(analyzer=text),  # the AI keywords
        has=KEYWORD(lowercase=True),  # what a paper links to: code, project

        authors=_small_int(),
        upvotes=_small_int(),
        # Whoosh's DATETIME indexes eight tiered terms per value at microsecond precision;
        # papers only need days, and one term per value halves the cost of indexing.
        published=_small_int(),
        seen=_small_int(),  # every digest date, so `seen:[...]` finds any sighting
        # Sort keys are columns only: no postings to write for them.
        sort_date=COLUMN(NumericColumn("i")),
        sort_upvotes=COLUMN(NumericColumn("i")),
        sort_title=COLUMN(VarBytesColumn()),
        rec=STORED(),
    )


def _small_int() -> NUMERIC:
    return NUMERIC(int, bits=32, signed=False, shift_step=0)


# -- opening ----------------------------------------------------------------------------


def index_exists(index_dir: Path) -> bool:
    """A table of contents is there (readable or not)."""
    return any(Path(index_dir).glob(TOC_GLOB))


def open_index(index_dir: Path):
    """The Whoosh index at `index_dir`, read with this version's schema."""
    return whoosh_index.open_dir(str(index_dir), schema=make_schema())


def create_index(index_dir: Path):
    return whoosh_index.create_in(str(index_dir), make_schema())


def stored_schema_problem(index_dir: Path) -> str | None:
    """Why the index at `index_dir` was written with another schema, or None.

    Loads the schema Whoosh pickled in the table of contents: an index of an older papers
    may name field classes that no longer exist. Any other failure is damage, and raises.
    """
    try:
        stored = whoosh_index.open_dir(str(index_dir)).schema
    except (ImportError, AttributeError) as exc:
        return f"its schema cannot be loaded ({exc.__class__.__name__}: {exc})"
    if _fingerprint(stored) != _fingerprint(make_schema()):
        return "its fields differ from this version's"
    return None


def _fingerprint(schema: Schema) -> list[tuple[str, str]]:
    return sorted((name, f"{type(field).__module__}.{type(field).__qualname__}")
                  for name, field in schema.items())


# -- documents --------------------------------------------------------------------------


@dataclass(frozen=True)
class SightingRow:
    """One digest a paper was seen in, with the metadata that digest gave it. Stored as a
    list, in this field order, in the document's record: merging reads them back."""

    file: str  # absolute path
    date: str  # the digest's day, ISO; "" when unknown
    authors: int | None = None
    organization: str | None = None
    published: str | None = None  # ISO
    upvotes: int | None = None  # as that digest counted them
    # From Daily Papers JSON only.
    arxiv_id: str | None = None
    author_names: tuple[str, ...] = ()
    github: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    keywords: tuple[str, ...] = ()
    ai_summary: str | None = None
    comments: int | None = None
    submitter: str | None = None

    @classmethod
    def from_row(cls, row: Sequence) -> SightingRow:
        """A stored row; rows written before a field existed end before it."""
        values = list(row[:len(_ROW_FIELDS)])
        for i in _TUPLE_FIELDS:
            if i < len(values):
                values[i] = tuple(values[i] or ())
        return cls(*values)

    def to_row(self) -> list:
        return list(astuple(self))


_ROW_FIELDS = [f.name for f in fields(SightingRow)]
_TUPLE_FIELDS = [i for i, f in enumerate(fields(SightingRow)) if f.type.startswith("tuple")]


def paper_to_document(paper: Paper, sightings: Sequence[SightingRow], text_date: str) -> dict:
    """The Whoosh document for a paper. `sightings` (every digest it was seen in) and
    `text_date` (the day of the digest its text came from) are what merging needs later."""
    doc = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        **sort_values(paper),
        "rec": {
            "authors": paper.authors,
            "org": paper.organization,
            "published": _iso(paper.published),
            "upvotes": paper.upvotes,
            "first_seen": _iso(paper.first_seen),
            "last_seen": _iso(paper.last_seen),
            "links": list(paper.links),
            "arxiv_id": paper.arxiv_id,
            "author_names": list(paper.author_names),
            "github": paper.github,
            "github_stars": paper.github_stars,
            "project_page": paper.project_page,
            "keywords": list(paper.keywords),
            "ai_summary": paper.ai_summary,
            "comments": paper.comments,
            "submitter": paper.submitter,
            "sightings": [s.to_row() for s in sightings],
            "text_date": text_date,
        },
    }
    if paper.organization:
        doc["org"] = paper.organization
    if paper.author_names:
        doc["author"] = ", ".join(paper.author_names)
    if paper.arxiv_id:
        doc["arxiv"] = paper.arxiv_id
    if paper.keywords:
        doc["kw"] = ", ".join(paper.keywords)
    has = [name for name, there in (("code", paper.github), ("project", paper.project_page))
           if there]
    if has:
        doc["has"] = " ".join(has)
    if paper.authors is not None:
        doc["authors"] = paper.authors
    if paper.upvotes is not None:
        doc["upvotes"] = paper.upvotes
    if paper.published is not None:
        doc["published"] = max(0, day_number(paper.published))
    seen = sorted({max(0, day_number(s.date)) for s in paper.digests if s.date})
    if seen:
        doc["seen"] = seen
    return doc


def sort_values(paper: Paper) -> dict:
    """The paper's sort columns, as the index holds them."""
    when = paper.published or paper.first_seen or paper.last_seen
    return {
        "sort_title": paper.title.casefold()[:200].encode("utf-8"),
        "sort_date": max(0, day_number(when)) if when else 0,
        "sort_upvotes": paper.upvotes or 0,
    }


def document_to_paper(stored: dict) -> Paper:
    rec = stored.get("rec") or {}
    return Paper(
        id=stored["id"],
        title=stored.get("title", ""),
        abstract=stored.get("abstract", ""),
        authors=rec.get("authors"),
        organization=rec.get("org"),
        published=_date(rec.get("published")),
        upvotes=rec.get("upvotes"),
        digests=tuple(Sighting(s.file, _date(s.date)) for s in sightings_of(stored)),
        first_seen=_date(rec.get("first_seen")),
        last_seen=_date(rec.get("last_seen")),
        links=tuple(rec.get("links", ())),
        arxiv_id=rec.get("arxiv_id"),
        author_names=tuple(rec.get("author_names") or ()),
        github=rec.get("github"),
        github_stars=rec.get("github_stars"),
        project_page=rec.get("project_page"),
        keywords=tuple(rec.get("keywords") or ()),
        ai_summary=rec.get("ai_summary"),
        comments=rec.get("comments"),
        submitter=rec.get("submitter"),
    )


def sightings_of(stored: dict) -> list[SightingRow]:
    return [SightingRow.from_row(row) for row in (stored.get("rec") or {}).get("sightings", ())]


def text_date_of(stored: dict) -> str:
    return (stored.get("rec") or {}).get("text_date") or ""


# -- days -------------------------------------------------------------------------------

_EPOCH = date(1970, 1, 1)
_DAY_TEXT = re.compile(r"^(\d{4})(?:[-/.]?(\d{1,2})(?:[-/.]?(\d{1,2}))?)?$")


def day_number(d: date | str) -> int:
    """A day as the index stores it: days since 1970."""
    return ((date.fromisoformat(d) if isinstance(d, str) else d) - _EPOCH).days


def day_span(text: str) -> tuple[int, int]:
    """`2024` -> first and last day of 2024; `2024-06` -> of June; `2024-06-01` -> that day
    (dashes, slashes, dots or nothing between the parts)."""
    from whoosh.qparser.common import QueryParserError

    m = _DAY_TEXT.match(text.strip().strip("'\""))
    if not m:
        raise QueryParserError(f"{text!r} is not a date (use 2024, 2024-06 or 2024-06-01)")
    year, month, day = int(m[1]), m[2] and int(m[2]), m[3] and int(m[3])
    try:
        if day:
            first = last = date(year, month, day)
        elif month:
            first = date(year, month, 1)
            last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
        else:
            first, last = date(year, 1, 1), date(year, 12, 31)
    except ValueError:
        raise QueryParserError(f"{text!r} is not a valid date") from None
    return day_number(first), day_number(last)


def __getattr__(name: str):
    # The query parser's plugin: built on first use, so that opening the index (every
    # `papers find` of plain words) never imports Whoosh's query parser.
    if name == "DayPlugin":
        globals()["DayPlugin"] = plugin = _day_plugin()
        return plugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _day_plugin():
    from whoosh.qparser import PseudoFieldPlugin, syntax

    class _DayRange(syntax.SyntaxNode):
        """A span of days in a day field, as the query parser's tree holds it."""

        has_fieldname = True
        has_boost = True

        def __init__(self, fieldname: str, low: int | None, high: int | None,
                     startexcl: bool = False, endexcl: bool = False) -> None:
            self.fieldname, self.low, self.high = fieldname, low, high
            self.startexcl, self.endexcl = startexcl, endexcl
            self.boost = 1.0

        def r(self) -> str:
            return f"{self.fieldname}:days[{self.low} {self.high}]"

        def query(self, parser):
            if self.low is None and self.high is None:
                return query.Every(self.fieldname, boost=self.boost)
            # Days are stored from 1970 on (an earlier one as 1970-01-01): a span before it
            # matches nothing, one that starts before it starts there.
            if self.high is not None and (self.high < 0 or (self.high == 0 and self.endexcl)):
                return query.NullQuery
            before = self.low is not None and self.low < 0
            return query.NumericRange(self.fieldname, 0 if before else self.low, self.high,
                                      self.startexcl and not before, self.endexcl,
                                      boost=self.boost)

    def _days(fieldname: str):
        def transform(node):
            if isinstance(node, syntax.GroupNode):  # published:(2024 OR 2025)
                group = node.empty_copy()
                for child in node:
                    group.append(transform(child) if child.has_text or
                                 isinstance(child, syntax.RangeNode) else child)
                return group
            if isinstance(node, syntax.RangeNode):
                # `>2024` is after all of 2024, `<2024-06` before all of June.
                low = day_span(node.start)[1 if node.startexcl else 0] if node.start else None
                high = day_span(node.end)[0 if node.endexcl else 1] if node.end else None
                return _DayRange(fieldname, low, high, node.startexcl, node.endexcl)
            if node.has_text:
                first, last = day_span(node.text)
                return _DayRange(fieldname, first, last)
            return node

        return transform

    class DayPlugin(PseudoFieldPlugin):
        """Query-parser plugin: days in `published:` and `seen:` as a day, month or year, or
        a range of them (`published:2024-06`, `seen:[2025-12-01 to]`,
        `published:>2025-01-15`)."""

        def __init__(self) -> None:
            super().__init__({name: _days(name) for name in DAY_FIELDS})

        def filters(self, parser):
            # After GtLtPlugin (99) has made `>x` a range, before fields are assigned (100).
            return [(self.do_pseudofield, 99.5)]

    return DayPlugin


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _date(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None
