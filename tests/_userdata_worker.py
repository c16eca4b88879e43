"""Run by test_userdata in a separate process: star and tag papers as fast as possible.

usage: _userdata_worker.py HOME WORKER N GO_FILE [BUSY_TIMEOUT_S]
Waits for GO_FILE to exist so that both workers start at the same moment, then makes N
changes, each its own command (its own transaction), on papers only this worker touches.
A short busy timeout shows starvation quickly: a writer that waits longer than it fails.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from index import userdata
from index.userdata import UserData


def paper_id(worker: int, i: int) -> str:
    return f"{worker:02x}{i:010x}"


def main() -> None:
    home, worker, n, go = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    if len(sys.argv) > 5:
        userdata.BUSY_TIMEOUT_S = float(sys.argv[5])
    deadline = time.monotonic() + 30
    while not go.exists():
        if time.monotonic() > deadline:
            sys.exit("never told to start")
        time.sleep(0.001)
    # Both processes open (and may create) the store at once: that is part of the test.
    with UserData(home) as ud:
        for i in range(n):
            pid = paper_id(worker, i // 2)
            if i % 2 == 0:
                ud.star([pid])
            else:
                ud.add_tags(pid, [f"w{worker}", f"n{i}"])


if __name__ == "__main__":
    main()
