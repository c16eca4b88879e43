"""The manifest: what the index was built from, one record per digest file.

It lives inside the index directory (a rebuild swaps both at once) as `manifest.json`, and
this module is the only one that reads or writes it. Each record keeps the file's size,
mtime and content hash, so a re-scan reads only what changed, and the ids of the papers
the file contributed, so a vanished file takes away exactly its own papers and a digest
view knows its papers without a search.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "manifest.json"
# How `save` starts every manifest: the format, and the sizes of the index's files, can be
# read without parsing the rest.
_HEAD = re.compile(rb'\{"schema":(\d{1,9}),(?:"segments":|"stamps":|"files":)')
_HEAD_BYTES = 16_384


class ManifestUnreadable(ValueError):
    """The manifest is there but is not a manifest (cut short, edited, another format)."""


@dataclass
class DigestRecord:
    """One digest file as it was when it was last read."""

    size: int
    mtime_ns: int
    sha1: str
    date: str | None  # the digest's day, ISO; None when the file did not say
    papers: list[str]  # ids of the papers it contributed, in page order
    # When the file first came into the library (ISO, UTC, to the microsecond), kept when
    # it is read again and across rebuilds: what "new since you last looked" counts from.
    # None: before this was recorded, never new.
    added: str | None = None

    def to_json(self) -> dict:
        return {"size": self.size, "mtime_ns": self.mtime_ns, "sha1": self.sha1,
                "date": self.date, "papers": self.papers,
                **({"added": self.added} if self.added else {})}


@dataclass
class Manifest:
    """Every digest file the index holds papers from, by absolute path."""

    schema: int | None = None  # the index format it was written with; None: no manifest
    files: dict[str, DigestRecord] = field(default_factory=dict)
    # What was wrong in each digest file when it was last read, as (line, message): kept
    # until the file changes, so every re-scan can still count them.
    problems: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    # The size of each of Whoosh's segment files when the manifest was written. They are
    # written once and never change, so one of another size is a damaged index, whatever
    # a search would read of it.
    segments: dict[str, int] = field(default_factory=dict)

    def paper_ids(self) -> set[str]:
        return {pid for rec in self.files.values() for pid in rec.papers}

    def matching(self, digest: str) -> dict[str, DigestRecord]:
        """The digests `digest` names: by day (`2025-03-18`), file name or full path."""
        return {path: rec for path, rec in self.files.items()
                if digest in (rec.date, Path(path).name, path)}

    def added_since(self, when: str) -> set[str]:
        """Ids of the papers that came into the library after `when` (ISO, UTC): in a file
        added since, and in no file added before."""
        new, old = set(), set()
        for rec in self.files.values():
            (new if rec.added and rec.added > when else old).update(rec.papers)
        return new - old

    def in_month(self, month: str) -> dict[str, DigestRecord]:
        """The digests of a month, `YYYY-MM`."""
        return {path: rec for path, rec in self.files.items()
                if (rec.date or "").startswith(month + "-")}


def read(index_dir: Path) -> Manifest:
    """The manifest in `index_dir`; FileNotFoundError when there is none, ManifestUnreadable
    when it is not one, OSError when it cannot be read."""
    text = (Path(index_dir) / MANIFEST).read_text("utf-8")
    try:
        data = json.loads(text)
        return Manifest(data.get("schema"),
                        {path: DigestRecord(**rec) for path, rec in data["files"].items()},
                        {path: [(int(line), str(message)) for line, message in found]
                         for path, found in data.get("problems", {}).items()},
                        {str(name): int(size)
                         for name, size in data.get("segments", {}).items()})
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ManifestUnreadable(f"{exc.__class__.__name__}: {exc}") from None


def load(index_dir: Path, *, current: int) -> Manifest:
    """The manifest, forgiving: none yet is an empty one (`schema` None), an unreadable one
    is an empty one of the `current` format. Either only costs reading every digest again:
    updates by paper id are idempotent."""
    try:
        return read(index_dir)
    except FileNotFoundError:
        return Manifest()
    except (OSError, ManifestUnreadable):
        return Manifest(current)


def schema_hint(index_dir: Path) -> int | None:
    """The format the manifest's first bytes name, or None when they name none.

    A cold `papers find` only needs to know the index is of this version's format, and the
    whole manifest is megabytes of JSON at 100k papers: a caller that gets anything but
    the format it expects asks `load` instead, which is the answer of record.
    """
    try:
        with open(Path(index_dir) / MANIFEST, "rb") as fh:
            m = _HEAD.match(fh.read(32))
    except OSError:
        return None
    return int(m[1]) if m else None


def segment_sizes(index_dir: Path) -> dict[str, int]:
    """The segment files' sizes the manifest's head lists (none when it lists none)."""
    try:
        with open(Path(index_dir) / MANIFEST, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
        m = _HEAD.match(head)
        if not m or not m[0].endswith(b'"segments":'):
            return {}
        sizes, _ = json.JSONDecoder().raw_decode(head[m.end():].decode("utf-8", "replace"))
        return {str(name): int(size) for name, size in sizes.items()}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}


@dataclass
class Stamps:
    """The head of a manifest: what a re-scan needs to see that nothing changed, without
    the rest (at 300k papers the whole manifest is 6 MB of JSON, a sixth of a no-op
    re-scan to parse)."""

    schema: int
    files: dict[str, list[int]]  # each digest's [size, mtime_ns], as its record has them
    problems: dict[str, list[tuple[int, str]]]  # as `Manifest.problems`


def stamps(index_dir: Path) -> Stamps | None:
    """The manifest's `Stamps`, read from its head; None when there is no manifest, it
    cannot be read, or its head has none (an older papers wrote it): ask `load`."""
    try:
        with open(Path(index_dir) / MANIFEST, "rb") as fh:
            head = fh.read()
        m = _HEAD.match(head)
        if not m:
            return None
        decode = json.JSONDecoder().raw_decode
        text = head.decode("utf-8")
        at = m[0].rindex(b",") + 1  # the key after the schema (ASCII so far: same offset)
        if text.startswith('"segments":', at):  # the segments' sizes come first: skip them
            _, at = decode(text, at + len('"segments":'))
            at += 1  # their comma
        if not text.startswith('"stamps":', at):
            return None
        files, at = decode(text, at + len('"stamps":'))
        if not text.startswith(',"problems":', at):
            return None
        problems, _ = decode(text, at + len(',"problems":'))
        return Stamps(int(m[1]), files,
                      {path: [(int(line), str(message)) for line, message in found]
                       for path, found in problems.items()})
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def save(index_dir: Path, manifest: Manifest) -> None:
    """Write the manifest whole or not at all: a temporary file, fsync, rename."""
    path = Path(index_dir) / MANIFEST
    tmp = path.with_name(MANIFEST + ".tmp")
    # The head, in this order, is what `schema_hint`, `segment_sizes` and `stamps` read.
    data = {"schema": manifest.schema,
            **({"segments": manifest.segments} if manifest.segments else {}),
            "stamps": {key: [rec.size, rec.mtime_ns] for key, rec in manifest.files.items()},
            "problems": {key: [list(p) for p in found]
                         for key, found in manifest.problems.items() if found},
            "files": {key: rec.to_json() for key, rec in manifest.files.items()}}
    # json.dumps, not json.dump: only the one-shot encoder is the C one (3x faster).
    text = json.dumps(data, separators=(",", ":"))
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
