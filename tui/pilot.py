"""Waiting for the reader to be idle when it is driven headless (tests, screenshots, bench)."""

from __future__ import annotations

from textual.worker import WorkerCancelled


async def workers_done(app) -> None:
    """Wait for every worker. One replaced by a newer one (an exclusive group) was cancelled
    on purpose: that is done too, not an error."""
    while True:
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def settle(pilot, rounds: int = 200, after: float = 0.0) -> None:
    """Wait until the reader is idle: no search, detail load, similar-papers lookup, count
    or user-data write is pending (its timer still to fire, its worker running, or its
    answer's message still to be handled), and every worker has finished. One answer sets
    the next going (a new listing announces the paper under its cursor in a message, and
    only its handler starts the detail pane's load), so busy is asked again at the end."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause(0.02)
        if app.busy:
            continue
        await workers_done(app)
        await pilot.pause()
        if not app.busy:
            break
    await workers_done(app)
    await pilot.pause(after or None)
