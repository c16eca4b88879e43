"""How fast the reader is on a large library.

    python bench/bench_reader.py [--home HOME] [-n 100000] [--work DIR] [--keys 30]
                                 [--code SRC] [--versus SRC [--rounds 2]]

Without --home, writes an n-paper corpus (bench/corpus.py) under --work and builds its
library once (reused on the next run). Then, with the real app under the Pilot (headless):

- first paint: from creating the app to the first list row drawn;
- keystroke to redraw: a key typed in the search bar to the list drawn with that query's
  results (search + draw), median and p95 over --keys keystrokes of each of two queries
  and the backspaces that take back their last word; the search's share of it (the
  listing's own time in its worker) and the rest, and per key: the query, both in ms;
  and keystroke to screen: to the end of the frame that drew it, written out (the list
  is drawn in the middle of its frame: the user sees it only then);
- CPU per key: the process's CPU time over the typing, every thread;
- cursor: `j` held (key repeat, 35 ms apart) to each new cursor row drawn, median, p95;
- peak RSS of this process.

`--code SRC` measures another checkout's papers (its index/ and tui/ folders) instead of the
installed one. `--versus SRC` measures the installed (or --code) papers and SRC's at the same
time, in two processes on homes of their own that share the index, --rounds times: on a
shared, busy machine both see the same load, so their ratio means something where two
runs minutes apart would not.

And, when tmux is installed, the same library in a real terminal: `papers` started to
the list on screen (interpreter start included), and that process's peak RSS.
Targets (issue 4): first paint < 1.5 s, keystroke p95 < 150 ms, cursor < 20 ms, < 500 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Typed a key at a time, --keys of each: common words, so the searches are big ones.
QUERIES = ("diffusion models for video generation with language",
           "reinforcement learning agents for code reasoning")
BACKSPACES = 6


def build(work: Path, n: int) -> Path:
    """The library of an n-paper corpus under `work`, built in a child process (so its
    memory does not count against the reader's) unless it is already there."""
    home = work / "home"
    if (home / "index").exists():
        return home
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path; from bench.corpus import write_corpus;"
        "from papers.index.ingest import ingest; from papers.index.sources import add_sources;"
        "w = Path(sys.argv[2]); info = write_corpus(w / 'digests', int(sys.argv[3]),"
        " real=Path(sys.argv[1]).parent / 'shared/corpus/hf-daily-papers.jsonl', repeats=0.1);"
        "print(info, flush=True);"
        "r = ingest(w / 'home', add_sources(w / 'home', [w / 'digests']), procs=2);"
        "print(r.summary())"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(REPO), str(work), str(n)], check=True)
    print(f"built the library in {time.perf_counter() - started:.0f} s")
    return home


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux's ru_maxrss would also count the parent's
    memory at fork (it survives exec): a big parent, like bench_library, inflates it."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(samples), "median_ms": round(statistics.median(samples) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "max_ms": round(ordered[-1] * 1000, 1)}


