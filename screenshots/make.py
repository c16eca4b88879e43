"""Make the README's screenshots from the demo library: `python screenshots/make.py`.

Builds the demo library in a temporary folder (the user's data is not touched), drives
the reader with the Pilot and saves SVGs next to this script.
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

SIZE = (150, 40)


async def shoot(home: Path) -> list[Path]:
    saved = []
    app = PapersApp(home, export_dir=Path(tempfile.gettempdir()), rescan=False,
                    title="demo library")
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
    return saved


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="papers-shots-") as tmp:
        home = build_demo(Path(tmp))
        for path in asyncio.run(shoot(home)):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
