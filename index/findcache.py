"""A cache of the index for a cold `papers find` of plain words: no Whoosh, no Click.

A fresh process spends more on importing Whoosh and reading its posting blocks than on the
search. Here, beside the index, in `<home>/findcache/`:

- one file per Whoosh segment (segments never change once written): for `title` and
  `abstract`, each term's postings as flat arrays (docnum, weight), its largest weight and
  its occurrences (docnum << 12 | position), each document's field length byte; the
  titles' plain words with their Porter stems; and each document's `papers find --json`
  object, made by `schema`'s document -> Paper from Whoosh's stored fields;
- `state.json`, per commit: which segments, in order, with their deletions, the statistics
  BM25F needs, and a key of everything the answer depends on (the index directory's files,
  the code that prints it). A key that no longer matches is a stale cache: it never answers.

Scores are computed at query time with Whoosh's formula and the index's current statistics,
with the same float operations as `index.ranker` (tests/test_findcache.py compares both with
Whoosh's own search), so a commit only adds the files of its new segments.

A search reads a segment CHUNK documents at a time and keeps only the best N between
chunks; an And of words skips the documents that can no longer reach them (each term's
largest weight bounds its scores); a phrase meets its words' occurrence keys. Reading
imports nothing heavier than `json` and `mmap` (and Whoosh's Porter stemmer module for a
word no title has); building imports Whoosh (`refresh`, called at the end of an ingest).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from math import log

from papers.index import bm25

FORMAT = 2
DIR = "findcache"
STATE = "state.json"
FIELDS = ("title", "abstract")
_MAGIC = b"PFC1"
_PLAIN = None  # the plain-words pattern, compiled on first use

# The code an answer depends on (relative to the `papers` package): a change to any of
# them makes every cache stale, as a new version of papers would.
_CODE = ("index/findcache.py", "index/bm25.py", "index/schema.py", "index/models.py",
         "index/library.py", "index/ranker.py", "index/scope.py", "index/query.py",
         "index/export.py",
         "index/userdata.py", "index/marks.py", "index/jsontext.py", "index/controls.py",
         "tui/text.py", "tui/entry.py", "tui/cli/search.py", "tui/cli/output.py",
         "tui/cli/common.py")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO", "ANDNOT", "ANDMAYBE"})
MAX_WORD = 1000  # as index.library: a longer query goes to the parser, which refuses it
_POS_BITS = 12  # an occurrence key's bits for the position in its field
# The sections of a segment's words (its titles', as Whoosh keeps them unstemmed for
# spelling) and their Porter stems: importing the stemmer (its regular expressions
# compiled) was a twentieth of a cold find.
_STEMS = "stem"
# Documents a segment is searched by at a time: a cold process pays for every page of new
# memory it touches (most of a search's time when its sets and lists spanned a whole
# segment), while a chunk's reuse the same few pages.
CHUNK = 4096


# -- the key --------------------------------------------------------------------------------


def _code_roots() -> dict[str, str]:
    """Where `index/` and `tui/` of this papers are: side by side, installed or not."""
    here = os.path.dirname(os.path.abspath(__file__))
    return {"index": here, "tui": os.path.join(os.path.dirname(here), "tui")}


def _stamp(path: str) -> list:
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns]


def key_of(index_dir: str) -> list:
    """Everything a cached answer depends on, as JSON-able values; OSError when the index
    is not there."""
    roots = _code_roots()
    code = [_stamp(os.path.join(roots[rel.split("/", 1)[0]], rel.split("/", 1)[1]))
            for rel in _CODE]
    # Whoosh writes each file once, under a new name: names, sizes and times tell a
    # commit, and a rebuild, from the index the cache was made of (a copy made with its
    # times, as by a backup, is the same index).
    files = []
    with os.scandir(index_dir) as it:
        for entry in it:
            if entry.name.endswith("WRITELOCK"):
                continue
            s = entry.stat(follow_symlinks=False)
            files.append([entry.name, s.st_size, s.st_mtime_ns])
    files.sort()
    return [FORMAT, sys.byteorder, code, files]


def cache_dir(home: str) -> str:
    return os.path.join(home, DIR)


# -- reading ------------------------------------------------------------------------------


class _Segment:
    """One segment's cache file, memory-mapped."""

    def __init__(self, path: str, base: int, deleted: list[int]):
        import mmap

        with open(path, "rb") as f:
            self._mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mm = self._mm
        if mm[:4] != _MAGIC:
            raise ValueError("not a find cache segment")
        n = int.from_bytes(mm[4:8], "little")
        self.head = json.loads(mm[8:8 + n])
        view = memoryview(mm)
        self._views = {}
        for name, (offset, count, code) in self.head["sections"].items():
            size = {"B": 1, "I": 4, "Q": 8, "f": 4, "d": 8}[code]
            if offset + count * size > len(mm):
                raise ValueError("a cut-off find cache segment")
            self._views[name] = view[offset:offset + count * size].cast(code)
        self.docs = self.head["docs"]
        self.base = base
        self.deleted = frozenset(deleted)
        self._pst = None

    def find(self, field: str, term: bytes) -> tuple[int, int] | None:
        """The postings range of `term`, or None."""
        i = self._index(field, term)
        if i is None:
            return None
        pstart = self._views[field + ".pstart"]
        return pstart[i], pstart[i + 1]

    def top_weight(self, field: str, term: bytes) -> float | None:
        """The largest weight of the term's postings (None when not kept)."""
        i = self._index(field, term)
        if i is None or field + ".wmax" not in self._views:
            return None
        return self._views[field + ".wmax"][i]

    def _index(self, field: str, term: bytes) -> int | None:
        starts, text = self._views[field + ".tstart"], self._views[field + ".tbytes"]
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            here = text[starts[mid]:starts[mid + 1]].tobytes()
            if here < term:
                lo = mid + 1
            elif here > term:
                hi = mid
            else:
                return mid
        return None

    def has_occurrences(self, field: str) -> bool:
        return field + ".occ" in self._views

    def stemmed(self, word: bytes) -> str | None:
        """The Porter stem of `word` when this segment's titles have it, else None."""
        if _STEMS + ".tstart" not in self._views:
            return None
        i = self._index(_STEMS, word)
        if i is None:
            return None
        starts = self._views[_STEMS + ".sstart"]
        return self._views[_STEMS + ".sbytes"][starts[i]:starts[i + 1]].tobytes().decode()

    def occurrences(self, field: str, term: bytes):
        """The term's occurrence keys (docnum << 12 | position), or None."""
        i = self._index(field, term)
        if i is None:
            return None
        ostart = self._views[field + ".ostart"]
        return self._views[field + ".occ"][ostart[i]:ostart[i + 1]]

    def positions(self, index_dir: str, field: str, term: bytes,
                  docs: set[int]) -> dict[int, list[int]]:
        """{docnum in this segment: the term's positions} for `docs`, read from Whoosh's
        postings file (ValueError when they cannot be)."""
        i = self._index(field, term)
        name = self.head.get("pst")
        if i is None or not name:
            raise ValueError("no positions")
        offset, length = self._views[field + ".ext"][2 * i:2 * i + 2]
        if not length:
            raise ValueError("positions kept in the term's entry")
        if self._pst is None:
            import mmap

            with open(os.path.join(index_dir, name), "rb") as f:
                self._pst = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        return _positions(self._pst, offset, length, docs)

    def postings(self, field: str, span: tuple[int, int]) -> tuple[list[int], list[float]]:
        a, b = span
        return (self._views[field + ".ids"][a:b].tolist(),
                self._views[field + ".w"][a:b].tolist())

    def postings_between(self, field: str, span: tuple[int, int], lo: int, hi: int):
        """The postings in `span` of the documents lo <= docnum < hi: (docnums, weights),
        memoryviews."""
        from bisect import bisect_left

        a, b = span
        ids = self._views[field + ".ids"]
        a = bisect_left(ids, lo, a, b)
        b = bisect_left(ids, hi, a, b)
        return ids[a:b], self._views[field + ".w"][a:b]

    def lengths(self, field: str):
        return self._views[field + ".len"]

    def view(self, name: str) -> memoryview:
        """A section whole, typed: `<field>.ids` or `<field>.w` (see `_write_segment`)."""
        return self._views[name]

    def record(self, doc: int) -> dict:
        starts = self._views["rec.start"]
        return json.loads(self._views["rec.bytes"][starts[doc]:starts[doc + 1]].tobytes())


