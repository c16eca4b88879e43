"""Helpers for the reader's tests: a small fixture library built by the real ingest, and
ways to wait for the app and read what it shows."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from rich.console import Console

from papers.index.ingest import ingest
from papers.index.sources import add_sources

HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
    "byAK and the research community\n\n"
)

# (title, abstract, metadata block or None)
DAY_ONE = [
    ("GPT-[n] and o-[n] Models: A Survey of Bracketed Names",
     "We survey model families written with brackets and the reasoning benchmarks "
     "used to compare them. Code at https://github.com/example/gpt-n",
     "  • 12 authors\n·\nDec 8 40"),
    ("Closing Tags Like [/x] and [dev] Are Not Markup",
     "Rich markup uses square brackets; titles from digests must show them literally.",
     "  • 1 author\n·\nDec 7"),
    ("Red \x1b[31mAlert\x1b[0m: Escape Sequences in Paper Titles",
     "A title with a terminal escape sequence must not colour the screen.",
     "escape-lab Escape Lab\n·\nDec 6, 2025 3"),
    ("Diffusion Models for Video Generation",
     "Video diffusion models generate frames jointly with a temporal attention layer.",
     "  • 5 authors\n·\nDec 9 120"),
]
DAY_TWO = [
    ("Diffusion Transformers at Scale",
     "Scaling diffusion transformers to billions of parameters for image generation.",
     "  • 9 authors\n·\nDec 10 75"),
    ("Language Agents That Plan",
     "Language model agents plan with a learned world model and search over actions.",
     None),
    ("Reward Models and Length Bias",
     "Preference tuning rewards long answers; we measure the bias in reward models.",
     "  • 4 authors\n·\nDec 9 8"),
    ("Sparse Attention for Long Context",
     "Sparse attention keeps long-context language models fast without losing accuracy.",
     "  • 6 authors\n·\nDec 10 30"),
]

TITLES = [t for t, _, _ in DAY_ONE + DAY_TWO]


def digest_text(date_line: str, entries) -> str:
    out = HEADER + date_line + "\n\n"
    for title, abstract, meta in entries:
        out += f"{title}\n\n{abstract}\n\n"
        if meta:
            out += meta + "\n\n"
    return out


def build_library(root: Path) -> Path:
    """Write two fixture digests under `root` and ingest them; return the papers home."""
    digests = root / "digests"
    digests.mkdir(parents=True, exist_ok=True)
    (digests / "2025-12-09.txt").write_text(digest_text("Dec 9, 2025", DAY_ONE), "utf-8")
    (digests / "2025-12-10.txt").write_text(digest_text("Dec 10, 2025", DAY_TWO), "utf-8")
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    return home


def screen_text(app) -> str:
    """The whole screen (dialogs and notifications included) as plain text."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system="truecolor", legacy_windows=False)
    console.print(app.screen._compositor.render_update(
        full=True, screen_stack=app._background_screens))
    return console.export_text()


def list_rows(app) -> list[str]:
    from papers.tui.widgets.paper_list import plain_lines

    return [line.rstrip() for line in plain_lines(app.reader.paper_list) if line.strip()]


def filter_group(app, label: str):
    """The filter pane's top-level node whose label starts with `label` (Tags, Digests...)."""
    pane = app.query_one("#filters")
    return next(n for n in pane.root.children if n.label.plain.startswith(label))


def detail_text(app, width: int = 200) -> str:
    """The detail pane's body as plain text, unwrapped by a wide console."""
    from papers.tui.widgets.detail import DetailPane, describe

    console = Console(width=width, file=io.StringIO(), record=True)
    console.print(describe(app.reader.detail, app.reader.query_one(DetailPane).everyone))
    return console.export_text()


async def searched(pilot, query: str) -> None:
    """Type `query` in the search bar, leave it, and wait for the reader to settle."""
    from papers.tui.pilot import settle

    await settle(pilot)
    await pilot.press("slash", *query, "escape")
    await settle(pilot)


async def until(pilot, check, seconds: float = 5.0) -> bool:
    """Let the app run until `check()` holds, for at most `seconds`; say whether it does."""
    for _ in range(int(seconds / 0.01)):
        if check():
            return True
        await pilot.pause(0.01)
    return check()


def hold_answer(pump, held, until) -> tuple[threading.Event, threading.Event]:
    """Hold the worker answer (a message posted to `pump`, the reader's screen or the app)
    that `held(message)` picks, until the answer `until(message)` picks has been posted: as
    if the first worker's thread had lost the CPU just before it answered. Returns two
    events, set when the held answer waits and when the other one has been posted."""
    waiting, delivered = threading.Event(), threading.Event()
    post = pump.post_message

    def late(message):
        if threading.current_thread() is threading.main_thread():
            return post(message)  # the UI's own messages: never held
        if held(message):
            waiting.set()
            delivered.wait(10)
        posted = post(message)
        if until(message):
            delivered.set()
        return posted

    pump.post_message = late
    return waiting, delivered


