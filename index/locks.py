"""One papers process at a time for a piece of work (an ingest, a fetch, a sync).

A lock file held with `flock`: the kernel lets it go when its holder dies, so a killed run
never leaves a library locked. Others wait for it, polling, up to a timeout.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from papers.index.errors import PapersError, from_os_error


@contextmanager
def held(path: Path, timeout: float, busy: Callable[[], PapersError]) -> Iterator[None]:
    """Hold the lock file at `path`, waiting up to `timeout` seconds; then raise `busy()`."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise from_os_error(exc, f"lock {path}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise busy() from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing the descriptor lets go of the lock
