"""For you: the library ranked by the user's own taste, learned from what they keep.

A taste is a Rocchio profile: the mean tf-idf vector of the papers the user starred (or
tagged with one tag), minus part of the mean of the papers they marked not interested, cut
to its heaviest terms. Someone who keeps papers on several subjects has several interests
(k-means over the kept papers, each interest a profile of a few words): a paper scores the
whole profile plus its best interest, so a small interest is not drowned by a big one.
Each profile is run as a weighted query over title and abstract with the index's own BM25F
(index.ranker), so For you ranks with the same statistics a search does. Scoring a few
papers (a day's digest) reads those papers' text instead of the terms' postings, with the
same formula and the same result, so it costs the same at any library size; the whole
library goes through the ranker's postings.

bench/bench_foryou.py measures the ranking on the real corpus; docs/benchmarks.md has
the numbers and the models tried.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import repeat
from operator import mul

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import query
from whoosh.analysis import StemmingAnalyzer

HOW_TO_TEACH = ("Star papers or tag them, and For you ranks the rest by what you keep; "
                "`x` marks one not interested.")

FIELDS = ("title", "abstract")
TITLE_WEIGHT = 2.0  # a title word counts as two abstract words in the profile
TERMS = 20  # heaviest profile terms queried
INTEREST_TERMS = 5  # the same for each interest's profile
NEGATIVE_TERMS = 10  # heaviest "not interested" terms queried, with negative weight
NEGATIVE_SHARE = 0.5  # how much of the not-interested mean is taken off the profile
FORWARD_LIMIT = 2000  # up to this many papers are scored from their text, not postings
LIKE_MIN = 0.2  # cosine to a kept paper worth saying "like <title>"
MAX_CLUSTERS = 4  # interests a taste may have
PER_CLUSTER = 10  # kept papers per interest, at least
ROUNDS = 4  # of k-means
CLUSTER_WORDS = 50  # heaviest words of a paper that k-means compares
CLUSTER_SAMPLE = 250  # kept papers k-means finds the interests in
IDF_FLOOR = 0.0  # added to log(N/df): how much a word every paper has still counts
GLOBAL_SHARE = 1.0  # of the whole profile's score, beside the best interest's

_ANALYZER = StemmingAnalyzer(cachesize=-1)  # the schema's analyzer for title and abstract


@dataclass
class Reason:
    """Why a paper ranks where it does: a word, or "like <a kept paper's title>"."""

    text: str


@dataclass
class _Text:
    """One paper's analysed text: term counts and token counts per field, and for each
    stem the word as the paper wrote it."""

    counts: tuple[Counter, Counter]
    lengths: tuple[int, int]
    words: dict[str, str]


def _analyse(title: str, abstract: str, words: bool = True) -> _Text:
    """`words`: also each stem's word as written."""
    counts, lengths, written = [], [], {}
    for text in (title or "", abstract or ""):
        c = _counts(text, written if words else None)
        counts.append(c)
        lengths.append(sum(c.values()))
    return _Text((counts[0], counts[1]), (lengths[0], lengths[1]), written)


# The analyzer's own parts, run without its token objects: the same stems, five times
# faster (tests/test_foryou.py checks they agree).
_TOKENS, _, _STOPS, _STEMS = _ANALYZER.items


def _counts(text: str, written: dict[str, str] | None = None) -> Counter:
    """Stem -> count in `text`, as the schema's analyzer would index it; `written` gets
    each stem's first word as the text has it."""
    stops, low, stem = _STOPS.stops, _STOPS.min, _STEMS._stem
    if written is None:
        words = [w for w in (m.group(0).lower() for m in _TOKENS.expression.finditer(text))
                 if len(w) >= low and w not in stops]
        return Counter(map(stem, words))
    found = [(w.lower(), w) for w in (m.group(0) for m in _TOKENS.expression.finditer(text))]
    found = [(stem(low_w), w) for low_w, w in found if len(low_w) >= low and low_w not in stops]
    for st, w in found:
        written.setdefault(st, w)
    return Counter(st for st, _ in found)


