"""User-data filters inside the query language: `is:starred`, `is:unread`, `tag:NAME`.

Stars, tags and read marks live in SQLite, not in Whoosh, so these terms are taken out
of the query text and become sets of paper ids that the search keeps or drops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.userdata import UserData

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
