"""The digest files and folders a user registered, and finding the digests in them."""

from __future__ import annotations

import json
import os
from pathlib import Path

from papers.index.models import Problem

SOURCES_FILE = "sources.json"
DIGEST_SUFFIXES = (".txt", ".md", ".json", ".jsonl")
# A file this large is not a saved web page; reading it would only stall the ingest.
MAX_DIGEST_BYTES = 50 * 1024 * 1024


def load_sources(home: Path) -> list[Path]:
    try:
        data = json.loads((Path(home) / SOURCES_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return []
    return [Path(p) for p in data.get("sources", []) if isinstance(p, str)]


def save_sources(home: Path, sources: list[Path]) -> None:
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / (SOURCES_FILE + ".tmp")
    unique = list(dict.fromkeys(str(p) for p in sources))
    tmp.write_text(json.dumps({"sources": unique}, indent=2), "utf-8")
    os.replace(tmp, home / SOURCES_FILE)


def add_sources(home: Path, paths: list[Path]) -> list[Path]:
    """Register paths (made absolute); returns the full list."""
    sources = load_sources(home)
    for p in paths:
        p = Path(p).expanduser().absolute()
        if p not in sources:
            sources.append(p)
    save_sources(home, sources)
    return sources


def digest_files(sources: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Every digest file under the sources, sorted, each once; problems for the rest."""
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for source in sources:
        source = Path(source)
        if source.is_file():
            _consider(source, found, problems, explicit=True)
        elif source.is_dir():
            # os.walk does not follow symlinked folders, so a symlink loop cannot trap it.
            for root, dirs, names in os.walk(source, onerror=lambda e: problems.append(
                    Problem(str(e.filename), 0, f"cannot list folder: {e.strerror}"))):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.lower().endswith(DIGEST_SUFFIXES) and not name.startswith("."):
                        _consider(Path(root) / name, found, problems, explicit=False)
        elif source.exists():
            problems.append(Problem(str(source), 0, "not a regular file or folder; skipped"))
        else:
            problems.append(Problem(str(source), 0, "source no longer exists"))
    return [found[k] for k in sorted(found)], problems


def _consider(path: Path, found: dict, problems: list[Problem], explicit: bool) -> None:
    try:
        resolved = path.resolve(strict=True)
        st = resolved.stat()
    except (OSError, RuntimeError) as exc:
        problems.append(Problem(str(path), 0, f"cannot read: {getattr(exc, 'strerror', exc)}"))
        return
    if not resolved.is_file():
        if explicit:
            problems.append(Problem(str(path), 0, "not a regular file; skipped"))
        return
    if st.st_size > MAX_DIGEST_BYTES:
        problems.append(Problem(str(path), 0,
                                f"{st.st_size / 1e6:.0f} MB is too large for a digest; skipped"))
        return
    if not os.access(resolved, os.R_OK):
        problems.append(Problem(str(path), 0, "cannot read: permission denied"))
        return
    found[str(resolved)] = resolved
