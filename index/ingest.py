"""Incremental ingest: read new or changed digest files and update the index.

The manifest (inside the index directory) records every digest file's size, mtime,
content hash and the papers it contributed, so a re-scan reads only what changed and a
vanished file takes away exactly its own contributions. The index is committed before
the manifest, and every write is an update by paper id, so a crash between the two only
means the next run reads those files again.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader

from papers.index import locks
from papers.index import manifest as manifest_file
from papers.index.backup import backup_userdata, daily_backup
from papers.index.dailyjson import parse_daily_json, sniff
from papers.index.digest import Digest, Entry, parse_digest
from papers.index.errors import (
    LibraryBusy,
    LibraryError,
    PapersError,
    Unavailable,
    UserDataError,
)
from papers.index.identity import paper_id
from papers.index.library import outdated
from papers.index.manifest import DigestRecord, Manifest
from papers.index.models import Paper, Problem
from papers.index.schema import (
    INDEX_DIR,
    SCHEMA_VERSION,
    SightingRow,
    create_index,
    index_exists,
    open_index,
    paper_from_rows,
    paper_to_document,
    sightings_of,
    text_date_of,
)
from papers.index.sources import Scan, scan
from papers.index.whooshwriter import write_in_processes

# Below this many documents one writer is faster than starting sub-processes.
BULK_DOCS = 2000
LIMIT_MB = 192  # postings a writer holds in memory before it spills them to disk
# Small commits merge only segments below this size, so adding today's digest never
# rewrites the large segments of a big library (`papers index --optimize` merges all).
SMALL_SEGMENT = 5000
SMALL_SEGMENTS_BEFORE_MERGE = 6
LOCK_FILE = "ingest.lock"

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class IngestReport:
    files_scanned: int = 0
    files_changed: int = 0
    files_removed: int = 0
    files_read: int = 0  # files whose bytes were read (changed, or touched and hashed)
    papers_added: int = 0
    papers_updated: int = 0
    papers_removed: int = 0
    problems: list[Problem] = field(default_factory=list)
    rebuilt: bool = False
    reason: str | None = None  # why a rebuild happened, when it did on its own
    missing: list[str] = field(default_factory=list)  # sources missing; their papers kept
    # Problems of digest files read in earlier runs, still there (the manifest keeps them).
    standing: list[Problem] = field(default_factory=list)
    kept_files: int = 0  # digests of missing sources, still in the library
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.files_changed or self.files_removed or self.rebuilt)

    def to_json(self) -> dict:
        return {
            "files_scanned": self.files_scanned,
            "files_changed": self.files_changed,
            "files_removed": self.files_removed,
            "papers_added": self.papers_added,
            "papers_updated": self.papers_updated,
            "papers_removed": self.papers_removed,
            "missing_sources": self.missing,
            "problems": [p.to_json() for p in self.problems],
            "earlier_problems": [p.to_json() for p in self.standing],
        }

    def summary(self) -> str:
        if not self.changed:
            text = f"{self.files_scanned} files scanned, nothing changed"
        else:
            text = (
                f"{self.files_scanned} files scanned, {self.files_changed} changed, "
                f"{self.files_removed} removed; papers: {self.papers_added} added, "
                f"{self.papers_updated} updated, {self.papers_removed} removed"
            )
        if self.kept_files:
            text += (f"; {_count(len(self.missing), 'source')} missing, the papers of "
                     f"{_count(self.kept_files, 'digest')} kept "
                     "(`papers index --prune` removes them)")
        if self.problems:
            text += f"; {_count(len(self.problems), 'problem')}"
        if self.standing:
            files = len({p.file for p in self.standing})
            text += (f"; {_count(len(self.standing), 'earlier problem')} in "
                     f"{_count(files, 'digest')} (`papers doctor` lists them)")
        return text


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def ingest_lock(home: Path, timeout: float):
    """One ingest at a time per library; others wait up to `timeout`, then LibraryBusy."""
    home.mkdir(parents=True, exist_ok=True)
    return locks.held(home / LOCK_FILE, timeout, lambda: LibraryBusy(
        f"library busy: another papers process is updating {home}; try again when it has "
        "finished"))


def ingest(
    home: Path,
    sources: list[Path],
    *,
    rebuild: bool = False,
    optimize: bool = False,
    prune: bool = False,
    missing_ok: bool = False,
    procs: int = 1,
    lock_timeout: float = 10.0,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index at `home` up to date with the digest files under `sources`.

    The papers of a missing source are kept unless `prune`. A rebuild reads every digest
    again, so with a source missing it would drop that source's papers: it is refused
    unless `prune` (drop them) or `missing_ok` (the index is damaged anyway: keep what can
    be read).
    """
    started = time.perf_counter()
    home = Path(home)
    with ingest_lock(home, lock_timeout), _fewer_collections():
        _recover_interrupted_rebuild(home)
        index_dir = home / INDEX_DIR
        report, found = (None, None) if rebuild or optimize else \
            _unchanged(index_dir, sources, prune)
        backup_problem = None
        if report is None:
            report, backup_problem = _bring_up_to_date(
                home, index_dir, sources, rebuild=rebuild, optimize=optimize, prune=prune,
                missing_ok=missing_ok, procs=procs, progress=progress, found=found)
        _cache_for_find(home, index_dir, report)
    backup_problem = backup_problem or _backup(daily_backup, home)
    if backup_problem:
        report.problems.append(backup_problem)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _fewer_collections():
    """The garbage collector run less often meanwhile, and never over what was alive
    before (imports, the reader's state): an ingest makes millions of small lists (postings,
    a manifest's ids) and few cycles, and the collections that kept walking them were 6-7%
    of a bulk ingest's CPU."""
    # Only in a process of its own (`papers add`, `papers index`): the reader re-scans in a
    # worker thread, and its heap is the reader's to freeze (tui/screens/main.py); thawing
    # it here would undo that for every search after the re-scan.
    if threading.active_count() > 1 or gc.get_freeze_count():
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _bring_up_to_date(home: Path, index_dir: Path, sources: list[Path], *, rebuild: bool,
                      optimize: bool, prune: bool, missing_ok: bool, procs: int,
                      progress: Progress | None,
                      found: Scan | None) -> tuple[IngestReport, Problem | None]:
    """`ingest`'s work, under its lock: the report, and a failed backup's problem. `found`:
    the sources as `_unchanged` scanned them just now, if it did."""
    manifest = manifest_file.load(index_dir, current=SCHEMA_VERSION)
    reason = None
    if not rebuild and index_exists(index_dir):
        why = outdated(index_dir)
        if why:
            reason = (f"the library format changed ({why}); rebuilding the index from "
                      "your digests")
            rebuild = True
    elif not rebuild and index_dir.exists() and any(index_dir.iterdir()):
        reason = "the index was missing or unreadable; rebuilding it from your digests"
        rebuild = True
    if rebuild and not (prune or missing_ok or reason):
        _refuse_rebuild_without(home, sources, manifest)
    if rebuild:
        backup_problem = _backup(backup_userdata, home, "before-rebuild")
        report = _rebuild(home, sources, procs, progress, prune, _added(manifest))
        report.reason = reason
    else:
        backup_problem = None
        try:
            report = _update(home, index_dir, manifest, sources, procs, optimize,
                             progress, prune=prune, found=found)
        except (PapersError, OSError):
            raise  # ours, or the environment's (a full or read-only disk): not damage
        except Exception as exc:  # Whoosh could not read its own files
            backup_problem = _backup(backup_userdata, home, "before-rebuild")
            report = _rebuild(home, sources, procs, progress, prune, _added(manifest))
            report.reason = (f"the index was damaged ({exc.__class__.__name__}: {exc}); "
                             "rebuilt it from your digests")
    return report, backup_problem


