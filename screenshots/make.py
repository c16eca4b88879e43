"""Make the README's screenshots: `python screenshots/make.py [DIGESTS]`.

Builds a library in a temporary folder (the user's data is not touched) from real saved
Daily Papers pages: DIGESTS, else `../shared/digests` next to the repository (real-length
titles, most of them without upvotes, as a page saved in the morning has them), else the
shipped demo digest. Then drives the reader with the Pilot at 120x35, a common terminal
(and at 80x24 for the view picker), and saves SVGs next to this script.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from papers.tui.app import PapersApp  # noqa: E402
from papers.tui.launch import build_demo  # noqa: E402
from papers.tui.pilot import settle  # noqa: E402

SIZE = (120, 35)
NARROW = (80, 24)
REAL = HERE.parent.parent / "shared" / "digests"


def build(root: Path, digests: Path | None) -> tuple[Path, str]:
    """The library to shoot, and what it is."""
    from papers.index.ingest import ingest
    from papers.index.sources import add_sources

    if digests is None or not digests.is_dir():
        return build_demo(root), "demo library"
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    return home, "saved Daily Papers pages"


async def shoot(home: Path, title: str) -> list[Path]:
    saved = []
    app = PapersApp(home, export_dir=Path(tempfile.gettempdir()), rescan=False, title=title)
    async with app.run_test(size=SIZE) as pilot:

        def save(name: str) -> None:
            saved.append(Path(app.save_screenshot(f"{name}.svg", path=str(HERE))))

        await settle(pilot, after=0.2)
        # A little user data, so the marks show: two papers read, one starred and tagged.
        await pilot.press("j", "enter", "s")
        await pilot.press("j", "j", "enter")
        await pilot.press("t", *"reasoning", "enter")
        await pilot.press("g")
        await settle(pilot, after=0.2)
        save("main")

        await pilot.press("slash", *"language model")
        await settle(pilot, after=0.2)
        await pilot.press("escape")
        await settle(pilot, after=0.2)
        save("search")

        await pilot.press("j", "enter")
        await settle(pilot, after=0.2)
        await pilot.press("tab")
        await settle(pilot, after=0.2)
        save("detail")

        await pilot.press("question_mark")
        await settle(pilot, after=0.2)
        save("help")

    # A small terminal: the filter pane folds into a one-line view picker, here open (v).
    app = PapersApp(home, export_dir=Path(tempfile.gettempdir()), rescan=False, title=title)
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot, after=0.2)
        await pilot.press("v")
        await settle(pilot, after=0.2)
        saved.append(Path(app.save_screenshot("narrow.svg", path=str(HERE))))
    return saved


def main() -> int:
    digests = Path(sys.argv[1]) if len(sys.argv) > 1 else REAL
    with tempfile.TemporaryDirectory(prefix="papers-shots-") as tmp:
        home, title = build(Path(tmp), digests)
        for path in asyncio.run(shoot(home, title)):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
