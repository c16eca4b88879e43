"""Run by test_userdata in separate processes, two at once, to race on one user-data store.

usage: _userdata_worker.py write HOME WORKER N GO_FILE BUSY_TIMEOUT_S HOLD_S
       _userdata_worker.py create BASE WORKER ROUNDS

write: touch ready-WORKER beside GO_FILE, then wait for GO_FILE to exist so that
both workers start at the same moment; then make N changes, each its own command (its own
transaction), on papers only this worker touches.
A short busy timeout shows starvation quickly: a writer that waits longer than it fails.
HOLD_S keeps each transaction open that much longer, as a slow disk's fsync would.

create: ROUNDS times, both workers create the same new store BASE/<round> at once. They
meet after reading the fresh file's journal mode, so that both then switch it to WAL at the
same instant: SQLite may answer one of them "database is locked" without waiting at all.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from papers.index import userdata
from papers.index.userdata import UserData


def paper_id(worker: int, i: int) -> str:
    return f"{worker:02x}{i:010x}"


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists():
        if time.monotonic() > deadline:
            sys.exit(f"never saw {path}")
        # Spin rather than sleep: the two workers must go on within microseconds.


def write(home: Path, worker: int, n: int, go: Path, busy_timeout: float, hold: float) -> None:
    userdata.BUSY_TIMEOUT_S = busy_timeout
    fast = UserData._transaction

    @contextmanager
    def slow(self: UserData):
        with fast(self) as db:
            yield db
            time.sleep(hold)

    UserData._transaction = slow  # type: ignore[method-assign]
    go.with_name(f"ready-{worker}").touch()
    wait_for(go)
    with UserData(home) as ud:
        for i in range(n):
            pid = paper_id(worker, i // 2)
            if i % 2 == 0:
                ud.star([pid])
            else:
                ud.add_tags(pid, [f"w{worker}", f"n{i}"])


def create(base: Path, worker: int, rounds: int) -> None:
    class Connection(sqlite3.Connection):
        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            cursor = super().execute(sql, *args)
            if sql == "PRAGMA journal_mode":
                (meeting / f"read-{worker}").touch()
                wait_for(meeting / f"read-{3 - worker}")
            return cursor

    connect = sqlite3.connect
    userdata.sqlite3.connect = lambda *a, **k: connect(*a, factory=Connection, **k)  # type: ignore[attr-defined]
    for r in range(rounds):
        meeting = base / str(r)  # read by Connection.execute: this round's meeting place
        meeting.mkdir(parents=True, exist_ok=True)
        with UserData(meeting / "home") as ud:
            ud.star([paper_id(worker, r)])


if __name__ == "__main__":
    mode, where, worker = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    if mode == "write":
        n, go, busy, hold = int(sys.argv[4]), Path(sys.argv[5]), sys.argv[6], sys.argv[7]
        write(where, worker, n, go, float(busy), float(hold))
    else:
        create(where, worker, int(sys.argv[4]))
