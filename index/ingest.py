"""Incremental ingest: read new or changed digest files and update the index.

The manifest (inside the index directory) records every digest file's size, mtime,
content hash and the papers it contributed, so a re-scan reads only what changed and a
vanished file takes away exactly its own contributions. The index is committed before
the manifest, and every write is an update by paper id, so a crash between the two only
means the next run reads those files again.
"""

from __future__ import annotations

import hashlib
import heapq
import multiprocessing
import os
import pickle
import re
import shutil
import time
import zlib
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from operator import sub
from pathlib import Path

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import index as whoosh_index
from whoosh import writing as whoosh_writing
from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.fields import TEXT
from whoosh.formats import Positions
from whoosh.reading import SegmentReader
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

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
from papers.index.sources import scan

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
    with ingest_lock(home, lock_timeout):
        _recover_interrupted_rebuild(home)
        index_dir = home / INDEX_DIR
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
                                 progress, prune=prune)
            except (PapersError, OSError):
                raise  # ours, or the environment's (a full or read-only disk): not damage
            except Exception as exc:  # Whoosh could not read its own files
                backup_problem = _backup(backup_userdata, home, "before-rebuild")
                report = _rebuild(home, sources, procs, progress, prune, _added(manifest))
                report.reason = (f"the index was damaged ({exc.__class__.__name__}: {exc}); "
                                 "rebuilt it from your digests")
        _cache_for_find(home, index_dir, report)
    backup_problem = backup_problem or _backup(daily_backup, home)
    if backup_problem:
        report.problems.append(backup_problem)
    report.seconds = time.perf_counter() - started
    return report


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
            added: dict[str, str] | None = None) -> IngestReport:
    report = IngestReport()
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    if not index_exists(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        create_index(index_dir)
        manifest = Manifest(SCHEMA_VERSION)
        fresh = True
    manifest.schema = SCHEMA_VERSION
    found = scan(sources, manifest.files)
    files = found.files
    report.problems.extend(found.problems)
    report.files_scanned = len(files)

    old_files = manifest.files
    changed: list[tuple[str, bytes, os.stat_result]] = []
    touched_only = False
    for path in files:
        key = str(path)
        try:
            st = path.stat()
        except OSError as exc:
            report.problems.append(Problem(key, 0, f"cannot read: {exc.strerror}"))
            continue
        rec = old_files.get(key)
        if rec and rec.size == st.st_size and rec.mtime_ns == st.st_mtime_ns:
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            report.problems.append(Problem(key, 0, f"cannot read: {exc.strerror}"))
            continue
        report.files_read += 1
        try:
            after = path.stat()
        except OSError:
            after = None
        if after is None or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns) \
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
        changed.append((key, data, st))
    present = {str(p) for p in files}
    kept = set() if prune else {key for key in old_files
                                if key not in present and found.is_missing(key)}
    removed = [key for key in old_files if key not in present and key not in kept]
    report.missing = [str(m) for m in found.missing]
    report.kept_files = len(kept)
    rereading = {key for key, _, _ in changed} | set(removed)
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
    for n, (key, data, st) in enumerate(changed, 1):
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
            st.st_size, st.st_mtime_ns, hashlib.sha1(data).hexdigest(),
            digest.date.isoformat() if digest.date else None, ids,
            old_files[key].added if key in old_files else (added or {}).get(key, now))
        if progress:
            progress("reading", n, len(changed))

    dropped_files = set(removed) | {key for key, _, _ in changed if key in old_files}
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
    analysed and written as a segment of its own by a process of its own (forked, so the
    parsed digests are shared, not sent), this one writing the last run and the
    deletions, then committing every segment in one table of contents, in id order as one
    writer would have them."""
    writer = _writer(ix)
    children = []
    try:
        for pid in order:  # replaced or removed: their old documents go, in this writer
            if pid in existing:
                writer.delete_by_term("id", pid)
        size = -(-len(order) // procs)
        parts = [order[i:i + size] for i in range(0, len(order), size)]
        context = multiprocessing.get_context("fork")
        for part in parts[:-1]:  # in id order, and this writer's segment comes last
            ours, theirs = context.Pipe(duplex=False)
            child = context.Process(target=_write_part_in_child, daemon=True, args=(
                theirs, ix, part, existing, contributions, dropped))
            child.start()
            theirs.close()
            children.append((child, ours))

        def tell(n: int) -> None:
            if progress:
                progress("indexing", min(n * len(parts), len(order)), len(order))

        counts = _write_part(writer, parts[-1], existing, contributions, dropped, tell)
        segments = []
        for child, ours in children:
            try:
                outcome = ours.recv()
            except EOFError:  # it died without a word (killed, out of memory)
                outcome = ("failed", "it stopped")
            child.join()
            if outcome[0] == "failed" and child.exitcode:
                outcome = ("failed", f"{outcome[1]} (exit code {child.exitcode})")
            if outcome[0] != "done":
                raise LibraryError(f"indexing in a sub-process failed: {outcome[1]}")
            segment, more = outcome[1], outcome[2]
            counts = [a + b for a, b in zip(counts, more, strict=True)]
            if segment is not None:
                segments.append(segment)
        report.papers_added += counts[0]
        report.papers_updated += counts[1]
        report.papers_removed += counts[2]
        # A segment whose every document was replaced is dropped, as `_merge_small_segments`
        # drops it after one writer.
        writer.commit(mergetype=lambda w, kept: [s for s in kept if s.doc_count()] + segments)
    except BaseException:
        for child, _ in children:
            if child.is_alive():
                child.kill()
            child.join()
        writer.cancel()
        raise


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


def _write_part_in_child(conn, ix, part, existing, contributions, dropped) -> None:
    try:
        writer = whoosh_writing.SegmentWriter(ix, _lk=False, compound=False, limitmb=LIMIT_MB)
        counts = _write_part(writer, part, existing, contributions, dropped)
        segment = writer._finalize_segment() if writer._added else None
        conn.send(("done", segment, counts))
    except BaseException as exc:
        conn.send(("failed", f"{exc.__class__.__name__}: {exc}"))
    finally:
        conn.close()


# -- Whoosh's commit, faster --------------------------------------------------------------
#
# A commit writes the new segment's postings a term at a time. Whoosh's sorts a tuple per
# posting first (see `_TermPool`), and then makes several method calls per posting
# through three objects, one asking the segment for its document's field length through a
# column reader (with an os.stat for every field that has no length column). Here the
# lengths are read once per field and a term's blocks are packed at once. What is written
# is the same bytes. (pyproject.toml pins whoosh-reloaded: these reach into its writer,
# as index.ranker into its reader.)

# The length a W3 length byte stands for; 0 is no length (Whoosh returns None for it).
_LENGTH_OF_BYTE = [None] + [byte_to_length(b) for b in range(1, 256)]


class _WholeLengths:
    """A new segment's field lengths, each field's column read whole on first use: what
    `W3PerDocReader.doc_field_length` answers, without a column read per posting."""

    def __init__(self, perdoc) -> None:
        self._perdoc = perdoc
        self._fields: dict[str, list | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        lengths = self._fields.get(fieldname, False)
        if lengths is False:
            lengths = self._fields[fieldname] = self._read(fieldname)
        return default if lengths is None else lengths[docnum]

    def _read(self, fieldname: str) -> list | None:
        column = self._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:
            return None
        n = self._perdoc.doc_count_all()
        if column._fixedlen != 1:  # not the one-byte column of this codec: ask per document
            return [self._perdoc.doc_field_length(d, fieldname) for d in range(n + 1)]
        data = column._dbfile.get(column._basepos, column._count)
        lengths = [_LENGTH_OF_BYTE[b] for b in data]
        return lengths + [None] * (n + 1 - len(lengths))


    def column(self, fieldname: str) -> list | None:
        """The field's lengths by docnum, or None when the field has none (all 0)."""
        lengths = self._fields.get(fieldname, False)
        if lengths is False:
            lengths = self._fields[fieldname] = self._read(fieldname)
        return lengths


