"""Plain-word queries scored whole, as numpy arrays over the find cache's postings.

A reader types a query a key at a time, and each new word is a term read for the first
time. `index.ranker` reads it from Whoosh's posting blocks (decompress, unpickle) and scores
it a posting at a time in Python: 50-90 ms for a common word at 100k papers, the slowest
keystrokes. The find cache (`index.findcache`) already keeps every term's postings as flat
arrays, memory-mapped; here they are scored in a few vector operations (1-9 ms), and a
query's parts combined with dense masks over the document numbers.

Every score is the same float `index.ranker` computes: the same operations in the same
order, on IEEE doubles (tests/test_ranker.py runs its comparisons with Whoosh's own search
on both paths). Only a long-lived reader uses this: numpy takes ~70 ms to import, more than
a one-shot `papers find` would save.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import query

from papers.index.findcache import FIELDS, Cache
from papers.index.ranker import SearchCancelled

# Postings kept across searches: 16 bytes each (docnum, score), ~60 MB.
BUDGET = 4_000_000
_EMPTY = (np.empty(0, np.int64), np.empty(0, np.float64))


class TermArrays:
    """Scores Term/And/Or queries (those `Ranker.handles`) of the commit a find cache was
    made of. Thread-safe."""

    def __init__(self, cache: Cache, budget: int = BUDGET):
        self._cache = cache
        self._n = cache.state["doc_count_all"]
        self._k1p1 = cache.state["K1"] + 1
        self._budget = budget
        self._terms: OrderedDict[tuple[str, str], tuple] = OrderedDict()
        self._held = 0
        self._recent: OrderedDict = OrderedDict()
        self._norms: dict[str, np.ndarray] = {}
        live = np.ones(self._n, bool)
        for seg in cache.segments:
            if seg.deleted:
                live[np.fromiter(seg.deleted, np.int64, len(seg.deleted)) + seg.base] = False
        self._live = live if not live.all() else None
        self._lock = threading.Lock()

    def matches(self, q, cancelled: Callable[[], bool] | None = None):
        """(docnums, scores) of every document `q` matches, docnums ascending. `cancelled`
        is asked before each term is read; when it says so, SearchCancelled."""
        with self._lock:
            found = self._recent.get(q)
            if found is None:
                found = self._recent[q] = self._eval(q, cancelled)
                while len(self._recent) > 4:
                    self._recent.popitem(last=False)
            return found

    def within(self, found, allow: set[int] | None, deny: set[int] | None):
        """`found` cut to the documents in `allow` (when given) and not in `deny`."""
        docs, scores = found
        keep = None
        if allow is not None:
            keep = self._present(_docnums(allow, self._n))[docs]
        if deny:
            kept = ~self._present(_docnums(deny, self._n))[docs]
            keep = kept if keep is None else keep & kept
        return found if keep is None else (docs[keep], scores[keep])

    @staticmethod
    def order(found, limit: int | None) -> tuple[list[int], list[float]]:
        """The best `limit` (all when None), by score high to low, then docnum: the order of
        Whoosh's collector."""
        docs, scores = found
        if limit is not None and limit < len(docs):
            k = len(scores) - limit
            threshold = np.partition(scores, k)[k]
            chosen = np.flatnonzero(scores >= threshold)  # ties at the threshold all stay
            docs, scores = docs[chosen], scores[chosen]
        ranked = np.lexsort((docs, -scores))[:limit]
        return docs[ranked].tolist(), scores[ranked].tolist()

    # -- evaluation: as Ranker._eval, on arrays ---------------------------------------

    def _eval(self, q, cancelled):
        if isinstance(q, query.Term):
            docs, scores = self._term(q.fieldname, q.text, cancelled)
            if q.boost != 1:
                scores = scores * q.boost
            return docs, scores
        subs = q.subqueries
        if isinstance(q, query.Or):
            return self._either([self._eval(sub, cancelled) for sub in subs])
        positive = [self._eval(sub, cancelled) for sub in subs
                    if not isinstance(sub, query.Not)]
        negated = [self._eval(sub.query, cancelled) for sub in subs
                   if isinstance(sub, query.Not)]
        if len(positive) == 1 and not negated:
            return positive[0]
        hit = self._present(positive[0][0])
        for docs, _ in positive[1:]:
            hit &= self._present(docs)
        for docs, _ in negated:
            hit[docs] = False
        docs = np.flatnonzero(hit)
        # Added left to right as Ranker's sum(); NOT's inverse matcher scores 1.0 each.
        total = None
        for part_docs, part_scores in positive:
            picked = part_scores[np.searchsorted(part_docs, docs)]
            total = picked if total is None else total + picked
        for _ in negated:
            total = total + 1.0
        return docs, total

    def _either(self, parts):
        """bm25.either on arrays: the biggest part first, each document's sum in that order."""
        parts = sorted(parts, key=lambda part: len(part[0]), reverse=True)
        if len(parts) == 1:
            return parts[0]
        total = np.zeros(self._n)
        hit = np.zeros(self._n, bool)
        for docs, scores in parts:
            total[docs] += scores  # docnums within a part are distinct
            hit[docs] = True
        docs = np.flatnonzero(hit)
        return docs, total[docs]

    def _present(self, docs: np.ndarray) -> np.ndarray:
        """A mask over every document, true at `docs`."""
        mask = np.zeros(self._n, bool)
        mask[docs] = True
        return mask

    def _term(self, field: str, text, cancelled):
        key = (field, text)
        found = self._terms.get(key)
        if found is not None:
            self._terms.move_to_end(key)
            return found
        if cancelled is not None and cancelled():
            raise SearchCancelled
        found = self._terms[key] = self._read(field, text)
        self._held += len(found[0])
        while self._held > self._budget and len(self._terms) > 1:
            _, (dropped, _) = self._terms.popitem(last=False)
            self._held -= len(dropped)
        return found

    def _read(self, field: str, text) -> tuple[np.ndarray, np.ndarray]:
        """One term's postings in every segment, scored as bm25.scores does."""
        if field not in FIELDS:
            return _EMPTY
        term = text if isinstance(text, bytes) else text.encode("utf-8")
        st = self._cache.stats(field, term)
        if st is None:
            return _EMPTY
        norm = self._norms.get(field)
        if norm is None:
            norm = self._norms[field] = np.array(st.norm, np.float64)
        docs, scores = [], []
        for seg, (a, b) in st.spans.items():
            ids = np.asarray(seg.view(field + ".ids")[a:b])
            weights = np.asarray(seg.view(field + ".w")[a:b]).astype(np.float64)
            lengths = np.asarray(seg.lengths(field))
            # idf * ((w * k1p1) / (w + norm[length byte])): bm25.scores, element-wise.
            scores.append(st.idf * ((weights * self._k1p1) / (weights + norm[lengths[ids]])))
            docs.append(ids.astype(np.int64) + seg.base)
        docs, scores = np.concatenate(docs), np.concatenate(scores)
        if self._live is not None:
            live = self._live[docs]
            if not live.all():
                docs, scores = docs[live], scores[live]
        return docs, scores


def _docnums(docs: set[int], n: int) -> np.ndarray:
    """A set of docnums as an array, those outside 0..n-1 left out."""
    picked = np.fromiter(docs, np.int64, len(docs))
    return picked[(picked >= 0) & (picked < n)]
