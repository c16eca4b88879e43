"""One reading list on every machine: the sync log format and the sync through a folder.

Every change to user data is recorded (by `userdata`, in the change's own transaction) as an
*op*: "the row `key` of `kind` is now `value`" (None: there is no such row), stamped with a
hybrid logical clock and the id of the machine that made it. `papers sync DIR` appends this
machine's ops to `DIR/<machine id>.jsonl`, a file no other machine writes (so a file-sync tool
never sees two writers), and applies the ops of every other log in DIR it has not applied yet.

Merging: for each (kind, key) the op with the largest (clock, machine) wins. That is a
maximum over a set, so every machine that has seen the same ops has the same data, whatever
order they arrived in. Stars, read marks and notes are such registers; tags are one register
per (paper, tag), so a tag added on one machine and removed on the other ends as the later
says. A note op names the version it replaced (`prev`); a version nobody replaced knowingly
that is not the winner was written concurrently, and its text is kept in the note's history.

A kind this version does not know (a later version's new kind of mark) is kept and merged
like any other, and applied when a version that knows it reads the store.

Being robust to sync tools: only whole lines (ending in a newline) are read, so a line still
being copied waits for the next run; every `*.jsonl` in DIR is read, so a conflict copy
(`x.sync-conflict-....jsonl`, `x (1).jsonl`) is merged like any log; ops are identified by
(machine, clock), so reading one twice applies it once; a log that got shorter or changed
under what was read is reported and read again from the start.

Also here: the machine id (`<home>/machine-id`) and the settings file (`<home>/settings.json`,
holding `sync_dir`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from papers.index import locks
from papers.index.errors import InputError, StorageError, from_os_error

LOG_SUFFIX = ".jsonl"
MACHINE_FILE = "machine-id"
SETTINGS_FILE = "settings.json"
LOCK_FILE = "sync.lock"
LOCK_WAIT_S = 30.0
MAX_LINE = 1 << 20  # a longer line is not ours: reported, not parsed

_MACHINE = re.compile(r"[a-z0-9][a-z0-9-]{0,40}")
_COUNTER_BITS = 16


# -- the hybrid logical clock -------------------------------------------------------------------

# One integer: milliseconds since the epoch, shifted, plus a counter for events in the same
# millisecond (or while the wall clock lags a clock seen from another machine).


def tick(last: int, now_ms: int | None = None) -> int:
    """The clock of a new local event, after `last`."""
    now = (time.time_ns() // 1_000_000 if now_ms is None else now_ms) << _COUNTER_BITS
    return max(now, last + 1)


def clock_time(clock: int) -> datetime:
    return datetime.fromtimestamp((clock >> _COUNTER_BITS) / 1000, UTC)


# -- ops and their lines ----------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One change: row `key` of `kind` is now `value` (None: gone)."""

    machine: str
    clock: int
    kind: str
    key: tuple
    value: dict | None
    prev: tuple[int, str] | None = None  # the (clock, machine) of the version it replaced

    def line(self) -> bytes:
        data = {"m": self.machine, "c": self.clock, "kind": self.kind, "key": list(self.key),
                "value": self.value}
        if self.prev is not None:
            data["prev"] = list(self.prev)
        return (json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
                + "\n").encode()

    def same(self, other: Op) -> bool:
        return (self.kind, self.key, self.value, self.prev) == (
            other.kind, other.key, other.value, other.prev)


def parse(line: bytes) -> Op:
    """An op from one log line; ValueError when it is not one."""
    if len(line) > MAX_LINE:
        raise ValueError("line too long")
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not an object")
    machine, clock, kind = data.get("m"), data.get("c"), data.get("kind")
    key, value, prev = data.get("key"), data.get("value"), data.get("prev")
    if not (isinstance(machine, str) and _MACHINE.fullmatch(machine)):
        raise ValueError("bad machine id")
    if not (isinstance(clock, int) and not isinstance(clock, bool) and 0 < clock < 1 << 62):
        raise ValueError("bad clock")
    if not (isinstance(kind, str) and kind.isidentifier() and len(kind) <= 40):
        raise ValueError("bad kind")
    if not (isinstance(key, list) and key and all(isinstance(k, str) for k in key)):
        raise ValueError("bad key")
    if value is not None and not isinstance(value, dict):
        raise ValueError("bad value")
    if prev is not None:
        if not (isinstance(prev, list) and len(prev) == 2 and isinstance(prev[0], int)
                and isinstance(prev[1], str)):
            raise ValueError("bad prev")
        prev = (prev[0], prev[1])
    return Op(machine, clock, kind, tuple(key), value, prev)