@dataclass(eq=False)
class Taste:
    """What the user keeps, as weighted terms; see the module's docstring."""

    tag: str | None
    weights: dict[str, float]  # stem -> weight; negative for not-interested terms
    size: int  # papers learned from (kept ones)
    skipped: int  # not-interested papers learned from
    learned: frozenset[str]  # ids left out of every ranking
    examples: list[tuple[str, dict[str, float]]]  # (title, unit tf-idf vector) kept
    words: dict[str, str] = field(default_factory=dict)  # stem -> a word as written
    # One weighted query per interest (cluster of kept papers) when there are several: a
    # paper scores GLOBAL_SHARE of `weights`' score plus its best interest's.
    profiles: list[dict[str, float]] = field(default_factory=list)
    _state: tuple | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- scoring ----------------------------------------------------------------------

    def scores(self, lib, docnums: Iterable[int] | None = None) -> dict[int, float]:
        """A score per docnum of `lib`'s current searcher (None: every paper), higher is
        better; the papers this taste learned from are left out."""
        s = lib.searcher()
        params, skip = self._prepare(s)
        if docnums is not None:
            docnums = [d for d in docnums if d not in skip]
            if len(docnums) <= FORWARD_LIMIT:
                return {d: self._forward(s, params, d) for d in docnums}
        found = self._postings(lib, s)
        if docnums is None:
            out = dict.fromkeys(_live(s), 0.0)
            out.update(found)
            for d in skip:
                out.pop(d, None)
            return out
        get = found.get
        return {d: get(d, 0.0) for d in docnums}

    def why(self, lib, docnum: int, n: int = 3) -> list[Reason]:
        """What weighs most for this paper: the kept paper it is most like (when it is
        like one), then the profile's words it contains, heaviest first."""
        s = lib.searcher()
        params, _ = self._prepare(s)
        stored = s.stored_fields(docnum)
        text = _analyse(stored.get("title", ""), stored.get("abstract", ""))
        reasons: list[Reason] = []
        vector = _unit(_tfidf(text, params["idf"]))
        best, title = 0.0, None
        for other_title, other in self.examples:
            sim = _dot(vector, other)
            if sim > best:
                best, title = sim, other_title
        if title and best >= LIKE_MIN:
            reasons.append(Reason(f"like {' '.join(title.split())}"))
        parts = self._parts(s, params, docnum, text)
        for stem, part in sorted(parts.items(), key=lambda kv: -kv[1]):
            if len(reasons) >= n or part <= 0:
                break
            reasons.append(Reason(text.words.get(stem) or self.words.get(stem, stem)))
        return reasons[:n]

    def describe(self) -> str:
        """One line: what this taste learned from and its heaviest words."""
        what = (f"{self.size} paper{'s' if self.size != 1 else ''} tagged #{self.tag}"
                if self.tag else f"{self.size} starred paper{'s' if self.size != 1 else ''}")
        if self.skipped:
            what += f" and {self.skipped} not interested"
        top = [self.words.get(t, t) for t, w in
               sorted(self.weights.items(), key=lambda kv: -kv[1]) if w > 0][:5]
        return f"learned from {what}" + (f": {', '.join(top)}" if top else "")

    # -- inside -----------------------------------------------------------------------

    def _postings(self, lib, s) -> dict[int, float]:
        ranker = lib.ranker_for(s)
        # (An empty profile: every word of the kept papers is in every paper.)
        found = dict(ranker.scores(_query(self.weights))) if self.weights else {}
        if not self.profiles:
            return found
        best: dict[int, float] = {}
        for profile in filter(None, self.profiles):
            get = best.get
            for d, x in ranker.scores(_query(profile)).items():
                if x > get(d, 0.0):  # a paper without a profile's terms scores 0 with it
                    best[d] = x
        get = found.get
        for d, x in best.items():
            found[d] = GLOBAL_SHARE * get(d, 0.0) + x
        for d in found.keys() - best.keys():
            found[d] *= GLOBAL_SHARE
        return found

    def _prepare(self, s) -> tuple[dict, set[int]]:
        """BM25F's statistics for this taste's terms in searcher `s`, and the docnums
        left out; kept while the searcher is the same."""
        with self._lock:
            state = self._state
            if state is not None and state[0]() is s:
                return state[1], state[2]
            terms = set(self.weights).union(*self.profiles)
            params = _params(s, terms)
            skip = {d for d in (s.document_number(id=pid) for pid in self.learned)
                    if d is not None}
            self._state = (weakref.ref(s), params, skip)
            return params, skip

    def _parts(self, s, params: dict, docnum: int, text: _Text) -> dict[str, float]:
        """Each term's share of the paper's score (the whole taste's profile, and the
        interest it is best at)."""
        terms = self._terms(s, params, docnum, text)
        parts = {t: x * self.weights[t] for t, x in terms.items() if t in self.weights}
        if not self.profiles:
            return parts
        best, mine = 0.0, {}
        for profile in self.profiles:
            those = {t: x * profile[t] for t, x in terms.items() if t in profile}
            total = sum(those.values())
            if total > best:
                best, mine = total, those
        out = {t: GLOBAL_SHARE * x for t, x in parts.items()}
        for t, x in mine.items():
            out[t] = out.get(t, 0.0) + x
        return out

    def _terms(self, s, params: dict, docnum: int, text: _Text) -> dict[str, float]:
        """Each profile term's BM25F score in this paper, before weighting."""
        reader = s.reader()
        parts: dict[str, float] = {}
        for i, fieldname in enumerate(FIELDS):
            counts = text.counts[i]
            if not counts:
                continue
            fl = reader.doc_field_length(docnum, fieldname, 0)
            boost = params["boosts"][fieldname]
            for stem, (idf, avgfl, B, K1) in params["bm25"][fieldname].items():
                tf = counts.get(stem)
                if not tf:
                    continue
                tf *= boost
                norm = K1 * ((1 - B) + B * fl / avgfl)
                score = idf * ((tf * (K1 + 1)) / (tf + norm))
                parts[stem] = parts.get(stem, 0.0) + score
        return parts

    def _forward(self, s, params: dict, docnum: int) -> float:
        stored = s.stored_fields(docnum)
        text = _analyse(stored.get("title", ""), stored.get("abstract", ""), words=False)
        return sum(self._parts(s, params, docnum, text).values())


