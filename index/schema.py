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
from dataclasses import dataclass, fields
from datetime import date, timedelta
from operator import attrgetter
from pathlib import Path

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
import whoosh.codec as whoosh_codec
from whoosh import index as whoosh_index
from whoosh import query
from whoosh.analysis import (
    StemmingAnalyzer,
)
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from papers.index import authors
from papers.index.models import Paper, Sighting, json_metadata

# 4: Whoosh's NUMERIC for days instead of a field class of ours pickled in the index.
# 5: what the Daily Papers JSON tells: arXiv id, authors, code, project, AI keywords.
# 6: each digest's metadata stored once (sightings point at it); the `sort_rising` column.
# 7: author names in a column instead of a field's terms; rare terms' postings inlined.
SCHEMA_VERSION = 7
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

# A term in a few documents (a name, an id, a rare word: most of an index's terms) keeps its
# postings inside its row of the term table, as W3's `inlinelimit` provides, instead of a
# compressed block of its own in the postings file: no block to pack and compress when
# writing, no second read when searching. Whoosh reads such rows whatever the limit it was
# given, so indexes written before (no term inlined) and after read alike. Its writer calls
# the setter by a name W3TermInfo lacks, so Whoosh's own path could never inline; the alias
# lets it write what index.whooshwriter writes (tests/test_ingest.py compares the bytes).
INLINE_LIMIT = 8  # a term's postings are inlined when it has fewer than this many
whoosh3.W3TermInfo.set_inline = whoosh3.W3TermInfo.set_inlined


def _codec(*args, **kwargs):
    kwargs.setdefault("inlinelimit", INLINE_LIMIT)
    return whoosh3.W3Codec(*args, **kwargs)


whoosh_codec.default_codec = _codec


def make_schema() -> Schema:
    # One analyzer instance: its stemming cache is shared by title and abstract.
    text = StemmingAnalyzer(cachesize=-1)
    return Schema(
        id=ID(unique=True, stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=2.0, spelling=True),
        abstract=TEXT(analyzer=text, stored=True),
        org=TEXT(stored=False),
        # `author:` is parsed as a text field and matched against a column, never indexed
        # (see index.authors): `author:"tomas pfister"` finds Tomás Pfister.
        author=TEXT(analyzer=authors.ANALYZER),
        author_names=COLUMN(VarBytesColumn()),
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
        sort_rising=COLUMN(NumericColumn("f")),  # upvotes gained per day: see rising()
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
    """One digest a paper was seen in, with the metadata that digest gave it: what merging
    works with. The document stores what differs per digest (file, day, upvotes) in one row
    per sighting, and each distinct set of the other fields once, in `metas`: a paper seen
    in five digests that agree keeps its authors and keywords once, not six times."""

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


# What a digest says of a paper besides its file, day and upvotes: stored once per distinct
# set, in this order.
META_FIELDS = tuple(f.name for f in fields(SightingRow)
                    if f.name not in ("file", "date", "upvotes"))
_META_OF = attrgetter(*META_FIELDS)
_TUPLES = frozenset(i for i, f in enumerate(META_FIELDS)
                    if SightingRow.__dataclass_fields__[f].type.startswith("tuple"))
_UNKNOWN = (None, (), [])


def paper_from_rows(pid: str, title: str, abstract: str, rows: Sequence[SightingRow],
                    links: Sequence[str] = ()) -> Paper:
    """The paper its sightings make, `rows` ordered by (day, file): each field is the newest
    digest's value, or the newest before it that had one (so removing a digest restores
    what the one before it said)."""
    found: dict[str, object] = {}
    upvotes = None
    for row in reversed(rows):
        if upvotes is None:
            upvotes = row.upvotes
        if len(found) < len(META_FIELDS):
            for name, value in zip(META_FIELDS, _META_OF(row), strict=True):
                if name not in found and value not in _UNKNOWN:
                    found[name] = value
    days = [r.date for r in rows if r.date]
    published = found.get("published")
    return Paper(
        id=pid, title=title, abstract=abstract,
        authors=found.get("authors"),
        organization=found.get("organization"),
        published=date.fromisoformat(published) if published else None,
        upvotes=upvotes,
        digests=tuple(Sighting(r.file, _date(r.date)) for r in rows),
        first_seen=_date(min(days)) if days else None,
        last_seen=_date(max(days)) if days else None,
        links=tuple(links),
        **json_metadata(found),
    )


def rising(rows: Sequence[SightingRow]) -> float:
    """Upvotes gained per day between the first and the last sighting that counted them
    (`rows` ordered by day); 0 for a paper seen on one day only."""
    counted = [(r.date, r.upvotes) for r in rows if r.date and r.upvotes is not None]
    if len(counted) < 2:
        return 0.0
    (first, before), (last, after) = counted[0], counted[-1]
    days = day_number(last) - day_number(first)
    return (after - before) / days if days > 0 else 0.0


def paper_to_document(paper: Paper, sightings: Sequence[SightingRow], text_date: str) -> dict:
    """The Whoosh document for a paper. `sightings` (every digest it was seen in, ordered by
    day) and `text_date` (the day of the digest its text came from) are what merging needs
    later; the paper's own metadata is what `paper_from_rows` makes of them."""
    metas: dict[tuple, int] = {}
    rows = []
    for s in sightings:
        meta = _META_OF(s)
        rows.append((s.file, s.date, s.upvotes, metas.setdefault(meta, len(metas))))
    doc = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        **sort_values(paper),
        "sort_rising": rising(sightings),
        "rec": {
            "links": list(paper.links),
            "sightings": rows,
            "metas": list(metas),
            "text_date": text_date,
        },
    }
    if paper.organization:
        doc["org"] = paper.organization
    if paper.author_names:
        doc[authors.COLUMN] = authors.column_value(paper.author_names)
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
    """The paper's sort columns that the paper alone decides, as the index holds them
    (`sort_rising` needs its sightings: see `rising`)."""
    when = paper.published or paper.first_seen or paper.last_seen
    return {
        "sort_title": paper.title.casefold()[:200].encode("utf-8"),
        "sort_date": max(0, day_number(when)) if when else 0,
        "sort_upvotes": paper.upvotes or 0,
    }


def document_to_paper(stored: dict) -> Paper:
    rec = stored.get("rec") or {}
    return paper_from_rows(stored["id"], stored.get("title", ""), stored.get("abstract", ""),
                           sightings_of(stored), rec.get("links", ()))


def sightings_of(stored: dict) -> list[SightingRow]:
    rec = stored.get("rec") or {}
    metas = [_meta_dict(m) for m in rec.get("metas", ())]
    return [SightingRow(file, day, upvotes=upvotes, **metas[meta])
            for file, day, upvotes, meta in rec.get("sightings", ())]


def _meta_dict(meta: Sequence) -> dict:
    return {name: tuple(v or ()) if i in _TUPLES else v
            for i, (name, v) in enumerate(zip(META_FIELDS, meta, strict=True))}


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
