"""Opening the reader: kept apart so that the CLI imports Textual only when it is needed."""

from __future__ import annotations

import shutil
import tempfile
from importlib import resources
from pathlib import Path

DEMO_DIGEST = "demo-digest.txt"


def run_reader(home: Path) -> None:
    from papers.tui.app import PapersApp

    if PapersApp(home=home).run() == "demo":  # the welcome screen offered the demo
        run_demo()


def build_demo(root: Path) -> Path:
    """A library built from the shipped demo digest under `root`; returns its home."""
    from papers.index.ingest import ingest
    from papers.index.sources import add_sources

    digests = root / "digests"
    digests.mkdir(parents=True, exist_ok=True)
    source = resources.files("papers.tui") / "data" / DEMO_DIGEST
    target = digests / "2025-03-14.txt"  # the date in the name pins the digest's year
    target.write_bytes(source.read_bytes())
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    return home


def run_demo() -> None:
    """Open the reader on a temporary demo library; the user's own data is never touched."""
    from papers.tui.app import PapersApp

    root = Path(tempfile.mkdtemp(prefix="papers-demo-"))
    try:
        home = build_demo(root)
        PapersApp(home=home, export_dir=Path.cwd(), title="demo library").run()
    finally:
        shutil.rmtree(root, ignore_errors=True)