def _query(weights: dict[str, float]):
    return query.Or([query.Term(f, t, boost=w) for t, w in sorted(weights.items())
                     for f in FIELDS])


def _params(s, weights: Iterable[str]) -> dict:
    reader = s.reader()
    bm25: dict[str, dict] = {}
    for fieldname in FIELDS:
        here = bm25[fieldname] = {}
        for stem in weights:
            if (fieldname, stem) not in reader:
                continue
            sc = s.weighting.scorer(s, fieldname, stem)
            here[stem] = (sc.idf, sc.avgfl, sc.B, sc.K1)
    # The index weighs each occurrence by its field's boost (a title word counts twice).
    boosts = {f: s.schema[f].format.field_boost for f in FIELDS}
    return {"bm25": bm25, "boosts": boosts, "idf": _idf(s)}


class _Idf:
    """Inverse document frequency of a stem over titles and abstracts, looked up once."""

    def __init__(self, s):
        self.reader = s.reader()
        self.n = max(1, s.doc_count())
        self.known: dict[str, float] = {}

    def __call__(self, stem: str) -> float:
        found = self.known.get(stem)
        if found is None:
            # A title word is nearly always in the abstract too: one lookup, mostly.
            df = (self.reader.doc_frequency("abstract", stem)
                  or self.reader.doc_frequency("title", stem))
            found = self.known[stem] = math.log((self.n + 1) / (df + 1)) + IDF_FLOOR
        return found


def _tfidf(text: _Text, idf) -> dict[str, float]:
    counts = Counter()
    counts.update({t: TITLE_WEIGHT * c for t, c in text.counts[0].items()})
    counts.update(text.counts[1])
    return {t: (1 + math.log(c)) * idf(t) for t, c in counts.items() if c >= 1}


def _unit(v: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(x * x for x in v.values()))
    return {t: x / norm for t, x in v.items()} if norm else {}