# A Daily Papers API file (`/api/daily_papers?date=...`): what a saved page does not say.
AUTHORS = ["Ada Lovelace", "Émile Borel", "Grace Hopper", "Alan Turing", "Kurt Gödel",
           "Emmy Noether", "John von Neumann"]
CODE_PAPER = "Sparse Mixtures of Experts That Route by Meaning"
BARE_PAPER = "A Paper Known Only by Its arXiv Id"


def api_entry(arxiv_id: str, title: str, abstract: str, authors: list[str], **paper) -> dict:
    return {
        "paper": {"id": arxiv_id, "title": title, "summary": abstract,
                  "authors": [{"name": n, "hidden": False} for n in authors],
                  "publishedAt": "2025-12-10T17:00:00.000Z", "upvotes": 12, **paper},
        "publishedAt": "2025-12-11T09:00:00.000Z", "title": title, "summary": abstract,
        "numComments": 3,
    }


API_DAY = [
    api_entry("2512.01234", CODE_PAPER,
              "Experts are chosen by what a token means. Demo at https://example.org/demo",
              AUTHORS, githubRepo="https://github.com/example/moe-meaning", githubStars=1234,
              projectPage="https://example.org/moe", ai_summary="Routing by meaning helps.",
              ai_keywords=["mixture of experts", "routing"]),
    api_entry("2512.05678", BARE_PAPER, "Nothing but an id and two authors.",
              ["Rosalind Franklin", "Lise Meitner"]),
]


def build_json_library(root: Path) -> Path:
    """The two text digests plus one Daily Papers API file; return the papers home."""
    import json

    digests = root / "digests"
    digests.mkdir(parents=True, exist_ok=True)
    (digests / "2025-12-09.txt").write_text(digest_text("Dec 9, 2025", DAY_ONE), "utf-8")
    (digests / "2025-12-11.json").write_text(json.dumps(API_DAY), "utf-8")
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    return home


def record_notices(app) -> list[str]:
    """Every notification the app shows from now on, in order (toasts time out: a loaded
    machine could take one away before a test reads the screen)."""
    said: list[str] = []
    notify = app.notify

    def recording(message, *args, **kwargs):
        said.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording
    return said


# Daily Papers titles are 80-120 characters; these are of that length, and no entry has
# upvotes (a saved page often shows none).
LONG_TITLES = [
    "PolicyGuide: From Guarding One Action to Guiding the Whole Workflow for "
    "Policy-Compliant LLM Agents",
    "SWE-bench Science: Can Coding Agents Resolve Engineering Issues in Scientific "
    "Software Repositories?",
    "MemTrapBench: Benchmarking Cognitive Traps in LLM Memory Systems Across Long "
    "Multi-Session Dialogues",
    "Listening Forward: Next Patch Embedding Prediction Enables Streaming Speech "
    "Understanding in Audio LLMs",
    "FlashPrefill V2: Block-Sparse Prefill Attention for Long-Context Inference on "
    "Commodity Accelerators",
    "WithEveryone: Unified Planning and Identity Grounding for Multi-Person Video "
    "Generation at Scale",
]


def build_long_library(root: Path) -> Path:
    digests = root / "digests"
    digests.mkdir(parents=True, exist_ok=True)
    entries = [(t, f"An abstract about {t.split(':')[0]}.", "  • 5 authors\n·\nDec 9")
               for t in LONG_TITLES]
    (digests / "2025-12-09.txt").write_text(digest_text("Dec 9, 2025", entries), "utf-8")
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    return home


def build_day_library(root: Path, n: int = 50) -> Path:
    """A morning's triage: one older digest, looked at yesterday, and a day of `n` papers
    with real-length titles, half of them without upvotes, come in since."""
    from papers.index.userdata import UserData

    digests = root / "digests"
    digests.mkdir(parents=True, exist_ok=True)
    (digests / "2025-12-09.txt").write_text(digest_text("Dec 9, 2025", DAY_ONE), "utf-8")
    home = root / "home"
    ingest(home, add_sources(home, [digests]), procs=1)
    with UserData(home) as ud:
        ud.mark_seen("")  # the reader showed All yesterday
    entries = []
    for i in range(n):
        base = LONG_TITLES[i % len(LONG_TITLES)]
        title = f"{base.split(':')[0]} {i + 1}:{base.split(':', 1)[1]}"
        meta = f"  • {3 + i % 7} authors\n·\nDec 10" + (f" {i * 3 + 1}" if i % 2 else "")
        entries.append((title, f"An abstract about {title[:30]}.", meta))
    (digests / "2025-12-10.txt").write_text(digest_text("Dec 10, 2025", entries), "utf-8")
    ingest(home, [digests], procs=1)
    return home