def _flush_segment(self) -> None:
    """`SegmentWriter._flush_segment` with the lengths read whole and, for Whoosh's W3
    codec, the postings written by `_write_terms`."""
    self.perdocwriter.close()
    pdr = self.per_document_reader() if self.codec.length_stats else None
    lengths = _WholeLengths(pdr) if pdr else None
    if type(self.fieldwriter) is whoosh3.W3FieldWriter and lengths is not None \
            and self.fieldwriter._codec._inlinelimit <= 1 and isinstance(self.pool, _TermPool):
        _write_terms(self.fieldwriter, self.schema, lengths, self.pool.iter_terms())
    else:
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if pdr:
        pdr.close()


def _write_terms(fw, schema, lengths: _WholeLengths, terms) -> None:
    """`FieldWriter.add_postings` with W3's posting writer folded in, for postings gathered
    by term (`_TermPool.iter_terms`): each term written by `_write_term`."""
    lastfn = column = None
    for fieldname, btext, postings in terms:
        if fieldname != lastfn:
            if lastfn is not None:
                fw.finish_field()
            fw.start_field(fieldname, schema[fieldname])
            column = lengths.column(fieldname)
            lastfn = fieldname
        if postings[0] == -1:  # Whoosh's marker for a spelling word: no posting
            postings = [x for i in range(0, len(postings), 3) if postings[i] != -1
                        for x in postings[i:i + 3]]
            if not postings:
                continue
        ids = postings[0::3]
        _write_term(fw, btext, ids, postings[1::3], _values_bytes(postings[2::3]),
                    [column[d] for d in ids] if column is not None else [0] * len(ids))


