"""BM25F as Whoosh computes it, in plain Python: one term's scores from its postings, and the
sum an Or of terms makes.

`index.ranker` (postings read through Whoosh) and `index.findcache` (postings read from the
cache, without importing Whoosh) both score with these, so the same operations in the same
order give the same floats as Whoosh's `BM25FScorer` (tests/test_ranker.py and
tests/test_findcache.py compare them).
"""

from __future__ import annotations

from collections.abc import Iterable


def norms(B: float, K1: float, avgfl: float, lengths: Iterable[float]) -> list[float]:
    """The length part of bm25 for each length byte (`lengths`: byte_to_length of 0..255)."""
    return [K1 * ((1 - B) + B * length / avgfl) for length in lengths]


def scores(idf: float, K1: float, norm: list[float], ids, weights, lengths) -> list[float]:
    """bm25(idf, tf, fl, avgfl, B, K1) of each posting; `lengths[d]`: document d's byte."""
    k1p1 = K1 + 1
    return [idf * ((w * k1p1) / (w + norm[lengths[d]])) for d, w in zip(ids, weights, strict=True)]


def either(maps: list[dict[int, float]]) -> dict[int, float]:
    """An Or's scores: each document's sum over the parts it matches, largest part first."""
    maps = sorted(maps, key=len, reverse=True)
    if len(maps) == 1:
        return maps[0]
    out = dict(maps[0])
    get = out.get
    for m in maps[1:]:
        for doc, score in m.items():
            out[doc] = get(doc, 0.0) + score
    return out