def _unchanged(index_dir: Path, sources: list[Path],
               prune: bool) -> tuple[IngestReport | None, Scan | None]:
    """The report of a re-scan that finds every digest as the manifest's head stamps it,
    and none gone, read from the head alone (`manifest.stamps`), or None when anything
    changed or the head cannot tell (no stamps, another format), for `_update` to see;
    and the scan, when one was made (for `_update` to use, not to make again)."""
    if not index_exists(index_dir) or outdated(index_dir):
        return None, None
    head = manifest_file.stamps(index_dir)
    if head is None or head.schema != SCHEMA_VERSION:
        return None, None
    known = head.files
    found = scan(sources, known)
    stats = found.stats
    for key in found.files:
        stamp, st = known.get(key), stats[key]
        if stamp is None or stamp[0] != st.st_size or stamp[1] != st.st_mtime_ns:
            return None, found
    present = set(found.files)
    gone = [key for key in known if key not in present]
    if gone and (prune or not all(found.is_missing(key) for key in gone)):
        return None, found
    report = IngestReport(files_scanned=len(found.files), problems=list(found.problems),
                          missing=[str(m) for m in found.missing], kept_files=len(gone))
    report.standing = [Problem(key, line, message)
                       for key, found_there in head.problems.items()
                       for line, message in found_there]
    return report, found


