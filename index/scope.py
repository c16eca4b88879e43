"""A scope: a view, the query typed over it, and an order. The one way to ask for papers.

The CLI (`find`, `export`, `save`) and the reader build a `Scope` and hand it to `search`
(results read lazily, for the reader's list) or `select` (papers with the user's marks,
for printing and export). Every view can be written as query text (`is:starred`,
`tag:x`, `digest:2025-03-18`, `month:2025-03`, a saved search's own query), so a view the
reader shows, exports or saves means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from papers.index.errors import NotFound, QueryError
from papers.index.query import ME, Plan, new_since, plan_query
from papers.index.userdata import EMPTY, UserData

# The orders, in the order the reader's `o` cycles them; `date` is an older name of newest.
# foryou: by the taste learned from the stars (or the `for:` tag); rising: by upvotes gained
# per day between a paper's first and last digest.
SORTS = ("relevance", "newest", "upvotes", "title", "foryou", "rising")
_SORT_ALIASES = {"date": "newest", "most-upvoted": "upvotes", "for-you": "foryou"}
RISING_DAYS = 7


def sort_name(name: str) -> str:
    """The canonical name of a sort, or QueryError."""
    name = _SORT_ALIASES.get(name.strip().lower(), name.strip().lower())
    if name not in SORTS:
        raise QueryError(f"unknown sort {name!r}; choose one of {', '.join(SORTS)}")
    return name


@dataclass(frozen=True)
class View:
    """A part of the library the filter pane offers; `query` says it in the query language."""

    kind: str  # all | unread | starred | tag | saved | digest | month | foryou | new | rising
    label: str
    query: str = ""
    sort: str | None = None  # the order it shows when none is asked for


ALL = View("all", "All")
UNREAD = View("unread", "Unread", "is:unread")
STARRED = View("starred", "Starred", "is:starred")
FOR_YOU = View("foryou", "For you", "for:me", "foryou")
NEW = View("new", "New", "is:new")


def tag_view(tag: str) -> View:
    return View("tag", "#" + tag, f"tag:{_quoted(tag)}")


def for_view(tag: str) -> View:
    """The papers like the ones carrying `tag`, best first."""
    return View("foryou", f"For you: #{tag}", f"for:{_quoted(tag)}", "foryou")


def rising_view(manifest, today: date | None = None) -> View:
    """Rising this week: the papers of the library's last week of digests (up to today),
    by upvotes gained per day. `manifest` is the library's `Manifest`."""
    today = today or date.today()
    days = [d for rec in manifest.files.values()
            if rec.date and (d := date.fromisoformat(rec.date)) <= today]
    end = max(days, default=today)
    start = end - timedelta(days=RISING_DAYS - 1)
    return View("rising", "Rising this week", f"seen:[{start.isoformat()} to {end.isoformat()}]",
                "rising")


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


class Untaught(NotFound):
    """A taste asked for with nothing to learn it from: says how to teach it."""


def search(lib, userdata: UserData | None, scope: Scope, *, limit: int | None = None,
           suggest: bool = True, cancelled: Callable[[], bool] | None = None,
           today: date | None = None):
    """The papers of `scope` as `library.Results`, read lazily, in the scope's order.
    `today` (default: the real one) decides which snoozes have run out."""
    return _run(lib, userdata, scope, _plan(lib, userdata, scope, today), limit, suggest,
                cancelled, today)


def _plan(lib, userdata: UserData | None, scope: Scope, today: date | None) -> Plan:
    return plan_query(scope.query, userdata, lib.manifest, today=today,
                      muted=lambda: muted_ids(lib, userdata))


def order(scope: Scope, plan: Plan | None = None) -> str:
    """The order the scope's papers come in: the one asked for, or, for "relevance" with
    nothing to be relevant to, the view's own (For you ranks by taste, whatever is typed)."""
    sort = sort_name(scope.sort)
    if sort != "relevance":
        return sort
    taste = plan.taste if plan is not None else None
    if taste is not None or scope.view.sort == "foryou":
        return "foryou"
    if scope.view.sort and not scope.text.strip():
        return scope.view.sort
    return sort


def _run(lib, userdata, scope: Scope, plan: Plan, limit, suggest, cancelled, today):
    sort = order(scope, plan)
    hide = plan.hide or sort == "foryou"
    if hide and userdata is not None:
        plan.exclude |= userdata.skipped_ids() | userdata.snoozed_ids(today or date.today())
    if sort == "foryou":
        return _for_you(lib, userdata, plan, limit, suggest, cancelled)
    muted = _muted_docnums(lib, userdata) if hide else set()
    results = lib.search(plan.text, sort=sort, limit=None if muted else limit,
                         include=plan.include, exclude=plan.exclude, suggest=suggest,
                         cancelled=cancelled)
    return _keep(results, lambda d: d not in muted, limit) if muted else results


def _for_you(lib, userdata, plan: Plan, limit, suggest, cancelled):
    taste = _taste(lib, userdata, plan.taste)
    results = lib.search(plan.text, sort="newest", include=plan.include, exclude=plan.exclude,
                         suggest=suggest, cancelled=cancelled)
    muted = _muted_docnums(lib, userdata)
    docs = [d for d in results.docnums if d not in muted]
    scores = taste.scores(lib, docs)
    # Unrelated papers are not "for you"; ties stay newest first (a stable sort).
    ranked = sorted((d for d in docs if scores.get(d, 0) > 0), key=lambda d: -scores[d])
    kept = ranked[:limit] if limit is not None else ranked
    return replace(results, docnums=kept, scores=[scores[d] for d in kept], _found=None,
                   _total=len(ranked))


