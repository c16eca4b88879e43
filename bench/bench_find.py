"""Cold `papers find` on a library that is already built, beside SQLite FTS5, interleaved.

    python bench/bench_find.py --home HOME --fts FTS.sqlite [--code SRC]
                               [--versus SRC --versus-home HOME2] [--runs 7] [QUERY ...]

`bench/bench_library.py --keep DIR` leaves what this needs: `DIR/N/home` (a library with
its find cache) and `DIR/N/fts.sqlite`. Each run times, in turn, a fresh `papers find
QUERY --json` of each papers under test (`--code`: another checkout, on `--home`; `--versus`:
a second checkout on a library of its own, `--versus-home`, whose find cache that code made)
and the same query through FTS5 in a fresh Python, so a busy moment of the machine falls on
all of them. It prints the median wall and CPU time of each and the ratios to FTS5; the
queries are bench_library's QUERIES unless given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import bench_library as bl  # noqa: E402

FTS_QUERY = ("import sqlite3,sys;db=sqlite3.connect(sys.argv[1]);"
             "r=db.execute('SELECT id,title FROM papers WHERE papers MATCH ? "
             "ORDER BY rank LIMIT 20',(sys.argv[2],)).fetchall()")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--fts", type=Path, required=True)
    ap.add_argument("--code", type=Path)
    ap.add_argument("--versus", type=Path)
    ap.add_argument("--versus-home", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("queries", nargs="*")
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "PAPERS_FAST", "PYTHONDONTWRITEBYTECODE")}
    sides = [("papers", bl.code_folder(args.code) if args.code else None, args.home)]
    if args.versus:
        sides.append(("versus", bl.code_folder(args.versus), args.versus_home or args.home))
    queries = args.queries or [q for _, q, _ in bl.QUERIES]
    try:
        results = measure(sides, queries, args, env)
    finally:  # the code folders are symlinks made for this run
        for _, code, _ in sides:
            if code is not None:
                shutil.rmtree(code, ignore_errors=True)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for q, r in results.items():
        fts = r["fts5"]
        parts = [f"{name} {s['median'] * 1000:.0f} ms (CPU {s['cpu_median'] * 1000:.0f}, "
                 f"{s['median'] / fts['median']:.2f}x FTS5 wall, "
                 f"{s['cpu_median'] / fts['cpu_median']:.2f}x CPU)"
                 for name, s in r.items() if name != "fts5"]
        print(f"{q}: " + "; ".join(parts)
              + f"; fts5 {fts['median'] * 1000:.0f} ms (CPU {fts['cpu_median'] * 1000:.0f})")


def measure(sides: list, queries: list[str], args, env: dict) -> dict:
    results = {}
    for q in queries:
        samples = {name: ([], []) for name, _, _ in sides}
        samples["fts5"] = ([], [])
        outputs = {}
        for i in range(args.runs):
            turns = [*sides, ("fts5", None, None)]
            turns = turns[i % len(turns):] + turns[:i % len(turns)]  # each goes first in turn
            for name, code, home in turns:
                if name == "fts5":
                    cmd = [sys.executable, "-c", FTS_QUERY, str(args.fts), q]
                    side_env = env
                else:
                    cmd = bl.papers_cmd("find", q, "--json", code=code)
                    side_env = {**env, "PAPERS_HOME": str(home)}
                    if code is not None:
                        side_env["PYTHONPATH"] = str(code)
                wall, cpu, proc = bl.timed_cpu(cmd, side_env)
                if proc.returncode not in (0, 1):
                    raise SystemExit(f"{name} {q}: {proc.stderr}")
                outputs[name] = proc.stdout
                samples[name][0].append(wall)
                samples[name][1].append(cpu)
        if args.versus and outputs["papers"] != outputs["versus"]:
            raise SystemExit(f"{q}: the two papers print different answers")
        results[q] = {name: {"median": statistics.median(w), "cpu_median": statistics.median(c),
                             "min": min(w), "max": max(w), "runs": len(w)}
                      for name, (w, c) in samples.items()}
    return results


if __name__ == "__main__":
    main()
