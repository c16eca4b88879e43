"""The data types shared by the parser, the library, the user-data store and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Sighting:
    """One digest file a paper was seen in."""

    file: str  # absolute path
    date: date | None

    def to_json(self) -> dict:
        return {"file": self.file, "date": _iso(self.date)}


@dataclass(frozen=True)
class Paper:
    """A paper as the library stores it: the merge of every digest entry with its identity."""

    id: str
    title: str
    abstract: str
    authors: int | None = None
    organization: str | None = None
    published: date | None = None
    upvotes: int | None = None
    digests: tuple[Sighting, ...] = ()
    first_seen: date | None = None
    last_seen: date | None = None
    links: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The JSON object `papers find --json` and `papers show --json` print (without score)."""
        return {
            "id": self.id,
            "title": self.title,
            "abstract": self.abstract,
            "authors": self.authors,
            "organization": self.organization,
            "published": _iso(self.published),
            "upvotes": self.upvotes,
            "digests": [s.to_json() for s in self.digests],
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "links": list(self.links),
        }


@dataclass(frozen=True)
class Problem:
    """Something wrong in a digest file, reported with where it is."""

    file: str
    line: int
    message: str

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "message": self.message}

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Hit:
    """A search result: the paper, its score, and the query terms to highlight."""

    paper: Paper
    score: float | None = None
    terms: frozenset[str] = field(default_factory=frozenset)


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None
