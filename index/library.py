"""The Whoosh index: its schema, opening it, and answering queries.

Every field a list or detail view needs is stored, so showing a result never re-reads a
digest file. Writing happens in `index.ingest`; this module only reads.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import qparser, query, sorting
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import DATETIME, ID, NUMERIC, STORED, TEXT, Schema

from index.models import Hit, Paper, Sighting

SCHEMA_VERSION = 1
INDEX_DIR = "index"
MANIFEST = "manifest.json"  # lives inside the index directory, so a rebuild swaps both

SORTS = ("relevance", "date", "upvotes", "title")
FIELD_ALIASES = {"org": "org", "organization": "org", "seen": "seen", "date": "date"}


class LibraryError(Exception):
    """A problem with the library the user can act on; the message says what to do."""


class QueryError(LibraryError):
    """A query that cannot be parsed."""


class LibraryBusy(LibraryError):
    """Another process is writing the library."""


def make_schema() -> Schema:
    # One analyzer instance: its stemming cache is shared by title and abstract.
    text = StemmingAnalyzer(cachesize=-1)
    return Schema(
        id=ID(unique=True, stored=True),
        title=TEXT(analyzer=text, stored=True, field_boost=2.0, spelling=True),
        abstract=TEXT(analyzer=text, stored=True),
        org=TEXT(stored=False),
        authors=NUMERIC(stored=False),
        published=DATETIME(sortable=True),
        date=DATETIME(sortable=True),
        first_seen=DATETIME(sortable=True),
        last_seen=DATETIME(sortable=True),
        seen=DATETIME(),
        upvotes=NUMERIC(sortable=True),
        title_key=ID(sortable=True),
        rec=STORED(),
    )


def paper_to_document(paper: Paper, extra: dict) -> dict:
    """The Whoosh document for a paper; `extra` holds per-digest metadata for merging."""
    doc = {
        "id": paper.id,
        "title": paper.title,
        "abstract": paper.abstract,
        "title_key": paper.title.casefold()[:200],
        "rec": {
            "authors": paper.authors,
            "org": paper.organization,
            "published": _iso(paper.published),
            "upvotes": paper.upvotes,
            "digests": [(s.file, _iso(s.date)) for s in paper.digests],
            "first_seen": _iso(paper.first_seen),
            "last_seen": _iso(paper.last_seen),
            "links": list(paper.links),
            **extra,
        },
        "upvotes": paper.upvotes or 0,
    }
    if paper.organization:
        doc["org"] = paper.organization
    if paper.authors is not None:
        doc["authors"] = paper.authors
    when = paper.published or paper.first_seen or paper.last_seen
    for name, value in (("published", paper.published), ("date", when),
                        ("first_seen", paper.first_seen), ("last_seen", paper.last_seen)):
        if value is not None:
            doc[name] = _dt(value)
    seen = sorted({s.date for s in paper.digests if s.date})
    if seen:
        doc["seen"] = [_dt(d) for d in seen]
    return doc


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
        digests=tuple(Sighting(f, _date(d)) for f, d in rec.get("digests", ())),
        first_seen=_date(rec.get("first_seen")),
        last_seen=_date(rec.get("last_seen")),
        links=tuple(rec.get("links", ())),
    )


@dataclass
class Results:
    """The documents a query matched, in order; papers are loaded only when asked for.

    Holds its searcher so that docnums stay valid while the library changes underneath.
    """

    docnums: list[int]
    scores: list[float | None]
    terms: frozenset[str]
    suggestion: str | None
    _searcher: object = field(repr=False, default=None)

    def __len__(self) -> int:
        return len(self.docnums)

    def paper(self, i: int) -> Paper:
        return document_to_paper(self._searcher.stored_fields(self.docnums[i]))

    def hit(self, i: int) -> Hit:
        return Hit(self.paper(i), self.scores[i], self.terms)

    def hits(self, limit: int | None = None) -> list[Hit]:
        n = len(self) if limit is None else min(limit, len(self))
        return [self.hit(i) for i in range(n)]


class Library:
    """A read-only view of the index in a data directory, with a long-lived searcher."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.path = self.home / INDEX_DIR
        self._ix = None
        self._searcher = None

    # -- opening ------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        return whoosh_index.exists_in(str(self.path))

    @property
    def ix(self):
        if self._ix is None:
            if not self.exists:
                raise LibraryError(
                    f"no library at {self.home} yet: add digests with `papers add PATH`"
                )
            try:
                self._ix = whoosh_index.open_dir(str(self.path))
            except Exception as exc:  # whoosh raises many kinds on a damaged index
                raise LibraryError(
                    f"the index at {self.path} cannot be opened ({exc.__class__.__name__}: "
                    f"{exc}); rebuild it with `papers index --rebuild`"
                ) from exc
        return self._ix

    def searcher(self):
        """The shared searcher, refreshed when another process has committed."""
        if self._searcher is None:
            self._searcher = self.ix.searcher()
        else:
            self._searcher = self._searcher.refresh()
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix = None

    def manifest(self) -> dict:
        try:
            return json.loads((self.path / MANIFEST).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    # -- queries ------------------------------------------------------------------------

    @cached_property
    def parser(self) -> qparser.QueryParser:
        schema = make_schema()
        parser = qparser.MultifieldParser(["title", "abstract"], schema)
        parser.add_plugin(qparser.FuzzyTermPlugin())
        parser.add_plugin(qparser.GtLtPlugin())
        parser.add_plugin(qparser.FieldAliasPlugin({"org": ["organization"],
                                                    "published": ["pub"]}))
        return parser

    def parse(self, text: str) -> query.Query:
        """Parse the Whoosh query language; raise QueryError with a readable reason."""
        reason = _syntax_problem(text)
        if reason:
            raise QueryError(reason)
        try:
            q = self.parser.parse(text)
        except Exception as exc:  # the parser's own failures are user errors here
            raise QueryError(f"cannot parse query {text!r}: {exc}") from exc
        errors = [getattr(sub, "error", None) for sub in q.leaves()] + [getattr(q, "error", None)]
        errors = [e for e in errors if e]
        if errors:
            raise QueryError(f"cannot parse query {text!r}: {errors[0]}")
        return q

    def search(
        self,
        text: str = "",
        *,
        sort: str = "relevance",
        limit: int | None = None,
        include: set[str] | None = None,
        exclude: set[str] | None = None,
    ) -> Results:
        """Run a query. No query text means every paper, newest first.

        `include` keeps only these paper ids, `exclude` drops them: that is how user-data
        filters (starred, tags, read) combine with a search.
        """
        if sort not in SORTS:
            raise QueryError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        s = self.searcher()
        text = text.strip()
        q = self.parse(text) if text else query.Every()
        if not text and sort == "relevance":
            sort = "date"
        kwargs: dict = {"limit": limit}
        if sort != "relevance":
            key = {"date": "date", "upvotes": "upvotes", "title": "title_key"}[sort]
            kwargs["sortedby"] = sorting.FieldFacet(key, reverse=sort != "title")
        if include is not None:
            kwargs["filter"] = self._docnums(include)
        if exclude:
            kwargs["mask"] = self._docnums(exclude)
        found = s.search(q, **kwargs)
        scored = sort == "relevance"
        docnums = [d for d in found.docs()] if limit is None else [h.docnum for h in found]
        scores = [h.score for h in found] if scored and limit is not None else None
        if scores is None:
            scores = [found.score(i) if scored else None for i in range(len(docnums))]
        terms = frozenset(t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
                          for f, t in q.existing_terms(s.reader(), expand=True)
                          if f in ("title", "abstract"))
        suggestion = None
        if not docnums and text:
            suggestion = self._suggest(s, q, text)
        return Results(docnums, scores, terms, suggestion, s)

    def _docnums(self, ids: set[str]) -> set[int]:
        s = self.searcher()
        out = set()
        for pid in ids:
            n = s.document_number(id=pid)
            if n is not None:
                out.add(n)
        return out

    def _suggest(self, s, q, text: str) -> str | None:
        try:
            corrected = s.correct_query(q, text)
        except Exception:  # a suggestion is a courtesy; never fail the search for it
            return None
        if corrected.query != q and corrected.string.strip() != text:
            return corrected.string
        return None

    # -- single papers ------------------------------------------------------------------

    def get(self, paper_id: str) -> Paper | None:
        stored = self.searcher().document(id=paper_id)
        return document_to_paper(stored) if stored else None

    def resolve(self, prefix: str) -> list[str]:
        """Every paper id that starts with `prefix` (case-insensitive)."""
        prefix = prefix.strip().lower()
        reader = self.searcher().reader()
        return [t.decode() if isinstance(t, bytes) else t
                for t in reader.expand_prefix("id", prefix)]

    def more_like(self, paper_id: str, top: int = 5, numterms: int = 12) -> list[Hit]:
        s = self.searcher()
        docnum = s.document_number(id=paper_id)
        if docnum is None:
            return []
        found = s.more_like(docnum, "abstract", top=top, numterms=numterms)
        return [Hit(document_to_paper(h.fields()), h.score) for h in found]

    def count(self) -> int:
        return self.searcher().doc_count() if self.exists else 0

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob("*") if p.is_file())