_TERMINFO = whoosh3.W3TermInfo._struct
# zlib.compress sets up deflate with memLevel 8, whose 64 KB hash table costs 20-50 us a
# call, however small the input: more than the rest of writing a one-posting term. For an
# input this short, memLevel 3 finds the same matches and writes the same bytes (the same
# header: the window is the same) in a tenth of that; the bytes are checked against
# Whoosh's own writer by tests/test_ingest.py.
_SHORT = 120


def _compress(data: bytes, level: int) -> bytes:
    if len(data) > _SHORT:
        return zlib.compress(data, level)
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 3)
    return deflate.compress(data) + deflate.flush()


def _write_term(fw, btext: bytes, ids: list[int], weights: list, values: list[bytes],
                lens: list) -> None:
    """One term's postings as `W3PostingsWriter` writes them (blocks of `blocklimit`, each
    its pickled info and compressed data), and its row in the term table as
    `W3TermInfo.to_bytes` packs it."""
    codec, postfile = fw._codec, fw._postfile
    limit, comp = codec._blocklimit, codec._compression
    fixedsize = fw._format.fixed_value_size()
    dumps = whoosh3.dumps
    start = postfile.tell()
    if len(ids) == 1 and (fixedsize is None or fixedsize < 0) and weights[0] > 0:
        # Most terms (a name, a rare word) have one posting: the same, written directly.
        docnum, weight, value, length = ids[0], weights[0], values[0], lens[0]
        stored = array("f", weights)[0]
        databytes = dumps(((docnum,), None if stored == 1.0 else stored,
                           (value,) if value else ()), 2)
        if comp:
            databytes = _compress(databytes, comp)
        byte = length_to_byte(length or None)
        infobytes = dumps((1, docnum, weight, comp, byte, byte if length else 0), 2)
        data = b"".join((whoosh3.WHOOSH3_HEADER_MAGIC,
                         pack_int(-len(infobytes) - len(databytes)), infobytes, databytes))
        postfile.write(data)
        info = _TERMINFO.pack(False, stored, 1, byte if length else 0,
                              byte if length else 0, weight, docnum, docnum)
        fw._tindex.add(pack_ushort(fw._fieldid) + btext,
                       info + pack_long(start) + pack_int(len(data)))
        return
    parts = [whoosh3.WHOOSH3_HEADER_MAGIC]
    total = df = maxlength = termmax = 0
    minlength = None
    n = len(ids)
    for b in range(0, n, limit):
        bids = ids[b:b + limit] if n > limit else ids
        bweights = array("f", weights[b:b + limit] if n > limit else weights)
        count = len(bids)
        top = max(weights[b:b + limit] if n > limit else weights)
        maxweight = top if top > 0 else 0  # as W3: the first weight above 0 that tops
        known = [x for x in (lens[b:b + limit] if n > limit else lens) if x]
        bmin, bmax = (min(known), max(known)) if known else (None, 0)
        total += sum(bweights)  # W3TermInfo.add_block, in its order
        df += count
        minlength = bmin if minlength is None else min(minlength, bmin)
        maxlength = max(maxlength, bmax)
        termmax = max(termmax, maxweight)
        blockvalues = values[b:b + limit] if n > limit else values
        if fixedsize == 0:
            mini_values = None
        else:
            kept = [v for v in blockvalues if v]  # W3 keeps only the non-empty
            mini_values = tuple(kept) if fixedsize is None or fixedsize < 0 \
                else b"".join(kept)
        deltas = [bids[0], *map(sub, bids[1:], bids)] if count > 1 else [bids[0]]
        if bweights.count(1.0) == count:
            mini_weights = None
        elif bweights.count(bweights[0]) == count:
            mini_weights = bweights[0]
        else:
            mini_weights = tuple(bweights)
        databytes = dumps((tuple(deltas), mini_weights, mini_values), 2)
        if comp:
            databytes = _compress(databytes, comp)
        infobytes = dumps((count, bids[-1], maxweight, comp, length_to_byte(bmin),
                           length_to_byte(bmax)), 2)
        blocklength = len(infobytes) + len(databytes)
        parts += (pack_int(-blocklength if b + limit >= n else blocklength), infobytes,
                  databytes)
    data = b"".join(parts)
    postfile.write(data)
    info = _TERMINFO.pack(False, total, df, 0 if minlength is None else length_to_byte(minlength),
                          length_to_byte(maxlength), termmax, ids[0], ids[-1])
    fw._tindex.add(pack_ushort(fw._fieldid) + btext,
                   info + pack_long(start) + pack_int(len(data)))