# -- the two paths ----------------------------------------------------------------------


def _cache_for_find(home: Path, index_dir: Path, report: IngestReport) -> None:
    """Bring the cold find's cache up to the commit just made, under the ingest lock (no
    commit can move the index meanwhile). A new commit only adds its new segments'
    files; the cache is derived, so a failure (a full disk) leaves find asking Whoosh."""
    from papers.index import findcache

    if report.changed or findcache.Cache.open(str(home)) is None:
        findcache.refresh(index_dir)


def _backup(make, home: Path, *args) -> Problem | None:
    """User data is backed up before every rebuild and once a day; a failure never stops
    the ingest, it is reported."""
    try:
        make(home, *args)
    except (UserDataError, OSError) as exc:
        return Problem(str(home / "userdata.sqlite"), 0, f"not backed up: {exc}")
    return None


def _refuse_rebuild_without(home: Path, sources: list[Path], manifest: Manifest) -> None:
    missing = scan(sources, manifest.files).missing
    if missing:
        names = ", ".join(str(m) for m in missing[:3])
        raise Unavailable(f"source missing: {names}; a rebuild now would drop its papers. "
                          "Mount or restore it, or rebuild without them with "
                          "`papers index --rebuild --prune`")


def _added(manifest: Manifest) -> dict[str, str]:
    return {key: rec.added for key, rec in manifest.files.items() if rec.added}


def _rebuild(home: Path, sources: list[Path], procs: int, progress: Progress | None,
             prune: bool, added: dict[str, str]):
    """Build a fresh index beside the old one, then swap: a crash leaves the old one."""
    new_dir = home / (INDEX_DIR + ".new")
    shutil.rmtree(new_dir, ignore_errors=True)
    new_dir.mkdir(parents=True)
    create_index(new_dir)
    report = _update(home, new_dir, Manifest(SCHEMA_VERSION), sources, procs, False, progress,
                     fresh=True, prune=prune, added=added)
    report.rebuilt = True
    old_dir = home / (INDEX_DIR + ".old")
    index_dir = home / INDEX_DIR
    shutil.rmtree(old_dir, ignore_errors=True)
    if index_dir.exists():
        os.replace(index_dir, old_dir)
    os.replace(new_dir, index_dir)
    shutil.rmtree(old_dir, ignore_errors=True)
    return report


def _recover_interrupted_rebuild(home: Path) -> None:
    index_dir, old_dir = home / INDEX_DIR, home / (INDEX_DIR + ".old")
    if not index_dir.exists() and old_dir.exists():
        os.replace(old_dir, index_dir)
    shutil.rmtree(home / (INDEX_DIR + ".new"), ignore_errors=True)
    shutil.rmtree(old_dir, ignore_errors=True)