class _Stats:
    """A term in one field: its idf, the field's length norms, its postings' span in each
    segment that has it, how many postings in all."""

    __slots__ = ("idf", "norm", "postings", "spans")

    def __init__(self, idf: float, norm: list[float], spans: dict, postings: int):
        self.idf, self.norm, self.spans, self.postings = idf, norm, spans, postings


class Cache:
    """A fresh cache of one library, ready to answer; `open` gives None when there is none."""

    def __init__(self, state: dict, segments: list[_Segment]):
        self.state = state
        self.segments = segments
        self._stops = frozenset(state["stops"])
        self._norms: dict[str, list[float]] = {}

    @classmethod
    def open(cls, home: str) -> Cache | None:
        """The cache of the library at `home` if it matches the index as it is now."""
        try:
            folder = cache_dir(home)
            with open(os.path.join(folder, STATE), "rb") as f:
                state = json.loads(f.read())
            if state.get("key") != key_of(os.path.join(home, "index")):
                return None
            segments, base = [], 0
            for segid, docs, deleted in state["segments"]:
                seg = _Segment(os.path.join(folder, segment_file(segid, state["code"])), base,
                               deleted)
                if seg.docs != docs:
                    return None
                segments.append(seg)
                base += docs
            return cls(state, segments)
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None

    def matches(self, searcher) -> bool:
        """Whether this cache was made of the commit `searcher` reads: the same segments,
        deletions and scoring, so its docnums and scores are the searcher's."""
        st = self.state
        w = searcher.weighting
        if (getattr(w, "B", None), getattr(w, "K1", None)) != (st["B"], st["K1"]):
            return False
        leaves = [leaf.reader() for leaf, _ in searcher.leaf_searchers()]
        if len(leaves) != len(st["segments"]) or searcher.doc_count_all() != st["doc_count_all"]:
            return False
        for reader, (segid, docs, deleted) in zip(leaves, st["segments"], strict=True):
            if _segid(reader) != segid or reader.doc_count_all() != docs:
                return False
            if (sorted(reader.deleted_docs_set) if reader.has_deletions() else []) != deleted:
                return False
        return True

    def stem(self, word: str) -> str | None:
        """The term the query analyzer makes of one plain word, None for a stop word."""
        word = word.lower()
        if word in self._stops or len(word) < self.state["minsize"]:
            return None
        key = word.encode()
        for seg in self.segments:
            found = seg.stemmed(key)
            if found is not None:
                return found
        from whoosh.lang.porter import stem  # a plain module: no Whoosh beyond it

        return stem(word)

    def ranked(self, stems: list[str], limit: int | None):
        """([(score, docnum)] best first, how many match), as `Library._rank` orders them:
        the Ranker's And of each stem's Or(title, abstract). With a `limit`, the documents
        that cannot be among the best are skipped, and not all of them counted."""
        found = [[self.stats(f, s.encode("utf-8")) for f in FIELDS] for s in stems]
        sizes = [sum(st.postings for st in fields if st) for fields in found]
        top = _Top(limit)
        if not all(sizes):
            return top.result()
        order = sorted(range(len(stems)), key=sizes.__getitem__)
        terms = [s.encode("utf-8") for s in stems]
        for seg in self.segments:
            # The most the stems after the rarest can add to a document's score here.
            rest = self._bound(seg, terms, found, order[1:]) if top.limit else None
            for lo in range(0, seg.docs, CHUNK):
                top.add(seg.base, *self._all(seg, lo, lo + CHUNK, found, order, top, rest))
        return top.result()

    def _bound(self, seg: _Segment, terms: list[bytes], found: list,
               which: list[int]) -> float | None:
        """A score no document of `seg` exceeds from the stems `which` (their Or of title and
        abstract each, added), or None when it cannot be told."""
        bound = 0.0
        for t in which:
            for field, st in zip(FIELDS, found[t], strict=True):
                if st is None or seg not in st.spans:
                    continue
                most = self._most(seg, field, terms[t], st)
                if most is None:
                    return None
                bound += most
        # Room for the sums being added in another order than the true scores'.
        return bound * (1 + 1e-9) + 1e-12

    def _most(self, seg: _Segment, field: str, term: bytes, st: _Stats) -> float | None:
        """The largest score a posting of `term` in `seg` can have (None when not kept):
        bm25 grows with the weight and shrinks with the length, and each floating-point
        step keeps that order, so the largest weight at the shortest length scores no less
        than any posting."""
        w = seg.top_weight(field, term)
        if w is None:
            return None
        return st.idf * ((w * (self.state["K1"] + 1)) / (w + min(st.norm)))

    def _all(self, seg: _Segment, lo: int, hi: int, found: list, order: list[int],
             top: _Top, rest: float | None):
        """(docnums, scores) of the segment's documents lo <= docnum < hi that every stem
        matches. The documents are narrowed from the rarest stem on and a posting is read
        and scored only when its document is still in: a frequent word ("learning") has
        half the library as postings, and scoring them all was most of a cold find. With
        `rest` (what the other stems can add at most), a document the rarest stem scores
        too low to reach the best `top` holds so far is not looked for any further (then
        fewer than all matches are given)."""
        K1 = self.state["K1"]
        lengths = {}
        maps: list = [None] * len(found)
        docs = None
        for t in order:
            parts = []
            for field, st in zip(FIELDS, found[t], strict=True):
                span = st.spans.get(seg) if st else None
                if span is None:
                    continue
                ids, weights = seg.postings_between(field, span, lo, hi)
                if docs is None:
                    ids, weights = ids.tolist(), weights.tolist()
                else:
                    ids, weights = _within(docs, ids, weights)
                if field not in lengths:
                    lengths[field] = seg.lengths(field)
                scores = bm25.scores(st.idf, K1, st.norm, ids, weights, lengths[field])
                parts.append(dict(zip(ids, scores, strict=True)))
            if not parts:  # the stem is in none of these documents
                return [], []
            # Two fields: which part comes first (either orders them by their whole size)
            # cannot change a sum of two.
            maps[t] = bm25.either(parts)
            if docs is None:
                docs = set(maps[t])
                if seg.deleted:
                    docs -= seg.deleted
                floor = top.floor() if rest is not None else None
                if floor is not None:
                    from itertools import compress

                    first = maps[t]
                    docs = set(compress(docs, map((floor - rest).__le__,
                                                  map(first.__getitem__, docs))))
            else:  # only postings of `docs` were read
                docs = set(maps[t])
            if not docs:
                return [], []
        if len(maps) == 1:
            if len(docs) == len(maps[0]):
                return list(maps[0]), list(maps[0].values())
            docs = list(docs)
            return docs, list(map(maps[0].__getitem__, docs))
        docs = list(docs)
        columns = [list(map(m.__getitem__, docs)) for m in maps]  # the query's order
        return docs, list(map(sum, zip(*columns, strict=True)))

    def phrase_ranked(self, home: str, words: list[str], limit: int | None):
        """As `ranked`, for the phrase of `words` (analysed terms, two or more), as Whoosh's
        parser makes it: each field's Phrase (its words at consecutive positions, scored as
        the binary tree of their terms' scores), the two fields' added. None when this cache
        cannot say. With a `limit`, not all matches may be counted."""
        if not self.state.get("phrases"):
            return None
        try:
            if all(seg.has_occurrences(f) for seg in self.segments for f in FIELDS):
                return self._phrase_top(words, limit)
            index_dir = os.path.join(home, "index")
            title, abstract = (self._phrase(index_dir, f, words) for f in FIELDS)
        except (ValueError, KeyError, IndexError, TypeError, EOFError, OSError):
            return None
        matches = dict(title)
        for doc, score in abstract.items():
            matches[doc] = matches[doc] + score if doc in matches else score
        return _order(matches, limit)

    def _phrase_top(self, words: list[str], limit: int | None):
        """`phrase_ranked` from each segment's occurrence keys, CHUNK documents at a time.
        With a limit, a document whose score cannot reach the best held so far (its rarest
        word's score in each field plus the most the others can add) is not scored."""
        terms = [w.encode("utf-8") for w in words]
        stats = {}
        for field in FIELDS:
            found = [self.stats(field, term) for term in terms]
            if all(found):  # Whoosh's Phrase matches nothing when a word is nowhere
                stats[field] = found
        top = _Top(limit)
        for seg in self.segments:
            parts, bounds = [], []
            for field, stats_ in stats.items():
                occs = [seg.occurrences(field, term) for term in terms]
                if all(occ is not None for occ in occs):  # else no phrase in the segment
                    parts.append((field, stats_, occs))
                    bounds.append(self._phrase_bound(seg, field, terms, stats_))
            if not top.limit or None in bounds:
                bounds = None
            for lo in range(0, seg.docs, CHUNK):
                hi = lo + CHUNK
                docs = []
                for _, _, occs in parts:
                    here = _phrase_docs([_between(occ, lo << _POS_BITS, hi << _POS_BITS)
                                         for occ in occs])
                    if seg.deleted:
                        here -= seg.deleted
                    docs.append(here)
                floor = top.floor() if bounds is not None else None
                if floor is not None and any(docs):
                    docs = self._reachable(seg, lo, hi, parts, docs, bounds, floor)
                found = [self._phrase_scores(seg, lo, hi, field, stats_, here)
                         for (field, stats_, _), here in zip(parts, docs, strict=True)]
                if len(found) == 2:  # title and abstract: the title's score first, as the Or
                    title, matches = found
                    for doc, score in title.items():
                        matches[doc] = score + matches[doc] if doc in matches else score
                elif found:
                    matches = found[0]
                else:
                    continue
                top.add(seg.base, list(matches), list(matches.values()))
        return top.result()

    def _phrase_bound(self, seg: _Segment, field: str, terms: list[bytes],
                      found: list[_Stats]) -> tuple[int, float] | None:
        """(the word with the fewest postings, the most the others can add to a document's
        phrase score in `field` of `seg`), or None when it cannot be told."""
        rare = min(range(len(found)), key=lambda i: found[i].postings)
        rest = 0.0
        for i, (term, st) in enumerate(zip(terms, found, strict=True)):
            if i != rare:
                most = self._most(seg, field, term, st)
                if most is None:
                    return None
                rest += most
        return rare, rest * (1 + 1e-9) + 1e-12  # room for the sums' other order

    def _reachable(self, seg: _Segment, lo: int, hi: int, parts: list, docs: list[set[int]],
                   bounds: list[tuple[int, float]], floor: float) -> list[set[int]]:
        """Each field's `docs` less the documents whose score cannot reach `floor`."""
        K1 = self.state["K1"]
        most: dict[int, float] = {}
        for (field, found, _), here, (rare, rest) in zip(parts, docs, bounds, strict=True):
            if not here:
                continue
            st = found[rare]
            ids, weights = _within(here, *seg.postings_between(field, st.spans[seg], lo, hi))
            scores = bm25.scores(st.idf, K1, st.norm, ids, weights, seg.lengths(field))
            bound = dict(zip(ids, map(rest.__add__, scores), strict=True))
            if len(bound) > len(most):
                most, bound = bound, most
            for doc, b in bound.items():
                most[doc] = most[doc] + b if doc in most else b
        from itertools import compress

        keep = set(compress(most, map(floor.__le__, most.values())))
        return [here & keep for here in docs]

    def _phrase_scores(self, seg: _Segment, lo: int, hi: int, field: str, found: list,
                       docs: set[int]) -> dict[int, float]:
        """{docnum: the phrase's score in `field`} of `docs` (where the phrase is)."""
        if not docs:
            return {}
        K1 = self.state["K1"]
        lengths = seg.lengths(field)
        columns = []
        for st in found:
            ids, weights = _within(docs, *seg.postings_between(field, st.spans[seg], lo, hi))
            if len(ids) != len(docs):  # each word is in each of `docs`, or the cache is wrong
                raise ValueError("occurrences and postings disagree")
            columns.append(bm25.scores(st.idf, K1, st.norm, ids, weights, lengths))
        return dict(zip(ids, _tree_sums(columns), strict=True))

    def _phrase(self, index_dir: str, field: str, words: list[str]) -> dict[int, float]:
        """One field's phrase from the positions in Whoosh's postings file (a cache made
        without occurrence keys)."""
        maps = [self._term(field, w) for w in words]
        if not all(maps):
            return {}
        docs = set(min(maps, key=len))
        for m in maps:
            docs &= m.keys()
        if not docs:
            return {}
        parts = [(seg, {d - seg.base for d in docs if seg.base <= d < seg.base + seg.docs})
                 for seg in self.segments]
        parts = [(seg, local) for seg, local in parts if local]
        where = [self._positions(index_dir, field, w, parts) for w in words]
        first, rest = where[0], where[1:]
        out = {}
        if len(words) == 2:
            second, (a, b) = rest[0], maps
            for doc in docs:
                # The second word one after the first: {p + 1} meets the second's.
                if not set(second[doc]).isdisjoint(map((1).__add__, first[doc])):
                    out[doc] = a[doc] + b[doc]
            return out
        for doc in docs:
            after = [set(w[doc]) for w in rest]
            if any(all(p + i in ps for i, ps in enumerate(after, 1)) for p in first[doc]):
                out[doc] = _tree_sum([m[doc] for m in maps])
        return out

    def _positions(self, index_dir: str, field: str, text: str,
                   parts: list[tuple[_Segment, set[int]]]) -> dict[int, list[int]]:
        """{docnum: positions of the term} for the documents of `parts`, each segment's."""
        term = text.encode("utf-8")
        out = {}
        for seg, local in parts:
            base = seg.base
            for d, ps in seg.positions(index_dir, field, term, local).items():
                out[base + d] = ps
        return out

    def stats(self, field: str, term: bytes) -> _Stats | None:
        """What scoring `term` in `field` needs, or None where it is in no segment."""
        spans = {}
        for seg in self.segments:
            span = seg.find(field, term)
            if span is not None:
                spans[seg] = span
        if not spans:
            return None
        st = self.state
        dc = st["doc_count_all"]
        # Every posting, the deleted ones too, as Whoosh's doc_frequency counts them.
        n = sum(b - a for a, b in spans.values())
        idf = log(dc / (n + 1)) + 1
        norm = self._norms.get(field)
        if norm is None:
            avgfl = st["field_length"][field] / (dc or 1) or 1
            norm = self._norms[field] = bm25.norms(st["B"], st["K1"], avgfl,
                                                   st["byte_to_length"])
        return _Stats(idf, norm, spans, n)

    def _term(self, field: str, text: str) -> dict[int, float]:
        """One term's {docnum: score}, with Whoosh's BM25F as index.ranker computes it."""
        st = self.stats(field, text.encode("utf-8"))
        if st is None:
            return {}
        K1 = self.state["K1"]
        out: dict[int, float] = {}
        for seg, span in st.spans.items():
            ids, weights = seg.postings(field, span)
            lengths = seg.lengths(field)
            if seg.deleted and not seg.deleted.isdisjoint(ids):
                kept = [j for j, d in enumerate(ids) if d not in seg.deleted]
                ids, weights = [ids[j] for j in kept], [weights[j] for j in kept]
            scores = bm25.scores(st.idf, K1, st.norm, ids, weights, lengths)
            base = seg.base
            out.update(zip([base + d for d in ids], scores, strict=True))
        return out

    def record(self, docnum: int) -> dict:
        """The paper's `papers find --json` object, without marks and score."""
        for seg in reversed(self.segments):
            if docnum >= seg.base:
                return seg.record(docnum - seg.base)
        raise IndexError(docnum)


