"""Writing Whoosh segments as Whoosh's own writer writes them, byte for byte, faster.

Most of an ingest is Whoosh's `SegmentWriter`: analysing text a token object and a generator
per filter at a time, pooling a tuple per posting and sorting them all at commit, packing
postings with several method calls each. For the analyzers and the codec papers uses, this
module does the same in fewer steps: each analyzer chain in one pass, postings pooled by term
(spilled runs merged a term at a time), a term's blocks packed at once; and a bulk ingest's
segments written by forked processes (`write_in_processes`). Importing it installs its
`add_document`, `_flush_segment` and posting pool into Whoosh's `SegmentWriter`; any other
analyzer, field or codec goes through Whoosh's own code. `WHOOSH_COMMIT` keeps Whoosh's
originals, so tests/test_ingest.py writes the same documents through both and compares the
files byte for byte.
"""

from __future__ import annotations

import heapq
import multiprocessing
import pickle
import re
import zlib
from array import array
from collections.abc import Callable
from hashlib import md5
from itertools import islice
from operator import sub

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import writing as whoosh_writing
from whoosh.analysis import (
    CharsetFilter,
    IDTokenizer,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.fields import ID, TEXT
from whoosh.filedb import filetables
from whoosh.formats import Existence, Positions
from whoosh.system import pack_int, pack_long, pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from papers.index.errors import LibraryError

# -- a bulk ingest's segments, in forked processes ---------------------------------------

AddPart = Callable[..., list[int]]  # (writer, part, tell=None) -> its counts
Written = Callable[[object], None]  # (the segment just written) -> None


def write_in_processes(ix, parts: list[list], add_part: AddPart, limitmb: float,
                       tell: Callable[[int], None] | None = None,
                       written: Written | None = None) -> tuple[list[int], list]:
    """Each part added by `add_part` to a segment of its own, every part but the last by a
    process of its own (forked, so what `add_part` reads is shared, not sent), the last in
    this one (with `tell`); `written`, when given, called with each segment in the process
    that wrote it, as soon as it is on disk. The counts `add_part` returned, summed, and
    the segments in the order of `parts`, for the caller's writer to commit in its table
    of contents. This process finishes its own segment before it waits for the others: a
    writer that waited first and wrote its segment after (at the commit) left a core idle
    for a sixth of a bulk ingest."""
    children = []
    try:
        context = multiprocessing.get_context("fork")
        for part in parts[:-1]:  # in order, and this process's own segment comes last
            ours, theirs = context.Pipe(duplex=False)
            child = context.Process(target=_write_part_in_child, daemon=True, args=(
                theirs, ix, part, add_part, limitmb, written))
            child.start()
            theirs.close()
            children.append((child, ours))
        own, counts = _write_part(ix, parts[-1], add_part, limitmb, tell)
        if own is not None and written is not None:
            written(own)
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
        if own is not None:
            segments.append(own)
        return counts, segments
    except BaseException:
        for child, _ in children:
            if child.is_alive():
                child.kill()
            child.join()
        raise


def _write_part(ix, part: list, add_part: AddPart, limitmb: float, tell=None):
    """(the segment `add_part` wrote `part` to, or None when it added nothing; its counts).
    The writer takes no lock: the caller's writer holds it, and commits the segment."""
    writer = whoosh_writing.SegmentWriter(ix, _lk=False, compound=False, limitmb=limitmb)
    try:
        counts = add_part(writer, part, tell) if tell else add_part(writer, part)
        if not writer._added:
            writer._close_segment()
            return None, counts
        return writer._finalize_segment(), counts
    except BaseException:
        writer._close_segment()
        raise


def _write_part_in_child(conn, ix, part, add_part: AddPart, limitmb: float,
                         written: Written | None) -> None:
    try:
        segment, counts = _write_part(ix, part, add_part, limitmb)
        if segment is not None and written is not None:
            written(segment)
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
            and isinstance(self.pool, _TermPool):
        _write_terms(self.fieldwriter, self.schema, lengths, self.pool.iter_terms())
    else:
        self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if pdr:
        pdr.close()


def _write_terms(fw, schema, lengths: _WholeLengths, terms) -> None:
    """`FieldWriter.add_postings` with W3's posting writer folded in, for postings gathered
    by term (`_TermPool.iter_terms`): each term's postings and its row of the term table
    made by `_term_row`, the rows added by `_TermTable`."""
    lastfn = column = None
    prefix = b""
    table = _TermTable(fw._tindex)
    inline = fw._codec._inlinelimit
    for fieldname, btext, postings in terms:
        if fieldname != lastfn:
            if lastfn is not None:
                fw.finish_field()
            fw.start_field(fieldname, schema[fieldname])
            column = lengths.column(fieldname)
            prefix = pack_ushort(fw._fieldid)
            lastfn = fieldname
        if postings[0] == -1:  # Whoosh's marker for a spelling word: no posting
            postings = [x for i in range(0, len(postings), 3) if postings[i] != -1
                        for x in postings[i:i + 3]]
            if not postings:
                continue
        ids = postings[0::3]
        table.add(prefix + btext,
                  _term_row(fw, ids, postings[1::3], _values_bytes(postings[2::3]),
                            [column[d] for d in ids] if column is not None else [0] * len(ids),
                            inline))
    table.flush()
    fw._tindex._write_hashes = _write_hashes.__get__(fw._tindex)


_TERMINFO = whoosh3.W3TermInfo._struct
# zlib.compress sets up deflate with memLevel 8, whose 64 KB hash table costs 20-50 us a
# call, however small the input: more than the rest of writing a small term. For an
# input this short, memLevel 3 finds the same matches and writes the same bytes (the same
# header: the window is the same) in a tenth of that; the bytes are checked against
# Whoosh's own writer by tests/test_ingest.py.
_SHORT = 120


def _compress(data: bytes, level: int) -> bytes:
    if len(data) > _SHORT:
        return zlib.compress(data, level)
    deflate = zlib.compressobj(level, zlib.DEFLATED, 15, 3)
    return deflate.compress(data) + deflate.flush()


def _term_row(fw, ids: list[int], weights: list, values: list[bytes], lens: list,
              inline: int) -> bytes:
    """One term's row of the term table, as `W3TermInfo.to_bytes` packs it: with fewer
    postings than `inline`, the postings themselves (W3's `finish_postings`); else where
    they are, written to the postings file as `W3PostingsWriter` writes them (blocks of
    `blocklimit`, each its pickled info and compressed data)."""
    codec, postfile = fw._codec, fw._postfile
    limit, comp = codec._blocklimit, codec._compression
    fixedsize = fw._format.fixed_value_size()
    dumps = whoosh3.dumps
    n = len(ids)
    if n < inline:
        stored = array("f", weights)
        known = [x for x in lens if x]
        top = max(weights)
        return _TERMINFO.pack(
            True, sum(stored), n, length_to_byte(min(known)) if known else 0,
            length_to_byte(max(known) if known else 0), top if top > 0 else 0, ids[0],
            ids[-1]) + dumps((tuple(ids), tuple(stored), tuple(v for v in values if v)), 2)
    start = postfile.tell()
    parts = [whoosh3.WHOOSH3_HEADER_MAGIC]
    total = df = maxlength = termmax = 0
    minlength = None
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
    return info + pack_long(start) + pack_int(len(data))


class _TermTable:
    """Rows added to W3's term table, a Whoosh `OrderedHashWriter`, as its `add` adds them
    (each row's length pair, key and value; its position in the ordered index and in its
    hash bucket), a batch at a time: positions counted rather than asked of the file, one
    write per batch. Every row of a segment must come through here, in key order."""

    _BATCH = 4096

    def __init__(self, tindex) -> None:
        self.tindex = tindex
        self.pos = tindex.dbfile.tell()
        self.parts: list[bytes] = []
        self.positions: list[int] = []
        self.md5 = tindex.hashfn is filetables.md5_hash

    def add(self, key: bytes, value: bytes) -> None:
        tindex = self.tindex
        if key <= tindex.lastkey:
            raise ValueError(f"Keys must increase: {tindex.lastkey!r}..{key!r}")
        tindex.lastkey = key
        pos = self.pos
        # md5_hash: the digest's last four bytes, big-endian, as int(hexdigest) & 0xFFFFFFFF
        h = int.from_bytes(md5(key, usedforsecurity=False).digest()[12:], "big") \
            if self.md5 else tindex.hashfn(key)
        tindex.buckets[h & 255].append((h, pos))
        self.positions.append(pos)
        self.parts += (_LENGTHS.pack(len(key), len(value)), key, value)
        self.pos = pos + 8 + len(key) + len(value)
        if len(self.positions) >= self._BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.positions:
            return
        index = self.tindex.index  # a GrowableArray: widened as its append would
        if not isinstance(index.array, list):
            try:
                array(index.array.typecode, [self.positions[-1]])
            except OverflowError:
                index._retype(self.positions[-1])
        index.array.extend(self.positions)
        self.tindex.dbfile.write(b"".join(self.parts))
        self.parts, self.positions = [], []


_LENGTHS = filetables._lengths
_POINTER = filetables._pointer
_EMPTY_SLOT = _POINTER.pack(0, 0)


def _write_hashes(self) -> None:
    """`HashWriter._write_hashes`, each bucket's table packed in one call."""
    dbfile = self.dbfile
    for entries in self.buckets:
        pos = dbfile.tell()
        numslots = 2 * len(entries)
        self.directory.append((pos, numslots))
        table: list = [None] * numslots
        for hashval, position in entries:
            slot = (hashval >> 8) % numslots
            while table[slot] is not None:
                slot = (slot + 1) % numslots
            table[slot] = (hashval, position)
        dbfile.write(b"".join([_EMPTY_SLOT if e is None else _POINTER.pack(*e)
                               for e in table]))


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
        if vbytes == "":  # an inlined posting without a value, as Whoosh's ListMatcher reads it
            vbytes = b""
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
_ID = "id"  # the plan's mark for an ID field: its value is its one term


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
            if type(field) is ID and type(field.analyzer) is IDTokenizer \
                    and type(field.format) is Existence:
                chain = _ID
            elif type(field) is TEXT and type(field.format) is Positions:
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
            if chain is _ID and type(value) is str:
                # The value is the term (IDTokenizer), with Existence's one posting.
                add_post((fieldname, value.encode("utf-8"), docnum, field.format.field_boost
                          * self._field_boost(fields, fieldname, docboost), b""))
            elif chain is not None and chain is not _ID and isinstance(value, str):
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


__all__ = ["WHOOSH_COMMIT", "write_in_processes"]
