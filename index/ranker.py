"""Plain-word queries ranked from cached postings, outside Whoosh's matcher tree.

Typing in the reader runs a query per keystroke, and nearly all of them are words ANDed
together. Whoosh scores those one match at a time, in Python, through a tree of matchers:
at 100k papers two common words cost half a second. Here each term's postings are read once
into a {docnum: score} map, with the formula and statistics Whoosh's BM25F uses (so the
ranking is Whoosh's), kept for as long as the searcher lives, and combined with C-level
set and map operations. Anything else (phrases, wildcards, ranges, fuzzy words, boosted
groups) stays Whoosh's.

Reading postings a block at a time reaches into Whoosh's W3 codec, which is why
pyproject.toml pins whoosh-reloaded to one version; tests/test_ranker.py checks every
ranking against Whoosh's own search.
"""

from __future__ import annotations

import heapq
import sys
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable
from itertools import accumulate

from papers.index import (
    _lean_imports,  # noqa: F401  (before Whoosh: see there)
    bm25,
)

# isort: split
from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25F
from whoosh.util.numeric import byte_to_length

FIELDS = ("title", "abstract")

# Postings kept across searches, counted in map entries (~100 bytes each): a dozen of the
# commonest words at 100k papers, many more of the rest.
BUDGET = 1_000_000


class SearchCancelled(Exception):
    """The caller no longer wants this search."""