async def measure(home: Path, keys: int) -> dict:
    from papers.tui.app import PapersApp
    from papers.tui.pilot import workers_done
    from papers.tui.widgets.paper_list import PaperList

    # (time, generation, cursor row drawn or -1, query) for every line drawn, and the
    # search time of each listing drawn (by generation)
    draws: list[tuple[float, int, int, str]] = []
    elapsed: dict[int, float] = {}
    render_line = PaperList.render_line

    def recording(self, y):
        strip = render_line(self, y)
        on_cursor = len(self.listing) and self.scroll_offset.y + y == self.cursor
        elapsed[self.listing.generation] = self.listing.elapsed
        draws.append((time.perf_counter(), self.listing.generation,
                      self.cursor if on_cursor else -1, self.listing.query))
        return strip

    PaperList.render_line = recording
    # When each frame was written out: the rows are drawn in the middle of a frame, and the
    # user sees them only when the whole frame is on the terminal.
    shown: list[float] = []
    display = PapersApp._display

    def displaying(self, screen, renderable):
        display(self, screen, renderable)
        shown.append(time.perf_counter())

    PapersApp._display = displaying

    last = [0]  # the generation of the listing `drawn` found last

    async def drawn(test, since: float, timeout: float = 10.0) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for t, gen, cursor, query in draws[bisect.bisect_left(draws, (since,)):]:
                if test(gen, cursor, query):
                    last[0] = gen
                    return t - since
            await asyncio.sleep(0.001)
        raise TimeoutError("the list was not redrawn")

    async def written(since: float, timeout: float = 10.0) -> float:
        """When the frame that drew a line at `since` was written out."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            i = bisect.bisect_left(shown, since)
            if i < len(shown):
                return shown[i]
            await asyncio.sleep(0.001)
        raise TimeoutError("the frame was not written")

    out: dict = {}
    started = time.perf_counter()
    app = PapersApp(home, rescan=False)
    async with app.run_test(size=(160, 48)) as pilot:
        out["first_paint_s"] = round(await drawn(lambda g, c, q: c >= 0, started), 3)
        await workers_done(app)
        out["papers"] = len(app.reader.paper_list)
        await pilot.pause(0.3)

        samples, engine, per_key, on_screen = [], [], [], []
        # The process's CPU time over the typing (every thread: the search, the frames, the
        # pauses' idle loop): what the keys cost the machine, which a wall time on a busy
        # machine does not say.
        cpu0 = time.process_time()
        for text in QUERIES:
            app.reader.search_bar.input.value = ""
            await pilot.pause(0.5)
            await workers_done(app)
            await pilot.press("slash")
            typed = ""
            for ch in text[:keys]:
                typed += ch
                t0 = time.perf_counter()
                await pilot.press("space" if ch == " " else ch)
                want = typed
                samples.append(await drawn(lambda g, c, q, want=want: q == want, t0))
                on_screen.append(await written(t0 + samples[-1]) - t0)
                engine.append(elapsed[last[0]])  # the listing drawn, not the one shown now
                # Each keystroke's query and time, so the slow ones can be reproduced.
                per_key.append([typed, round(samples[-1] * 1000, 1),
                                round(engine[-1] * 1000, 1)])
                await pilot.pause(0.05)
            for _ in range(BACKSPACES):  # taking back the last word
                typed = typed[:-1]
                t0 = time.perf_counter()
                await pilot.press("backspace")
                want = typed
                samples.append(await drawn(lambda g, c, q, want=want: q == want, t0))
                on_screen.append(await written(t0 + samples[-1]) - t0)
                engine.append(elapsed[last[0]])  # the listing drawn, not the one shown now
                per_key.append([typed + "⌫", round(samples[-1] * 1000, 1),
                                round(engine[-1] * 1000, 1)])
                await pilot.pause(0.05)
            await pilot.press("escape")
        out["cpu_ms_per_key"] = round((time.process_time() - cpu0) * 1000 / len(samples), 1)
        out["keystroke_to_redraw"] = stats(samples)
        # To the end of that frame, written to the terminal: what the user waits for.
        out["keystroke_to_screen"] = stats(on_screen)
        out["search_in_worker"] = stats(engine)
        # The rest of each keystroke: the key's way to the search, the answer's way back,
        # the frame. What the reader adds to the index's time.
        out["redraw_beyond_search"] = stats([k - e for k, e in zip(samples, engine,
                                                                   strict=True)])
        out["hits_for_last_query"] = len(app.reader.listing)
        out["per_key_ms"] = per_key

        app.reader.search_bar.input.value = ""
        await pilot.pause(0.5)
        await workers_done(app)
        await pilot.press("escape")
        await pilot.pause(0.3)
        # j held down: key-repeat events 35 ms apart, each timed to its cursor row drawn.
        from textual import events

        moves = []
        for _ in range(40):
            target = app.reader.paper_list.cursor + 1
            t0 = time.perf_counter()
            app.post_message(events.Key("j", "j"))
            moves.append(await drawn(lambda g, c, q, target=target: c == target, t0))
            await asyncio.sleep(max(0.0, 0.035 - (time.perf_counter() - t0)))
        out["cursor_move"] = stats(moves)
        t0 = time.perf_counter()
        target = len(app.reader.paper_list) - 1
        await pilot.press("G")
        out["jump_to_last_ms"] = round(await drawn(lambda g, c, q: c == target, t0) * 1000, 1)
    out["peak_rss_mb"] = peak_rss_mb()
    PaperList.render_line = render_line
    PapersApp._display = display
    return out


def title_chars(row: str, title: str) -> int:
    """How many characters of `title` a list row shows."""
    from papers.tui.text import clean

    title = clean(title)
    start = row.find(title[:12])
    if start < 0:
        return 0
    n = 0
    while n < len(title) and start + n < len(row) and row[start + n] == title[n]:
        n += 1
    return n


async def layout(home: Path) -> dict:
    """Title characters a list row shows (the widest over the rows, and the cursor's),
    and whether the selected paper's whole title is on screen, at three sizes."""
    from papers.tui.app import PapersApp
    from papers.tui.pilot import settle
    from papers.tui.widgets.paper_list import plain_lines

    out = {}
    for size in ((80, 24), (120, 35), (160, 45)):
        app = PapersApp(home, rescan=False)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            plist = app.reader.paper_list
            rows = plain_lines(plist)
            top = plist.scroll_offset.y
            shown = [title_chars(r, plist.listing.row(top + i).title)
                     for i, r in enumerate(rows) if top + i < len(plist)]
            long = [n for n, i in zip(shown, range(len(shown)), strict=False)
                    if len(plist.listing.row(top + i).title) > n]
            import io

            from rich.console import Console

            console = Console(width=size[0], file=io.StringIO(), record=True)
            console.print(app.screen._compositor.render_update(full=True))
            # The detail pane's part of the screen, read in order (it wraps the title).
            d = app.query_one("#detail").region
            lines = console.export_text().splitlines()[d.y:d.y + d.height]
            # Beside the list the pane has a left border (▏): not part of the title.
            pane = "".join("".join(line[d.x:d.x + d.width - 1] for line in lines)
                           .replace("▏", "").split())
            whole = "".join(plist.current.title.split()) in pane
            out[f"{size[0]}x{size[1]}"] = {
                "title_chars_max": max(long or shown or [0]),
                "title_chars_cursor_row": shown[plist.cursor - top] if shown else 0,
                "selected_title_whole_on_screen": whole}
    return out


# The morning's triage of a 50-paper day (issue 11): open what is new, star 5, mark the other
# 45 read. Before (d608f42, counted by reading its bindings): shift+tab to the filter pane,
# down x5 to Digests, enter, down, enter, tab back to the list (10 keys), then `s`/`r` and
# `j` for each paper, since nothing marked read and moved in one key: 50 x 2 - 1 = 99.
# Since issue 15 the day is the New view (what came in since the reader last showed All).
TRIAGE_BEFORE = 10 + 99
STARS = (0, 10, 20, 30, 40)  # the papers worth a star, by position in the day


async def triage(home: Path, size: tuple[int, int] = (120, 35)) -> dict:
    """Run the triage with the Pilot on a library whose New view is the day (every older
    digest was shown before it came in), pressing only keys a user would, and count them.
    The day's papers end 5 starred, 45 read."""
    from papers.tui.app import PapersApp
    from papers.tui.pilot import settle

    app = PapersApp(home, rescan=False)
    pressed: list[str] = []
    async with app.run_test(size=size) as pilot:

        async def press(*keys: str) -> None:
            pressed.extend(keys)
            await pilot.press(*keys)

        await settle(pilot)
        # The day: `v` to the views, down to New (All, Unread, Starred, For you, New), open
        # it, and back to the list.
        await press("v", *"jjjj", "enter", "tab")
        await settle(pilot)
        assert app.reader.view.kind == "new", app.reader.view
        n = len(app.reader.listing)
        for i in range(n):
            if i in STARS:
                await press("s", *(["j"] if i < n - 1 else []))
            else:
                await press("space")
        await settle(pilot)
        store = app.reader.store
        ids = [app.reader.listing.row(i).id for i in range(n)]
        starred = sum(pid in store.starred for pid in ids)
        read = sum(pid in store.read for pid in ids)
    return {"papers": n, "starred": starred, "read": read, "keys": len(pressed),
            "keys_before": TRIAGE_BEFORE}


def in_terminal(home: Path) -> dict | None:
    """`papers` in a tmux pane: wall time from launch to rows on screen, and peak RSS."""
    tmux = shutil.which("tmux")
    papers = Path(sys.executable).with_name("papers")
    if not tmux or not papers.exists():
        return None
    sock = f"papers-bench-{os.getpid()}-{time.monotonic_ns()}"

    def t(*args: str) -> str:
        return subprocess.run([tmux, "-L", sock, *args], capture_output=True, text=True).stdout

    try:
        started = time.perf_counter()
        t("new-session", "-d", "-s", "b", "-x", "160", "-y", "48",
          f"env -u PYTHONDONTWRITEBYTECODE PAPERS_HOME={home} TERM=xterm-256color {papers}")
        seen = None
        while time.perf_counter() - started < 30:
            screen = t("capture-pane", "-p", "-t", "b")
            if re.search(r"\b[1-9][\d,]*\+? papers\b", screen):  # a hit count: rows are in
                seen = time.perf_counter() - started
                break
            time.sleep(0.01)
        pid = t("display", "-p", "-t", "b", "#{pane_pid}").strip()
        time.sleep(0.5)
        for ch in "/diffusion":
            t("send-keys", "-t", "b", ch)
            time.sleep(0.1)
        time.sleep(1)
        rss = None
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    rss = round(int(line.split()[1]) / 1024, 1)
        return {"launch_to_list_s": round(seen, 3) if seen else None, "peak_rss_mb": rss}
    except OSError:
        return None
    finally:
        subprocess.run([tmux, "-L", sock, "kill-server"], capture_output=True)


def side_home(home: Path, name: str) -> Path:
    """A home of its own sharing `home`'s index: the reader writes to its user data (the
    views it showed), and two readers on one would see each other's changes."""
    side = Path(tempfile.mkdtemp(prefix=f"papers-{name}-"))
    for entry in home.iterdir():
        if entry.name in ("index", "findcache"):
            (side / entry.name).symlink_to(entry.resolve())
        elif entry.is_file() and not entry.name.endswith(".lock"):
            shutil.copy2(entry, side / entry.name)
    return side


def versus(home: Path, code: Path | None, other: Path, keys: int, rounds: int) -> dict:
    """This papers and `other`'s measured at the same time, `rounds` times."""
    sides = {"this": code, "versus": other}
    out: dict = {name: [] for name in sides}
    for _ in range(rounds):
        procs, homes = {}, []
        for name, src in sides.items():
            homes.append(side_home(home, name))
            cmd = [sys.executable, __file__, "--home", str(homes[-1]),
                   "--keys", str(keys), "--no-terminal"]
            if src is not None:
                cmd += ["--code", str(src)]
            procs[name] = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        for name, proc in procs.items():
            got = json.loads(proc.communicate()[0])
            got.pop("per_key_ms", None)
            out[name].append(got)
        for side in homes:  # the index is a link: only the side's own files go
            shutil.rmtree(side, ignore_errors=True)
    ratio = {}
    for row, name in (("keystroke_to_redraw", "keystroke"), ("keystroke_to_screen", "screen"),
                      ("redraw_beyond_search", "beyond_search")):
        for what in ("median_ms", "p95_ms"):
            pairs = [(a[row][what], b[row][what])
                     for a, b in zip(out["this"], out["versus"], strict=True)]
            ratio[f"{name}_{what}_this_over_versus"] = [round(a / b, 2) for a, b in pairs]
    ratio["cpu_per_key_this_over_versus"] = [
        round(a["cpu_ms_per_key"] / b["cpu_ms_per_key"], 2)
        for a, b in zip(out["this"], out["versus"], strict=True)]
    return {"this_code": str(code or "installed"), "versus_code": str(other), **out,
            **ratio}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="an existing papers home to measure")
    ap.add_argument("-n", type=int, default=100_000, help="papers to generate (no --home)")
    ap.add_argument("--work", type=Path, help="where to build the corpus (no --home)")
    ap.add_argument("--keys", type=int, default=30, help="keystrokes to time")
    ap.add_argument("--no-terminal", action="store_true", help="skip the tmux measurement")
    ap.add_argument("--code", type=Path, help="measure this checkout's papers")
    ap.add_argument("--versus", type=Path,
                    help="also measure this checkout's papers, at the same time")
    ap.add_argument("--rounds", type=int, default=2, help="--versus: how many times")
    ap.add_argument("--triage", action="store_true",
                    help="only the keys a 50-paper day's triage takes (needs --home)")
    ap.add_argument("--layout", action="store_true",
                    help="only the title widths at 80x24, 120x35 and 160x45 (needs --home)")
    args = ap.parse_args(argv)
    home = args.home
    if args.code is not None and args.versus is None:
        # Imported here: bench_library's imports must not load papers before the path is set.
        from bench.bench_library import code_folder

        sys.path.insert(0, str(code_folder(args.code)))
        import papers.tui

        assert Path(papers.tui.__file__).resolve().is_relative_to(args.code.resolve()), \
            f"--code {args.code}: papers came from {papers.tui.__file__}"
    if args.layout:
        print(json.dumps(asyncio.run(layout(home)), indent=2))
        return 0
    if args.triage:
        print(json.dumps(asyncio.run(triage(home)), indent=2))
        return 0
    if home is None:
        work = args.work or Path(tempfile.gettempdir()) / f"papers-bench-{args.n}"
        home = build(work, args.n)
    if args.versus is not None:
        print(json.dumps(versus(home, args.code, args.versus, args.keys, args.rounds),
                         indent=2))
        return 0
    import papers.tui

    result = {"home": str(home), "code": str(Path(papers.tui.__file__).parent.parent)}
    result |= asyncio.run(measure(home, args.keys))
    if not args.no_terminal:
        result["terminal"] = in_terminal(home)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