class _Top:
    """The best `limit` (score, docnum) of what is added, best first and ties by docnum
    (as `_order`), and how many were added; only the best kept on the way."""

    def __init__(self, limit: int | None):
        # Past a thousand, all are kept and sorted at the end, as `_order` does.
        self.limit = limit if limit is not None and limit <= 1000 else None
        self.cut = limit
        self.total = 0
        self.keyed: list[tuple[float, int]] = []  # (-score, docnum), in order once cut

    def floor(self) -> float | None:
        """The least score still among the best, once `limit` are held."""
        if self.limit is None or not self.keyed or len(self.keyed) < self.limit:
            return None
        return 0 - self.keyed[-1][0]

    def add(self, base: int, docs: list[int], scores: list[float]) -> None:
        if not docs:
            return
        from operator import neg

        self.total += len(docs)
        if self.limit is not None and self.keyed and len(self.keyed) >= self.limit:
            # Only what can still be among the best (a tie may, by its docnum) is sorted.
            from itertools import compress

            keep = list(map((0 - self.keyed[-1][0]).__le__, scores))
            scores, docs = list(compress(scores, keep)), list(compress(docs, keep))
        negs = map(neg, scores)
        self.keyed += zip(negs, map(base.__add__, docs) if base else docs, strict=True)
        if self.limit is not None:
            self.keyed.sort()
            del self.keyed[self.limit:]

    def result(self) -> tuple[list[tuple[float, int]], int]:
        if self.limit is None:
            self.keyed.sort()
            if self.cut is not None:
                del self.keyed[self.cut:]
        return [(0 - k, d) for k, d in self.keyed], self.total


