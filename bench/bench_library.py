"""Benchmark the library end to end, the way a user runs it, and print the numbers.

    python bench/bench_library.py -n 10000 [--runs 5] [--keep DIR] [--reader] [--write FILE]
                                  [--code SRC]

Builds a corpus of N papers (the real corpus first, when ../shared is there), then times
every row of the speed targets (issue 16): bulk ingest (`papers add`, beside SQLite FTS5
filled with the same papers), a no-op re-scan (`papers index`), adding one new 50-paper
digest, the index size (beside FTS5's), cold `papers find` for plain words and a phrase (a
fresh process each time), each run interleaved with the same query through `rg -l` over
the digest folder and through SQLite FTS5 in a fresh Python, `papers --version` and
`--help` beside a bare `python -c pass`; as root, also with the page cache dropped. With
--reader, the reader too: first paint, keystroke to redraw, cursor moves, memory.

The machine may be shared: read the ratios to FTS5 and rg, measured in the same run.
`--code SRC` runs another checkout's papers (its index/ and tui/ folders) instead of the
installed one, to measure a before and an after on the same corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
           ('"vision language" (a phrase)', '"vision language"', "vision language")]
CODE: Path | None = None  # a package folder for PYTHONPATH: another checkout's papers


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, proc


def spread(samples: list[float]) -> dict:
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples),
            "runs": len(samples)}


def papers_cmd(*args: str) -> list[str]:
    """The `papers` command as a user runs it: the installed script when there is one."""
    script = Path(sys.executable).with_name("papers")
    if script.exists() and CODE is None:
        return [str(script), *args]
    return [sys.executable, "-m", "papers.tui", *args]


def code_folder(src: Path) -> Path:
    """A folder that makes `papers` the checkout at `src` when on PYTHONPATH."""
    pkg = Path(tempfile.mkdtemp(prefix="papers-code-"))
    (pkg / "papers").mkdir()
    for name in ("index", "tui"):
        (pkg / "papers" / name).symlink_to(Path(src).resolve() / name)
    return pkg


def run(n: int, runs: int, keep: Path | None, reader: bool = False) -> dict:
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="papers-bench-"))
    corpus, home = work / "digests", work / "home"
    shutil.rmtree(home, ignore_errors=True)
    if not corpus.exists():
        write_corpus(corpus, n, real=REAL if REAL.exists() else None)
    env = {**os.environ, "PAPERS_HOME": str(home)}
    env.pop("NO_COLOR", None)
    # A user's Python caches bytecode; without it every run would compile papers anew.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if CODE is not None:
        env["PYTHONPATH"] = str(CODE)
    files = sorted(corpus.glob("*.txt"))
    digest_bytes = sum(f.stat().st_size for f in files)
    out: dict = {"papers": n, "files": len(files), "digest_bytes": digest_bytes}

    seconds, proc = timed(papers_cmd("add", str(corpus), "--json"), env)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    summary = json.loads(proc.stdout)
    out["ingest_seconds"] = seconds
    out["ingest_papers_per_s"] = summary["papers_added"] / seconds

    out["noop_rescan"] = spread([timed(papers_cmd("index"), env)[0] for _ in range(runs)])

    # The daily update: one new 50-paper digest on top of the library.
    today = work / "today"
    adds = []
    for i in range(runs):
        shutil.rmtree(today, ignore_errors=True)
        today.mkdir()
        fresh = synthetic_papers(50, seed=10_000 + i, exclude=())
        (today / f"2099-01-{i + 1:02d}.txt").write_text(
            render_digest(fresh[0].digest_date, fresh), "utf-8")
        adds.append(timed(papers_cmd("add", str(today)), env)[0])
        shutil.rmtree(today)
        timed(papers_cmd("index"), env)  # takes the day away again: same library each run
    out["add_50"] = spread(adds)

    index_dir = home / "index"
    out["index_bytes"] = sum(p.stat().st_size for p in index_dir.glob("*") if p.is_file())

    fts = work / "fts.sqlite"
    out["fts5_ingest_papers_per_s"] = build_fts(fts, env)
    out["fts5_bytes"] = fts.stat().st_size
    rg = shutil.which("rg")
    queries = {}
    for name, q, pattern in QUERIES:
        # One of each per run, in turn, so that a busy moment of the machine falls on all.
        cold, rgs, fts_times = [], [], []
        for _ in range(runs):
            cold.append(timed(papers_cmd("find", q, "--json"), env)[0])
            if rg:
                rgs.append(timed([rg, "-l", "-i", pattern, str(corpus)], env)[0])
            fts_times.append(fts_query(fts, q))
        queries[name] = {"papers_find": spread(cold), "rg": spread(rgs) if rgs else None,
                         "fts5": spread(fts_times)}
    out["queries"] = queries
    if can_drop_caches():
        # "Cold" as after a reboot: nothing of the index or the digests in the page cache.
        out["queries_cold_cache"] = {
            name: {
                "papers_find": spread([cold_cache(papers_cmd("find", q, "--json"), env)
                                       for _ in range(runs)]),
                "rg": spread([cold_cache(["rg", "-l", "-i", q, str(corpus)], env)
                              for _ in range(runs)]) if shutil.which("rg") else None,
            }
            for name, q, _ in QUERIES[:3]
        }
    # Start-up alone, beside a bare interpreter.
    version, help_, bare = [], [], []
    for _ in range(runs):
        version.append(timed(papers_cmd("--version"), env)[0])
        help_.append(timed(papers_cmd("--help"), env)[0])
        bare.append(timed([sys.executable, "-c", "pass"], env)[0])
    out["startup"] = {"version": spread(version), "help": spread(help_),
                      "python": spread(bare)}
    if reader:
        # The reader on this library (bench/bench_reader.py), in a process of its own.
        proc = subprocess.run([sys.executable, str(Path(__file__).with_name("bench_reader.py")),
                               "--home", str(home)], env=env, capture_output=True, text=True)
        out["reader"] = json.loads(proc.stdout) if proc.returncode == 0 else None
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return out


def can_drop_caches() -> bool:
    return os.access("/proc/sys/vm/drop_caches", os.W_OK)


def cold_cache(cmd: list[str], env: dict) -> float:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")
    return timed(cmd, env)[0]


def build_fts(path: Path, env: dict) -> float:
    """SQLite FTS5 over the same papers, from `papers find --json` (the library's own view);
    how many papers a second it takes them in."""
    proc = subprocess.run(papers_cmd("find", "--json", "--limit", "0"), env=env,
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


def report(results: list[dict]) -> str:
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, {platform.platform()}", ""]
    for r in results:
        lines.append(f"## {r['papers']:,} papers ({r['files']} digest files, "
                     f"{r['digest_bytes'] / 1e6:.1f} MB)")
        fts_rate = r.get("fts5_ingest_papers_per_s")
        lines.append(f"bulk ingest:        {r['ingest_papers_per_s']:,.0f} papers/s "
                     f"({r['ingest_seconds']:.1f} s)"
                     + (f"; FTS5 {fts_rate:,.0f} papers/s" if fts_rate else ""))
        for key, label in (("noop_rescan", "no-op re-scan:"), ("add_50", "add a 50-paper day:")):
            s = r[key]
            lines.append(f"{label:<19} {s['median']:.3f} s median "
                         f"(min {s['min']:.3f}, max {s['max']:.3f}, {s['runs']} runs)")
        ratio = r["index_bytes"] / r["digest_bytes"]
        lines.append(f"index size:         {r['index_bytes'] / 1e6:.1f} MB "
                     f"({ratio:.2f}x the digests)"
                     + (f"; FTS5 {r['fts5_bytes'] / 1e6:.1f} MB" if r.get("fts5_bytes") else ""))
        for q, t in r["queries"].items():
            find, fts = t["papers_find"], t["fts5"]
            parts = [f"papers find {_ms(find)} ({find['min'] * 1000:.0f}-"
                     f"{find['max'] * 1000:.0f}, {find['median'] / fts['median']:.1f}x FTS5)"]
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
            lines.append(f"start-up:           papers --version {_ms(st['version'])}, "
                         f"--help {_ms(st['help'])}; python -c pass {_ms(st['python'])}")
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
            lines.append(f"reader cursor move: median {cursor['median_ms']:.1f} ms, p95 "
                         f"{cursor['p95_ms']:.1f} ms; peak memory {rd['peak_rss_mb']:.0f} MB"
                         + (f" ({terminal['peak_rss_mb']:.0f} MB in tmux)"
                            if terminal.get("peak_rss_mb") else ""))
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
    args = ap.parse_args()
    global CODE
    if args.code:
        CODE = code_folder(args.code)
    results = []
    for n in args.n:
        keep = args.keep / str(n) if args.keep else None
        results.append(run(n, args.runs, keep, reader=args.reader))
    text = report(results)
    print(json.dumps(results, indent=2) if args.json else text)
    if args.write:
        args.write.write_text(
            "# Benchmarks\n\nMade by `python bench/bench_library.py -n "
            + " ".join(str(n) for n in args.n)
            + f" --runs {args.runs}" + " --reader" * args.reader
            + (f" --code {args.code}" if args.code else "")
            + f" --write {args.write}`. Every time is the wall time of a "
            "fresh process, as a user sees it; median of the runs with min and max.\n\n"
            "```\n" + text + "```\n", "utf-8")


if __name__ == "__main__":
    main()