@dataclass
class Read:
    """What reading one log from where the last run stopped found."""

    path: Path
    ops: list[Op]
    offset: int  # just past the last whole line
    tail: str  # fingerprint of the bytes just before `offset`
    bad: int = 0  # whole lines that are not ops
    restarted: str | None = None  # why it was read from the start again
    partial: bool = False  # the file ends in a line without its newline


_TAIL = 64


def _fingerprint(data: bytes) -> str:
    import hashlib  # here: `papers tags` imports this module, and hashlib costs ms

    return hashlib.sha1(data[-_TAIL:]).hexdigest()


def read_log(path: Path, offset: int = 0, tail: str = "") -> Read:
    """The whole lines of `path` after `offset`, checking that what was read before is still
    there (the same size at least and the same bytes before `offset`)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        restarted = None
        if offset:
            if size < offset:
                restarted = f"{path.name} got shorter ({size} bytes, {offset} were read)"
            else:
                f.seek(max(0, offset - _TAIL))
                if _fingerprint(f.read(min(offset, _TAIL))) != tail:
                    restarted = f"{path.name} changed in what was already read"
        start = 0 if restarted else offset
        f.seek(start)
        data = f.read()
    end = data.rfind(b"\n") + 1
    ops, bad = [], 0
    for raw in data[:end].splitlines():
        if not raw.strip():
            continue
        try:
            ops.append(parse(raw))
        except (ValueError, UnicodeDecodeError):
            bad += 1
    if end:
        new_tail = _fingerprint(data[:end] if end >= _TAIL or not start else
                                _prefix(path, start) + data[:end])
    else:
        new_tail = tail if not restarted else ""
    return Read(path, ops, start + end, new_tail, bad, restarted, partial=end < len(data))


def _prefix(path: Path, start: int) -> bytes:
    with open(path, "rb") as f:
        f.seek(max(0, start - _TAIL))
        return f.read(min(start, _TAIL))


def is_log(path: Path) -> bool:
    """Whether the file is a sync log (its first line is a change): for the digest scan, so
    that a sync folder inside a digest folder is not read as Daily Papers JSON lines."""
    try:
        with open(path, "rb") as f:
            first = f.readline(MAX_LINE + 1)
    except OSError:
        return False
    try:
        parse(first)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def logs(folder: Path) -> list[Path]:
    """Every log in the folder, conflict copies too; not our own temporary files."""
    try:
        return sorted(p for p in folder.iterdir()
                      if p.name.endswith(LOG_SUFFIX) and not p.name.startswith(".")
                      and p.is_file())
    except FileNotFoundError:
        raise InputError(f"the sync folder {folder} does not exist") from None
    except NotADirectoryError:
        raise InputError(f"the sync folder {folder} is not a folder") from None
    except OSError as exc:
        raise from_os_error(exc, f"read the sync folder {folder}") from None


def append(path: Path, ops: list[Op]) -> tuple[int, str]:
    """Append ops to this machine's own log: first dropping a line a killed run left
    half-written, then the new lines, then fsync, so a line is in the file whole or not.
    Returns where the log now ends and the fingerprint of its end (see `read_log`)."""
    try:
        with open(path, "a+b") as f:
            size = f.seek(0, os.SEEK_END)
            if size:
                f.seek(max(0, size - MAX_LINE))
                data = f.read()
                end = data.rfind(b"\n") + 1
                keep = size - len(data) + end
                if keep != size:
                    f.truncate(keep)
            if ops:
                f.write(b"".join(op.line() for op in ops))
            f.flush()
            os.fsync(f.fileno())
            end = f.seek(0, os.SEEK_END)
            f.seek(max(0, end - _TAIL))
            return end, _fingerprint(f.read())
    except OSError as exc:
        raise from_os_error(exc, f"write {path}") from None


# -- the machine id and the settings ------------------------------------------------------------


def machine_id(home: Path) -> str:
    """This machine's id, made once and kept in the data directory. It is tied to the
    machine, so a data directory copied to another machine makes itself a new id there
    instead of writing the same log as the original."""
    import secrets
    import socket

    path = Path(home) / MACHINE_FILE
    host = _this_machine()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("host") == host and _MACHINE.fullmatch(str(data.get("id"))):
            return data["id"]
    except (OSError, ValueError, AttributeError):
        pass
    slug = re.sub(r"[^a-z0-9]+", "-", socket.gethostname().lower()).strip("-")[:24] or "machine"
    new = f"{slug}-{secrets.token_hex(4)}"
    _write_json(path, {"id": new, "host": host})
    # Two processes may race to make the id: whichever file landed is the id.
    try:
        return json.loads(path.read_text(encoding="utf-8"))["id"]
    except (OSError, ValueError, KeyError):
        return new


def _this_machine() -> str:
    """Something that names this machine and stays: the OS's machine id where there is one
    (a host name can change with the network), else the host name."""
    import hashlib
    import socket

    for source in ("/etc/machine-id", "/var/lib/dbus/machine-id"):
        try:
            value = Path(source).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if value:
            return hashlib.sha1(value.encode()).hexdigest()[:16]  # not the id itself
    return socket.gethostname()


def load_settings(home: Path) -> dict:
    path = Path(home) / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the settings {path}: {exc}; fix or delete it") from None
    if not isinstance(data, dict):
        raise InputError(f"the settings {path} are not a JSON object; fix or delete it")
    return data


def sync_dir(home: Path) -> Path | None:
    """The `sync_dir` setting, or None."""
    value = load_settings(home).get("sync_dir")
    return Path(value).expanduser() if isinstance(value, str) and value else None


def save_sync_dir(home: Path, folder: Path) -> None:
    settings = load_settings(home)
    settings["sync_dir"] = str(Path(folder).expanduser().resolve())
    _write_json(Path(home) / SETTINGS_FILE, settings)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise from_os_error(exc, f"write {path}") from None


# -- one sync -----------------------------------------------------------------------------------


@dataclass
class Report:
    """What one sync did."""

    machine: str
    folder: Path
    received: Counter = field(default_factory=Counter)  # new ops, per machine
    changed: int = 0  # of them, ops that changed this machine's user data
    sent: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def arrived(self) -> int:
        return sum(self.received.values())

    def summary(self) -> str:
        if self.arrived:
            got = f"{self.arrived} change{'s' if self.arrived != 1 else ''} from " + ", ".join(
                f"{m} ({n})" for m, n in sorted(self.received.items()))
        else:
            got = "nothing new from other machines"
        return f"synced with {self.folder}: {got}; sent {self.sent}"

    def to_json(self) -> dict:
        return {"machine": self.machine, "folder": str(self.folder),
                "received": dict(sorted(self.received.items())), "changed": self.changed,
                "sent": self.sent, "problems": self.problems}


def sync(home: Path, folder: Path | None = None, *, userdata=None) -> Report:
    """Sync the user data of `home` through `folder` (default: the `sync_dir` setting).

    Safe to call from a worker thread while the same `UserData` serves others (it takes the
    store's lock only for its transactions), and from several processes at once (they take
    turns). InputError when there is no folder; StorageError when it cannot be written.
    """
    from papers.index.userdata import UserData

    home = Path(home)
    folder = Path(folder).expanduser() if folder is not None else sync_dir(home)
    if folder is None:
        raise InputError("no sync folder: give one (`papers sync DIR`) or set sync_dir")
    own = userdata is None
    ud = UserData(home) if own else userdata
    try:
        with _locked(home):
            return _sync(ud, folder)
    finally:
        if own:
            ud.close()


def _sync(ud, folder: Path) -> Report:
    me = ud.machine
    report = Report(me, folder)
    reads: list[Read] = []
    for path in logs(folder):
        offset, tail = ud.file_state(str(path.resolve()))
        try:
            read = read_log(path, offset, tail)
        except OSError as exc:
            report.problems.append(f"cannot read {path.name}: {exc.strerror or exc}")
            continue
        if read.restarted:
            report.problems.append(read.restarted + "; read again, nothing is applied twice")
        if read.bad:
            report.problems.append(f"{path.name}: {read.bad} line{'s' if read.bad != 1 else ''}"
                                   " that are not changes, skipped")
        reads.append(read)
    # Rows changed without an op (user data from before sync, or restored from a backup) are
    # recorded first, as changes made now: merged after, they would lose to what the logs
    # say and be gone. Their clock starts past every op read, so none can take the id
    # (machine, clock) of one already in our log that this store lost.
    ud.reconcile(after=max((op.clock for r in reads for op in r.ops), default=0))
    applied = ud.apply(reads)
    report.received.update({m: n for m, n in applied.new.items() if m != me})
    report.changed = applied.changed
    report.problems.extend(applied.problems)
    mine = folder / f"{me}{LOG_SUFFIX}"
    # A log of ours that is gone (deleted, or not copied back yet) is written afresh.
    sent_until = ud.sent_until(str(mine.resolve())) if mine.exists() else 0
    pending = ud.local_ops(after=sent_until)
    if pending or (mine.exists() and _ends_partial(mine)):
        # What was read of it reached its last whole line, and only this process writes it:
        # it is read up to its new end, so a later shrink shows as one.
        end, tail = append(mine, pending)
        ud.mark_sent(str(mine.resolve()), pending[-1].clock if pending else sent_until,
                     end, tail)
    report.sent = len(pending)
    return report


def _ends_partial(path: Path) -> bool:
    with open(path, "rb") as f:
        if f.seek(0, os.SEEK_END) == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def _locked(home: Path):
    """One sync at a time per data directory (the reader and `papers index` may both try):
    two would append the same ops to the one log."""
    return locks.held(home / LOCK_FILE, LOCK_WAIT_S, lambda: StorageError(
        f"another papers process has been syncing for {LOCK_WAIT_S:g} s; try again"))


# -- what is pending ----------------------------------------------------------------------------


def status(home: Path, folder: Path | None, userdata, library=None) -> dict:
    """Machines seen (with their last change), what this machine has not sent, what the
    folder holds that is not applied yet, and marks waiting for their papers."""
    me = userdata.machine
    machines = [{"machine": m, "changes": n, "last": clock_time(c).isoformat(timespec="seconds"),
                 "this": m == me}
                for m, n, c in userdata.machines()]
    data: dict = {"machine": me, "folder": str(folder) if folder else None,
                  "machines": machines}
    unapplied = 0
    problems: list[str] = []
    if folder is not None:
        mine = folder / f"{me}{LOG_SUFFIX}"
        sent = userdata.sent_until(str(mine.resolve())) if mine.exists() else 0
        data["to_send"] = len(userdata.local_ops(after=sent))
        for path in logs(folder):
            offset, tail = userdata.file_state(str(path.resolve()))
            try:
                read = read_log(path, offset, tail)
            except OSError as exc:
                problems.append(f"cannot read {path.name}: {exc.strerror or exc}")
                continue
            if read.restarted:
                problems.append(read.restarted)
            unapplied += userdata.unknown_ops(read.ops)
    else:
        data["to_send"] = len(userdata.local_ops(after=0))
    data["to_apply"] = unapplied
    data["waiting"] = sorted(waiting(userdata, library))
    data["unknown_kinds"] = userdata.unknown_kinds()
    data["note_conflicts"] = userdata.notes_with_history()
    data["problems"] = problems
    return data


def remember_arrived(userdata, library) -> int:
    """Snapshot the papers that marks from other machines waited for and the library now
    has, as a mark made here would have (so they are shown after they leave every digest).
    How many."""
    ids = userdata.all_ids() - userdata.remembered_ids()
    if library is None or not ids:
        return 0
    papers = [p for p in map(library.get, sorted(ids)) if p is not None]
    userdata.remember(*papers)
    return len(papers)


def waiting(userdata, library) -> set[str]:
    """Papers with marks that neither the library nor the remembered snapshots have yet."""
    ids = userdata.all_ids() - userdata.remembered_ids()
    if library is None or not ids:
        return ids
    searcher = library.searcher()
    return {pid for pid in ids if searcher.document_number(id=pid) is None}