# -- the postings pool, by term -----------------------------------------------------------
#
# Whoosh's pool holds a tuple per posting (field, term, docnum, weight, value) and sorts
# them all at commit, spilling sorted runs to disk when they outgrow memory and merging the
# runs posting by posting. Documents come in docnum order, so a term's postings are already
# in order as they arrive: kept in one flat list per term (docnum, weight, value, docnum,
# ...), only the terms need sorting, a spilled run is its terms in order, and runs merge a
# term at a time. A value is bytes, or for papers' own analysis the positions themselves
# (an int, or a list), made into W3's bytes when written: a posting costs three pointers.
# What comes out is what Whoosh's sort gives (a term whose postings did not arrive in
# order is sorted as Whoosh sorts them).

_KEY_SIZE = 160  # bytes a new term costs in memory, about (for the spill limit)
_POSTING_SIZE = 30  # and each posting, besides a value of its own
_TERMS_PER_PICKLE = 5000


class _TermPool(whoosh_writing.PostingPool):
    def __init__(self, tempstore, segment, limitmb=128, **kwargs):
        super().__init__(tempstore, segment, limitmb=limitmb, **kwargs)
        self.terms: dict[str, dict[bytes, list]] = {}
        self.unordered: set[tuple[str, bytes]] = set()  # terms to sort when read
        self.in_order = True  # every posting came with a docnum >= the ones before
        self._maxdoc = -1

    def saw(self, docnum: int) -> None:
        """A document's postings are about to be added straight into `terms`, each of its
        terms once: they are in order only if no posting before had a greater docnum."""
        if docnum < self._maxdoc:
            self.in_order = False
        else:
            self._maxdoc = docnum

    def add(self, item) -> None:
        """One posting, in any order (Whoosh's spelling words all come as document 0)."""
        fieldname, tbytes, docnum, weight, vbytes = item
        if not isinstance(tbytes, bytes) or (vbytes is not None
                                             and not isinstance(vbytes, bytes)):
            raise TypeError(f"posting {item!r}: term and value must be bytes")
        if docnum > self._maxdoc:
            self._maxdoc = docnum
        postings = self.terms.get(fieldname)
        if postings is None:
            postings = self.terms[fieldname] = {}
            self.fieldnames.add(fieldname)
        same = postings.get(tbytes)
        if same is None:
            postings[tbytes] = [docnum, weight, vbytes]
            self.currentsize += _KEY_SIZE + len(tbytes)
        else:
            if same[-3] >= docnum:
                self.unordered.add((fieldname, tbytes))
            same += (docnum, weight, vbytes)
        self.currentsize += _POSTING_SIZE + 40 + len(vbytes or b"")
        if self.currentsize > self.limit:
            self.save()

    def _sorted_terms(self):
        for fieldname in sorted(self.terms):
            postings = self.terms[fieldname]
            for tbytes in sorted(postings):
                yield fieldname, tbytes, postings[tbytes]

    def save(self) -> None:
        if self.terms:
            path, f = self._new_run()
            terms = self._sorted_terms()
            while chunk := list(islice(terms, _TERMS_PER_PICKLE)):
                pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
            f.close()
            self.runs.append(path)
            self.terms = {}
        self.currentsize = 0

    def _read_terms(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)

    def iter_terms(self):
        """(field, term, postings) in Whoosh's order, the postings a flat list of docnum,
        weight and value (bytes, or positions: see `_value_bytes`)."""
        if not self.runs:
            merged = self._sorted_terms()
        else:
            self.save()
            runs, self.runs = self.runs, []
            merged = _concat_equal(heapq.merge(*map(self._read_terms, runs),
                                               key=_term_key))
        unordered, every = self.unordered, not self.in_order
        for fieldname, tbytes, postings in merged:
            if every or (fieldname, tbytes) in unordered:
                postings = _sort_flat(postings)
            yield fieldname, tbytes, postings

    def iter_postings(self):
        for fieldname, tbytes, postings in self.iter_terms():
            for i in range(0, len(postings), 3):
                yield (fieldname, tbytes, postings[i], postings[i + 1],
                       _value_bytes(postings[i + 2]))

    items = iter_postings

    def cleanup(self) -> None:
        self.terms = {}
        super().cleanup()

    def reduce_to(self, target, k):  # Whoosh's one-segment multiprocessing merge: not used
        raise NotImplementedError("papers writes a segment per process")


