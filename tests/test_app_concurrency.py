"""The reader open while other processes change the library (its own polling must notice)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from _app_library import list_rows, until
from conftest import REPO, digest, entry, write

from papers.index.identity import paper_id
from papers.tui.pilot import settle


async def run_papers(home, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERS_HOME": str(home)}
    return await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "papers.tui", *args], env=env, cwd=REPO,
        capture_output=True, text=True, timeout=120)


async def test_reader_shows_papers_indexed_and_stars_made_by_other_processes(
        app, app_home, tmp_path):
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        before = len(list_rows(app))
        write(tmp_path / "new" / "2025-12-11.txt",
              digest("Dec 11, 2025", entry("Cron Job Paper", "Indexed while the reader ran.")))
        added = await run_papers(app_home, "add", str(tmp_path / "new"))
        assert added.returncode == 0, added.stderr
        assert await until(pilot, lambda: any("Cron Job Paper" in r for r in list_rows(app)),
                           seconds=15)
        assert len(list_rows(app)) == before + 1

        starred = await run_papers(app_home, "star", paper_id("Cron Job Paper"))
        assert starred.returncode == 0, starred.stderr
        assert await until(pilot, lambda: any(r.startswith("★") and "Cron Job Paper" in r
                                              for r in list_rows(app)))
