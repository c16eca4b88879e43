"""Ingest speed of Daily Papers JSON beside saved pages, for the same papers.

The first N papers of the real corpus (../shared/corpus/hf-daily-papers.jsonl) are written
three ways: as saved pages (one text digest a day, as bench/gen_corpus.py writes them), as
API responses (one `/api/daily_papers` array a day, the shape of ../shared/hf-api), and as
one JSON-lines file. Each is ingested into a fresh library by `papers add` in a process of
its own, interleaved, and papers/s printed: JSON must not be slower than text.

    python bench/bench_json.py -n 10000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import groupby
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import load_corpus, render_digest  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "hf-daily-papers.jsonl"


def api_entry(row: dict) -> dict:
    """A corpus row as the Daily Papers API serves it (text hard-wrapped, as the API does)."""
    paper = {"id": row["arxiv_id"], "title": row["title"], "summary": row["abstract"],
             "authors": [{"name": n} for n in row.get("authors") or ()],
             "publishedAt": f"{row['published']}T00:00:00.000Z" if row.get("published") else None,
             "upvotes": row.get("upvotes") or 0}
    if row.get("github"):
        paper["githubRepo"] = row["github"]
    entry = {"paper": paper, "title": row["title"], "numComments": 0,
             "publishedAt": f"{row['digest_date']}T12:00:00.000Z"}
    if row.get("organization"):
        entry["organization"] = {"name": row["organization"], "fullname": row["organization"]}
    return entry


def write_inputs(work: Path, n: int) -> dict[str, Path]:
    rows = [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("digest_date")][:n]
    papers = [p for p in load_corpus(CORPUS) if p.digest_date][:n]
    text, api, lines = work / "text", work / "api", work / "lines"
    for folder in (text, api, lines):
        folder.mkdir(parents=True)
    for day, group in groupby(papers, key=lambda p: p.digest_date):
        (text / f"{day}.txt").write_text(render_digest(day, list(group)), "utf-8")
    for day, group in groupby(rows, key=lambda r: r["digest_date"]):
        (api / f"{day}.json").write_text(json.dumps([api_entry(r) for r in group]), "utf-8")
    (lines / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return {"text pages": text, "API JSON": api, "JSON lines": lines}


def ingest_seconds(folder: Path, work: Path) -> tuple[float, float, int]:
    """Wall time, CPU time (the process and its children: the bulk writers it forks) and
    papers added of one `papers add` of `folder` into a fresh library."""
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "PAPERS_HOME": str(home)}
    script = Path(sys.executable).with_name("papers")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "papers.tui"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([*cmd, "add", str(folder), "--json"], env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode:
        raise SystemExit(proc.stderr)
    return seconds, cpu, json.loads(proc.stdout)["papers_added"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="papers (default 10,000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not CORPUS.exists():
        raise SystemExit(f"needs {CORPUS}")
    work = Path(tempfile.mkdtemp(prefix="papers-bench-json-"))
    try:
        inputs = write_inputs(work, args.n)
        times: dict[str, list[float]] = {name: [] for name in inputs}
        cpus: dict[str, list[float]] = {name: [] for name in inputs}
        added: dict[str, int] = {}
        for _ in range(args.runs):
            for name, folder in inputs.items():  # interleaved: the machine is noisy
                seconds, cpu, n = ingest_seconds(folder, work)
                times[name].append(seconds)
                cpus[name].append(cpu)
                added[name] = n
        print(f"ingest of the first {args.n:,} corpus papers, `papers add` in a fresh library, "
              f"median of {args.runs} interleaved runs (CPU: the process and its children, "
              "which a busy machine swings less than the wall time)")
        for name, samples in times.items():
            median, cpu = statistics.median(samples), statistics.median(cpus[name])
            print(f"  {name:<11} {added[name]:>6,} papers  {median:6.1f} s "
                  f"{added[name] / median:6,.0f} papers/s (min {min(samples):.1f} s)   "
                  f"CPU {cpu:6.1f} s {added[name] / cpu:6,.0f} papers/s "
                  f"(min {min(cpus[name]):.1f} s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