class Ranker:
    """Scores Term/And/Or queries over `FIELDS` for one searcher; make a new one when the
    searcher changes. Thread-safe: callers may share one."""

    def __init__(self, searcher, budget: int = BUDGET):
        self.searcher = searcher
        self._budget = budget
        self._maps: OrderedDict[tuple[str, str], dict[int, float]] = OrderedDict()
        self._held = 0
        self._lengths: dict[tuple[int, str], list[int]] = {}
        self._columns: dict[tuple[str, bool], list] = {}
        self._recent: OrderedDict = OrderedDict()
        self._every: dict[tuple[str, bool], list[int]] = {}
        self._cancelled: Callable[[], bool] | None = None
        self._lock = threading.Lock()
        # The same queries scored as arrays from the find cache (index.termarrays), when the
        # library attaches them: a long-lived reader with a fresh cache.
        self.arrays = None

    @staticmethod
    def handles(searcher, q) -> bool:
        """Whether `q` is made only of what this ranker scores exactly as Whoosh would."""
        if not isinstance(searcher.weighting, BM25F) or searcher.weighting._field_B:
            return False
        return _plain(q)

    def scores(self, q, cancelled: Callable[[], bool] | None = None) -> dict[int, float]:
        """Every document `q` matches, with its score. Do not modify the result.

        `cancelled` is asked before each term's postings are read from disk; when it says
        so the search stops with SearchCancelled.
        """
        with self._lock:
            self._cancelled = cancelled
            # Typing repeats queries: a trailing space, a one-letter word (dropped by the
            # analyzer), and the reader's full pass after its first page.
            found = self._recent.get(q)
            if found is None:
                if self.arrays is not None and _plain(q):
                    docs, scores = self.arrays.matches(q, cancelled)
                    found = dict(zip(docs.tolist(), scores.tolist(), strict=True))
                else:
                    found = self._eval(q)
                self._recent[q] = found
                # A few, and not more entries than a tenth of the postings budget besides
                # the newest (a common word at 300k papers matches 200k of them).
                while len(self._recent) > 1 and (
                        len(self._recent) > 4
                        or sum(map(len, self._recent.values())) - len(found)
                        > self._budget // 10):
                    self._recent.popitem(last=False)
            return found

    def sort(self, docs, column: str, reverse: bool, limit: int | None) -> list[int]:
        """`docs` ordered by a sort column, as Whoosh's sorting collector orders them: by
        key (negated when reversed), then docnum."""
        keys = self._keys(column, reverse)
        if limit is not None and limit <= 1000:
            keyed = zip(map(keys.__getitem__, docs), docs, strict=True)
            return [d for _, d in heapq.nsmallest(limit, keyed)]
        docs = sorted(docs)
        docs.sort(key=keys.__getitem__)  # stable: docnum order within a key
        return docs[:limit]

    def every(self, column: str, reverse: bool) -> list[int]:
        """Every live document in sort-column order: browsing the library with no query,
        the reader's opening list. Kept; do not modify."""
        with self._lock:
            order = self._every.get((column, reverse))
        if order is None:
            order = self.sort(self._live(), column, reverse, None)
            with self._lock:
                self._every[(column, reverse)] = order
        return order

    def _keys(self, column: str, reverse: bool) -> list:
        with self._lock:
            keys = self._columns.get((column, reverse))
            if keys is None:
                keys = []
                for leaf, _ in self.searcher.leaf_searchers():
                    keys += _column_values(leaf.reader(), column)
                if reverse:
                    keys = [0 - k for k in keys]
                self._columns[(column, reverse)] = keys
            return keys

    def _live(self) -> list[int]:
        docs: list[int] = []
        for leaf, base in self.searcher.leaf_searchers():
            reader = leaf.reader()
            deleted = reader.deleted_docs_set if reader.has_deletions() else ()
            docs += [base + d for d in range(reader.doc_count_all()) if d not in deleted]
        return docs

    # -- evaluation ---------------------------------------------------------------------

    def _eval(self, q) -> dict[int, float]:
        if isinstance(q, query.Term):
            found = self._term(q.fieldname, q.text)
            if q.boost != 1:  # what Whoosh's WrappingMatcher does to a boosted term
                boost = q.boost
                found = {doc: score * boost for doc, score in found.items()}
            return found
        subs = q.subqueries
        if isinstance(q, query.Or):
            return bm25.either([self._eval(sub) for sub in subs])
        # And: the documents every positive part matches, none of the negated ones.
        maps = [self._eval(sub) for sub in subs if not isinstance(sub, query.Not)]
        negated = [self._eval(sub.query) for sub in subs if isinstance(sub, query.Not)]
        if len(maps) == 1 and not negated:
            return maps[0]
        docs = set(min(maps, key=len))
        for m in maps:
            docs &= m.keys()
        for m in negated:
            docs -= m.keys()
        docs = list(docs)
        columns = [list(map(m.__getitem__, docs)) for m in maps]
        # Whoosh matches NOT through an inverse matcher that scores every document 1.0.
        columns += [[1.0] * len(docs) for _ in negated]
        return dict(zip(docs, map(sum, zip(*columns, strict=True)), strict=True))

    def _term(self, fieldname: str, text: str) -> dict[int, float]:
        key = (fieldname, text)
        found = self._maps.get(key)
        if found is not None:
            self._maps.move_to_end(key)
            return found
        if self._cancelled is not None and self._cancelled():
            raise SearchCancelled
        found = self._read(fieldname, text)
        self._maps[key] = found
        self._held += len(found)
        while self._held > self._budget and len(self._maps) > 1:
            _, dropped = self._maps.popitem(last=False)
            self._held -= len(dropped)
        return found

    def _read(self, fieldname: str, text: str) -> dict[int, float]:
        """One term's postings in every segment, scored as Whoosh's BM25FScorer does."""
        s = self.searcher
        if (fieldname, text) not in s.reader():
            return {}
        scorer = s.weighting.scorer(s, fieldname, text)
        idf, avgfl, B, K1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        # bm25(idf, tf, fl, avgfl, B, K1) with the length part looked up per length byte;
        # the same operations in the same order, so each term scores the same float as in
        # Whoosh. (Sums over three or more terms are added in another order than Whoosh's
        # matcher tree and may differ in the last bit.)
        norm = bm25.norms(B, K1, avgfl, map(byte_to_length, range(256)))
        out: dict[int, float] = {}
        for i, (leaf, base) in enumerate(s.leaf_searchers()):
            reader = leaf.reader()
            if (fieldname, text) not in reader:
                continue
            lengths = self._field_lengths(i, reader, fieldname)
            for ids, weights in _blocks(reader.postings(fieldname, text)):
                scores = bm25.scores(idf, K1, norm, ids, weights, lengths)
                out.update(zip([base + d for d in ids], scores, strict=True))
        return out

    def _field_lengths(self, leaf: int, reader, fieldname: str) -> list[int]:
        key = (leaf, fieldname)
        found = self._lengths.get(key)
        if found is None:
            found = self._lengths[key] = _length_bytes(reader, fieldname)
        return found


def _plain(q) -> bool:
    if isinstance(q, query.Term):
        return q.fieldname in FIELDS and isinstance(q.text, str) and not q.minquality
    if q.boost != 1:
        return False
    if not getattr(q, "subqueries", None):  # an empty group: Whoosh's NullMatcher
        return False
    if type(q) is query.Or:
        return not q.scale and not q.minmatch and all(_plain(sub) for sub in q.subqueries)
    if type(q) is query.And:
        positive = [sub for sub in q.subqueries if not isinstance(sub, query.Not)]
        return bool(positive) and all(
            _plain(sub.query) if isinstance(sub, query.Not) else _plain(sub)
            for sub in q.subqueries
        )
    return False


def _blocks(matcher):
    """(ids, weights) of a posting list a block at a time.

    Whoosh's matcher API walks postings one by one through Python calls; its W3 codec keeps
    each block as a pickled delta-coded id array and a weight array, which decode in C.
    """
    deleted = frozenset()
    if isinstance(matcher, FilterMatcher):
        deleted = matcher._ids if matcher._exclude else None
        if deleted is None:  # an include-filter never comes from a plain reader
            raise TypeError("unexpected include filter on postings")
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_data()
            delta, weights = matcher._data[0], matcher._data[1]
            ids = list(accumulate(delta)) if not matcher._byteids else list(delta)
            n = len(ids)
            if weights is None:
                weights = [1.0] * n
            elif isinstance(weights, float):
                weights = [weights] * n
            if deleted and not deleted.isdisjoint(ids):
                kept = [j for j, d in enumerate(ids) if d not in deleted]
                ids, weights = [ids[j] for j in kept], [weights[j] for j in kept]
            yield ids, weights
            matcher._next_block()
        return
    # Inlined postings of rare terms, or another codec: the public, slower walk.
    ids, weights = [], []
    while matcher.is_active():
        doc = matcher.id()
        if doc not in deleted:
            ids.append(doc)
            weights.append(matcher.weight())
        matcher.next()
    yield ids, weights


def _length_bytes(reader, fieldname: str) -> list[int]:
    """A segment's field-length byte per document (0 where it has none), read whole.

    The W3 codec keeps them in a column of one byte per document, apart from the schema's.
    """
    n = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    return _whole(column, n) if column is not None else [0] * n


def _column_values(reader, column: str) -> list:
    """A segment's sort column, one value per document, read whole."""
    return _whole(reader.column_reader(column, translate=False), reader.doc_count_all())


def _whole(values, n: int) -> list:
    """Every value of a column reader for a segment of n documents.

    Numeric columns are fixed-size big-endian values on disk, read in one go (a short
    column leaves the default to its last documents); any other goes through Whoosh's
    reader a value at a time.
    """
    if isinstance(values, NumericColumn.Reader) and values._typecode in "bBhHiIlLqQfd":
        width = values._fixedlen
        numbers = array(values._typecode)
        if numbers.itemsize == width:
            numbers.frombytes(values._dbfile.get(values._basepos, values._count * width))
            if sys.byteorder == "little":
                numbers.byteswap()
            out = numbers.tolist()
            return out + [values._default] * (n - len(out))
    return list(values)
