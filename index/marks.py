"""The marks `papers find --json` prints for some papers, read without `index.userdata`.

`index.userdata` takes longer to import than a cold `papers find` from the find cache takes
in all. `UserData.states` reads the marks with this module's query and groups them with
`grouped`; `read` does the same read-only and makes the same objects `PaperState.to_json`
makes, for the layouts named in `LAYOUTS` (the keys of an
empty state's JSON, recorded in the find cache when it is built): any other layout is not
answered here. tests/test_findcache.py compares both on every kind of mark.
"""

from __future__ import annotations

import os

_BASE = ("starred", "read", "tags", "note")
# The JSON keys of an empty PaperState -> the tables holding each kind of mark.
LAYOUTS = {
    _BASE: ("SELECT 's', id, at FROM stars UNION ALL SELECT 'r', id, at FROM reads "
            "UNION ALL SELECT 't', id, tag FROM tags UNION ALL SELECT 'n', id, text FROM notes"),
    (*_BASE, "skipped", "snoozed_until"): (
        "SELECT 's', id, at FROM stars UNION ALL SELECT 'r', id, at FROM reads "
        "UNION ALL SELECT 't', id, tag FROM tags UNION ALL SELECT 'n', id, text FROM notes "
        "UNION ALL SELECT 'k', id, at FROM skips UNION ALL SELECT 'z', id, until FROM snoozes"),
}
# Every mark of every paper as (kind, id, value) rows, in the store's current format.
SQL = LAYOUTS[(*_BASE, "skipped", "snoozed_until")]


def grouped(rows) -> dict[str, dict]:
    """{id: {kind: value}} from the rows of a LAYOUTS query; tags as a list under "tags"."""
    parts: dict[str, dict] = {}
    for kind, pid, value in rows:
        p = parts.setdefault(pid, {})
        if kind == "t":
            p.setdefault("tags", []).append(value)
        else:
            p[kind] = value
    return parts


def read(home: str, ids, layout: tuple[str, ...], version: int) -> dict[str, dict] | None:
    """{id: marks as JSON} for those of `ids` with any (the others have none), or None when
    the store is missing, of another format or layout, or cannot be read now: the caller
    then asks `UserData`, which creates, upgrades or says what is wrong."""
    import sqlite3
    from datetime import date, datetime
    from urllib.parse import quote

    sql = LAYOUTS.get(tuple(layout))
    path = os.path.join(home, "userdata.sqlite")
    if sql is None or not os.path.isfile(path):
        return None
    try:
        db = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        if db.execute("PRAGMA user_version").fetchone()[0] != version:
            return None
        db.execute("BEGIN")  # one snapshot, as UserData reads
        try:
            rows = db.execute(sql).fetchall()
        finally:
            db.execute("COMMIT")
        parts = grouped(rows)
        wanted = set(ids)
        out = {}
        for pid, p in parts.items():
            # UserData parses every state it reads: a bad time fails the whole read there.
            for kind in ("s", "r"):
                if p.get(kind):
                    datetime.fromisoformat(p[kind])
            snoozed = date.fromisoformat(p["z"]).isoformat() if "z" in p else None
            if pid not in wanted:
                continue
            marks = {"starred": "s" in p, "read": "r" in p,
                     "tags": sorted(p.get("tags", ()), key=str.casefold), "note": p.get("n")}
            if len(layout) > len(_BASE):
                marks.update(skipped="k" in p, snoozed_until=snoozed)
            out[pid] = marks
        return out
    except (sqlite3.Error, ValueError, TypeError, AttributeError):
        return None
    finally:
        db.close()


def empty(layout: tuple[str, ...]) -> dict:
    """The marks of a paper the user said nothing about."""
    marks = {"starred": False, "read": False, "tags": [], "note": None}
    if len(layout) > len(_BASE):
        marks.update(skipped=False, snoozed_until=None)
    return marks
