"""The user's own data about papers: stars, read marks, tags, notes, saved searches, "not
interested" marks (skips), mute rules, snoozes, undo, and when each view was last looked at.

One SQLite file, `<home>/userdata.sqlite`, shared by every `papers` process (the CLI and the
reader can run at the same time). WAL mode plus a busy timeout lets them queue instead of
failing, and every command is one `BEGIN IMMEDIATE` transaction, so a change is either wholly
there or not there at all.

Undo works on rows, not on commands: before a command changes a row it records the row as it
was (or that it did not exist). Undoing puts those rows back exactly, so undoing `star` on a
paper that was already starred leaves it starred, and undoing a note edit brings back the old
text. A command that changed nothing is still recorded, so `undo` right after it answers
"nothing to revert" instead of silently reverting an older, unrelated command.

Tags keep the spelling the user typed but compare without case (`LoRA` and `lora` are one tag;
the spelling first used is kept for everyone). A tag is stripped of surrounding whitespace and
must not be empty or contain whitespace, `,` or `;`: those are what people type to separate
tags, and `;` separates tags in the CSV export.

Every change also records, in its own transaction, what each changed row is now: an op of
the sync log (`papers.index.sync` has the format and the merge). `apply` merges other
machines' ops; undoing a change that came from another machine is a new change like any.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Self
from urllib.parse import quote

from papers.index import marks
from papers.index.errors import InputError, StorageError, UserDataDamaged, UserDataError
from papers.index.models import Paper

if TYPE_CHECKING:
    from papers.index import sync as sync_log

FILENAME = "userdata.sqlite"
SCHEMA_VERSION = 3  # 2: the sync tables; 3: skips, mutes, snoozes, views_seen
_READABLE = (1, 2, SCHEMA_VERSION)  # formats a read-only store can still be read in
BUSY_TIMEOUT_S = 10.0
HANDOFF_S = 0.005  # how long a writer steps aside for a waiting process
UNDO_DEPTH = 500  # commands kept in the undo log; older ones are dropped

_ID = re.compile(r"[0-9a-f]{12}")
_BAD_TAG_CHAR = re.compile(r"[\s,;]")

# Which columns identify a row, per table the undo log may restore. Undo only ever touches
# these tables, and only through these names, never through names stored in the file.
_KEYS: dict[str, tuple[str, ...]] = {
    "stars": ("id",),
    "reads": ("id",),
    "tags": ("id", "key"),
    "notes": ("id",),
    "searches": ("name",),
    "skips": ("id",),
    "mutes": ("query",),
    "snoozes": ("id",),
}

# The columns of a row besides its key: what a sync op carries as the row's value. A table
# here is a kind of op this version knows how to apply.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "stars": ("at",),
    "reads": ("at",),
    "tags": ("tag", "at"),
    "notes": ("text", "at"),
    "searches": ("query", "created"),
    "skips": ("at",),
    "mutes": ("at",),
    "snoozes": ("until", "at"),
}

_SYNC_TABLES = {"sync_ops", "sync_registers", "sync_files"}
# views_seen is this machine's own bookkeeping: not undone, not synced, so not in _KEYS.
_OUR_TABLES = {*_KEYS, *_SYNC_TABLES, "papers", "undo", "meta", "views_seen", "sqlite_sequence"}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS stars (id TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reads (id TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tags (
    id TEXT NOT NULL, key TEXT NOT NULL, tag TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY (id, key)
);
CREATE INDEX IF NOT EXISTS tags_by_key ON tags (key);
CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS searches (
    name TEXT PRIMARY KEY, query TEXT NOT NULL, created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS papers (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, snapshot TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS undo (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, what TEXT NOT NULL,
    revert TEXT NOT NULL, rows TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 0);
INSERT OR IGNORE INTO meta (name, value) VALUES ('clock', 0);
CREATE TABLE IF NOT EXISTS sync_ops (
    machine TEXT NOT NULL, clock INTEGER NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
    value TEXT, prev TEXT, PRIMARY KEY (machine, clock)
);
CREATE INDEX IF NOT EXISTS sync_ops_by_key ON sync_ops (kind, key);
CREATE TABLE IF NOT EXISTS sync_registers (
    kind TEXT NOT NULL, key TEXT NOT NULL, clock INTEGER NOT NULL, machine TEXT NOT NULL,
    value TEXT, applied INTEGER NOT NULL, PRIMARY KEY (kind, key)
);
CREATE TABLE IF NOT EXISTS sync_files (
    path TEXT PRIMARY KEY, offset INTEGER NOT NULL, tail TEXT NOT NULL, top INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS skips (id TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mutes (query TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snoozes (id TEXT PRIMARY KEY, until TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS views_seen (view TEXT PRIMARY KEY, at TEXT NOT NULL);
"""


@dataclass(frozen=True)
class PaperState:
    """Everything the user has said about one paper."""

    starred: bool = False
    starred_at: datetime | None = None
    read: bool = False
    read_at: datetime | None = None
    tags: tuple[str, ...] = ()
    note: str | None = None
    skipped: bool = False  # "not interested"
    snoozed_until: date | None = None  # as stored: a date already past means it is back

    def to_json(self) -> dict:
        """The keys `papers find --json` adds to each paper."""
        return {
            "starred": self.starred,
            "read": self.read,
            "tags": list(self.tags),
            "note": self.note,
            "skipped": self.skipped,
            "snoozed_until": self.snoozed_until.isoformat() if self.snoozed_until else None,
        }


EMPTY = PaperState()


@dataclass(frozen=True)
class SavedSearch:
    name: str
    query: str
    created: datetime


@dataclass(frozen=True)
class Mute:
    """A mute rule: papers matching `query` are hidden from New and For you."""

    query: str
    at: datetime


@dataclass(frozen=True)
class Change:
    """What a command did: `changed` are the ids (or tags, or names) it changed, `unchanged`
    the ones that were already as asked, so the CLI can say "starred 2 papers (1 already
    starred)"."""

    changed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.changed)


@dataclass(frozen=True)
class NoteVersion:
    """A text of a note that another machine's edit replaced without seeing it."""

    text: str
    at: datetime | None
    machine: str


@dataclass
class Applied:
    """What merging sync logs did: new ops per machine, how many changed what is shown."""

    new: Counter = field(default_factory=Counter)
    changed: int = 0
    bad: int = 0
    problems: list[str] = field(default_factory=list)


def normalise_tag(tag: str) -> str:
    """The tag as stored, or ValueError saying what is wrong with it."""
    t = tag.strip()
    if not t:
        raise InputError("a tag cannot be empty")
    if _BAD_TAG_CHAR.search(t):
        raise InputError(
            f"tag {t!r} contains a space, ',' or ';': give several tags as separate words"
        )
    return t