def _update(home, index_dir: Path, manifest: Manifest, sources, procs, optimize, progress,
            fresh: bool = False, prune: bool = False,
            added: dict[str, str] | None = None, found: Scan | None = None) -> IngestReport:
    report = IngestReport()
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    if not index_exists(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        create_index(index_dir)
        manifest = Manifest(SCHEMA_VERSION)
        fresh = True
    manifest.schema = SCHEMA_VERSION
    if found is None:
        found = scan(sources, manifest.files)
    files = found.files
    report.problems.extend(found.problems)
    report.files_scanned = len(files)

    old_files = manifest.files
    changed: list[tuple[str, bytes, os.stat_result, str]] = []
    touched_only = False
    stats = found.stats
    for key in files:
        st = stats[key]
        rec = old_files.get(key)
        if rec and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns:
            continue
        try:
            with open(key, "rb") as fh:
                data = fh.read()
                after = os.fstat(fh.fileno())
        except OSError as exc:
            report.problems.append(Problem(key, 0, f"cannot read: {exc.strerror}"))
            continue
        report.files_read += 1
        if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns) \
                or len(data) != st.st_size:
            # Half a page being saved: skip it now, the next scan reads the whole file.
            report.problems.append(Problem(key, 0, "changed while being read; skipped, "
                                                   "it will be read again next time"))
            continue
        digest_hash = hashlib.sha1(data).hexdigest()
        if rec and rec.sha1 == digest_hash:
            rec.mtime_ns = st.st_mtime_ns  # touched, not changed: remember, don't re-read
            touched_only = True
            continue
        changed.append((key, data, st, digest_hash))
    present = set(files)
    kept = set() if prune else {key for key in old_files
                                if key not in present and found.is_missing(key)}
    removed = [key for key in old_files if key not in present and key not in kept]
    report.missing = [str(m) for m in found.missing]
    report.kept_files = len(kept)
    rereading = {key for key, *_ in changed} | set(removed)
    report.standing = [Problem(key, line, message)
                       for key, found_there in manifest.problems.items()
                       if key not in rereading for line, message in found_there]

    if not changed and not removed:
        if touched_only:
            manifest.segments = segment_files(index_dir)
            manifest_file.save(index_dir, manifest)
        if optimize:
            _optimize(index_dir)
        return report

    # Parse every changed file: contributions[paper id][file] = (entry, digest date)
    contributions: dict[str, dict[str, tuple[Entry, date | None]]] = {}
    new_file_records: dict[str, DigestRecord] = {}
    ix = open_index(index_dir)
    identify = _Identities(None if fresh else ix)
    for n, (key, data, st, digest_hash) in enumerate(changed, 1):
        digest = _parse(key, data, st)
        report.problems.extend(digest.problems)
        manifest.problems[key] = [(p.line, p.message) for p in digest.problems]
        ids: list[str] = []
        for entry in digest.entries:
            pid = identify(entry)
            per_file = contributions.setdefault(pid, {})
            if key not in per_file:  # a paper listed twice on one page counts once
                per_file[key] = (entry, entry.digest_date or digest.date)
                ids.append(pid)
        new_file_records[key] = DigestRecord(
            st.st_size, st.st_mtime_ns, digest_hash,
            digest.date.isoformat() if digest.date else None, ids,
            old_files[key].added if key in old_files else (added or {}).get(key, now))
        if progress:
            progress("reading", n, len(changed))

    dropped_files = set(removed) | {key for key, *_ in changed if key in old_files}
    affected = set(contributions)
    for key in dropped_files:
        affected.update(old_files[key].papers)

    identify.close()
    with ix.searcher() as searcher:
        existing = {} if fresh else {
            pid: stored for pid in affected
            if (stored := searcher.document(id=pid)) is not None
        }
    order = sorted(affected)
    if procs > 1 and len(order) >= BULK_DOCS and not optimize:
        _write_in_parallel(ix, order, existing, contributions, dropped_files, procs, report,
                           progress)
    else:
        _write(ix, order, existing, contributions, dropped_files, optimize, fresh, report,
               progress)

    for key in removed:
        del old_files[key]
        manifest.problems.pop(key, None)
    old_files.update(new_file_records)
    report.files_changed = len(changed)
    report.files_removed = len(removed)
    manifest.segments = segment_files(index_dir)
    manifest_file.save(index_dir, manifest)
    return report


