"""Write a benchmark corpus of digest files.

    python bench/gen_corpus.py OUT_DIR -n 100000 [--seed 0] [--per-day 50] [--no-real]
                               [--repeats 0.1] [--real PATH] [--wrap]

The real Hugging Face corpus (../shared/corpus/hf-daily-papers.jsonl next to the repo) goes
first when it exists; synthetic papers fill the rest.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path, not the repo: make `bench.corpus` importable.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.corpus import write_corpus  # noqa: E402

DEFAULT_REAL = REPO.parent / "shared" / "corpus" / "hf-daily-papers.jsonl"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir", type=Path, help="directory for the YYYY-MM-DD.txt digests")
    ap.add_argument("-n", type=int, default=10_000, help="distinct papers (default 10000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-day", type=int, default=50, help="synthetic papers per digest")
    ap.add_argument("--real", type=Path, default=DEFAULT_REAL, help="real corpus JSONL")
    ap.add_argument("--no-real", action="store_true", help="synthetic papers only")
    ap.add_argument(
        "--repeats", type=float, default=0.0, help="fraction of papers listed again later"
    )
    ap.add_argument("--wrap", action="store_true", help="hard-wrap abstracts at ~80 columns")
    args = ap.parse_args(argv)
    if args.n < 0 or args.per_day < 1 or not 0 <= args.repeats <= 1:
        ap.error("need -n >= 0, --per-day >= 1 and 0 <= --repeats <= 1")

    real = None if args.no_real else args.real
    if real is not None and not real.exists():
        print(f"note: no real corpus at {real}; writing synthetic papers only", file=sys.stderr)
    if args.out_dir.is_dir() and any(args.out_dir.glob("*.txt")):
        # Files from an earlier, larger run would silently join the benchmark.
        print(f"note: {args.out_dir} already has .txt files; none are removed", file=sys.stderr)
    t0 = time.perf_counter()
    info = write_corpus(
        args.out_dir,
        args.n,
        seed=args.seed,
        per_day=args.per_day,
        real=real,
        repeats=args.repeats,
        wrap=args.wrap,
    )
    secs = time.perf_counter() - t0
    print(
        f"wrote {info.files} digest files to {args.out_dir} in {secs:.1f}s: "
        f"{info.papers} papers ({info.real} real, {info.synthetic} synthetic), "
        f"{info.entries} entries, {info.bytes / 1e6:.1f} MB, "
        f"dates {info.first} .. {info.last}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