class UserData:
    """The user-data store of one papers home directory. Safe to share between threads."""

    def __init__(self, home: Path) -> None:
        self.path = Path(home) / FILENAME
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UserDataError(
                f"cannot create the papers home {self.path.parent}: {e.strerror or e}"
            ) from None
        self.read_only: str | None = None  # why changes cannot be saved, when they cannot
        self._machine: str | None = None
        self._quiet = False  # the transaction under way leaves the data version alone
        try:
            self._open(self.path)
        except StorageError as exc:
            if not self.path.is_file():
                raise
            # A read-only disk or folder: the file is fine, and reads need no writing. SQLite
            # in WAL mode writes even to read, unless told the file cannot change.
            self._open(f"file:{quote(str(self.path))}?immutable=1", uri=True)
            self.read_only = str(exc)

    def _open(self, target, uri: bool = False) -> None:
        with self._guard():
            # isolation_level=None: we issue BEGIN ourselves, so each command is exactly one
            # transaction and nothing is left implicitly open.
            self._db = sqlite3.connect(target, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                       check_same_thread=False, uri=uri)
        try:
            with self._guard():
                self._setup(read_only=uri)
        except BaseException:
            self._db.close()
            raise

    def _setup(self, read_only: bool = False) -> None:
        db = self._db
        db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if read_only:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version not in _READABLE:
                raise StorageError(f"user data at {self.path} is read-only and of another "
                                   f"format ({version}); open it where it can be written")
            db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
            self._stand_in_tables(db)
            return
        # Reading the mode first avoids asking for the lock a mode change needs every time;
        # an existing file is already in WAL and WAL is persistent. Two processes creating the
        # store at once both get here, and SQLite may refuse one of them at once instead of
        # waiting (waiting could deadlock), so the change waits its turn and tries again.
        if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            self._patiently("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")  # a change the CLI reported must survive a crash
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise UserDataError(
                f"user data at {self.path} was written by a newer version of papers "
                f"(format {version}, this one knows {SCHEMA_VERSION}); upgrade papers"
            )
        if version < SCHEMA_VERSION:
            with self._transaction():
                # A SQLite file of some other program: refuse it rather than add our tables.
                tables = {
                    r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                }
                if tables - _OUR_TABLES:
                    raise UserDataError(
                        f"{self.path} is not a papers user-data file (it has tables "
                        f"{', '.join(sorted(tables - _OUR_TABLES))}); move it away"
                    )
                # Not executescript(): it would COMMIT first and break the transaction.
                for statement in _statements(_SCHEMA):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        else:
            # Catches a file that is a SQLite database but not ours, or lost a table.
            db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()

    def _stand_in_tables(self, db: sqlite3.Connection) -> None:
        """Empty TEMP tables for the ones a read-only store of an older format lacks, so
        every read works (it finds nothing) without writing to the file."""
        have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for statement in _statements(_SCHEMA):
            made = re.match(r"CREATE TABLE IF NOT EXISTS (\w+)", statement)
            if made and made[1] not in have:
                db.execute(statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))

    # -- plumbing ---------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's exceptions into errors a person can act on, telling a fault of the
        environment (busy, full, read-only: the file is fine) from damage."""
        try:
            yield
        except sqlite3.OperationalError as e:
            msg = str(e)
            if "locked" in msg or "busy" in msg:
                raise UserDataError(
                    f"user data at {self.path} is busy: another papers process kept it locked "
                    f"for more than {BUSY_TIMEOUT_S:g} s; try again"
                ) from None
            if "full" in msg or (_disk_full(self.path.parent) and "disk I/O" in msg):
                raise StorageError(f"cannot save to the user data at {self.path}: the disk is "
                                   "full") from None
            if any(s in msg for s in ("unable to open", "readonly", "disk I/O", "permission")):
                if not os.access(self.path.parent, os.W_OK):  # SQLite does not say why
                    msg += " (its folder is read-only)"
                raise StorageError(f"cannot use the user data at {self.path}: {msg}") from None
            raise UserDataDamaged(f"user data at {self.path} is damaged: {msg}") from None
        except sqlite3.DatabaseError as e:
            raise UserDataDamaged(f"user data at {self.path} is damaged: {e}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._begin_immediate()
        try:
            yield self._db
            if not self._quiet:
                self._db.execute("UPDATE meta SET value = value + 1 WHERE name = 'version'")
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._let_waiters_in()

    # Fairness between processes. A process that commits in a loop takes the lock again
    # microseconds after releasing it, so a polling waiter could starve for the whole loop.
    # A waiter says so with a marker file; a writer that sees one steps aside briefly.

    def _waiting_marker(self) -> Path:
        return self.path.with_name(f"{self.path.name}.waiting-{os.getpid()}")

    def _let_waiters_in(self) -> None:
        mine = self._waiting_marker().name
        for marker in self.path.parent.glob(f"{self.path.name}.waiting-*"):
            if marker.name == mine:
                continue
            pid = marker.name.rsplit("-", 1)[-1]
            if pid.isdigit() and _alive(int(pid)):
                time.sleep(HANDOFF_S)
                return
            marker.unlink(missing_ok=True)  # left by a process that died waiting

    def _begin_immediate(self) -> None:
        # IMMEDIATE takes the lock up front, so two writers queue instead of both reading and
        # one then failing to upgrade.
        self._patiently("BEGIN IMMEDIATE")

    def _patiently(self, statement: str) -> None:
        """Run a statement that needs the write lock, waiting up to BUSY_TIMEOUT_S for it.

        We poll for the lock ourselves: SQLite's own busy handler sleeps up to 100 ms between
        tries, and a process writing in a loop releases the lock for far less than that, so
        the other one could starve past the timeout.
        """
        db = self._db
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        db.execute("PRAGMA busy_timeout = 0")
        marker = None
        try:
            while True:
                try:
                    db.execute(statement)
                    return
                except sqlite3.OperationalError as e:
                    if "locked" not in str(e) or time.monotonic() > deadline:
                        raise
                if marker is None:
                    marker = self._waiting_marker()
                    marker.touch()
                time.sleep(random.uniform(0.0002, 0.002))
        finally:
            if marker is not None:
                marker.unlink(missing_ok=True)
            db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    @contextmanager
    def _write(self, remember: Iterable[Paper] = (),
               bump: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction of changes; the papers in `remember` are snapshotted in it, so
        a mark and the title it needs to be shown later are written together or not at
        all."""
        if self.read_only:
            raise StorageError(f"{self.read_only}; nothing was changed")
        try:
            with self._lock, self._guard():
                # `bump=False`: bookkeeping that changes nothing a reader shows (it polls the
                # version); set under the lock, so it is this transaction's alone.
                self._quiet = not bump
                try:
                    with self._transaction() as db:
                        yield db
                        self._snapshot(db, remember)
                finally:
                    self._quiet = False
        except StorageError as exc:  # the transaction rolled back
            raise StorageError(f"{exc}; nothing was changed") from None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        # One read transaction, so a multi-statement read sees one consistent snapshot.
        with self._lock, self._guard():
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # -- the undo log -----------------------------------------------------------------------

    def _changing(self, db: sqlite3.Connection, rows: list, table: str, *key: str) -> None:
        """Record the row `key` of `table` as it is now, before the caller changes it."""
        cols = _KEYS[table]
        where = " AND ".join(f"{c} = ?" for c in cols)
        cur = db.execute(f"SELECT * FROM {table} WHERE {where}", key)
        old = cur.fetchone()
        names = [d[0] for d in cur.description]
        rows.append([table, list(key), dict(zip(names, old, strict=True)) if old else None])

    def _log(self, db: sqlite3.Connection, what: str, revert: str, rows: list) -> None:
        """Record the command for undo, and each row it changed as a sync op."""
        for table, key, _old in rows:
            self._emit(db, table, tuple(key))
        db.execute(
            "INSERT INTO undo (at, what, revert, rows) VALUES (?, ?, ?, ?)",
            (_now(), what, revert, json.dumps(rows)),
        )
        db.execute("DELETE FROM undo WHERE seq <= (SELECT MAX(seq) FROM undo) - ?", (UNDO_DEPTH,))

    def undo(self) -> str | None:
        """Revert the last command; say what was reverted, or None when there is nothing."""
        with self._write() as db:
            last = db.execute(
                "SELECT seq, what, revert, rows FROM undo ORDER BY seq DESC LIMIT 1"
            ).fetchone()
            if last is None:
                return None
            seq, what, revert, rows = last
            rows = json.loads(rows)
            for table, key, old in reversed(rows):
                cols = _KEYS[table]  # KeyError on a table we never log: refuse rather than guess
                db.execute(
                    f"DELETE FROM {table} WHERE {' AND '.join(f'{c} = ?' for c in cols)}", key
                )
                if old is not None:
                    names = [n for n in old if n.isidentifier()]
                    marks = ", ".join("?" * len(names))
                    db.execute(
                        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                        [old[n] for n in names],
                    )
            db.execute("DELETE FROM undo WHERE seq = ?", (seq,))
            for table, key, _old in rows:  # a new change, however the row changed meanwhile
                self._emit(db, table, tuple(key))
        return revert if rows else f"nothing to revert: the last command ({what}) changed nothing"

    # -- stars and read marks ---------------------------------------------------------------

    # Every change takes `remember`: papers to snapshot in the same transaction (see
    # `remember`).

    def star(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("stars", _ids(ids), remember, on=True, verb="star",
                          revert="unstarred {}")

    def unstar(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("stars", _ids(ids), remember, on=False, verb="unstar",
                          revert="starred {} again")

    def mark_read(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("reads", _ids(ids), remember, on=True, verb="mark read",
                          revert="marked {} unread")

    def mark_unread(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("reads", _ids(ids), remember, on=False, verb="mark unread",
                          revert="marked {} read again")

    def _flag(self, table: str, ids: list[str], remember: Iterable[Paper], *, on: bool,
              verb: str, revert: str) -> Change:
        changed, unchanged, rows = [], [], []
        now = _now()
        with self._write(remember) as db:
            present = _present(db, table, ids)
            for pid in ids:
                if (pid in present) == on:
                    unchanged.append(pid)
                    continue
                self._changing(db, rows, table, pid)
                if on:
                    db.execute(f"INSERT INTO {table} (id, at) VALUES (?, ?)", (pid, now))
                else:
                    db.execute(f"DELETE FROM {table} WHERE id = ?", (pid,))
                changed.append(pid)
            self._log(
                db,
                f"{verb} {_papers(len(ids))}",
                revert.format(_papers(len(changed), changed)),
                rows,
            )
        return Change(tuple(changed), tuple(unchanged))

    # -- tags -------------------------------------------------------------------------------

    def add_tags(self, id: str, tags: Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        """Tag one paper; `changed` holds the tags it did not have before, as stored."""
        pid, wanted, now = _id(id), _tags(tags), _now()
        changed, unchanged, rows = [], [], []
        with self._write(remember) as db:
            for tag in wanted:
                added = self._add_tag(db, rows, pid, tag, now)
                (changed if added else unchanged).append(added or tag)
            self._log(db, f"tag {pid}", f"removed {_list('tag', changed)} from {pid}", rows)
        return Change(tuple(changed), tuple(unchanged))

    def remove_tags(self, id: str, tags: Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        """Untag one paper; `changed` holds the tags it had, `unchanged` the ones it did not."""
        pid, unwanted = _id(id), _tags(tags)
        changed, unchanged, rows = [], [], []
        with self._write(remember) as db:
            for tag in unwanted:
                removed = self._remove_tag(db, rows, pid, tag.casefold())
                (changed if removed else unchanged).append(removed or tag)
            self._log(db, f"untag {pid}", f"put back {_list('tag', changed)} on {pid}", rows)
        return Change(tuple(changed), tuple(unchanged))

    def set_tags(self, id: str, tags: Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        """Give one paper exactly these tags, as one command (one undo step), e.g. after
        editing its tag list. `changed`: tags added or removed; `unchanged`: tags kept."""
        pid, wanted, now = _id(id), _tags(tags), _now()
        changed, unchanged, rows = [], [], []
        with self._write(remember) as db:
            keys = {t.casefold() for t in wanted}
            for key, tag in db.execute("SELECT key, tag FROM tags WHERE id = ?", (pid,)).fetchall():
                if key in keys:
                    unchanged.append(tag)
                else:
                    changed.append(self._remove_tag(db, rows, pid, key))
            for tag in wanted:
                if added := self._add_tag(db, rows, pid, tag, now):
                    changed.append(added)
            self._log(db, f"set the tags of {pid}", f"restored the tags of {pid}", rows)
        return Change(tuple(changed), tuple(unchanged))

    def _add_tag(
        self, db: sqlite3.Connection, rows: list, pid: str, tag: str, now: str
    ) -> str | None:
        """Add `tag` to `pid` unless it has it; the tag as stored, or None."""
        key = tag.casefold()
        if db.execute("SELECT 1 FROM tags WHERE id = ? AND key = ?", (pid, key)).fetchone():
            return None
        # One spelling per tag across the library: reuse the one already in use.
        spelled = db.execute("SELECT tag FROM tags WHERE key = ? LIMIT 1", (key,)).fetchone()
        tag = spelled[0] if spelled else tag
        self._changing(db, rows, "tags", pid, key)
        db.execute("INSERT INTO tags (id, key, tag, at) VALUES (?, ?, ?, ?)", (pid, key, tag, now))
        return tag

    def _remove_tag(self, db: sqlite3.Connection, rows: list, pid: str, key: str) -> str | None:
        """Remove the tag `key` from `pid` if it has it; the tag as it was stored, or None."""
        row = db.execute("SELECT tag FROM tags WHERE id = ? AND key = ?", (pid, key)).fetchone()
        if row is None:
            return None
        self._changing(db, rows, "tags", pid, key)
        db.execute("DELETE FROM tags WHERE id = ? AND key = ?", (pid, key))
        return row[0]

    # -- notes ------------------------------------------------------------------------------

    def set_note(self, id: str, text: str, remember: Iterable[Paper] = ()) -> Change:
        """Set the note of a paper; blank text deletes it. Surrounding whitespace is dropped
        (editors add a final newline)."""
        pid = _id(id)
        text = text.strip()
        with self._write(remember) as db:
            row = db.execute("SELECT text FROM notes WHERE id = ?", (pid,)).fetchone()
            old = row[0] if row else None
            rows: list = []
            if old != (text or None):
                self._changing(db, rows, "notes", pid)
                if text:
                    db.execute(
                        "INSERT OR REPLACE INTO notes (id, text, at) VALUES (?, ?, ?)",
                        (pid, text, _now()),
                    )
                else:
                    db.execute("DELETE FROM notes WHERE id = ?", (pid,))
            revert = (
                f"restored the note of {pid}" if old is not None else f"removed the note of {pid}"
            )
            self._log(db, f"note {pid}", revert, rows)
        return Change((pid,), ()) if rows else Change((), (pid,))

    # -- saved searches ---------------------------------------------------------------------

    def save_search(self, name: str, query: str) -> Change:
        """Save (or replace) a named search. A replaced search keeps its creation time."""
        name = _name(name)
        with self._write() as db:
            row = db.execute("SELECT query FROM searches WHERE name = ?", (name,)).fetchone()
            rows: list = []
            if row is None or row[0] != query:
                self._changing(db, rows, "searches", name)
                db.execute(
                    "INSERT INTO searches (name, query, created) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET query = excluded.query",
                    (name, query, _now()),
                )
            revert = (
                f"removed the saved search {name!r}"
                if row is None
                else f"restored the saved search {name!r}"
            )
            self._log(db, f"save search {name!r}", revert, rows)
        return Change((name,), ()) if rows else Change((), (name,))

    def unsave_search(self, name: str) -> Change:
        name = _name(name)
        with self._write() as db:
            rows: list = []
            if db.execute("SELECT 1 FROM searches WHERE name = ?", (name,)).fetchone():
                self._changing(db, rows, "searches", name)
                db.execute("DELETE FROM searches WHERE name = ?", (name,))
            self._log(
                db, f"delete saved search {name!r}", f"restored the saved search {name!r}", rows
            )
        return Change((name,), ()) if rows else Change((), (name,))

    def saved_searches(self) -> list[SavedSearch]:
        with self._read() as db:
            rows = db.execute(
                "SELECT name, query, created FROM searches ORDER BY name COLLATE NOCASE"
            ).fetchall()
        return [SavedSearch(n, q, _time(c)) for n, q, c in rows]

    def saved(self, name: str) -> SavedSearch | None:
        with self._read() as db:
            row = db.execute(
                "SELECT name, query, created FROM searches WHERE name = ?", (name.strip(),)
            ).fetchone()
        return SavedSearch(row[0], row[1], _time(row[2])) if row else None

    # -- not interested, mute rules, snoozes -------------------------------------------------

    def skip(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        """Mark papers "not interested": For you learns from it, New and For you hide them."""
        return self._flag("skips", _ids(ids), remember, on=True, verb="skip",
                          revert="unskipped {}")

    def unskip(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("skips", _ids(ids), remember, on=False, verb="unskip",
                          revert="skipped {} again")

    def skipped_ids(self) -> set[str]:
        return self._ids("SELECT id FROM skips")

    def mute(self, query: str) -> Change:
        """Add a mute rule. The query is stored as given (stripped); whether it parses is
        the caller's to check, through the one query path."""
        q = _rule(query)
        with self._write() as db:
            rows: list = []
            if not db.execute("SELECT 1 FROM mutes WHERE query = ?", (q,)).fetchone():
                self._changing(db, rows, "mutes", q)
                db.execute("INSERT INTO mutes (query, at) VALUES (?, ?)", (q, _now()))
            self._log(db, f"mute {q!r}", f"unmuted {q!r}", rows)
        return Change((q,), ()) if rows else Change((), (q,))

    def unmute(self, query: str) -> Change:
        q = _rule(query)
        with self._write() as db:
            rows: list = []
            if db.execute("SELECT 1 FROM mutes WHERE query = ?", (q,)).fetchone():
                self._changing(db, rows, "mutes", q)
                db.execute("DELETE FROM mutes WHERE query = ?", (q,))
            self._log(db, f"unmute {q!r}", f"muted {q!r} again", rows)
        return Change((q,), ()) if rows else Change((), (q,))

    def mutes(self) -> list[Mute]:
        """The mute rules, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT query, at FROM mutes ORDER BY at, query").fetchall()
        return [Mute(q, _time(at)) for q, at in rows]

    def snooze(self, ids: str | Iterable[str], until: date,
               remember: Iterable[Paper] = ()) -> Change:
        """Hide papers until the day `until` (they are back on that day). A paper already
        snoozed takes the new date; `unchanged`: the ones already snoozed until that day."""
        wanted, day = _ids(ids), _day(until)
        changed, unchanged, rows, earlier = [], [], [], []
        now = _now()
        with self._write(remember) as db:
            for pid in wanted:
                row = db.execute("SELECT until FROM snoozes WHERE id = ?", (pid,)).fetchone()
                if row and row[0] == day:
                    unchanged.append(pid)
                    continue
                self._changing(db, rows, "snoozes", pid)
                db.execute("INSERT OR REPLACE INTO snoozes (id, until, at) VALUES (?, ?, ?)",
                           (pid, day, now))
                (earlier if row else changed).append(pid)
            revert = [f"unsnoozed {_papers(len(changed), changed)}"] if changed else []
            if earlier:
                revert.append(f"put back the earlier date of {_papers(len(earlier), earlier)}")
            self._log(db, f"snooze {_papers(len(wanted))} until {day}",
                      ", ".join(revert) or "unsnoozed no papers", rows)
        return Change(tuple(p for p in wanted if p not in unchanged), tuple(unchanged))

    def unsnooze(self, ids: str | Iterable[str], remember: Iterable[Paper] = ()) -> Change:
        return self._flag("snoozes", _ids(ids), remember, on=False, verb="unsnooze",
                          revert="snoozed {} again")

    def snoozed_ids(self, today: date) -> set[str]:
        """Papers still snoozed on `today`: a paper snoozed until the 9th is hidden on the
        8th and back on the 9th."""
        return self._ids("SELECT id FROM snoozes WHERE until > ?", _day(today))

    def snoozes(self) -> dict[str, date]:
        """Every snooze, with the day it ends (past ones included)."""
        with self._read() as db:
            rows = db.execute("SELECT id, until FROM snoozes").fetchall()
        return {pid: date.fromisoformat(until) for pid, until in rows}

    # -- when each view was last looked at (local bookkeeping) -------------------------------

    def mark_seen(self, view: str, at: str | None = None) -> None:
        """Remember that the view (its query text, "" for All) was looked at, at `at` (an
        ISO UTC time, default now). Not undoable, not synced, and no change a reader
        reloads for; on a read-only store it does nothing."""
        if at is None:
            at = datetime.now(UTC).isoformat(timespec="microseconds")
        elif not isinstance(at, str) or _time_or_none(at) is None:
            raise InputError(f"not an ISO time: {at!r}")
        if self.read_only:
            return
        with self._write(bump=False) as db:
            db.execute("INSERT OR REPLACE INTO views_seen (view, at) VALUES (?, ?)", (view, at))

    def seen_at(self, view: str) -> str | None:
        """When the view was last looked at (ISO UTC), or None if never."""
        with self._read() as db:
            row = db.execute("SELECT at FROM views_seen WHERE view = ?", (view,)).fetchone()
        return row[0] if row else None

    def seen(self) -> dict[str, str]:
        """Every view looked at, with when."""
        with self._read() as db:
            return dict(db.execute("SELECT view, at FROM views_seen").fetchall())

    # -- remembered papers ------------------------------------------------------------------

    def remember(self, *papers: Paper) -> None:
        """Keep a snapshot of papers the user acts on, so one that later leaves every digest
        can still be shown by title. Not part of undo: it records facts, not user choices."""
        if papers and not self.read_only:  # facts, not choices: no need to refuse
            with self._lock, self._guard(), self._transaction() as db:
                self._snapshot(db, papers)

    def _snapshot(self, db: sqlite3.Connection, papers: Iterable[Paper]) -> None:
        now = _now()
        db.executemany(
            "INSERT OR REPLACE INTO papers (id, title, snapshot, at) VALUES (?, ?, ?, ?)",
            [(_id(p.id), p.title, json.dumps(p.to_json(), ensure_ascii=False), now)
             for p in papers],
        )

    def remembered(self, id: str) -> Paper | None:
        """The paper as it was when last remembered, or None if never remembered."""
        with self._read() as db:
            row = db.execute("SELECT snapshot FROM papers WHERE id = ?", (id,)).fetchone()
        if row is None:
            return None
        try:
            return Paper.from_json(json.loads(row[0]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UserDataError(
                f"user data at {self.path} is damaged: bad snapshot of paper {id}"
            ) from None

    # -- reads ------------------------------------------------------------------------------

    def state(self, id: str) -> PaperState:
        return self.states([id])[id]

    def states(self, ids: Iterable[str] | None = None) -> dict[str, PaperState]:
        """The state of each id (ids without user data share one empty PaperState), or of
        every id with user data when `ids` is None. User data is small next to a library of
        100k papers, so this reads all of it in one query and filters here."""
        with self._read() as db:
            rows = db.execute(marks.SQL).fetchall()
        built = {pid: _state(p) for pid, p in marks.grouped(rows).items()}
        if ids is None:
            return built
        return {pid: built.get(pid, EMPTY) for pid in ([ids] if isinstance(ids, str) else ids)}

    def starred_ids(self) -> set[str]:
        return self._ids("SELECT id FROM stars")

    def read_ids(self) -> set[str]:
        return self._ids("SELECT id FROM reads")

    def tagged_ids(self, tag: str) -> set[str]:
        return self._ids("SELECT id FROM tags WHERE key = ?", normalise_tag(tag).casefold())

    def all_ids(self) -> set[str]:
        """Every id the user has starred, marked read, tagged, annotated, skipped or
        snoozed."""
        return self._ids(
            "SELECT id FROM stars UNION SELECT id FROM reads "
            "UNION SELECT id FROM tags UNION SELECT id FROM notes "
            "UNION SELECT id FROM skips UNION SELECT id FROM snoozes"
        )

    def tags(self) -> list[tuple[str, int]]:
        """Each tag in use with how many papers carry it, by name without case."""
        with self._read() as db:
            rows = db.execute(
                "SELECT MIN(tag), COUNT(*) FROM tags GROUP BY key ORDER BY key"
            ).fetchall()
        return [(t, n) for t, n in rows]

    def data_version(self) -> int:
        """A number that changes whenever any process (this one too) commits a change, so a
        long-running reader can poll it cheaply and reload only when it moved."""
        with self._read() as db:
            return db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()[0]

    def _ids(self, sql: str, *args: object) -> set[str]:
        with self._read() as db:
            return {r[0] for r in db.execute(sql, args)}

    # -- sync -------------------------------------------------------------------------------

    @property
    def machine(self) -> str:
        """This machine's id in the sync logs (made on first use)."""
        if self._machine is None:
            from papers.index import sync as sync_log  # here: `papers tags` never syncs

            self._machine = sync_log.machine_id(self.path.parent)
        return self._machine

    def _tick(self, db: sqlite3.Connection) -> int:
        last = db.execute("SELECT value FROM meta WHERE name = 'clock'").fetchone()
        from papers.index import sync as sync_log

        clock = sync_log.tick(last[0] if last else 0)
        db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('clock', ?)", (clock,))
        return clock

    def _emit(self, db: sqlite3.Connection, table: str, key: tuple) -> None:
        """Record row `key` of `table` as it is now as an op of this machine, unless the sync
        state already says so."""
        cols = _COLUMNS[table]
        where = " AND ".join(f"{c} = ?" for c in _KEYS[table])
        row = db.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {where}", key).fetchone()
        value = dict(zip(cols, row, strict=True)) if row else None
        skey = json.dumps(list(key), ensure_ascii=False)
        reg = db.execute("SELECT clock, machine, value FROM sync_registers "
                         "WHERE kind = ? AND key = ?", (table, skey)).fetchone()
        if (_known(_loads(reg[2]), cols) if reg else None) == value:
            return
        clock, me = self._tick(db), self.machine
        prev = json.dumps([reg[0], reg[1]]) if reg else None
        text = json.dumps(value, ensure_ascii=False) if value is not None else None
        db.execute("INSERT INTO sync_ops (machine, clock, kind, key, value, prev) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (me, clock, table, skey, text, prev))
        db.execute("INSERT OR REPLACE INTO sync_registers (kind, key, clock, machine, value, "
                   "applied) VALUES (?, ?, ?, ?, ?, 1)", (table, skey, clock, me, text))

    def reconcile(self, after: int = 0) -> int:
        """Make the sync state agree with the rows: apply merged ops of kinds an older
        version could not apply, then record as new ops the rows that changed without one
        (user data from before sync, or restored from a backup), with clocks past `after`.
        How many ops it recorded."""
        with self._write(bump=False) as db:
            db.execute("UPDATE meta SET value = MAX(value, ?) WHERE name = 'clock'", (after,))
            changed = 0
            for kind, skey, value in db.execute(
                    "SELECT kind, key, value FROM sync_registers WHERE applied = 0").fetchall():
                if kind in _COLUMNS:
                    changed += self._materialise(db, kind, tuple(json.loads(skey)),
                                                 _loads(value))
                    db.execute("UPDATE sync_registers SET applied = 1 WHERE kind = ? AND key = ?",
                               (kind, skey))
            if changed:
                db.execute("UPDATE meta SET value = value + 1 WHERE name = 'version'")
            before = db.execute("SELECT COUNT(*) FROM sync_ops").fetchone()[0]
            for table, cols in _COLUMNS.items():
                keys = _KEYS[table]
                rows = {tuple(r[: len(keys)]): dict(zip(cols, r[len(keys):], strict=True))
                        for r in db.execute(f"SELECT {', '.join(keys + cols)} FROM {table}")}
                regs = {tuple(json.loads(k)): _known(_loads(v), cols) for k, v in db.execute(
                    "SELECT key, value FROM sync_registers WHERE kind = ?", (table,))}
                for key in rows.keys() | regs.keys():
                    if rows.get(key) != regs.get(key):
                        self._emit(db, table, key)
            return db.execute("SELECT COUNT(*) FROM sync_ops").fetchone()[0] - before

    def apply(self, reads: list[sync_log.Read]) -> Applied:
        """Merge the ops read from sync logs, in one transaction with where each log was read
        to: an op already here is skipped (one that differs from it is reported), a register
        takes the op with the largest (clock, machine)."""
        applied = Applied()
        me = self.machine
        with self._write(bump=False) as db:
            clock = db.execute("SELECT value FROM meta WHERE name = 'clock'").fetchone()[0]
            changed_ops = set()
            for read in reads:
                path = str(read.path.resolve())
                old = db.execute("SELECT top FROM sync_files WHERE path = ?", (path,)).fetchone()
                top = 0 if read.restarted or old is None else old[0]
                for op in read.ops:
                    if op.machine == me:
                        top = max(top, op.clock)
                    outcome = self._apply_op(db, op)
                    if outcome == "differs":
                        changed_ops.add((op.machine, op.clock))
                    elif outcome == "bad":
                        applied.bad += 1
                    elif outcome is not None:
                        applied.new[op.machine] += 1
                        applied.changed += outcome == "changed"
                        clock = max(clock, op.clock)
                db.execute("INSERT OR REPLACE INTO sync_files (path, offset, tail, top) "
                           "VALUES (?, ?, ?, ?)", (path, read.offset, read.tail, top))
            db.execute("UPDATE meta SET value = ? WHERE name = 'clock'", (clock,))
            if applied.changed:
                db.execute("UPDATE meta SET value = value + 1 WHERE name = 'version'")
        if changed_ops:
            applied.problems.append(
                f"{len(changed_ops)} change{'s' if len(changed_ops) != 1 else ''} read again "
                "with other content than the first time (a log was rewritten): the first "
                "reading is kept")
        if applied.bad:
            applied.problems.append(f"{applied.bad} change{'s' if applied.bad != 1 else ''} "
                                    "that cannot be applied to papers' user data, skipped")
        return applied

    def _apply_op(self, db: sqlite3.Connection, op: sync_log.Op) -> str | None:
        """None: already here; 'differs': here with other content; 'bad'; 'kept': merged but
        nothing shown changed; 'changed'."""
        skey = json.dumps(list(op.key), ensure_ascii=False)
        value = json.dumps(op.value, ensure_ascii=False) if op.value is not None else None
        prev = json.dumps(list(op.prev)) if op.prev is not None else None
        here = db.execute("SELECT kind, key, value, prev FROM sync_ops WHERE machine = ? AND "
                          "clock = ?", (op.machine, op.clock)).fetchone()
        if here is not None:
            same = (here[0], json.loads(here[1]), _loads(here[2]), _loads(here[3])) == (
                op.kind, list(op.key), op.value, list(op.prev) if op.prev else None)
            return None if same else "differs"
        known = op.kind in _COLUMNS
        if known and not _valid(op):
            return "bad"
        db.execute("INSERT INTO sync_ops (machine, clock, kind, key, value, prev) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (op.machine, op.clock, op.kind, skey, value, prev))
        reg = db.execute("SELECT clock, machine FROM sync_registers WHERE kind = ? AND key = ?",
                         (op.kind, skey)).fetchone()
        if reg is not None and (reg[0], reg[1]) >= (op.clock, op.machine):
            return "kept"
        db.execute("INSERT OR REPLACE INTO sync_registers (kind, key, clock, machine, value, "
                   "applied) VALUES (?, ?, ?, ?, ?, ?)",
                   (op.kind, skey, op.clock, op.machine, value, int(known)))
        if known and self._materialise(db, op.kind, op.key, op.value):
            return "changed"
        return "kept"

    def _materialise(self, db: sqlite3.Connection, table: str, key: tuple,
                     value: dict | None) -> bool:
        """Make row `key` of `table` what `value` says; whether that changed it."""
        keys, cols = _KEYS[table], _COLUMNS[table]
        where = " AND ".join(f"{c} = ?" for c in keys)
        row = db.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {where}", key).fetchone()
        want = _known(value, cols)
        if (dict(zip(cols, row, strict=True)) if row else None) == want:
            return False
        db.execute(f"DELETE FROM {table} WHERE {where}", key)
        if want is not None:
            db.execute(f"INSERT INTO {table} ({', '.join(keys + cols)}) "
                       f"VALUES ({', '.join('?' * (len(keys) + len(cols)))})",
                       [*key, *(want[c] for c in cols)])
        return True

    def file_state(self, path: str) -> tuple[int, str]:
        """How far the log at `path` was read, and the fingerprint of what ends there."""
        with self._read() as db:
            row = db.execute("SELECT offset, tail FROM sync_files WHERE path = ?",
                             (path,)).fetchone()
        return (row[0], row[1]) if row else (0, "")

    def sent_until(self, path: str) -> int:
        """The clock of the last op of this machine known to be in its log at `path`."""
        with self._read() as db:
            row = db.execute("SELECT top FROM sync_files WHERE path = ?", (path,)).fetchone()
        return row[0] if row else 0

    def mark_sent(self, path: str, clock: int, offset: int, tail: str) -> None:
        """This machine's log at `path` now holds its ops up to `clock`, and ends at
        `offset` (with the fingerprint `tail`)."""
        with self._write(bump=False) as db:
            db.execute("INSERT OR REPLACE INTO sync_files (path, offset, tail, top) "
                       "VALUES (?, ?, ?, ?)", (path, offset, tail, clock))

    def local_ops(self, after: int = 0) -> list[sync_log.Op]:
        """This machine's ops after the clock `after`, oldest first."""
        with self._read() as db:
            rows = db.execute("SELECT machine, clock, kind, key, value, prev FROM sync_ops "
                              "WHERE machine = ? AND clock > ? ORDER BY clock",
                              (self.machine, after)).fetchall()
        return [_op(r) for r in rows]

    def machines(self) -> list[tuple[str, int, int]]:
        """(machine, ops, last clock) of every machine whose changes are here."""
        with self._read() as db:
            return [tuple(r) for r in db.execute(
                "SELECT machine, COUNT(*), MAX(clock) FROM sync_ops GROUP BY machine "
                "ORDER BY machine")]

    def unknown_ops(self, ops: Iterable[sync_log.Op]) -> int:
        """How many of `ops` are not merged here yet."""
        with self._read() as db:
            return sum(db.execute("SELECT 1 FROM sync_ops WHERE machine = ? AND clock = ?",
                                  (op.machine, op.clock)).fetchone() is None for op in ops)

    def unknown_kinds(self) -> dict[str, int]:
        """Kinds of change from a newer papers, kept until a version that knows them."""
        with self._read() as db:
            return {k: n for k, n in db.execute(
                "SELECT kind, COUNT(*) FROM sync_registers WHERE applied = 0 GROUP BY kind")}

    def remembered_ids(self) -> set[str]:
        return self._ids("SELECT id FROM papers")

    def note_history(self, id: str) -> list[NoteVersion]:
        """Texts of the note written on other machines at the same time as the one that
        won (newest first): kept, not dropped. A version is in the history when no later
        edit replaced it knowingly and it is not the note."""
        skey = json.dumps([_id(id)])
        with self._read() as db:
            ops = db.execute("SELECT machine, clock, value, prev FROM sync_ops "
                             "WHERE kind = 'notes' AND key = ?", (skey,)).fetchall()
            reg = db.execute("SELECT clock, machine, value FROM sync_registers "
                             "WHERE kind = 'notes' AND key = ?", (skey,)).fetchone()
        return _history(ops, reg)

    def notes_with_history(self) -> list[str]:
        """The papers whose note has a history (edits on two machines at once)."""
        with self._read() as db:
            ops = db.execute("SELECT key, machine, clock, value, prev FROM sync_ops "
                             "WHERE kind = 'notes' ORDER BY key").fetchall()
            regs = {k: (c, m, v) for k, c, m, v in db.execute(
                "SELECT key, clock, machine, value FROM sync_registers WHERE kind = 'notes'")}
        by_key: dict[str, list] = {}
        for key, *rest in ops:
            by_key.setdefault(key, []).append(rest)
        return sorted(json.loads(k)[0] for k, o in by_key.items()
                      if len(o) > 1 and _history(o, regs.get(k)))

    # -- maintenance ------------------------------------------------------------------------

    def merge(self, found: Salvage, *, replace: bool) -> dict[str, int]:
        """Write salvaged rows into this store, in one transaction (not an undoable
        command): with `replace` they win over rows with the same key, else rows already
        here win. Returns the rows that were new here, per table."""
        added: dict[str, int] = {}
        with self._write() as db:
            for table, rows in found.rows.items():
                names = [n for n in (rows[0] if rows else ()) if n.isidentifier()]
                if not names:
                    continue
                have = {tuple(r) for r in db.execute(
                    f"SELECT {', '.join(SALVAGED[table])} FROM {table}")}
                verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
                sql = (f"{verb} INTO {table} ({', '.join(names)}) "
                       f"VALUES ({', '.join('?' * len(names))})")
                db.executemany(sql, [[r[n] for n in names] for r in rows])
                added[table] = len(found.keys(table) - have)
        return added

    def integrity(self) -> str | None:
        """What SQLite's integrity check finds wrong with the store, or None."""
        with self._lock, self._guard():
            rows = [r[0] for r in self._db.execute("PRAGMA integrity_check")]
        return None if rows == ["ok"] else "; ".join(rows[:3])

    def backup(self, dest_dir: Path) -> Path:
        """Copy the store, consistently even while others write, to a new timestamped file
        in `dest_dir`; return its path. Written under a temporary name first, so a backup
        that is there is whole."""
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        dest = dest_dir / f"userdata-{stamp}.sqlite"
        n = 1
        while dest.exists():
            dest = dest_dir / f"userdata-{stamp}-{n}.sqlite"
            n += 1
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        try:
            with self._lock, self._guard():
                target = sqlite3.connect(tmp)
                try:
                    self._db.backup(target)
                    # A backup is one self-contained file: no -wal/-shm beside it when read.
                    target.execute("PRAGMA journal_mode=DELETE")
                finally:
                    target.close()
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest


# -- salvage ----------------------------------------------------------------------------------

# What is worth saving from a damaged store, with the columns that identify a row: the
# user's choices and the snapshots that show their papers. The undo log is not.
SALVAGED: dict[str, tuple[str, ...]] = {**_KEYS, "papers": ("id",), "views_seen": ("view",)}
_CHUNK = 256


@dataclass
class Salvage:
    """The rows that could still be read out of a damaged store, table by table."""

    rows: dict[str, list[dict]]
    lost: dict[str, int]  # rows that could not be read (-1: some, how many is unknown)
    unreadable: list[str]  # tables that could not be read at all

    def count(self, table: str) -> int:
        return len(self.rows.get(table, ()))

    def keys(self, table: str) -> set[tuple]:
        cols = SALVAGED[table]
        return {tuple(row[c] for c in cols) for row in self.rows.get(table, ())}

    def describe(self) -> str:
        """What it holds, in words: '3 stars, 2 tags, 1 note'."""
        return describe_counts({t: self.count(t) for t in SALVAGED})


def salvage(path: Path) -> Salvage:
    """Every row of ours that can still be read from the store at `path` (and its
    write-ahead log), reading around damaged pages; the file itself is not changed."""
    import tempfile

    rows: dict[str, list[dict]] = {}
    lost: dict[str, int] = {}
    unreadable: list[str] = []
    with tempfile.TemporaryDirectory(prefix="papers-salvage-") as tmp:
        copy = Path(tmp) / FILENAME
        shutil.copyfile(path, copy)  # SQLite may write (replay the log): never to the original
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        try:
            db = sqlite3.connect(copy, isolation_level=None)
        except sqlite3.Error:
            return Salvage({}, {}, list(SALVAGED))
        try:
            for table, _ in SALVAGED.items():
                try:
                    cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
                except sqlite3.Error:
                    cols = []
                read, missed = _read_around_damage(db, table, cols, copy) if cols else ([], -1)
                if not read and missed:
                    unreadable.append(table)
                else:
                    rows[table], lost[table] = read, missed
        finally:
            db.close()
    return Salvage(rows, {t: n for t, n in lost.items() if n}, unreadable)


def _read_around_damage(db, table: str, cols: list[str], path: Path) -> tuple[list[dict], int]:
    select = f"SELECT {', '.join(cols)} FROM {table}"
    try:
        return [dict(zip(cols, r, strict=True)) for r in db.execute(select)], 0
    except sqlite3.Error:
        pass
    try:
        top = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.Error:
        top = path.stat().st_size // 16  # no row is smaller than this
        known = False
    else:
        known = True
    found: list[dict] = []
    lost = 0

    def read(lo: int, hi: int) -> None:
        nonlocal lost
        try:
            # Whole or not at all: a chunk that fails halfway is read again in halves.
            found.extend([dict(zip(cols, r, strict=True)) for r in db.execute(
                f"{select} WHERE rowid BETWEEN ? AND ?", (lo, hi))])
        except sqlite3.Error:
            if lo == hi:
                lost += 1
                return
            mid = (lo + hi) // 2
            read(lo, mid)
            read(mid + 1, hi)

    for lo in range(1, top + 1, _CHUNK):
        read(lo, min(lo + _CHUNK - 1, top))
    # A damaged page can still parse into rows of garbage: keep only rows of our shape.
    sane = [row for row in found if "id" not in row or _ID.fullmatch(str(row["id"]))]
    if not known:  # how many rows there were is unknown: so is how many were lost
        return sane, -1 if lost or len(sane) < len(found) else 0
    return sane, lost + len(found) - len(sane)


def describe_counts(counts: dict[str, int]) -> str:
    """Rows per table in words: '3 stars, 2 tags, 1 note', or 'nothing'."""
    words = {"stars": "star", "reads": "read mark", "tags": "tag", "notes": "note",
             "searches": "saved search", "skips": "not-interested mark", "mutes": "mute rule",
             "snoozes": "snooze", "papers": "remembered paper", "views_seen": "seen view"}
    parts = [f"{n} {words[t]}{'s' if n != 1 else ''}" for t, n in counts.items() if n]
    return ", ".join(parts) or "nothing"


# -- helpers ----------------------------------------------------------------------------------


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _time(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def _id(pid: str) -> str:
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise InputError(f"not a paper id (12 lowercase hex digits): {pid!r}")
    return pid


def _ids(ids: str | Iterable[str]) -> list[str]:
    # A lone str is one id, not twelve one-letter ones; duplicates count once.
    return list(dict.fromkeys(_id(i) for i in ([ids] if isinstance(ids, str) else ids)))


def _tags(tags: Iterable[str]) -> list[str]:
    if isinstance(tags, str):
        tags = [tags]
    seen: dict[str, str] = {}
    for t in tags:
        t = normalise_tag(t)
        seen.setdefault(t.casefold(), t)
    return list(seen.values())


def _rule(query: str) -> str:
    q = query.strip() if isinstance(query, str) else ""
    if not q:
        raise InputError("a mute rule needs a query")
    return q


def _day(day: date) -> str:
    if isinstance(day, datetime):
        day = day.date()
    if not isinstance(day, date):
        raise InputError(f"not a date: {day!r}")
    return day.isoformat()


def _time_or_none(s: str) -> datetime | None:
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        return None


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InputError("a saved search needs a name")
    return name


def _present(db: sqlite3.Connection, table: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), 500):  # stay under SQLite's limit on bound parameters
        chunk = ids[i : i + 500]
        sql = f"SELECT id FROM {table} WHERE id IN ({', '.join('?' * len(chunk))})"
        found.update(r[0] for r in db.execute(sql, chunk))
    return found


def _state(p: dict) -> PaperState:
    return PaperState(
        starred="s" in p,
        starred_at=_time(p.get("s")),
        read="r" in p,
        read_at=_time(p.get("r")),
        tags=tuple(sorted(p.get("tags", ()), key=str.casefold)),
        note=p.get("n"),
        skipped="k" in p,
        snoozed_until=date.fromisoformat(p["z"]) if "z" in p else None,
    )


def _papers(n: int, ids: list[str] | None = None) -> str:
    if n == 1 and ids:
        return ids[0]
    return f"{n} paper" if n == 1 else f"{n} papers"


def _list(word: str, items: list[str]) -> str:
    if not items:
        return f"no {word}s"
    return f"{word} {items[0]}" if len(items) == 1 else f"{word}s {', '.join(items)}"


def _disk_full(folder: Path) -> bool:
    """Whether the disk holding `folder` is out of room: SQLite in WAL mode reports a full
    disk as a "disk I/O error" when it cannot grow its shared-memory file."""
    try:
        return shutil.disk_usage(folder).free < 64 * 1024
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- sync helpers -----------------------------------------------------------------------------


def _loads(text: str | None):
    return json.loads(text) if text is not None else None


def _known(value: dict | None, cols: tuple[str, ...]) -> dict | None:
    """The columns of `value` this version stores (a newer one may send more)."""
    return None if value is None else {c: value.get(c) for c in cols}


def _valid(op: sync_log.Op) -> bool:
    """Whether an op of a kind we know says something our tables can hold."""
    keys, cols = _KEYS[op.kind], _COLUMNS[op.kind]
    if len(op.key) != len(keys):
        return False
    if "id" in keys and not _ID.fullmatch(op.key[0]):
        return False
    if op.value is not None:
        if not all(isinstance(op.value.get(c), str) for c in cols):
            return False
        try:
            for c in ("at", "created"):
                if c in cols:
                    datetime.fromisoformat(op.value[c])
        except ValueError:
            return False
    if op.kind in ("searches", "mutes"):
        return op.key[0] == op.key[0].strip() != ""
    if op.kind == "snoozes" and op.value is not None:
        try:  # the one spelling, since rows compare it as text
            return date.fromisoformat(op.value["until"]).isoformat() == op.value["until"]
        except ValueError:
            return False
    if op.kind == "tags" and op.value is not None:
        tag = op.value["tag"]
        try:
            return normalise_tag(tag) == tag and tag.casefold() == op.key[1]
        except InputError:
            return False
    if op.kind == "notes" and op.value is not None:
        return bool(op.value["text"].strip())
    return True


def _op(row) -> sync_log.Op:
    from papers.index import sync as sync_log

    machine, clock, kind, key, value, prev = row
    prev = _loads(prev)
    return sync_log.Op(machine, clock, kind, tuple(json.loads(key)), _loads(value),
                       (prev[0], prev[1]) if prev else None)


def _history(ops: list, reg) -> list[NoteVersion]:
    """The heads of a note's versions (no op names them as `prev`) but the register's."""
    replaced = {tuple(json.loads(p)) for _m, _c, _v, p in ops if p}
    winner = reg and (reg[0], reg[1])
    text = (_loads(reg[2]) or {}).get("text") if reg else None
    seen, out = set(), []
    for machine, clock, value, _p in sorted(ops, key=lambda o: (o[1], o[0]), reverse=True):
        v = _loads(value)
        if (clock, machine) in replaced or (clock, machine) == winner or not v:
            continue
        if v.get("text") in seen or v.get("text") == text:
            continue
        seen.add(v.get("text"))
        out.append(NoteVersion(v.get("text", ""), _time(v.get("at")), machine))
    return out