def segment_files(index_dir: Path) -> dict[str, int]:
    """Each of Whoosh's segment files with its size (what `Manifest.segments` keeps)."""
    with os.scandir(index_dir) as entries:
        return {e.name: e.stat().st_size for e in entries
                if e.name.startswith("MAIN_") and e.name != "MAIN_WRITELOCK" and e.is_file()}


class _Identities:
    """Which paper an entry is: the one its arXiv id already names (in this ingest or in
    the index), else the one its folded title names, as text dumps have no arXiv id.
    Ids from titles never change, so user data keyed by them is never orphaned."""

    def __init__(self, ix) -> None:
        self._searcher = ix.searcher() if ix is not None else None
        self._by_arxiv: dict[str, str] = {}

    def __call__(self, entry: Entry) -> str:
        arxiv = entry.arxiv_id
        if not arxiv:
            return paper_id(entry.title)
        pid = self._by_arxiv.get(arxiv)
        if pid is None and self._searcher is not None:
            stored = self._searcher.document(arxiv=arxiv)
            pid = stored["id"] if stored else None
        pid = pid or paper_id(entry.title)
        self._by_arxiv[arxiv] = pid
        return pid

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()


def _parse(key: str, data: bytes, st: os.stat_result) -> Digest:
    mtime = date.fromtimestamp(st.st_mtime)
    parse = parse_daily_json if sniff(data) else parse_digest
    try:
        return parse(data, name=key, mtime=mtime)
    except Exception as exc:  # a parser bug must not stop the ingest of other files
        return Digest(path=key, date=None,
                      problems=[Problem(key, 0, f"could not be parsed: {exc!r}")])


def _writer(ix):
    try:
        return ix.writer(compound=False, timeout=5.0, limitmb=LIMIT_MB)
    except whoosh_index.LockError as exc:
        raise LibraryBusy("library busy: the index is locked by another writer") from exc


def _write(ix, order: list[str], existing: dict, contributions: dict, dropped: set[str],
           optimize: bool, fresh: bool, report: IngestReport, progress: Progress | None):
    """Every affected paper merged and written by one writer, in one commit."""
    writer = _writer(ix)
    try:
        for n, pid in enumerate(order, 1):
            old = existing.get(pid)
            merged = merge_paper(pid, old, contributions.get(pid, {}), dropped)
            if merged is None:
                if old is not None:
                    writer.delete_by_term("id", pid)
                    report.papers_removed += 1
            else:
                doc = paper_to_document(*merged)
                if old is None:
                    writer.add_document(**doc)
                    report.papers_added += 1
                else:
                    writer.update_document(**doc)
                    report.papers_updated += 1
            if progress and (n % 200 == 0 or n == len(order)):
                progress("indexing", n, len(order))
        if optimize:
            writer.commit(optimize=True)
        elif fresh:
            writer.commit(merge=False)
        else:
            writer.commit(mergetype=_merge_small_segments)
    except BaseException:
        writer.cancel()
        raise