def _dot(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(map(mul, a.values(), map(b.get, a, repeat(0.0))))


def _mean(vectors: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in vectors:
        for t, x in v.items():
            out[t] = out.get(t, 0.0) + x
    n = len(vectors) or 1
    return {t: x / n for t, x in out.items()}


def _live(s) -> list[int]:
    docs: list[int] = []
    for leaf, base in s.leaf_searchers():
        reader = leaf.reader()
        deleted = reader.deleted_docs_set if reader.has_deletions() else ()
        docs += [base + d for d in range(reader.doc_count_all()) if d not in deleted]
    return docs


# -- learning -----------------------------------------------------------------------------

_lock = threading.Lock()
# Per library, per user-data store (the object: a file replaced under the same name may
# come back at the same version): {tag: (searcher ref, data version, ids, taste, vectors)}.
_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def learn(lib, userdata, tag: str | None = None) -> Taste | None:
    """The taste learned from the starred papers (tag None) or the papers tagged `tag`,
    minus the ones marked not interested; None when there is nothing to learn from.

    Kept per library generation, user-data version and tag: asking again is free, and a
    change that leaves the kept and skipped papers as they were keeps the same taste. One
    more star analyses one more paper: the others' vectors come from the taste before.
    """
    s = lib.searcher()
    version = userdata.data_version()
    key = tag.casefold() if tag else None
    with _lock:
        entry = _cache.get(lib, {}).get(userdata, {}).get(key)
    same = entry is not None and entry[0]() is s
    if same and entry[1] == version:
        return entry[3]
    kept = userdata.tagged_ids(tag) if tag else userdata.starred_ids()
    skipped = userdata.skipped_ids() - kept
    ids = (frozenset(kept), frozenset(skipped))
    if same and entry[2] == ids:
        taste, vectors = entry[3], entry[4]
    else:
        known = entry[4] if same else {}
        vectors = {pid: known.get(pid) or _vector(s, userdata, pid) for pid in kept | skipped}
        vectors = {pid: v for pid, v in vectors.items() if v is not None}
        taste = _learn(tag, [vectors[p] for p in sorted(kept) if p in vectors],
                       [vectors[p] for p in sorted(skipped) if p in vectors], ids)
    with _lock:
        mine = _cache.setdefault(lib, weakref.WeakKeyDictionary()).setdefault(userdata, {})
        mine[key] = (weakref.ref(s), version, ids, taste, vectors)
    return taste


def _learn(tag, positives: list, negatives: list, ids) -> Taste | None:
    if not positives:
        return None
    words: dict[str, str] = {}
    for _, _, found in positives:
        for stem, word in found.items():
            words.setdefault(stem, word)
    against = _mean([v for _, v, _ in negatives]) if negatives else {}
    vectors = [v for _, v, _ in positives]
    groups = _clusters(vectors)
    return Taste(tag, _profile(vectors, against), len(positives), len(negatives),
                 ids[0] | ids[1], [(title, v) for title, v, _ in positives], words,
                 [_profile(g, against, INTEREST_TERMS) for g in groups] if len(groups) > 1 else [])


def _profile(vectors: list[dict[str, float]], against: dict[str, float],
             terms: int | None = None) -> dict[str, float]:
    """Rocchio: the mean of the kept papers' vectors minus a share of the mean of the
    not-interested ones, cut to its heaviest terms either way."""
    profile = _mean(vectors)
    for t, x in against.items():
        profile[t] = profile.get(t, 0.0) - NEGATIVE_SHARE * x
    ranked = sorted(profile.items(), key=lambda kv: -kv[1])
    weights = dict(kv for kv in ranked[:terms or TERMS] if kv[1] > 0)
    weights.update(kv for kv in ranked[::-1][:NEGATIVE_TERMS] if kv[1] < 0)
    return weights


def _clusters(vectors: list[dict[str, float]]) -> list[list[dict[str, float]]]:
    """The kept papers in groups of one interest each: spherical k-means, k growing with
    their number, seeded with papers far apart; biggest group first. Papers are compared
    by their heaviest words only (CLUSTER_WORDS), which is what tells interests apart."""
    k = max(1, min(MAX_CLUSTERS, len(vectors) // PER_CLUSTER))
    if k == 1:
        return [vectors]
    short = [_unit(dict(sorted(v.items(), key=lambda kv: -kv[1])[:CLUSTER_WORDS]))
             for v in vectors]
    # Centres are found on an even sample of at most CLUSTER_SAMPLE papers (the same one
    # every time for the same papers), then every paper joins its nearest.
    sample = short[::-(-len(short) // CLUSTER_SAMPLE)]
    centres = [sample[0]]
    nearest = [_dot(v, centres[0]) for v in sample]
    while len(centres) < k:
        far = min(range(len(sample)), key=nearest.__getitem__)
        centres.append(sample[far])
        nearest = [max(x, _dot(v, sample[far])) for x, v in zip(nearest, sample, strict=True)]
    for last in [False] * ROUNDS + [True]:
        members = short if last else sample
        groups: list[list[int]] = [[] for _ in centres]
        for i, v in enumerate(members):
            groups[max(range(len(centres)), key=lambda c: _dot(v, centres[c]))].append(i)
        groups = [g for g in groups if g]
        if not last:
            centres = [_unit(_mean([sample[i] for i in g])) for g in groups]
    return sorted(([vectors[i] for i in g] for g in groups), key=len, reverse=True)


def _vector(s, userdata, pid: str):
    """(title, unit tf-idf vector, stem -> word) of a paper, from the index or else from
    the snapshot the user data remembered of it; None when neither has it."""
    docnum = s.document_number(id=pid)
    if docnum is not None:
        stored = s.stored_fields(docnum)
        title, abstract = stored.get("title", ""), stored.get("abstract", "")
    else:
        paper = userdata.remembered(pid)
        if paper is None:
            return None
        title, abstract = paper.title, paper.abstract
    text = _analyse(title, abstract)
    return title, _unit(_tfidf(text, _idf(s))), text.words


def _idf(s) -> _Idf:
    with _lock:
        found = _idfs.get(s)
        if found is None:
            found = _idfs[s] = _Idf(s)
        return found


_idfs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