def _order(matches: dict[int, float], limit: int | None):
    """([(score, docnum)] best first, ties by docnum, the first `limit`; how many)."""
    import heapq
    from operator import neg

    docs = list(matches.keys())
    total = len(docs)
    if limit is None or limit > 1000:
        docs.sort()
        docs.sort(key=matches.__getitem__, reverse=True)
        docs = docs[:limit]
        return [(matches[d], d) for d in docs], total
    keyed = zip(map(neg, map(matches.__getitem__, docs)), docs, strict=True)
    return [(0 - k, d) for k, d in heapq.nsmallest(limit, keyed)], total


def _tree_sum(scores: list[float]) -> float:
    """Scores added up as Whoosh's binary tree of intersection matchers adds them."""
    if len(scores) == 1:
        return scores[0]
    half = len(scores) // 2
    return _tree_sum(scores[:half]) + _tree_sum(scores[half:])


def _tree_sums(columns: list[list[float]]) -> list[float]:
    """`_tree_sum` of each row of `columns` (one column a word), a column at a time."""
    if len(columns) == 1:
        return columns[0]
    from operator import add

    half = len(columns) // 2
    return list(map(add, _tree_sums(columns[:half]), _tree_sums(columns[half:])))


def _between(keys, lo: int, hi: int):
    """The part of the sorted `keys` (a memoryview) from `lo` up to `hi`."""
    from bisect import bisect_left

    a = bisect_left(keys, lo)
    return keys[a:bisect_left(keys, hi, a)]


