"""`papers doctor`: check every part of a library, and repair what can be repaired.

The index is derived data: when it is damaged it is moved aside (never deleted: what we
cannot read we do not throw away) and rebuilt from the digests. The user data is not
derived: when it is damaged it is moved aside and the newest backup that passes SQLite's
integrity check is put in its place.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter, deque
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from papers.index import manifest as manifest_file
from papers.index.backup import backup_userdata, integrity_problem, list_backups
from papers.index.errors import UserDataDamaged, UserDataError
from papers.index.library import outdated
from papers.index.schema import (
    INDEX_DIR,
    SCHEMA_VERSION,
    document_to_paper,
    open_index,
    sort_values,
)
from papers.index.sources import load_sources, status
from papers.index.userdata import FILENAME, SALVAGED, UserData, describe_counts, salvage

# A note is something to know that needs no repair (a digest's own problems).
OK, NOTE, WARN, ERROR = "ok", "note", "warn", "error"


@dataclass(frozen=True)
class Finding:
    severity: str  # OK, NOTE, WARN or ERROR
    what: str  # the part checked: index, manifest, user data, sources, backups
    detail: str
    fix: str | None = None  # what the user can do about it

    def to_json(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = f"{self.severity:<5} {self.what}: {self.detail}"
        return text + (f" ({self.fix})" if self.fix else "")


REBUILD = "`papers doctor --repair` rebuilds it from your digests"


def check(home: Path) -> list[Finding]:
    """Every check, in order; a part that is fine gets one OK finding saying so."""
    home = Path(home)
    findings: list[Finding] = []
    ids = _check_index(home, findings)
    _check_manifest(home, ids, findings)
    _check_userdata(home, findings)
    _check_sources(home, findings)
    _check_backups(home, findings)
    return findings


def healthy(findings: list[Finding]) -> bool:
    return all(f.severity in (OK, NOTE) for f in findings)


# -- the index ----------------------------------------------------------------------------


class IndexDamage(Exception):
    """The index reads, but what it says contradicts itself."""


def _check_index(home: Path, findings: list[Finding]) -> Counter | None:
    """Open the index and read all of it; return how often each paper id occurs."""
    path = home / INDEX_DIR
    for leftover in ("index.new", "index.old"):
        if (home / leftover).exists():
            findings.append(Finding(WARN, "index", f"{leftover} left by an interrupted rebuild",
                                    "the next `papers index` cleans it up"))
    if not path.is_dir() or not any(path.iterdir()):
        findings.append(Finding(WARN, "index", f"no index at {path} yet",
                                "`papers add PATH` or `papers index` builds it"))
        return None
    if not list(path.glob("_MAIN_*.toc")):
        findings.append(Finding(ERROR, "index", f"{path} has no table of contents "
                                "(_MAIN_*.toc is missing)", REBUILD))
        return None
    why = outdated(path)
    if why:
        findings.append(Finding(WARN, "index", f"written by an older papers: {why}",
                                "`papers index` rebuilds it from your digests"))
    try:
        ix = open_index(path)
        with ix.reader() as reader:
            ids = _read_everything(reader)
            count = reader.doc_count()
    except Exception as exc:  # Whoosh raises anything at all on a damaged file
        findings.append(Finding(ERROR, "index", f"{path} is damaged: {_describe(exc)}",
                                REBUILD))
        return None
    dupes = [pid for pid, n in ids.items() if n > 1]
    if dupes:
        findings.append(Finding(ERROR, "index", f"{len(dupes)} papers are in the index more "
                                f"than once (e.g. {dupes[0]})", REBUILD))
    else:
        findings.append(Finding(OK, "index", f"{count} papers, every segment readable"))
    return ids


def _read_everything(reader) -> Counter:
    """Read every stored document, term list, posting tail and column of every segment.

    Truncated term or posting files make Whoosh raise; truncated fixed-width columns read
    as defaults instead, so each column is compared with the stored document it sorts.
    """
    ids: Counter = Counter()
    for seg, _ in reader.leaf_readers():
        titles = _column(seg, "sort_title")
        dates, votes = _column(seg, "sort_date"), _column(seg, "sort_upvotes")
        for docnum, stored in seg.iter_docs():
            ids[stored["id"]] += 1
            paper = document_to_paper(stored)
            want = sort_values(paper)
            if titles is not None and titles[docnum] != want["sort_title"]:
                raise IndexDamage(f"sort column of {paper.id} does not match its title")
            if votes is not None and votes[docnum] != want["sort_upvotes"]:
                raise IndexDamage(f"upvote column of {paper.id} does not match")
            if dates is not None and dates[docnum] != want["sort_date"]:
                raise IndexDamage(f"date column of {paper.id} does not match")
            texts = (("title", paper.title), ("abstract", paper.abstract),
                     ("org", paper.organization or ""))
            for field, text in texts:
                # A truncated length column reads as 0 or None past its end.
                if not seg.doc_field_length(docnum, field) and _has_tokens(text):
                    raise IndexDamage(f"{field} length of {stored['id']} is missing")
        for field in seg.indexed_field_names():
            last = deque(seg.lexicon(field), maxlen=1)  # reads the whole term list
            if last:  # postings are written in term order: the last ones end the file
                deque(seg.postings(field, last[0]).all_ids(), maxlen=0)
    return ids


def _column(seg, name: str):
    return seg.column_reader(name) if seg.has_column(name) else None


def _has_tokens(text: str) -> bool:
    from whoosh.analysis import StemmingAnalyzer  # the analyzer of title and abstract

    global _analyzer
    _analyzer = _analyzer or StemmingAnalyzer()
    return any(True for _ in _analyzer(text))


_analyzer = None


def _describe(exc: Exception) -> str:
    message = str(exc).strip()[:200]
    if isinstance(exc, IndexDamage):
        return message
    return f"{exc.__class__.__name__}: {message}" if message else exc.__class__.__name__


# -- the manifest -------------------------------------------------------------------------


def _check_manifest(home: Path, ids: Counter | None, findings: list[Finding]) -> None:
    path = home / INDEX_DIR / manifest_file.MANIFEST
    if ids is None:
        return  # no readable index to compare it with
    try:
        manifest = manifest_file.read(path.parent)
        files = manifest.files
        listed = manifest.paper_ids()
    except FileNotFoundError:
        findings.append(Finding(WARN, "manifest", f"{path} is missing",
                                "`papers index` reads every digest again and writes it"))
        return
    except (OSError, manifest_file.ManifestUnreadable) as exc:
        findings.append(Finding(WARN, "manifest", f"{path} is unreadable ({_describe(exc)})",
                                "`papers index` reads every digest again and rewrites it"))
        return
    if manifest.schema != SCHEMA_VERSION:
        findings.append(Finding(WARN, "manifest", f"library format {manifest.schema}, "
                                f"this papers writes {SCHEMA_VERSION}",
                                "`papers index` rebuilds the index"))
    missing = listed - set(ids)
    extra = set(ids) - listed
    if missing:
        findings.append(Finding(ERROR, "manifest", f"{len(missing)} papers listed in the "
                                "manifest are not in the index", REBUILD))
    elif extra:
        # An ingest stopped between committing the index and saving the manifest.
        findings.append(Finding(WARN, "manifest", f"{len(extra)} papers in the index are "
                                "not in the manifest (an interrupted ingest)",
                                "`papers index` completes it"))
    else:
        findings.append(Finding(OK, "manifest", f"{len(files)} digest files, "
                                f"{len(listed)} papers, consistent with the index"))
    for file, found in sorted(manifest.problems.items()):
        if found:
            line, message = found[0]
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            findings.append(Finding(NOTE, "digests", f"{file}:{line}: {message}{more}",
                                    "fix or replace the file; `papers index` reads it again "
                                    "when it changes"))


# -- user data, sources, backups ----------------------------------------------------------


def _check_userdata(home: Path, findings: list[Finding]) -> None:
    path = home / FILENAME
    if not path.exists():
        findings.append(Finding(OK, "user data", "none yet (no stars, tags or notes)"))
        return
    try:
        with UserData(home) as store:  # also refuses another program's SQLite file
            problem, read_only = store.integrity(), store.read_only
    except UserDataDamaged as exc:
        problem, read_only = str(exc), None
    except UserDataError as exc:  # the environment's fault (busy, full, read-only): not damage
        findings.append(Finding(WARN, "user data", f"cannot be checked now: {exc}",
                                "nothing is wrong with the file as far as papers can tell; "
                                "try again when the disk is writable and has room"))
        return
    if problem:
        fix = ("`papers doctor --repair` keeps the damaged file and restores the newest backup"
               if list_backups(home) else
               "no backup to restore: `papers doctor --repair` keeps the damaged file aside "
               "and starts afresh")
        findings.append(Finding(ERROR, "user data", f"{path} is damaged: {problem}", fix))
    elif read_only:
        findings.append(Finding(WARN, "user data", f"{path} is readable but read-only: "
                                "stars, tags and notes cannot be saved",
                                "make the data directory writable"))
    else:
        findings.append(Finding(OK, "user data", f"{path} passes SQLite's integrity check"))
        for aside in _asides(home):
            missing = _missing_from_live(home, aside)
            if any(missing.values()):
                findings.append(Finding(WARN, "user data", f"{aside} holds "
                                        f"{describe_counts(missing)} that the user data lacks",
                                        "`papers doctor --repair` merges them in; delete "
                                        "the file if you changed them since on purpose"))


def _check_sources(home: Path, findings: list[Finding]) -> None:
    sources = load_sources(home)
    if not sources:
        findings.append(Finding(WARN, "sources", "no digest files or folders registered",
                                "`papers add PATH`"))
        return
    known = manifest_file.load(home / INDEX_DIR, current=SCHEMA_VERSION).files
    gone = [(s, state) for s, state in status(home, known) if state != "ok"]
    for source, state in gone:
        what = "is empty (taken for unmounted)" if state == "empty" else "is missing"
        findings.append(Finding(WARN, "sources", f"{source} {what}; its papers are kept",
                                "mount or restore it; `papers index --prune` removes its "
                                "papers, `papers remove` unregisters it"))
    if not gone:
        findings.append(Finding(OK, "sources", f"{len(sources)} registered, all present"))


def _check_backups(home: Path, findings: list[Finding]) -> None:
    backups = list_backups(home)
    if backups:
        findings.append(Finding(OK, "backups", f"{len(backups)} of the user data, newest "
                                f"{backups[0].name}"))
    else:
        findings.append(Finding(OK, "backups", "none yet (made before every rebuild and "
                                "once a day)"))


# -- repair -------------------------------------------------------------------------------


def repair(home: Path) -> list[str]:
    """Fix what `check` finds; return what was done, one sentence each."""
    from papers.index.ingest import ingest

    home = Path(home)
    done: list[str] = []
    findings = check(home)
    userdata_bad = any(f.what == "user data" and f.severity == ERROR for f in findings)
    index_bad = any(f.what in ("index", "manifest") and f.severity == ERROR for f in findings)
    index_missing = not (home / INDEX_DIR).is_dir() and bool(load_sources(home))

    userdata_aside = any(f.what == "user data" and "lacks" in f.detail for f in findings)
    if userdata_bad:
        done.extend(_restore_userdata(home))
    else:
        try:
            made = backup_userdata(home, "repair")
        except UserDataError as exc:
            done.append(f"could not back up the user data first: {exc}")
        else:
            if made:
                done.append(f"backed up the user data to {made}")
    if userdata_aside:
        for aside in _asides(home):
            with UserData(home) as store:
                added = store.merge(salvage(aside), replace=False)
            done.append(f"merged from {aside.name}: {describe_counts(added)}")

    if index_bad:
        aside = _move_aside(home / INDEX_DIR, "index.damaged")
        done.append(f"moved the damaged index to {aside}")
    if index_bad or index_missing:
        report = ingest(home, load_sources(home), rebuild=True)
        done.append(f"rebuilt the index from your digests: {report.summary()}")
    if not done:
        done.append("nothing to repair")
    return done


def _restore_userdata(home: Path) -> list[str]:
    """Salvage every row still readable from the damaged store, put it aside (never
    deleted), restore the newest good backup, merge the salvage over it, and say exactly
    what came from where and what could not be saved."""
    path = home / FILENAME
    found = salvage(path)
    aside = _move_aside(path, FILENAME + ".damaged")
    # The write-ahead log belongs to the damaged file; left here it would be replayed
    # into the restored one.
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    done = [f"moved the damaged user data to {aside}"]
    backup = next((b for b in list_backups(home) if integrity_problem(b) is None), None)
    if backup is not None:
        tmp = path.with_name(f".{path.name}.restore")
        shutil.copyfile(backup, tmp)
        os.replace(tmp, path)
    from_backup = salvage(path) if backup is not None else None
    if backup is not None:
        done.append(f"restored the user data from {backup}")
    with UserData(home) as store:
        store.merge(found, replace=True)  # the damaged file is newer than any backup
    done.append(f"saved from the damaged file: {found.describe()}")
    if from_backup is not None:
        added = {t: len(from_backup.keys(t) - found.keys(t)) for t in SALVAGED}
        done.append(f"added from the backup {backup.name}: {describe_counts(added)}")
    else:
        done.append("no readable backup to add from")
    lost = [(f"{n} row{'s' if n != 1 else ''}" if n > 0 else "some rows") + f" of {t}"
            for t, n in found.lost.items()]
    lost += [f"the whole {t} table" for t in found.unreadable]
    done.append("could not be read: " + ", ".join(lost) if lost
                else "every row of the damaged file was read")
    return done


def _asides(home: Path) -> list[Path]:
    return sorted(p for p in home.glob(FILENAME + ".damaged-*")
                  if not p.name.endswith(("-wal", "-shm")))


def _missing_from_live(home: Path, aside: Path) -> dict[str, int]:
    """What a damaged file put aside holds that the live store lacks, per table of choices
    (snapshots of papers are facts, not choices)."""
    held, live = salvage(aside), salvage(home / FILENAME)
    return {t: len(held.keys(t) - live.keys(t)) for t in SALVAGED if t != "papers"}


def _move_aside(path: Path, prefix: str) -> Path:
    """Rename `path` to `<prefix>-<time>` beside it; never overwrite an earlier one."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{prefix}-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{prefix}-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    return target


__all__ = ["ERROR", "NOTE", "OK", "WARN", "Finding", "check", "healthy", "repair"]
