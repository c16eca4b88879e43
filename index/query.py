"""The filters of the query language that Whoosh does not answer: `is:`, `tag:`, `digest:`
and `month:`.

Stars, tags and read marks live in SQLite and a digest's papers in the manifest, not in
Whoosh, so these terms are taken out of the query text and become sets of paper ids that
the search keeps or drops. A leading `-` or `NOT` drops instead of keeping. Like the
filter options they replace, they narrow the whole query wherever they stand in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from papers.index.errors import QueryError
from papers.index.manifest import Manifest
from papers.index.userdata import UserData

_FILTER = re.compile(
    r'(?<![^\s(])(?P<neg>-|NOT\s+)?(?P<key>is|tag|digest|month):(?P<val>"[^"]*"|[^\s()]+)',
    re.IGNORECASE)
# What taking a filter out can leave behind: an empty group, an operator with nothing on
# one side.
_EMPTY_GROUP = re.compile(r"\(\s*\)")
_DANGLING = re.compile(r"^\s*(?:AND|OR)\b|\b(?:AND|OR|NOT)\s*$|\b(?:AND|OR)\s+(?=(?:AND|OR)\b)"
                       r"|(?<=\()\s*(?:AND|OR)\b|\b(?:AND|OR|NOT)\s*(?=\))")
_MONTH = re.compile(r"\d{4}-\d{2}")
IS_VALUES = ("starred", "unstarred", "read", "unread")
KEYS = ("is", "tag", "digest", "month")


@dataclass
class Plan:
    """What to ask Whoosh (`text`) and which paper ids to keep or drop."""

    text: str
    include: set[str] | None = None
    exclude: set[str] = field(default_factory=set)

    def keep(self, ids: set[str]) -> None:
        self.include = set(ids) if self.include is None else self.include & ids


def plan_query(text: str, userdata: UserData | None,
               manifest: Callable[[], Manifest] | None = None) -> Plan:
    """Split the filters out of `text`. `manifest` is asked for the digest records only
    when a `digest:` or `month:` filter needs them."""
    terms: list[tuple[bool, str, str]] = []

    def take(m: re.Match) -> str:
        terms.append((bool(m["neg"]), m["key"].lower(), m["val"].strip('"')))
        return " "

    plan = Plan(_tidy(_FILTER.sub(take, text)))
    records: Manifest | None = None
    for negated, key, value in terms:
        if key in ("digest", "month"):
            if manifest is None:
                raise QueryError(f"{key}: needs the library")
            records = records or manifest()
            ids = _digest_ids(records, key, value)
        elif userdata is None:
            raise QueryError("filters on stars, tags and read marks need the user data store")
        elif key == "tag":
            ids = userdata.tagged_ids(value)
        else:
            value = value.lower()
            if value not in IS_VALUES:
                raise QueryError(f"unknown filter is:{value}; use one of "
                                 + ", ".join(f"is:{v}" for v in IS_VALUES))
            base = value.removeprefix("un")
            ids = userdata.starred_ids() if base == "starred" else userdata.read_ids()
            negated = negated != (value != base)
        if negated:
            plan.exclude |= ids
        else:
            plan.keep(ids)
    return plan


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
