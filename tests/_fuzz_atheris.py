"""Coverage-guided fuzzing of `parse_digest` with atheris (libFuzzer); run by hand.

    pip install atheris
    python tests/_fuzz_atheris.py -max_total_time=600 -dict=tests/_fuzz_digest.dict CORPUS_DIR

Seeds: put a few digests in CORPUS_DIR first (tests/fixtures/*.txt). Any exception, or a
problem whose line number is outside the file, is a crash; libFuzzer writes the input to
`crash-*` in the current directory. Not collected by pytest (leading underscore).
"""

from __future__ import annotations

import sys
from datetime import date

import atheris

with atheris.instrument_imports():
    from papers.index.digest import parse_digest


def one_input(data: bytes) -> None:
    d = parse_digest(data, name="fuzz.txt", mtime=date(2026, 1, 5))
    limit = data.count(b"\n") + data.count(b"\r") + 1
    for p in d.problems:
        if not 1 <= p.line <= limit:
            raise AssertionError(f"problem line {p.line} outside 1..{limit}: {p}")
    for e in d.entries:
        if not 1 <= e.line <= limit or not e.title.strip() or not e.abstract.strip():
            raise AssertionError(f"bad entry {e!r}")


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
