"""Automatic copies of the user data: before every rebuild and once a day.

The index can always be rebuilt from the digests; stars, tags and notes cannot, so they are
what gets copied. Copies live in `<home>/backups/` as `userdata-<stamp>-<reason>.sqlite`;
the newest KEEP are kept. A copy is checked before it counts: SQLite's backup copies pages
without reading them, so a damaged store would otherwise push good copies out of the rotation.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path

from papers.index.errors import UserDataError
from papers.index.userdata import FILENAME, UserData

BACKUP_DIR = "backups"
KEEP = 10
_PATTERN = "userdata-*.sqlite"


def backup_userdata(home: Path, reason: str) -> Path | None:
    """Copy the user data into `<home>/backups/`; None when there is no user data yet.

    Raises UserDataError when the store exists but cannot be copied whole (it is damaged or
    busy): callers that must go on regardless, like an ingest, catch it and say so.
    """
    home = Path(home)
    if not (home / FILENAME).is_file():
        return None  # opening UserData would create an empty store just to copy it
    dest_dir = home / BACKUP_DIR
    with UserData(home) as store:
        made = store.backup(dest_dir)
    problem = integrity_problem(made)
    if problem:
        made.unlink(missing_ok=True)
        raise UserDataError(f"user data at {home / FILENAME} is damaged ({problem}); "
                            "not backed up")
    named = _unique(made.with_name(f"{made.stem}-{_slug(reason)}.sqlite"))
    made.replace(named)
    _prune(dest_dir)
    return named


def daily_backup(home: Path) -> Path | None:
    """Back up once a day: None when today's copy exists or there is nothing to copy."""
    today = datetime.now().strftime("%Y%m%d")
    if any(p.name.startswith(f"userdata-{today}-") for p in list_backups(home)):
        return None
    return backup_userdata(home, "daily")


def list_backups(home: Path) -> list[Path]:
    """The backups of `home`, newest first."""
    folder = Path(home) / BACKUP_DIR
    if not folder.is_dir():
        return []
    # The name starts with the time it was made; mtime breaks ties within one second.
    return sorted(folder.glob(_PATTERN), key=lambda p: (p.name[9:24], p.stat().st_mtime_ns),
                  reverse=True)


def integrity_problem(path: Path) -> str | None:
    """What SQLite's integrity check says is wrong with the file at `path`, or None."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    except sqlite3.Error as exc:
        return str(exc)
    finally:
        db.close()
    return None if rows == ["ok"] else "; ".join(rows[:3])


def _prune(folder: Path) -> None:
    for old in list_backups(folder.parent)[KEEP:]:
        old.unlink(missing_ok=True)


def _slug(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:40] or "manual"


def _unique(path: Path) -> Path:
    n, candidate = 1, path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate
