"""Benchmark the library end to end, the way a user runs it, and print the numbers.

    python bench/bench_library.py -n 10000 [--runs 5] [--keep DIR] [--reader] [--write FILE]
                                  [--code SRC] [--versus SRC]

Builds a corpus of N papers (the real corpus first, when ../shared is there), then times
every row of the speed targets (issue 16): bulk ingest (`papers add`, beside SQLite FTS5
filled with the same papers), a no-op re-scan (`papers index`), adding one new 50-paper
digest, the index size (beside FTS5's), cold `papers find` for plain words and a phrase (a
fresh process each time), each run interleaved with the same query through `rg -l` over
the digest folder and through SQLite FTS5 in a fresh Python, `papers --version` and
`--help` beside a bare `python -c pass`; as root, also with the page cache dropped. With
--reader, the reader too: first paint, keystroke to redraw, cursor moves, memory.

The machine may be shared: read the ratios to FTS5 and rg, measured in the same run, and
the CPU time (user + system of the process), which a busy machine swings less than the wall
time. `--code SRC` runs another checkout's papers (its index/ and tui/ folders) instead of the
installed one; `--versus SRC` runs a second checkout beside it, on a library of its own, each
timed row alternating between the two run by run: a before and an after on the same corpus.
Where the code has a find cache (index/findcache.py), its build after the bulk ingest is a row
of its own (the ingest itself builds it once it calls `findcache.refresh`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import render_digest, synthetic_papers, write_corpus  # noqa: E402

REAL = REPO.parent / "shared" / "corpus" / "hf-daily-papers.jsonl"
# (name, papers find / FTS5 MATCH query, rg pattern)
QUERIES = [("diffusion", "diffusion", "diffusion"),
           ("reinforcement learning", "reinforcement learning", "reinforcement learning"),
           ("lora", "lora", "lora"),
           ('"vision language" (a phrase)', '"vision language"', "vision language"),
           ('"large language model" (three words)', '"large language model"',
            "large language model")]
CODE: Path | None = None  # a package folder for PYTHONPATH: another checkout's papers


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    return timed_cpu(cmd, env)[::2]


def timed_cpu(cmd: list[str], env: dict) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall time, CPU time of the process and its children, the process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc


def spread(samples: list[float], cpu: list[float] | None = None) -> dict:
    out = {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
           "runs": len(samples)}
    if cpu:
        out["cpu_median"] = statistics.median(cpu)
    return out


def papers_cmd(*args: str, code: Path | None = None) -> list[str]:
    """The `papers` command as a user runs it: the installed script when there is one; for
    another checkout, its console script's module."""
    code = code or CODE
    script = Path(sys.executable).with_name("papers")
    if script.exists() and code is None:
        return [str(script), *args]
    if code is not None and (code / "papers" / "tui" / "entry.py").exists():
        return [sys.executable, "-m", "papers.tui.entry", *args]
    return [sys.executable, "-m", "papers.tui", *args]


def code_folder(src: Path) -> Path:
    """A folder that makes `papers` the checkout at `src` when on PYTHONPATH."""
    pkg = Path(tempfile.mkdtemp(prefix="papers-code-"))
    (pkg / "papers").mkdir()
    for name in ("index", "tui"):
        (pkg / "papers" / name).symlink_to(Path(src).resolve() / name)
    return pkg


class Side:
    """One papers under test: its code, its library, the environment that runs it."""

    def __init__(self, name: str, code: Path | None, work: Path, base_env: dict):
        self.name, self.code = name, code
        self.home = work / ("home" if name == "after" else f"home-{name}")
        shutil.rmtree(self.home, ignore_errors=True)
        self.env = {**base_env, "PAPERS_HOME": str(self.home)}
        if code is not None:
            self.env["PYTHONPATH"] = str(code)
        self.out: dict = {}

    def cmd(self, *args: str) -> list[str]:
        return papers_cmd(*args, code=self.code)

    def has_findcache(self) -> bool:
        if self.code is not None:
            return (self.code / "papers" / "index" / "findcache.py").exists()
        return (REPO / "index" / "findcache.py").exists()


def run(n: int, runs: int, keep: Path | None, reader: bool = False,
        versus: Path | None = None) -> dict:
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="papers-bench-"))
    corpus = work / "digests"
    if not corpus.exists():
        write_corpus(corpus, n, real=REAL if REAL.exists() else None)
    env = {**os.environ}
    env.pop("NO_COLOR", None)
    env.pop("PAPERS_FAST", None)
    # A user's Python caches bytecode; without it every run would compile papers anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    sides = [Side("after", CODE, work, env)]
    if versus is not None:
        sides.append(Side("before", versus, work, env))
    main = sides[0]
    files = sorted(corpus.glob("*.txt"))
    digest_bytes = sum(f.stat().st_size for f in files)
    out: dict = {"papers": n, "files": len(files), "digest_bytes": digest_bytes}

    for side in sides:
        wall, cpu, proc = timed_cpu(side.cmd("add", str(corpus), "--json"), side.env)
        if proc.returncode:
            raise SystemExit(proc.stderr)
        summary = json.loads(proc.stdout)
        side.out["ingest_seconds"] = wall
        side.out["ingest_cpu_seconds"] = cpu
        side.out["ingest_papers_per_s"] = summary["papers_added"] / wall
        if side.has_findcache():
            side.out["findcache"] = build_findcache(side)

    def alternate(row: str, make_cmd, each=None) -> None:
        """`row` for every side, the sides taking turns run by run."""
        samples = {side.name: ([], []) for side in sides}
        for i in range(runs):
            for side in sides:
                wall, cpu, _ = timed_cpu(make_cmd(side, i), side.env)
                samples[side.name][0].append(wall)
                samples[side.name][1].append(cpu)
                if each:
                    each(side, i)
        for side in sides:
            side.out[row] = spread(*samples[side.name])

    alternate("noop_rescan", lambda side, i: side.cmd("index"))

    # The daily update: one new 50-paper digest on top of the library.
    today = work / "today"

    def new_day(side: Side, i: int) -> list[str]:
        shutil.rmtree(today, ignore_errors=True)
        today.mkdir()
        fresh = synthetic_papers(50, seed=10_000 + i, exclude=())
        (today / f"2099-01-{i + 1:02d}.txt").write_text(
            render_digest(fresh[0].digest_date, fresh), "utf-8")
        return side.cmd("add", str(today))

    def day_gone(side: Side, i: int) -> None:
        shutil.rmtree(today)
        # Takes the day away again: the same library each run. (Without --prune the gone
        # folder was taken for unmounted, its papers kept, and each timed run after the
        # first added a day and removed the one before.)
        timed(side.cmd("index", "--prune"), side.env)

    alternate("add_50", new_day, day_gone)
    for side in sides:
        index_dir = side.home / "index"
        side.out["index_bytes"] = sum(p.stat().st_size for p in index_dir.glob("*")
                                      if p.is_file())
        if side.has_findcache():  # the add-a-day runs left it stale: as after an ingest
            side.out["findcache_after_add"] = build_findcache(side)

    fts = work / "fts.sqlite"
    out["fts5_ingest_papers_per_s"] = build_fts(fts, main.env, main.cmd)
    out["fts5_bytes"] = fts.stat().st_size
    rg = shutil.which("rg")
    queries: dict = {side.name: {} for side in sides}
    for name, q, pattern in QUERIES:
        # One of each per run, in turn, so that a busy moment of the machine falls on all.
        cold = {side.name: ([], []) for side in sides}
        rgs, fts_times = [], []
        for _ in range(runs):
            for side in sides:
                wall, cpu, _ = timed_cpu(side.cmd("find", q, "--json"), side.env)
                cold[side.name][0].append(wall)
                cold[side.name][1].append(cpu)
            if rg:
                rgs.append(timed([rg, "-l", "-i", pattern, str(corpus)], env)[0])
            fts_times.append(fts_query(fts, q))
        for side in sides:
            queries[side.name][name] = {"papers_find": spread(*cold[side.name]),
                                        "rg": spread(rgs) if rgs else None,
                                        "fts5": spread(fts_times)}
    for side in sides:
        side.out["queries"] = queries[side.name]
    if can_drop_caches():
        # "Cold" as after a reboot: nothing of the index or the digests in the page cache.
        main.out["queries_cold_cache"] = {
            name: {
                "papers_find": spread([cold_cache(main.cmd("find", q, "--json"), main.env)
                                       for _ in range(runs)]),
                "rg": spread([cold_cache(["rg", "-l", "-i", q, str(corpus)], env)
                              for _ in range(runs)]) if shutil.which("rg") else None,
            }
            for name, q, _ in QUERIES[:3]
        }
    # Start-up alone, beside a bare interpreter.
    startup = {side.name: {"version": ([], []), "help": ([], [])} for side in sides}
    bare: tuple[list, list] = ([], [])
    for _ in range(runs):
        for side in sides:
            for key, args in (("version", ["--version"]), ("help", ["--help"])):
                wall, cpu, _ = timed_cpu(side.cmd(*args), side.env)
                startup[side.name][key][0].append(wall)
                startup[side.name][key][1].append(cpu)
        wall, cpu, _ = timed_cpu([sys.executable, "-c", "pass"], env)
        bare[0].append(wall)
        bare[1].append(cpu)
    for side in sides:
        side.out["startup"] = {"version": spread(*startup[side.name]["version"]),
                               "help": spread(*startup[side.name]["help"]),
                               "python": spread(*bare)}
    if reader:
        # The reader on this library (bench/bench_reader.py), in a process of its own.
        proc = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_reader.py")),
                               "--home", str(main.home)], env=main.env, capture_output=True,
                              text=True)
        main.out["reader"] = json.loads(proc.stdout) if proc.returncode == 0 else None
    out.update(main.out)
    if versus is not None:
        out["before"] = sides[1].out
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def build_findcache(side: Side) -> dict:
    """The find cache made for the whole library, as the end of an ingest makes it: how
    long it takes and what it holds (nothing to do when the ingest made it already)."""
    code = ("import sys, time; from papers.index import findcache; t = time.perf_counter(); "
            "ok = findcache.refresh(sys.argv[1]); print(ok, time.perf_counter() - t)")
    proc = subprocess.run([sys.executable, "-c", code, str(side.home / "index")],
                          env=side.env, capture_output=True, text=True)
    ok, seconds = proc.stdout.split() if proc.returncode == 0 else ("False", "nan")
    folder = side.home / "findcache"
    size = sum(p.stat().st_size for p in folder.glob("*")) if folder.is_dir() else 0
    return {"fresh": ok == "True", "seconds": float(seconds), "bytes": size}


def can_drop_caches() -> bool:
    return os.access("/proc/sys/vm/drop_caches", os.W_OK)


def cold_cache(cmd: list[str], env: dict) -> float:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
    return timed(cmd, env)[0]


def build_fts(path: Path, env: dict, cmd=papers_cmd) -> float:
    """SQLite FTS5 over the same papers, from `papers find --json` (the library's own view);
    how many papers a second it takes them in."""
    proc = subprocess.run(cmd("find", "--json", "--limit", "0"), env=env,
                          capture_output=True, text=True)
    rows = json.loads(proc.stdout)
    path.unlink(missing_ok=True)
    start = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("CREATE VIRTUAL TABLE papers USING fts5(id, title, abstract, "
               "tokenize='porter')")
    db.executemany("INSERT INTO papers VALUES (?, ?, ?)",
                   [(r["id"], r["title"], r["abstract"]) for r in rows])
    db.commit()
    db.close()
    return len(rows) / (time.perf_counter() - start)


def fts_query(path: Path, q: str) -> float:
    """A cold FTS5 query: a fresh process, as with `papers find`."""
    code = ("import sqlite3,sys;db=sqlite3.connect(sys.argv[1]);"
            "r=db.execute('SELECT id,title FROM papers WHERE papers MATCH ? "
            "ORDER BY rank LIMIT 20',(sys.argv[2],)).fetchall()")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path), q], check=True)
    return time.perf_counter() - start


def _ms(s: dict) -> str:
    return f"{s['median'] * 1000:.0f} ms"


def _cpu(s: dict) -> str:
    return f", CPU {s['cpu_median'] * 1000:.0f} ms" if "cpu_median" in s else ""


def report_rows(r: dict, common: dict) -> list[str]:
    """The rows one papers measured: `r` its numbers, `common` the run's (FTS5's)."""
    lines = []
    fts_rate = common.get("fts5_ingest_papers_per_s")
    lines.append(f"bulk ingest:        {r['ingest_papers_per_s']:,.0f} papers/s "
                 f"({r['ingest_seconds']:.1f} s"
                 + (f", CPU {r['ingest_cpu_seconds']:.1f} s" if "ingest_cpu_seconds" in r
                    else "") + ")"
                 + (f"; FTS5 {fts_rate:,.0f} papers/s" if fts_rate else ""))
    for key, label in (("findcache", "after the bulk ingest"),
                       ("findcache_after_add", "after the added days")):
        fc = r.get(key)
        if fc:
            lines.append(f"find cache build:   {fc['seconds']:.2f} s {label} "
                         f"({fc['bytes'] / 1e6:.1f} MB{'' if fc['fresh'] else ', NOT made'})")
    for key, label in (("noop_rescan", "no-op re-scan:"), ("add_50", "add a 50-paper day:")):
        s = r[key]
        lines.append(f"{label:<19} {s['median']:.3f} s median "
                     f"(min {s['min']:.3f}, max {s['max']:.3f}, {s['runs']} runs"
                     + (f", CPU {s['cpu_median']:.3f} s" if "cpu_median" in s else "") + ")")
    ratio = r["index_bytes"] / common["digest_bytes"]
    lines.append(f"index size:         {r['index_bytes'] / 1e6:.1f} MB "
                 f"({ratio:.2f}x the digests)"
                 + (f"; FTS5 {common['fts5_bytes'] / 1e6:.1f} MB"
                    if common.get("fts5_bytes") else ""))
    for q, t in r["queries"].items():
        find, fts = t["papers_find"], t["fts5"]
        parts = [f"papers find {_ms(find)} ({find['min'] * 1000:.0f}-"
                 f"{find['max'] * 1000:.0f}{_cpu(find)}, "
                 f"{find['median'] / fts['median']:.1f}x FTS5)"]
        if t["rg"]:
            parts.append(f"rg -l {_ms(t['rg'])}")
        parts.append(f"fts5 {_ms(fts)}")
        lines.append(f"cold query {q}: " + ", ".join(parts))
    for q, t in r.get("queries_cold_cache", {}).items():
        line = f"page cache dropped, {q!r}: papers find {_ms(t['papers_find'])}"
        if t["rg"]:
            line += f", rg -l {_ms(t['rg'])}"
        lines.append(line)
    if r.get("startup"):
        st = r["startup"]
        lines.append(f"start-up:           papers --version {_ms(st['version'])}"
                     f"{_cpu(st['version'])}, --help {_ms(st['help'])}{_cpu(st['help'])}; "
                     f"python -c pass {_ms(st['python'])}{_cpu(st['python'])}")
    return lines


def report(results: list[dict]) -> str:
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {platform.platform()}", ""]
    for r in results:
        lines.append(f"## {r['papers']:,} papers ({r['files']} digest files, "
                     f"{r['digest_bytes'] / 1e6:.1f} MB)")
        lines += report_rows(r, r)
        if r.get("reader"):
            rd = r["reader"]
            key, cursor = rd["keystroke_to_redraw"], rd["cursor_move"]
            terminal = rd.get("terminal") or {}
            lines.append(f"reader first paint: {rd['first_paint_s']:.2f} s headless"
                         + (f", {terminal['launch_to_list_s']:.2f} s in tmux from launch"
                            if terminal.get("launch_to_list_s") else ""))
            lines.append(f"reader keystroke:   median {key['median_ms']:.0f} ms, p95 "
                         f"{key['p95_ms']:.0f} ms, max {key['max_ms']:.0f} ms "
                         f"({key['n']} keys typed into the search bar, to the list redrawn)")
            if rd.get("keystroke_to_screen"):
                screen = rd["keystroke_to_screen"]
                lines.append(f"reader key to screen: median {screen['median_ms']:.0f} ms, p95 "
                             f"{screen['p95_ms']:.0f} ms (to the end of the frame that drew "
                             f"the rows); CPU {rd['cpu_ms_per_key']:.0f} ms a key")
            lines.append(f"reader cursor move: median {cursor['median_ms']:.1f} ms, p95 "
                         f"{cursor['p95_ms']:.1f} ms; peak memory {rd['peak_rss_mb']:.0f} MB"
                         + (f" ({terminal['peak_rss_mb']:.0f} MB in tmux)"
                            if terminal.get("peak_rss_mb") else ""))
        if r.get("before"):  # after this papers' own rows, the reader's included
            lines.append("")
            lines.append("### the same rows, --versus code (its own library, alternating)")
            lines += report_rows(r["before"], r)
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, nargs="+", default=[10_000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="work directory to keep (corpus is reused)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--reader", action="store_true",
                    help="also measure the reader on each library (bench/bench_reader.py)")
    ap.add_argument("--write", type=Path, help="also write the report to this Markdown file "
                                              "(docs/benchmarks.md)")
    ap.add_argument("--code", type=Path, help="run the papers of this checkout (a folder with "
                                             "index/ and tui/) instead of the installed one")
    ap.add_argument("--versus", type=Path, help="also run this checkout, on a library of its "
                                               "own, alternating with the other run by run")
    args = ap.parse_args()
    global CODE
    if args.code:
        CODE = code_folder(args.code)
    versus = code_folder(args.versus) if args.versus else None
    results = []
    for n in args.n:
        keep = args.keep / str(n) if args.keep else None
        results.append(run(n, args.runs, keep, reader=args.reader, versus=versus))
    text = report(results)
    print(json.dumps(results, indent=2) if args.json else text)
    if args.write:
        # The sections other benchmarks wrote (For you, ...) stay: only the top is ours.
        kept = ""
        if args.write.exists():
            old = args.write.read_text("utf-8")
            kept = old[old.index("\n## Before and after"):] if "\n## Before and after" in old \
                else ""
        args.write.write_text(
            "# Benchmarks\n\nMade by `python bench/bench_library.py -n "
            + " ".join(str(n) for n in args.n)
            + f" --runs {args.runs}" + " --reader" * args.reader
            + (f" --code {args.code}" if args.code else "")
            + (f" --versus {args.versus}" if args.versus else "")
            + f" --write {args.write}`. Every time is the wall time of a "
            "fresh process, as a user sees it; median of the runs with min and max.\n\n"
            "```\n" + text + "```\n" + kept, "utf-8")


if __name__ == "__main__":
    main()
