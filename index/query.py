"""The filters of the query language that Whoosh does not answer: `is:`, `tag:`, `digest:`,
`month:` and `for:`.

Stars, tags, read marks and the other marks live in SQLite and a digest's papers in the
manifest, not in Whoosh, so these terms are taken out of the query text and become sets of
paper ids that the search keeps or drops. A leading `-` or `NOT` drops instead of keeping.
Like the filter options they replace, they narrow the whole query wherever they stand in it.
`for:TAG` (`for:me`: the starred papers) is not a set but a taste to rank by: the plan
carries it, and the scope ranks with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from papers.index.errors import QueryError
from papers.index.manifest import Manifest
from papers.index.userdata import UserData

_FILTER = re.compile(
    r'(?<![^\s(])(?P<neg>-|NOT\s+)?(?P<key>is|tag|digest|month|for):(?P<val>"[^"]*"|[^\s()]+)',
    re.IGNORECASE)
# What taking a filter out can leave behind: an empty group, an operator with nothing on
# one side.
_EMPTY_GROUP = re.compile(r"\(\s*\)")
_DANGLING = re.compile(r"^\s*(?:AND|OR)\b|\b(?:AND|OR|NOT)\s*$|\b(?:AND|OR)\s+(?=(?:AND|OR)\b)"
                       r"|(?<=\()\s*(?:AND|OR)\b|\b(?:AND|OR|NOT)\s*(?=\))")
_MONTH = re.compile(r"\d{4}-\d{2}")
IS_VALUES = ("starred", "unstarred", "read", "unread", "new", "skipped", "snoozed", "muted")
KEYS = ("is", "tag", "digest", "month", "for")
ME = "me"  # for:me, the taste of the starred papers


@dataclass
class Plan:
    """What to ask Whoosh (`text`) and which paper ids to keep or drop."""

    text: str
    include: set[str] | None = None
    exclude: set[str] = field(default_factory=set)
    taste: str | None = None  # for:TAG: the tag (ME for the stars) whose taste ranks
    hide: bool = False  # is:new or for:, which never show skipped, snoozed or muted papers

    def keep(self, ids: set[str]) -> None:
        self.include = set(ids) if self.include is None else self.include & ids


def plan_query(text: str, userdata: UserData | None,
               manifest: Callable[[], Manifest] | None = None, *,
               today: date | None = None,
               muted: Callable[[], set[str]] | None = None) -> Plan:
    """Split the filters out of `text`. `manifest` is asked for the digest records only
    when a `digest:`, `month:` or `is:new` filter needs them; `muted` (the ids the mute
    rules match) only for `is:muted`; `today` decides what is still snoozed."""
    terms: list[tuple[bool, str, str]] = []

    def take(m: re.Match) -> str:
        terms.append((bool(m["neg"]), m["key"].lower(), m["val"].strip('"')))
        return " "

    plan = Plan(_tidy(_FILTER.sub(take, text)))
    records: Manifest | None = None
    for negated, key, value in terms:
        if key == "for":
            if negated:
                raise QueryError(f"for:{value} ranks by a taste; it cannot be negated")
            if plan.taste is not None and plan.taste != value:
                raise QueryError(f"one taste at a time: for:{plan.taste} or for:{value}")
            plan.taste, plan.hide = (ME if value.lower() == ME else value), True
            continue
        value = value.lower() if key == "is" else value
        if key == "is" and value not in IS_VALUES:
            raise QueryError(f"unknown filter is:{value}; use one of "
                             + ", ".join(f"is:{v}" for v in IS_VALUES))
        if key in ("digest", "month") or (key, value) == ("is", "new"):
            if manifest is None:
                raise QueryError(f"{key}:{value} needs the library")
            records = records or manifest()
        if key in ("digest", "month"):
            ids = _digest_ids(records, key, value)
        elif userdata is None:
            raise QueryError("filters on marks and tags need the user data store")
        elif key == "tag":
            ids = userdata.tagged_ids(value)
        elif value == "new":
            ids = records.added_since(new_since(userdata))
            plan.hide = plan.hide or not negated
        elif value == "skipped":
            ids = userdata.skipped_ids()
        elif value == "snoozed":
            ids = userdata.snoozed_ids(today or date.today())
        elif value == "muted":
            if muted is None:
                raise QueryError("is:muted needs the library")
            ids = muted()
        else:
            base = value.removeprefix("un")
            ids = userdata.starred_ids() if base == "starred" else userdata.read_ids()
            negated = negated != (value != base)
        if negated:
            plan.exclude |= ids
        else:
            plan.keep(ids)
    return plan


def new_since(userdata: UserData) -> str:
    """When what is new starts: the last time All or New was looked at (either shows the
    papers that had come in), or "" when neither ever was."""
    return max(userdata.seen_at("") or "", userdata.seen_at("is:new") or "")


def _digest_ids(manifest: Manifest, key: str, value: str) -> set[str]:
    if key == "month":
        if not _MONTH.fullmatch(value):
            raise QueryError(f"month:{value} is not a month; write it as month:2025-03")
        records = manifest.in_month(value)
    else:
        records = manifest.matching(value)
    return {pid for rec in records.values() for pid in rec.papers}


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    while True:
        tidier = _DANGLING.sub(" ", _EMPTY_GROUP.sub(" ", text))
        tidier = " ".join(tidier.split())
        if tidier == text:
            return text
        text = tidier
