"""The data types shared by the parser, the library, the user-data store and export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote_plus


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
    links: tuple[str, ...] = ()  # URLs found in the abstract: about the paper, not the paper
    # What the Daily Papers JSON tells and a saved page does not.
    arxiv_id: str | None = None
    author_names: tuple[str, ...] = ()
    github: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    keywords: tuple[str, ...] = ()  # the AI keywords
    ai_summary: str | None = None
    comments: int | None = None
    submitter: str | None = None

    @property
    def url(self) -> str:
        """The paper's own page: on arXiv when its id is known, else arXiv's title search."""
        if self.arxiv_id:
            return f"https://arxiv.org/abs/{self.arxiv_id}"
        return ("https://arxiv.org/search/?query=" + quote_plus(" ".join(self.title.split()))
                + "&searchtype=title")

    @property
    def pdf_url(self) -> str | None:
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else None

    @property
    def hf_url(self) -> str | None:
        return f"https://huggingface.co/papers/{self.arxiv_id}" if self.arxiv_id else None

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
            "url": self.url,
            "arxiv_id": self.arxiv_id,
            "author_names": list(self.author_names),
            "github": self.github,
            "github_stars": self.github_stars,
            "project_page": self.project_page,
            "keywords": list(self.keywords),
            "ai_summary": self.ai_summary,
            "comments": self.comments,
            "submitter": self.submitter,
        }

    @classmethod
    def from_json(cls, d: dict) -> Paper:
        """The paper `to_json` described (a snapshot the user-data store kept, say); keys a
        snapshot from an older papers lacks are unknown."""

        def day(v: str | None) -> date | None:
            return date.fromisoformat(v) if v else None

        return cls(
            id=d["id"],
            title=d["title"],
            abstract=d.get("abstract") or "",
            authors=d.get("authors"),
            organization=d.get("organization"),
            published=day(d.get("published")),
            upvotes=d.get("upvotes"),
            digests=tuple(Sighting(s["file"], day(s.get("date")))
                          for s in d.get("digests") or ()),
            first_seen=day(d.get("first_seen")),
            last_seen=day(d.get("last_seen")),
            links=tuple(d.get("links") or ()),
            **json_metadata(d),
        )


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


def json_metadata(d: dict) -> dict:
    """The fields Daily Papers JSON adds to a paper, as `Paper` takes them, from a mapping
    keyed by their JSON names (a paper's JSON, or what its sightings said)."""
    return {
        "arxiv_id": d.get("arxiv_id"),
        "author_names": tuple(d.get("author_names") or ()),
        "github": d.get("github"),
        "github_stars": d.get("github_stars"),
        "project_page": d.get("project_page"),
        "keywords": tuple(d.get("keywords") or ()),
        "ai_summary": d.get("ai_summary"),
        "comments": d.get("comments"),
        "submitter": d.get("submitter"),
    }