def _sort_flat(postings: list) -> list:
    """A flat posting list sorted as Whoosh sorts postings: by docnum, weight, value."""
    ordered = sorted(zip(postings[0::3], postings[1::3], map(_value_bytes, postings[2::3]),
                         strict=True))
    return [x for posting in ordered for x in posting]


def _term_key(term: tuple) -> tuple:
    return term[0], term[1]


def _concat_equal(terms):
    """Merged runs' terms with a term's postings from every run in one list, in run order
    (which is docnum order); a term whose runs overlap is sorted."""
    last = None
    for fieldname, tbytes, postings in terms:
        if last is not None and last[0] == fieldname and last[1] == tbytes:
            if last[2][-3] >= postings[0]:
                last = (fieldname, tbytes, _sort_flat(last[2] + postings))
            else:
                last[2].extend(postings)
            continue
        if last is not None:
            yield last
        last = (fieldname, tbytes, postings)
    if last is not None:
        yield last


# -- Whoosh's add_document, faster -------------------------------------------------------
#
# Most of an ingest is Whoosh analysing text a token object and a generator per filter at a
# time. The analyzers papers uses are plain chains (a regex, lowercase, stop words, a stem
# or an accent fold), so each is done here in one pass over the regex's matches, and the
# postings go straight into the pool. Any other analyzer or field goes through Whoosh's own
# code. What is written is the same bytes (tests/test_ingest.py).


def _chain(analyzer) -> _Chain | None:
    """How to analyse with `analyzer` in one pass, or None for an analyzer this does not
    know (Whoosh's own code analyses with it)."""
    items = getattr(analyzer, "items", None)
    if not items or type(items[0]) is not RegexTokenizer or items[0].gaps:
        return None
    if len(items) < 2 or type(items[1]) is not LowercaseFilter:
        return None
    stops = minsize = stem = charmap = None
    for item in items[2:]:
        if type(item) is StopFilter and stops is None and stem is None and charmap is None \
                and item.renumber and item.max is None:
            stops, minsize = item.stops, item.min
        elif type(item) is StemFilter and stem is None and charmap is None \
                and not item.ignore and item.lang is None:
            stem = item.stemfn
        elif type(item) is CharsetFilter and charmap is None and stem is None:
            charmap = item.charmap
        else:
            return None
    pattern = items[0].expression
    # The default pattern's group only repeats; without it findall gives whole matches.
    flat = re.compile(pattern.pattern.replace(r"(\.?", r"(?:\.?"), pattern.flags)
    if flat.groups:
        return None
    return _Chain(flat, stops, minsize, stem, charmap)