def _phrase_docs(occs: list) -> set[int]:
    """The documents where the words of `occs` (each its sorted occurrence keys, docnum << 12
    | position) are at consecutive positions: the keys where the last word would be, met over
    all words, the rarest first (one set built, the longer arrays read once, in C, or, once
    few keys are left, searched)."""
    if not all(len(occ) for occ in occs):
        return set()
    last = len(occs) - 1
    keys = None
    for i in sorted(range(len(occs)), key=lambda i: len(occs[i])):
        if keys is None:
            keys = set(_moved(occs[i], last - i))
        elif len(keys) * 16 < len(occs[i]):
            keys = _present(keys, occs[i], last - i)
        else:
            keys = keys.intersection(_moved(occs[i], last - i))
        if not keys:
            return set()
    # A key moved past its document's end lands in the next one, but never on a phrase:
    # that would need a word at position 4095, which no key holds (see _keys_python).
    return {k >> _POS_BITS for k in keys}


def _moved(occ, shift: int):
    """The keys of `occ` (a memoryview of 32-bit keys, sorted), each plus `shift` (>= 0):
    added to all at once as one big integer, as no key carries into the next."""
    if not shift:
        return occ
    n = len(occ)
    if occ[n - 1] + shift >= 1 << 32:  # a key would carry: one at a time
        return list(map(shift.__add__, occ))
    order = sys.byteorder
    moved = int.from_bytes(occ, order) + int.from_bytes(shift.to_bytes(4, order) * n, order)
    return memoryview(moved.to_bytes(4 * n, order)).cast("I")


def _present(keys: set[int], occ, shift: int) -> set[int]:
    """Those of `keys` that are a key of `occ` (a sorted memoryview) plus `shift`, each
    found by a binary search."""
    from bisect import bisect_left

    n = len(occ)
    out = set()
    for k in keys:
        j = bisect_left(occ, k - shift)
        if j < n and occ[j] == k - shift:
            out.add(k)
    return out


def _within(docs, ids, weights) -> tuple[list[int], list[float]]:
    """The postings (in order) of the documents in `docs` (a set); `ids` and `weights` are
    lists or memoryviews."""
    if len(docs) * 3 < len(ids):  # a few documents: each found by a binary search
        from bisect import bisect_left

        if len(docs) * 8 >= len(ids) and not isinstance(ids, list):
            ids = ids.tolist()  # searched often enough to be worth making whole
        found, their = [], []
        n, j = len(ids), 0
        for doc in sorted(docs):
            j = bisect_left(ids, doc, j)
            if j == n:
                break
            if ids[j] == doc:
                found.append(doc)
                their.append(weights[j])
        return found, their
    from itertools import compress

    if not isinstance(ids, list):
        ids, weights = ids.tolist(), weights.tolist()
    keep = list(map(docs.__contains__, ids))
    return list(compress(ids, keep)), list(compress(weights, keep))


def _positions(pst, offset: int, length: int, docs: set[int]) -> dict[int, list[int]]:
    """The positions of one term's postings in `docs`, from Whoosh's W3 postings file.

    There a term's postings are a magic tag and blocks, each a signed big-endian length
    (negative for the last), a pickled tuple of block facts (count, last id, top weight,
    compression, ...) and the zlib-compressed pickle of (delta-coded ids, weights, values);
    a posting's value is its frequency (4 bytes) and the pickle (protocol 2, perhaps without
    its final STOP) of its position deltas. Pinned to one Whoosh version, as index.ranker is.
    """
    import io
    import pickle
    import zlib
    from itertools import accumulate

    data = pst[offset:offset + length]
    if data[:4] != b"W3Bl":
        raise ValueError("not a postings list")
    found, values = [], []
    pos, last = 4, False
    while not last:
        size = int.from_bytes(data[pos:pos + 4], "big", signed=True)
        pos += 4
        last, size = size < 0, abs(size)
        block = io.BytesIO(data[pos:pos + size])
        compression = pickle.load(block)[3]
        raw = block.read()
        ids, _, vals = pickle.loads(zlib.decompress(raw) if compression else raw)
        for doc, value in zip(accumulate(ids), vals, strict=True):
            if doc in docs:
                found.append(doc)
                values.append(value)
        pos += size
    if len(found) != len(docs):
        raise ValueError("positions missing")
    deltas = _unpickled(values)  # one unpickling instead of thousands
    return {doc: list(accumulate(d)) for doc, d in zip(found, deltas, strict=True)}


