"""User-data filters inside the query language: `is:starred`, `is:unread`, `tag:NAME`.

Stars, tags and read marks live in SQLite, not in Whoosh, so these terms are taken out
of the query text and become sets of paper ids that the search keeps or drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.userdata import EMPTY, UserData

_FILTER = re.compile(r'(?<![^\s(])(?P<neg>-|NOT\s+)?(?P<key>is|tag):(?P<val>"[^"]*"|[^\s()]+)',
                     re.IGNORECASE)
IS_VALUES = ("starred", "unstarred", "read", "unread")


class FilterError(ValueError):
    """A user-data filter the query language does not know."""


@dataclass
class Plan:
    """What to ask Whoosh (`text`) and which paper ids to keep or drop."""

    text: str
    include: set[str] | None = None
    exclude: set[str] = field(default_factory=set)

    def keep(self, ids: set[str]) -> None:
        self.include = set(ids) if self.include is None else self.include & ids


def plan_query(text: str, userdata: UserData | None, *, starred: bool = False,
               unread: bool = False, tags: tuple[str, ...] = ()) -> Plan:
    """Split user-data filters out of `text`; options add the same filters."""
    terms: list[tuple[bool, str, str]] = []

    def take(m: re.Match) -> str:
        terms.append((bool(m["neg"]), m["key"].lower(), m["val"].strip('"')))
        return " "

    rest = _FILTER.sub(take, text)
    rest = re.sub(r"^\s*(AND|OR)\b|\b(AND|OR|NOT)\s*$", "", " ".join(rest.split())).strip()
    terms += [(False, "is", "starred")] * starred + [(False, "is", "unread")] * unread
    terms += [(False, "tag", t) for t in tags]
    plan = Plan(rest)
    if not terms:
        return plan
    if userdata is None:
        raise FilterError("filters on stars, tags and read marks need the user data store")
    for negated, key, value in terms:
        if key == "tag":
            ids, positive = userdata.tagged_ids(value), not negated
        else:
            value = value.lower()
            if value not in IS_VALUES:
                raise FilterError(f"unknown filter is:{value}; use one of "
                                  + ", ".join(f"is:{v}" for v in IS_VALUES))
            base = value.removeprefix("un")
            ids = userdata.starred_ids() if base == "starred" else userdata.read_ids()
            positive = (value == base) != negated
        if positive:
            plan.keep(ids)
        else:
            plan.exclude |= ids
    return plan


@dataclass
class Selection:
    """Papers a query selected, with what the user said about each, in order."""

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


def select(lib, userdata: UserData, text: str = "", *, sort: str = "relevance",
           limit: int | None = None, starred: bool = False, unread: bool = False,
           tags: tuple[str, ...] = (), saved: str | None = None) -> Selection:
    """Run a query with its user-data filters and attach each paper's state.

    A paper the user starred, tagged or annotated stays selectable after it disappears
    from every digest (from the snapshot the store remembered), flagged `gone`.
    """
    from index.export import ExportItem
    from index.userdata import paper_from_json

    if saved:
        search = userdata.saved(saved)
        if search is None:
            raise FilterError(f"no saved search named {saved!r}; `papers saved` lists them")
        text = f"({search.query}) {text}".strip() if text.strip() else search.query
    plan = plan_query(text, userdata, starred=starred, unread=unread, tags=tags)
    results = lib.search(plan.text, sort=sort, limit=limit, include=plan.include,
                         exclude=plan.exclude) if lib.exists else None
    n = len(results) if results is not None else 0
    papers = [results.paper(i) for i in range(n)]
    scores = list(results.scores[:n]) if results is not None else []
    gone = []
    if plan.include is not None and not plan.text:
        for pid in sorted(plan.include - plan.exclude):
            snapshot = userdata.remembered(pid)
            if snapshot and not (lib.exists and lib.get(pid) is not None):
                gone.append(paper_from_json(snapshot))
    states = userdata.states([p.id for p in papers] + [p.id for p in gone])
    items = [ExportItem(p, states.get(p.id, EMPTY)) for p in papers]
    items += [ExportItem(p, states.get(p.id, EMPTY), gone=True) for p in gone]
    scores += [None] * len(gone)
    if limit is not None:
        items, scores = items[:limit], scores[:limit]
    return Selection(items, scores, results.suggestion if results is not None else None,
                     results.terms if results is not None else frozenset(), text, results,
                     len(gone))