class _Terms(dict):
    """A token as the regex found it -> the term the chain makes of it, or None when the
    stop filter drops it; each token worked out once."""

    def __init__(self, make) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, token: str):
        term = self[token] = self._make(token)
        return term


class _Chain:
    """A tokenizer | lowercase [| stop words] [| stem or accent fold] chain, in one pass."""

    def __init__(self, regex, stops, minsize, stem, charmap) -> None:
        self.findall = regex.findall

        def make(token: str, morph: bool = True):
            word = token.lower()
            if stops is not None and (len(word) < minsize or word in stops):
                return None
            if charmap is not None:
                word = word.translate(charmap)
            return stem(word) if stem is not None and morph else word

        self.terms = _Terms(make)
        self.spelling = _Terms(lambda token: make(token, morph=False))

    def words(self, value: str, no_morph: bool = False) -> tuple[list[str], int]:
        """The terms of `value` and the position of the first one (the stop filter numbers
        the kept tokens on from the place of the first one it keeps)."""
        terms = list(map((self.spelling if no_morph else self.terms).__getitem__,
                         self.findall(value)))
        if None not in terms:
            return terms, 0
        kept = [t for t in terms if t is not None]
        return kept, (terms.index(kept[0]) if kept else 0)


class _Weights(dict):
    """A term's weight by its frequency, for one field boost: as Whoosh computes it, each
    value one float object however many postings carry it."""

    def __init__(self, fb: float, fieldboost: float) -> None:
        super().__init__()
        self.fb, self.fieldboost = fb, fieldboost

    def __missing__(self, freq: int) -> float:
        weight = self[freq] = float(freq) * self.fb * self.fieldboost
        return weight


_WEIGHTS: dict[tuple[float, float], _Weights] = {}


def _weights(fb: float, fieldboost: float) -> _Weights:
    weights = _WEIGHTS.get((fb, fieldboost))
    if weights is None:
        weights = _WEIGHTS[(fb, fieldboost)] = _Weights(fb, fieldboost)
    return weights


def _positions(words: list[str], start: int) -> dict[str, int | list[int]]:
    """Each term's positions, in the order terms first appear: an int for a term that is
    there once (most are), a list for more."""
    poses: dict[str, int | list[int]] = {}
    get = poses.get
    for pos, word in enumerate(words, start):
        at = get(word)
        if at is None:
            poses[word] = pos
        elif type(at) is int:
            poses[word] = [at, pos]
        else:
            at.append(pos)
    return poses


# Most words are once in a field: their pickled position, kept. (Each value is still a
# bytes object of its own: a block pickles the same object twice as a reference.)
class _OnePosition(dict):
    def __missing__(self, pos: int) -> bytes:
        tail = self[pos] = pickle.dumps([pos], 2)
        return tail


_ONE_POSITION = _OnePosition()
_ONE = pack_uint(1)


def _values_bytes(values: list) -> list[bytes]:
    """`_value_bytes` of each, the common case (one position) inline."""
    one, tails = _ONE, _ONE_POSITION
    return [one + tails[v] if type(v) is int else _value_bytes(v) for v in values]


def _value_bytes(value) -> bytes:
    """A posting's value as W3 stores it: bytes as they are; positions (one as an int, more
    as a list) as `Positions.encode` makes them, the deltas pickled as Whoosh pickles them."""
    if type(value) is int:
        return _ONE + _ONE_POSITION[value]
    if type(value) is not list:
        return value
    deltas, base = [], 0
    for pos in value:
        deltas.append(pos - base)
        base = pos
    return pack_uint(len(deltas)) + pickle.dumps(deltas, 2)


_PLAN: list = [None, None]  # the schema last written to, and its plan


def _plan(schema) -> dict | None:
    """Per field of `schema`: the field, a fast chain for it or None, and its spelling
    field or None; None for a schema with term vectors (papers' has none), which Whoosh's
    own add_document writes."""
    if _PLAN[0] is not schema:
        fast: dict | None = {}
        chains: dict = {}  # fields sharing an analyzer share its chain (and what it learnt)
        for name, field in schema.items():
            if field.vector:
                fast = None
                break
            chain = None
            if type(field) is TEXT and type(field.format) is Positions:
                key = id(field.analyzer)
                if key not in chains:
                    chains[key] = _chain(field.analyzer)
                chain = chains[key]
            spelling = field.spelling_fieldname(name) if field.separate_spelling() else None
            fast[name] = (field, chain, spelling)
        _PLAN[:] = [schema, fast]
    return _PLAN[1]


