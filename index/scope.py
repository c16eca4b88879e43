"""A scope: a view, the query typed over it, and an order. The one way to ask for papers.

The CLI (`find`, `export`, `save`) and the reader build a `Scope` and hand it to `search`
(results read lazily, for the reader's list) or `select` (papers with the user's marks,
for printing and export). Every view can be written as query text (`is:starred`,
`tag:x`, `digest:2025-03-18`, `month:2025-03`, a saved search's own query), so a view the
reader shows, exports or saves means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from papers.index.errors import NotFound, QueryError
from papers.index.query import plan_query
from papers.index.userdata import EMPTY, UserData

# The orders, in the order the reader's `o` cycles them; `date` is an older name of newest.
SORTS = ("relevance", "newest", "upvotes", "title")
_SORT_ALIASES = {"date": "newest", "most-upvoted": "upvotes"}


def sort_name(name: str) -> str:
    """The canonical name of a sort, or QueryError."""
    name = _SORT_ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in SORTS:
        raise QueryError(f"unknown sort {name!r}; choose one of {', '.join(SORTS)}")
    return name


@dataclass(frozen=True)
class View:
    """A part of the library the filter pane offers; `query` says it in the query language."""

    kind: str  # all | unread | starred | tag | saved | digest | month
    label: str
    query: str = ""


ALL = View("all", "All")
UNREAD = View("unread", "Unread", "is:unread")
STARRED = View("starred", "Starred", "is:starred")


def tag_view(tag: str) -> View:
    return View("tag", "#" + tag, f"tag:{_quoted(tag)}")


def saved_view(name: str, query: str) -> View:
    return View("saved", name, query)


def digest_view(path: str, day: str | None, same_day: int = 1) -> View:
    """A digest file's view: named by its day when no other digest has that day, else by
    its file name."""
    name = Path(path).name
    label = f"{day or '????-??-??'}  {name}"
    return View("digest", label, f"digest:{_quoted(day if day and same_day == 1 else name)}")


def month_view(month: str) -> View:
    return View("month", month, f"month:{month}")


def _quoted(value: str) -> str:
    return f'"{value}"' if any(c.isspace() or c in '()"' for c in value) else value


def combine(*parts: str) -> str:
    """Query texts that must all hold, as one query text."""
    parts = tuple(p.strip() for p in parts if p and p.strip())
    if len(parts) < 2:
        return parts[0] if parts else ""
    return " ".join(f"({p})" if " OR " in p or " or " in p else p for p in parts)


@dataclass(frozen=True)
class Scope:
    """A view, the query typed over it, and an order."""

    view: View = ALL
    text: str = ""
    sort: str = "relevance"

    @property
    def query(self) -> str:
        """The whole scope in the query language (what a saved search keeps)."""
        return combine(self.view.query, self.text)


def search(lib, userdata: UserData | None, scope: Scope, *, limit: int | None = None,
           suggest: bool = True, cancelled: Callable[[], bool] | None = None):
    """The papers of `scope` as `library.Results`, read lazily, in the scope's order."""
    plan = plan_query(scope.query, userdata, lib.manifest)
    return lib.search(plan.text, sort=sort_name(scope.sort), limit=limit,
                      include=plan.include, exclude=plan.exclude, suggest=suggest,
                      cancelled=cancelled)


@dataclass
class Selection:
    """Papers a scope selected, with what the user said about each, in order."""

    items: list  # list[ExportItem]
    scores: list[float | None]
    suggestion: str | None
    terms: frozenset[str]
    query: str
    _results: object = field(repr=False, default=None)
    _gone: int = 0

    @property
    def total(self) -> int:
        """Every match, beyond a limit too (counting them costs a pass: only when asked)."""
        return (self._results.total if self._results is not None else 0) + self._gone


def select(lib, userdata: UserData, scope: Scope, *, limit: int | None = None) -> Selection:
    """The papers of `scope` with each one's marks.

    A paper the user starred, tagged or annotated stays selectable after it disappears
    from every digest (from the snapshot the store remembered), flagged `gone`.
    """
    from papers.index.export import ExportItem

    plan = plan_query(scope.query, userdata, lib.manifest)
    results = lib.search(plan.text, sort=sort_name(scope.sort), limit=limit,
                         include=plan.include, exclude=plan.exclude) if lib.exists else None
    n = len(results) if results is not None else 0
    papers = [results.paper(i) for i in range(n)]
    scores = list(results.scores[:n]) if results is not None else []
    gone = []
    if plan.include is not None and not plan.text:
        for pid in sorted(plan.include - plan.exclude):
            snapshot = userdata.remembered(pid)
            if snapshot and not (lib.exists and lib.get(pid) is not None):
                gone.append(snapshot)
    states = userdata.states([p.id for p in papers] + [p.id for p in gone])
    items = [ExportItem(p, states.get(p.id, EMPTY)) for p in papers]
    items += [ExportItem(p, states.get(p.id, EMPTY), gone=True) for p in gone]
    scores += [None] * len(gone)
    if limit is not None:
        items, scores = items[:limit], scores[:limit]
    return Selection(items, scores, results.suggestion if results is not None else None,
                     results.terms if results is not None else frozenset(), scope.query,
                     results, len(gone))


def saved_scope(userdata: UserData, name: str, text: str = "", sort: str = "relevance"):
    """The scope of a saved search, narrowed by `text`; NotFound when there is none."""
    search_ = userdata.saved(name)
    if search_ is None:
        raise NotFound(f"no saved search named {name!r}; `papers saved` lists them")
    return Scope(saved_view(search_.name, search_.query), text, sort)
