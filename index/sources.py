"""The digest files and folders a user registered, and finding the digests in them.

A registered source that is gone, unreadable or suddenly empty (an unmounted disk, a sync
folder not yet there) is *missing*, not empty: the ingest keeps the papers it gave until the
files are deleted from a folder that is there, or the user says so (`papers index --prune`,
`papers remove`).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
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
    """Register paths, resolved; a path inside a registered folder is not registered again,
    and a folder takes the place of the files and folders inside it. Returns the full list."""
    sources = load_sources(home)
    for p in paths:
        p = _resolved(Path(p).expanduser())
        if any(p == s or s in p.parents for s in sources):
            continue
        sources = [s for s in sources if p not in s.parents] + [p]
    save_sources(home, sources)
    return sources


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: registered as given, reported at scan
        return path.absolute()


def remove_source(home: Path, path: Path) -> Path | None:
    """Unregister a source (as given, or resolved); the source removed, or None."""
    sources = load_sources(home)
    for candidate in (Path(path).expanduser().absolute(), _resolved(Path(path).expanduser())):
        if candidate in sources:
            save_sources(home, [s for s in sources if s != candidate])
            return candidate
    return None


@dataclass
class Scan:
    """What a scan of the sources found."""

    files: list[str]  # the digests' resolved paths, sorted
    problems: list[Problem]
    missing: list[Path]  # sources that are gone, unreadable, or empty where files were
    # Each file's stat when it was found: a re-scan compares it with the manifest's, with
    # no second stat (a file changed since is seen by the stat after reading it).
    stats: dict[str, os.stat_result]

    def is_missing(self, key: str) -> bool:
        """Whether the digest at `key` (a path the manifest knows) is under a missing
        source, so that its absence says nothing about whether it was deleted."""
        return any(key == str(m) or key.startswith(str(m) + os.sep) for m in self.missing)


def scan(sources: list[Path], known: Iterable[str] = ()) -> Scan:
    """Every digest file under the sources, and which sources are missing. `known` are the
    digests the library holds: a folder with none of its digests left and no digest at all
    in it is taken for unmounted, not emptied."""
    found, problems = _digests(sources)
    files = sorted(found)
    known = list(known)
    missing = []
    for source in sources:
        source = Path(source)
        if not source.exists() or not os.access(source, os.R_OK):
            missing.append(_resolved(source))
        elif source.is_dir():
            inside = str(_resolved(source)) + os.sep
            if not any(f.startswith(inside) for f in files) and any(
                    k.startswith(inside) for k in known):
                missing.append(_resolved(source))
                problems.append(Problem(str(source), 0, "folder is empty where it had "
                                        "digests: taken for unmounted"))
    return Scan(files, problems, missing, found)


def status(home: Path, known: Iterable[str] = ()) -> list[tuple[Path, str]]:
    """Each registered source with its state: `ok`, `missing` or `empty` (taken for
    unmounted, see `scan`)."""
    sources = load_sources(home)
    result = scan(sources, known)
    out = []
    for source in sources:
        if source not in result.missing:
            out.append((source, "ok"))
        else:
            out.append((source, "empty" if source.exists() else "missing"))
    return out


def digest_files(sources: list[Path]) -> tuple[list[Path], list[Problem]]:
    """Every digest file under the sources, sorted, each once; problems for the rest."""
    found, problems = _digests(sources)
    return [Path(k) for k in sorted(found)], problems


def _digests(sources: list[Path]) -> tuple[dict[str, os.stat_result], list[Problem]]:
    """Every digest file under the sources by its resolved path (a string: a Path each
    cost more than its stat, 6k files at 300k papers), with its stat; problems for the
    rest."""
    found: dict[str, os.stat_result] = {}
    problems: list[Problem] = []
    for source in sources:
        source = Path(source)
        if source.is_file():
            _consider(source, found, problems, explicit=True)
        elif source.is_dir():
            _walk(str(source), os.path.realpath(source), found, problems)
        elif source.exists():
            problems.append(Problem(str(source), 0, "not a regular file or folder; skipped"))
        else:
            problems.append(Problem(str(source), 0, "source is missing (moved, deleted or "
                                    "not mounted); its papers are kept"))
    return found, problems


def _walk(folder: str, real: str, found: dict, problems: list[Problem]) -> None:
    """The digests in `folder` (whose resolved path is `real`), then in its sub-folders,
    as os.walk would: hidden names skipped, symlinked folders not followed (so a symlink
    loop cannot trap it). A file that is no symlink is `real` joined with its name, which
    saves resolving every path again: a third of a no-op re-scan at 100k papers."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problems.append(Problem(str(exc.filename), 0, f"cannot list folder: {exc.strerror}"))
        return
    folders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()
            link = entry.is_symlink()
        except OSError:
            is_dir = link = False
        if is_dir:
            if not link:
                folders.append(entry.name)
        elif entry.name.lower().endswith(DIGEST_SUFFIXES):
            if link:
                _consider(Path(entry.path), found, problems, explicit=False)
            else:
                _take(entry.path, os.path.join(real, entry.name), found, problems, entry)
    for name in folders:
        _walk(os.path.join(folder, name), os.path.join(real, name), found, problems)


def _consider(path: Path, found: dict, problems: list[Problem], explicit: bool) -> None:
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        problems.append(Problem(str(path), 0, f"cannot read: {getattr(exc, 'strerror', exc)}"))
        return
    _take(str(path), str(resolved), found, problems, resolved, explicit)


def _take(path: str, resolved: str, found: dict, problems: list[Problem], stat_of,
          explicit: bool = False) -> None:
    """Keep `resolved` (the file at `path`) if it is a readable digest; `stat_of` has the
    `stat()` that says (a Path, or the os.DirEntry it was found as)."""
    try:
        st = stat_of.stat()
    except (OSError, RuntimeError) as exc:
        problems.append(Problem(str(path), 0, f"cannot read: {getattr(exc, 'strerror', exc)}"))
        return
    if not stat.S_ISREG(st.st_mode):
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
    if resolved.endswith(".jsonl") and _sync_log(Path(resolved)):
        return  # a `papers sync` log in a digest folder: the user's marks, not papers
    found[resolved] = st


def _sync_log(path: Path) -> bool:
    from papers.index.sync import is_log

    return is_log(path)