def _add_document(self, **fields) -> None:
    """`SegmentWriter.add_document`, with the known analyzers done by `_Chain.words`."""
    fast = _plan(self.schema)
    if fast is None:
        return _whoosh_add_document(self, **fields)
    self._check_state()
    perdocwriter = self.perdocwriter
    schema = self.schema
    docnum = self.docnum
    pool = self.pool
    add_post = pool.add
    terms = None
    if type(pool) is _TermPool:  # then the postings go straight into its dictionaries
        terms = pool.terms
        pool.saw(docnum)
    docboost = self._doc_boost(fields)
    fieldnames = sorted([name for name in fields if not name.startswith("_")])
    self._check_fields(schema, fieldnames)
    vbytes = None  # as in Whoosh, the spelling postings take the last value written
    perdocwriter.start_doc(docnum)
    try:
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field, chain, spellfield = fast[fieldname]
            length = 0
            if chain is not None and isinstance(value, str):
                fieldboost = self._field_boost(fields, fieldname, docboost)
                fb = field.format.field_boost
                words, start = chain.words(value)
                last = None
                if words and terms is None:
                    for word, at in _positions(words, start).items():
                        freq = 1 if type(at) is int else len(at)
                        add_post((fieldname, word.encode("utf-8"), docnum,
                                  float(freq) * fb * fieldboost, _value_bytes(at)))
                        length += freq
                elif words:
                    terms = pool.terms  # a new dictionary after each spill
                    postings = terms.get(fieldname)
                    if postings is None:
                        postings = terms[fieldname] = {}
                        pool.fieldnames.add(fieldname)
                    weights = _weights(fb, fieldboost)
                    size = 0
                    for word, last in _positions(words, start).items():
                        freq = 1 if type(last) is int else len(last)
                        tbytes = word.encode("utf-8")
                        same = postings.get(tbytes)
                        if same is None:
                            postings[tbytes] = [docnum, weights[freq], last]
                            size += _KEY_SIZE + len(tbytes)
                        else:
                            same += (docnum, weights[freq], last)
                        length += freq
                    size += _POSTING_SIZE * len(words)  # an upper bound: words >= terms
                    pool.currentsize += size
                    if pool.currentsize > pool.limit:
                        pool.save()
                if last is not None:
                    vbytes = _value_bytes(last)
                if spellfield is not None:
                    for word in sorted(set(chain.words(value, no_morph=True)[0])):
                        add_post((spellfield, word.encode("utf-8"), 0, 1, vbytes))
            elif field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                items = field.index(value)
                scorable = field.scorable
                for tbytes, freq, weight, vbytes in items:
                    weight *= fieldboost
                    if scorable:
                        length += freq
                    add_post((fieldname, tbytes, docnum, weight, vbytes))
                if spellfield is not None:
                    for word in field.spellable_words(value):
                        add_post((spellfield, word.encode("utf-8"), 0, 1, vbytes))
            customval = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, customval if field.stored else None,
                                   length)
            column = field.column_type
            if column and customval is not None:
                perdocwriter.add_column_value(fieldname, column,
                                              field.to_column_value(customval))
    except Exception:
        perdocwriter.cancel_doc()
        raise
    perdocwriter.finish_doc()
    self._added = True
    self.docnum += 1


# Whoosh's own, for tests/test_ingest.py to check that the bytes written are the same.
WHOOSH_COMMIT = {(whoosh_writing.SegmentWriter, "_flush_segment"):
                     whoosh_writing.SegmentWriter._flush_segment,
                 (whoosh_writing.SegmentWriter, "add_document"):
                     whoosh_writing.SegmentWriter.add_document,
                 (whoosh_writing, "PostingPool"): whoosh_writing.PostingPool}
whoosh_writing.SegmentWriter._flush_segment = _flush_segment
_whoosh_add_document = whoosh_writing.SegmentWriter.add_document
whoosh_writing.SegmentWriter.add_document = _add_document
whoosh_writing.PostingPool = _TermPool  # the class SegmentWriter makes its pool of


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
    _writer(ix, 1).commit(optimize=True)


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