def highlight_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of `text` whose analysed form is one of the query's terms."""
    if not terms or not text:
        return []
    analyzer = _ANALYZER
    spans = []
    for token in analyzer(text, chars=True, removestops=False):
        if token.text in terms:
            spans.append((token.startchar, token.endchar))
    return spans


def remove_index(home: Path) -> None:
    shutil.rmtree(Path(home) / INDEX_DIR, ignore_errors=True)


_ANALYZER = StemmingAnalyzer(cachesize=-1)


def _syntax_problem(text: str) -> str | None:
    """Unbalanced quotes and brackets: Whoosh would silently guess, we say so instead."""
    if text.count('"') % 2:
        return "unbalanced quote (\") in query"
    depth = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    in_quote = False
    for ch in text:
        if ch == '"':
            in_quote = not in_quote
        elif in_quote:
            continue
        elif ch in depth:
            depth[ch] += 1
        elif ch in closing:
            depth[closing[ch]] -= 1
            if depth[closing[ch]] < 0:
                return f"unmatched {ch!r} in query"
    for opener, n in depth.items():
        if n:
            return f"unclosed {opener!r} in query"
    stripped = text.strip().rstrip(")")
    if stripped.endswith(":"):
        return f"field {stripped.split()[-1]!r} has nothing after it"
    return None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _date(s: str | None) -> date | None:
    return date.fromisoformat(s) if s else None


def _dt(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)