def phrase_words(text: str) -> list[str] | None:
    """The words of a query that is one quoted phrase of plain words, or None."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return None
    words = plain_words(text[1:-1])
    return words if words and len(words) > 1 else None


def plain_words(text: str) -> list[str] | None:
    """The words of a query `index.library.plain_query` would take, or None."""
    global _PLAIN
    if _PLAIN is None:
        import re

        _PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \t]+[A-Za-z][A-Za-z0-9]*)*")
    if not _PLAIN.fullmatch(text) or len(text) > MAX_WORD:
        return None
    words = text.split()
    if any(w in _OPERATORS for w in words):
        return None
    return words


# -- building -----------------------------------------------------------------------------


def segment_file(segid: str, code: str) -> str:
    return f"seg-{segid}-{code}.bin"


def segment_writer(index_dir):
    """What caches one segment (a Whoosh segment reader) of the index at `index_dir` before
    its commit, in the process that wrote it: the refresh after the commit then finds the
    file made. None when the index cannot be read; the writer raises what writing raises."""
    index_dir = os.fspath(index_dir)
    try:
        folder = cache_dir(os.path.dirname(os.path.abspath(index_dir)))
        code = _code_hash(key_of(index_dir))
    except OSError:
        return None

    def write(reader) -> None:
        os.makedirs(folder, exist_ok=True)
        _write_segment(os.path.join(folder, segment_file(_segid(reader), code)), reader)

    return write


def refresh(index_dir, *, budget: int | None = None) -> bool:
    """Bring the cache of the library whose index is at `index_dir` up to date with its
    last commit; call it after every commit (an ingest's end). Segments cached before are
    kept; only new ones are read. With `budget`, give up when more than that many documents
    would have to be read. Never raises for the library's sake: a library that cannot be
    read, or one that changes meanwhile, leaves no fresh cache (find then asks Whoosh), and
    the answer is whether the cache is fresh now."""
    index_dir = os.fspath(index_dir)
    home = os.path.dirname(os.path.abspath(index_dir))
    folder = cache_dir(home)
    try:
        before = key_of(index_dir)
    except OSError:
        return False
    try:
        state = _build(home, folder, before, budget)
    except Exception:  # a damaged or changing index: no cache, find asks Whoosh
        state = None
    try:
        if state is None or key_of(index_dir) != before:
            _remove(os.path.join(folder, STATE))
            return False
        _write(os.path.join(folder, STATE), json.dumps(state).encode())
        _collect(folder, state)
    except OSError:
        return False
    return True


def _build(home: str, folder: str, key: list, budget: int | None) -> dict | None:
    from papers.index import library as library_module
    from papers.index.library import Library

    lib = Library(home)
    if not lib.exists or lib.outdated:
        return None
    s = lib.searcher()
    if not _scorable(s):
        return None
    analyzer = _query_analyzer(library_module._ANALYZER)
    if analyzer is None:
        return None
    # A phrase's words are analysed by the fields' own analyzers.
    phrases = all(_query_analyzer(s.schema[f].analyzer) == analyzer for f in FIELDS)
    from whoosh.util.numeric import byte_to_length

    code = _code_hash(key)
    leaves = [leaf.reader() for leaf, _ in s.leaf_searchers()]
    missing = [r for r in leaves
               if not _usable(os.path.join(folder, segment_file(_segid(r), code)),
                              r.doc_count_all())]
    if budget is not None and sum(r.doc_count_all() for r in missing) > budget:
        return None
    os.makedirs(folder, exist_ok=True)
    _write_segments(folder, code, missing)
    from papers.index.userdata import EMPTY
    from papers.index.userdata import SCHEMA_VERSION as userdata_format

    reader = s.reader()
    return {
        "key": key,
        "userdata_format": userdata_format,
        "marks_layout": list(EMPTY.to_json()),
        "code": code,
        "doc_count_all": s.doc_count_all(),
        "field_length": {f: reader.field_length(f) for f in FIELDS},
        "B": s.weighting.B,
        "K1": s.weighting.K1,
        "byte_to_length": [byte_to_length(b) for b in range(256)],
        **analyzer,
        "phrases": phrases,
        "segments": [[_segid(r), r.doc_count_all(),
                      sorted(r.deleted_docs_set) if r.has_deletions() else []]
                     for r in leaves],
    }


# Past this many documents to cache, the segments are written in forked processes at once:
# a bulk ingest leaves one big segment a core, and caching them one after the other was a
# fifth of its time at 100k papers.
PARALLEL_DOCS = 20_000


def _write_segments(folder: str, code: str, readers: list) -> None:
    def path(reader) -> str:
        return os.path.join(folder, segment_file(_segid(reader), code))

    import threading

    forked = []
    # Never from a process with other threads (the reader's re-scan worker): a child forked
    # while another thread held a lock (imports, I/O) would wait on it forever, and this
    # process, holding the ingest lock, with it.
    if (len(readers) > 1 and hasattr(os, "fork") and threading.active_count() == 1
            and sum(r.doc_count_all() for r in readers) >= PARALLEL_DOCS):
        for reader in readers[:-1]:
            # Each process reads only its own segment's files, so no file offset is shared.
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's exit code is its report
                code_ = 1
                try:
                    _write_segment(path(reader), reader)
                    code_ = 0
                finally:
                    os._exit(code_)
            forked.append((pid, reader))
        readers = readers[-1:]
    for reader in readers:
        _write_segment(path(reader), reader)
    for pid, reader in forked:
        _, status = os.waitpid(pid, 0)
        if status != 0 or not _usable(path(reader), reader.doc_count_all()):
            _write_segment(path(reader), reader)  # what the child could not do


def _usable(path: str, docs: int) -> bool:
    """A segment file that is whole (a damaged one is made again)."""
    try:
        return _Segment(path, 0, []).docs == docs
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _segid(reader) -> str:
    return reader.segment().segment_id()


def _code_hash(key: list) -> str:
    import hashlib

    return hashlib.sha1(json.dumps(key[:3]).encode()).hexdigest()[:12]


def _scorable(searcher) -> bool:
    from whoosh.scoring import BM25F

    return isinstance(searcher.weighting, BM25F) and not searcher.weighting._field_B


# Tokenizer patterns that make one token of a plain word ([A-Za-z][A-Za-z0-9]*).
_WORD_PATTERNS = (r"\w+(\.?\w+)*", r"[\w\*]+(\.?[\w\*]+)*")


def _query_analyzer(analyzer) -> dict | None:
    """The stop words and minimum size of the query analyzer, when it is the lowercase,
    stop, Porter-stem chain this module replays; None for any other."""
    from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
    from whoosh.lang.porter import stem

    items = getattr(analyzer, "items", None)
    if (not items or len(items) != 4 or type(items[0]) is not RegexTokenizer
            or type(items[1]) is not LowercaseFilter or type(items[2]) is not StopFilter
            or type(items[3]) is not StemFilter):
        return None
    stop, stemmer = items[2], items[3]
    if (stop.max is not None or stemmer.stemfn is not stem
            or stemmer.ignore or items[0].expression.pattern not in _WORD_PATTERNS):
        return None
    return {"stops": sorted(stop.stops), "minsize": stop.min}


def _write_segment(path: str, reader) -> None:
    """A segment's cache file: its postings, length bytes and records."""
    from array import array

    from papers.index.ranker import _length_bytes
    from papers.index.schema import document_to_paper

    n = reader.doc_count_all()
    sections: list[tuple[str, array | bytearray]] = []  # bytearrays hold bytes ("B")
    for field in FIELDS:
        tstart, tbytes, pstart = array("Q", [0]), bytearray(), array("Q", [0])
        ids, weights = array("I"), array("d")
        wmax = array("d")  # each term's largest weight: what bounds its scores
        fmt = reader.schema[field].format
        extents = array("Q")
        # Every occurrence as docnum << 12 | position, a term's in order: a phrase is then
        # set operations. None when a document or a position is too large to say so.
        occ = _Occurrences(ids, numpy=n >= NUMPY_DOCS) if n < 1 << (32 - _POS_BITS) else None
        terms = reader._terms  # Whoosh's W3 terms reader: see index.ranker on the pinning
        for text, info in reader.iter_field(field):
            term = text if isinstance(text, bytes) else text.encode("utf-8")
            # Every posting, deleted or not: deletions change with each commit, the
            # segment does not (they are applied when searching).
            found, top = 0, 0.0
            matcher = terms._codec.postings_reader(terms._postfile, info, fmt)
            for block_ids, block_weights, values in _blocks_with_values(matcher):
                ids.extend(block_ids)
                weights.extend(block_weights)
                found += len(block_ids)
                top = max(top, max(block_weights, default=top))
                if occ is not None:
                    occ.add(values)
            if occ is not None:
                occ.end_term(len(ids))
            if found != info.doc_frequency():
                raise ValueError(f"postings of {field}:{text} do not match its statistics")
            # Where Whoosh keeps the term's postings, positions and all: a phrase reads the
            # positions of its words there (0, 0: kept in the term's entry, not read here).
            offset, length = (0, 0) if info.is_inlined() else info.extent()
            extents.extend((offset, length[0] if isinstance(length, tuple) else length))
            tbytes += term
            tstart.append(len(tbytes))
            pstart.append(len(ids))
            wmax.append(top)
        packed = array("f", weights)  # Whoosh's weights are 32-bit floats, or else kept whole
        sections += [(f"{field}.tstart", tstart), (f"{field}.tbytes", tbytes),
                     (f"{field}.pstart", pstart), (f"{field}.ids", ids),
                     (f"{field}.w", packed if packed == weights else weights),
                     (f"{field}.len", bytearray(_length_bytes(reader, field))),
                     (f"{field}.ext", extents), (f"{field}.wmax", wmax)]
        if occ is not None and occ.finish():
            sections += [(f"{field}.ostart", occ.ostart), (f"{field}.occ", occ.keys)]
        del weights, packed
    sections += _stem_sections(reader)
    rstart, rbytes = array("Q", [0]), bytearray()
    for doc in range(n):
        stored = reader.stored_fields(doc)
        if stored:
            rbytes += json.dumps(document_to_paper(stored).to_json()).encode()
        rstart.append(len(rbytes))
    sections += [("rec.start", rstart), ("rec.bytes", rbytes)]

    def code(data) -> str:
        return data.typecode if isinstance(data, array) else "B"

    def nbytes(data) -> int:
        return len(data) * data.itemsize if isinstance(data, array) else len(data)

    head = {"docs": n, "sections": {}, "pst": _postings_file(reader)}
    # The offsets depend on the header's length and the header holds the offsets: reserve
    # room for it, and pad it with JSON's whitespace.
    reserve = 0
    while True:
        offset = _align(8 + reserve)
        for name, data in sections:
            head["sections"][name] = [offset, len(data), code(data)]
            offset = _align(offset + nbytes(data))
        blob = json.dumps(head).encode()
        if len(blob) <= reserve:
            break
        reserve = len(blob) + 64
    blob = blob.ljust(reserve)

    def write(f) -> None:
        f.write(_MAGIC + len(blob).to_bytes(4, "little") + blob)
        for name, data in sections:
            f.write(bytes(head["sections"][name][0] - f.tell()))
            f.write(data)

    _write(path, write)


def _stem_sections(reader) -> list:
    """The segment's title words that are plain query words, sorted, with their stems (none
    when the schema keeps no unstemmed words)."""
    import re
    from array import array

    from whoosh.lang.porter import stem

    field = reader.schema["title"]
    name = field.spelling_fieldname("title")
    if name == "title" or name not in reader.schema:
        return []
    plain = re.compile(rb"[a-z][a-z0-9]*")
    wstart, words, sstart, stems = array("Q", [0]), bytearray(), array("Q", [0]), bytearray()
    for word in reader.lexicon(name):
        if plain.fullmatch(word):
            words += word
            wstart.append(len(words))
            stems += stem(word.decode()).encode()
            sstart.append(len(stems))
    return [(f"{_STEMS}.tstart", wstart), (f"{_STEMS}.tbytes", words),
            (f"{_STEMS}.sstart", sstart), (f"{_STEMS}.sbytes", stems)]


def _blocks_with_values(matcher):
    """(ids, weights, values) of a posting list a block at a time: index.ranker's `_blocks`,
    with the values (each posting's positions), and unfiltered."""
    from itertools import accumulate

    from whoosh.codec.whoosh3 import W3LeafMatcher

    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_data()
            delta, weights, values = matcher._data
            ids = list(accumulate(delta)) if not matcher._byteids else list(delta)
            n = len(ids)
            if weights is None:
                weights = [1.0] * n
            elif isinstance(weights, float):
                weights = [weights] * n
            yield ids, weights, values
            matcher._next_block()
        return
    ids, weights, values = [], [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        values.append(matcher.value())
        matcher.next()
    yield ids, weights, values


# Past this many documents a segment's occurrence keys are made with numpy, a batch of
# postings at a time: one Python step per posting was half of caching a big segment. A
# day's small segment is done without it (importing numpy would cost more than it saves).
NUMPY_DOCS = 5000
_BATCH = 1 << 16  # postings


class _Occurrences:
    """A field's occurrence keys and where each term's start (`keys`, `ostart`), made from
    its postings' positions as the caller reads them into `ids`."""

    def __init__(self, ids, *, numpy: bool):
        from array import array

        self.keys, self.ostart = array("I"), array("Q", [0])
        self._ids = ids
        self._make = _keys_numpy if numpy else _keys_python
        self._values: list[bytes] = []  # the positions of postings from `_done` on
        self._done = 0
        self._ends: list[int] = []  # the posting each term still to flush ends at
        self._ok = True

    def add(self, values) -> None:
        if self._ok:
            self._values += values

    def end_term(self, end: int) -> None:
        self._ends.append(end)
        if len(self._values) >= _BATCH:
            self._flush()

    def finish(self) -> bool:
        """Whether every key could be made (False: a document or position too large)."""
        self._flush()
        return self._ok

    def _flush(self) -> None:
        if not self._ok or not self._ends:
            return
        values, self._values = self._values, []
        try:
            keys, counts = self._make(self._ids[self._done:self._done + len(values)], values)
        except (ValueError, OverflowError):
            self._ok = False
            return
        before = len(self.keys)
        self.keys.frombytes(keys)
        self.ostart.extend(before + counts[end - self._done] for end in self._ends)
        self._done += len(values)
        self._ends = []


def _keys_python(ids, values) -> tuple[bytes, list[int]]:
    """(docnum << 12 | position for each position of each posting, as "I" bytes; the
    keys before each posting and after the last), ValueError when one does not fit."""
    from array import array
    from itertools import accumulate

    out = array("I")
    counts = [0]
    limit = 1 << _POS_BITS
    for doc, deltas in zip(ids, _unpickled(values), strict=True):
        positions = list(accumulate(deltas))
        if positions and (positions[-1] >= limit - 1 or positions[0] < 0):
            raise ValueError("a position too large")
        key = doc << _POS_BITS
        out.extend([key | p for p in positions])
        counts.append(len(out))
    return out.tobytes(), counts


def _keys_numpy(ids, values) -> tuple[bytes, list[int]]:
    """_keys_python with whole-batch array operations: the same keys."""
    from itertools import chain

    import numpy as np

    deltas = _unpickled(values, np)
    lens = np.fromiter(map(len, deltas), np.int64, len(deltas))
    running = np.cumsum(np.fromiter(chain.from_iterable(deltas), np.int64, int(lens.sum())))
    # Each posting's positions restart from zero: take off the sum of the postings before.
    firsts = np.cumsum(lens) - lens
    positions = running - np.repeat(np.concatenate(([0], running))[firsts], lens)
    # As _keys_python checks: each posting's last position and its first.
    held = firsts[lens > 0]
    ends = held + lens[lens > 0] - 1
    if held.size and (positions[ends].max() >= (1 << _POS_BITS) - 1
                      or positions[held].min() < 0):
        raise ValueError("a position too large")
    docs = np.repeat(np.asarray(ids, np.int64), lens)
    keys = (docs << _POS_BITS) | positions
    if keys.size and keys.max() >= 1 << 32:
        raise OverflowError("a key too large")
    return keys.astype(np.uint32).tobytes(), [0, *np.cumsum(lens).tolist()]


def _unpickled(values, np=None) -> list[list[int]]:
    """Each posting's position deltas (Whoosh's Positions format: a 4-byte frequency, then
    a protocol-2 pickle perhaps without its STOP), in one unpickling; the bodies cut out
    with `np` (numpy) when given."""
    import pickle

    if np is None:
        if not all(v[4:6] == b"\x80\x02" for v in values):
            raise ValueError("positions in another pickle protocol")
        body = b"".join([v[6:-1] if v.endswith(b".") else v[6:] for v in values])
    else:
        whole = np.frombuffer(b"".join(values), np.uint8)
        lens = np.fromiter(map(len, values), np.int64, len(values))
        starts = np.cumsum(lens) - lens
        if lens.size and (lens.min() < 6 or not (whole[starts + 4] == 0x80).all()
                          or not (whole[starts + 5] == 2).all()):
            raise ValueError("positions in another pickle protocol")
        keep = np.ones(whole.size, bool)
        for k in range(6):
            keep[starts + k] = False
        last = starts + lens - 1
        keep[last[(lens > 6) & (whole[last] == ord("."))]] = False
        body = whole[keep].tobytes()
    deltas = pickle.loads(b"\x80\x02(" + body + b"l.")
    if len(deltas) != len(values):
        raise ValueError("positions misread")
    return deltas


def _postings_file(reader) -> str | None:
    """The name of the segment's postings file in the index directory, when its title and
    abstract postings hold positions as this module reads them (see `_positions`)."""
    from whoosh.formats import Positions

    if any(type(reader.schema[f].format) is not Positions for f in FIELDS):
        return None
    name = reader.segment().make_filename(".pst")
    return name if reader.storage().file_exists(name) else None


def _align(n: int) -> int:
    return (n + 7) & ~7


def _write(path: str, data) -> None:
    """`data` (bytes, or a function that writes to a file) as the file at `path`, whole or
    not at all."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _collect(folder: str, state: dict) -> None:
    """Remove the files of segments the index no longer has (merged, or another build)."""
    keep = {segment_file(segid, state["code"]) for segid, _, _ in state["segments"]}
    for name in os.listdir(folder):
        if name.startswith("seg-") and name not in keep and not name.endswith(".tmp"):
            _remove(os.path.join(folder, name))
