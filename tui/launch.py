"""Opening the reader: kept apart so that the CLI imports Textual only when it is needed."""

from __future__ import annotations

from pathlib import Path


def run_reader(home: Path) -> None:
    from tui.app import PapersApp

    PapersApp(home=home).run()