def _write_in_parallel(ix, order: list[str], existing: dict, contributions: dict,
                       dropped: set[str], procs: int, report: IngestReport,
                       progress: Progress | None) -> None:
    """A bulk ingest on `procs` cores: the papers split in `procs` runs of ids, each merged,
    analysed and written as a segment of its own by a process of its own
    (`whooshwriter.write_in_processes`), this one writing the last run and the deletions,
    then committing every segment in one table of contents, in id order as one writer
    would have them."""
    writer = _writer(ix)
    try:
        for pid in order:  # replaced or removed: their old documents go, in this writer
            if pid in existing:
                writer.delete_by_term("id", pid)
        size = -(-len(order) // procs)
        parts = [order[i:i + size] for i in range(0, len(order), size)]

        def tell(n: int) -> None:
            if progress:
                progress("indexing", min(n * len(parts), len(order)), len(order))

        def add_part(writer, part: list[str], tell=None) -> list[int]:
            return _write_part(writer, part, existing, contributions, dropped, tell)

        counts, segments = write_in_processes(ix, parts, add_part, LIMIT_MB, tell,
                                              written=_find_cache_writer(ix))
        report.papers_added += counts[0]
        report.papers_updated += counts[1]
        report.papers_removed += counts[2]
        # A segment whose every document was replaced is dropped, as `_merge_small_segments`
        # drops it after one writer.
        writer.commit(mergetype=lambda w, kept: [s for s in kept if s.doc_count()] + segments)
    except BaseException:
        writer.cancel()
        raise


def _find_cache_writer(ix):
    """What writes a new segment's find-cache file, in the process that wrote the segment,
    while its files are still in memory: the refresh after the commit then finds it made
    (and makes it itself when this could not). Each process caches its own segment as soon
    as it is written, rather than all waiting for the commit and starting again."""
    from papers.index import findcache

    cache_segment = findcache.segment_writer(ix.storage.folder)
    if cache_segment is None:
        return None

    def write(segment) -> None:
        try:
            reader = SegmentReader(ix.storage, ix.schema, segment)
            try:
                cache_segment(reader)
            finally:
                reader.close()
        except Exception:  # derived: the refresh makes what this could not
            pass

    return write


def _write_part(writer, part: list[str], existing: dict, contributions: dict,
                dropped: set[str], tell=None) -> list[int]:
    """Add the papers of `part` to `writer` (their old documents deleted already):
    [added, updated, removed]."""
    counts = [0, 0, 0]
    for n, pid in enumerate(part, 1):
        old = existing.get(pid)
        merged = merge_paper(pid, old, contributions.get(pid, {}), dropped)
        if merged is None:
            counts[2] += old is not None
        else:
            writer.add_document(**paper_to_document(*merged))
            counts[old is not None] += 1
        if tell and n % 200 == 0:
            tell(n)
    return counts


def _merge_small_segments(writer, segments):
    # A segment whose every document was deleted (a digest added, then removed) is only
    # dead weight for every search: drop it now rather than at the next merge.
    segments = [s for s in segments if s.doc_count() > 0]
    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT]
    if len(small) < SMALL_SEGMENTS_BEFORE_MERGE:
        return segments
    for seg in small:
        writer.add_reader(SegmentReader(writer.storage, writer.schema, seg))
    return [s for s in segments if s.doc_count_all() >= SMALL_SEGMENT]


def _optimize(index_dir: Path) -> None:
    ix = open_index(index_dir)
    _writer(ix).commit(optimize=True)


# -- merging one paper's sightings ------------------------------------------------------


def merge_paper(pid: str, old: dict | None, new: dict[str, tuple[Entry, date | None]],
                dropped: set[str]) -> tuple[Paper, list[SightingRow], str] | None:
    """Fold a paper's stored document with new sightings, minus the files that went away:
    the paper, its sightings and the day of the digest its text came from (what
    `schema.paper_to_document` takes), or None when no sighting is left.

    Each sighting keeps its own metadata, so removing a digest restores the metadata of
    the newest one left. Text comes from the newest digest that showed it.
    """
    sightings = {s.file: s for s in sightings_of(old or {}) if s.file not in dropped}
    title, abstract = (old or {}).get("title"), (old or {}).get("abstract")
    text_date = text_date_of(old or {})
    links = [link for link in ((old or {}).get("rec") or {}).get("links", ()) if link]
    for key, (entry, digest_date) in sorted(new.items()):
        when = digest_date.isoformat() if digest_date else ""
        sightings[key] = SightingRow(
            key, when, entry.authors, entry.organization,
            entry.published.isoformat() if entry.published else None, entry.upvotes,
            entry.arxiv_id, entry.author_names, entry.github, entry.github_stars,
            entry.project_page, entry.keywords, entry.ai_summary, entry.comments,
            entry.submitter)
        if title is None or when >= text_date:
            title, abstract, text_date = entry.title, entry.abstract, when
        links.extend(link for link in entry.links if link not in links)
    if not sightings:
        return None
    rows = sorted(sightings.values(), key=lambda r: (r.date, r.file))
    paper = paper_from_rows(pid, title or "", abstract or "", rows, links)
    return paper, rows, text_date


__all__ = ["IngestReport", "LibraryBusy", "LibraryError", "ingest", "merge_paper"]