def _taste(lib, userdata, tag: str | None):
    from papers.index import foryou

    if userdata is None:
        raise QueryError("For you learns from your marks: it needs the user data store")
    taste = foryou.learn(lib, userdata, None if tag in (None, ME) else tag)
    if taste is None:
        raise Untaught(foryou.HOW_TO_TEACH if tag in (None, ME) else
                       f"no papers tagged {tag!r} to learn from; tag a few first")
    return taste


def _keep(results, wanted: Callable[[int], bool], limit: int | None):
    pairs = [(d, s) for d, s in zip(results.docnums, results.scores, strict=True) if wanted(d)]
    kept = pairs[:limit] if limit is not None else pairs
    return replace(results, docnums=[d for d, _ in kept], scores=[s for _, s in kept],
                   _found=None, _total=len(pairs))


def _muted_docnums(lib, userdata: UserData | None) -> set[int]:
    """The documents any mute rule matches (a rule is query text, filters and all)."""
    out: set[int] = set()
    for rule in userdata.mutes() if userdata is not None else ():
        plan = plan_query(rule.query, userdata, lib.manifest)
        out.update(lib.search(plan.text, sort="newest", include=plan.include,
                              exclude=plan.exclude, suggest=False).docnums)
    return out


def _ids(results) -> set[str]:
    return {results.paper(i).id for i in range(len(results))}


def muted_ids(lib, userdata: UserData | None) -> set[str]:
    """The papers the mute rules match now."""
    s = lib.searcher()
    return {s.stored_fields(d)["id"] for d in _muted_docnums(lib, userdata)}


def hidden_ids(lib, userdata: UserData, today: date | None = None) -> set[str]:
    """The papers New and For you never show: not interested, snoozed, muted."""
    return (userdata.skipped_ids() | userdata.snoozed_ids(today or date.today())
            | muted_ids(lib, userdata))


def _new(lib, userdata: UserData, view: View, today: date | None):
    plan = _plan(lib, userdata, Scope(view), today)
    plan.keep(lib.manifest().added_since(seen_since(userdata, view)))
    plan.hide = True
    return _run(lib, userdata, Scope(view), plan, None, False, None, today)


def seen_since(userdata: UserData, view: View) -> str:
    """When `view` was last looked at ("" never); All and New show the same new papers, so
    looking at either counts for both."""
    if view.query in (ALL.query, NEW.query):
        return new_since(userdata)
    return userdata.seen_at(view.query) or ""


def new_count(lib, userdata: UserData, view: View, today: date | None = None) -> int:
    """How many papers of `view` came into the library since the view was last looked at
    (`UserData.mark_seen(view.query)`), leaving out the hidden ones."""
    if not lib.exists:
        return 0
    try:
        return _new(lib, userdata, view, today).total
    except Untaught:
        return 0


def new_ids(lib, userdata: UserData, view: View, today: date | None = None) -> set[str]:
    """The papers `new_count` counts."""
    if not lib.exists:
        return set()
    try:
        return _ids(_new(lib, userdata, view, today))
    except Untaught:
        return set()


def why(lib, userdata: UserData, scope: Scope, paper_id: str, n: int = 3) -> list:
    """Why the scope's taste ranks this paper where it does (`foryou.Reason`s); empty when
    the scope ranks by no taste or has nothing to learn from."""
    plan = plan_query(scope.query, userdata, lib.manifest)
    if order(scope, plan) != "foryou":
        return []
    try:
        taste = _taste(lib, userdata, plan.taste)
    except Untaught:
        return []
    docnum = lib.searcher().document_number(id=paper_id)
    return taste.why(lib, docnum, n) if docnum is not None else []


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
    # For a scope ranked by a taste: each paper's reasons (`foryou.Reason`s), else None.
    why: list[list] | None = None

    @property
    def total(self) -> int:
        """Every match, beyond a limit too (counting them costs a pass: only when asked)."""
        return (self._results.total if self._results is not None else 0) + self._gone


def select(lib, userdata: UserData, scope: Scope, *, limit: int | None = None,
           today: date | None = None) -> Selection:
    """The papers of `scope` with each one's marks.

    A paper the user starred, tagged or annotated stays selectable after it disappears
    from every digest (from the snapshot the store remembered), flagged `gone`.
    """
    from papers.index.export import ExportItem

    plan = _plan(lib, userdata, scope, today)
    ranked = order(scope, plan) == "foryou"
    results = _run(lib, userdata, scope, plan, limit, True, None, today) \
        if lib.exists else None
    n = len(results) if results is not None else 0
    papers = [results.paper(i) for i in range(n)]
    scores = list(results.scores[:n]) if results is not None else []
    gone = []
    if plan.include is not None and not plan.text and not ranked and not plan.hide:
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
    reasons = None
    if ranked and results is not None:
        taste = _taste(lib, userdata, plan.taste)  # learned already: cached
        reasons = [taste.why(lib, d) for d in results.docnums[:len(papers)]]
    return Selection(items, scores, results.suggestion if results is not None else None,
                     results.terms if results is not None else frozenset(), scope.query,
                     results, len(gone), reasons)


def saved_scope(userdata: UserData, name: str, text: str = "", sort: str = "relevance"):
    """The scope of a saved search, narrowed by `text`; NotFound when there is none."""
    search_ = userdata.saved(name)
    if search_ is None:
        raise NotFound(f"no saved search named {name!r}; `papers saved` lists them")
    return Scope(saved_view(search_.name, search_.query), text, sort)
