"""The Whoosh index, read: opening it, parsing the query language, answering queries.

Every field a list or detail view needs is stored, so showing a result never re-reads a
digest file. The format is `index.schema`'s; writing happens in `index.ingest`.
"""

from __future__ import annotations

import heapq
import os
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from operator import neg
from pathlib import Path

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import collectors, query, sorting
from whoosh.analysis import StemmingAnalyzer
from whoosh.reading import EmptyReader
from whoosh.support.levenshtein import damerau_levenshtein

from papers.index import authors
from papers.index import manifest as manifest_file
from papers.index.errors import (
    LibraryDamaged,
    LibraryError,
    LibraryMissing,
    QueryError,
)
from papers.index.manifest import Manifest
from papers.index.models import Hit, Paper
from papers.index.ranker import BUDGET as RANKER_BUDGET
from papers.index.ranker import Ranker, SearchCancelled
from papers.index.schema import (
    INDEX_DIR,
    SCHEMA_VERSION,
    document_to_paper,
    index_exists,
    make_schema,
    open_index,
    stored_schema_problem,
)

# Past this many ids, a filter reads every id's docnum at once (see Library._id_table).
_BULK_IDS = 20_000
_SORT_KEYS = {"relevance": "", "newest": "sort_date", "date": "sort_date",
              "upvotes": "sort_upvotes", "title": "sort_title", "rising": "sort_rising"}
MAX_CORRECTABLE = 40  # characters in a word "did you mean" will try to correct
MAX_WORD = 1000  # characters in one word of a query


def damaged(path: Path, cause) -> LibraryDamaged:
    """The one message for an index Whoosh cannot read, whatever failed inside it."""
    if isinstance(cause, Exception):
        cause = f"{cause.__class__.__name__}: {cause}"
    return LibraryDamaged(f"the index at {path} is damaged ({cause}); `papers doctor --repair` "
                        "rebuilds it from your digests, keeping your stars, tags and notes")


def _dir_id(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _resized_segment_file(index_dir: Path) -> str | None:
    """A segment file whose size is not the one the manifest noted, said as a cause.

    Whoosh writes each once; one cut short (a full disk, a bad copy) would otherwise show
    only when a search happens to read its end. A file the manifest lists but that is gone
    was merged away after it was written, which is no damage.
    """
    for name, size in manifest_file.segment_sizes(index_dir).items():
        try:
            actual = (index_dir / name).stat().st_size
        except FileNotFoundError:
            continue
        except OSError:
            return None  # unreadable: opening or searching says how
        if actual != size:
            return f"{name} is {actual:,} bytes, written as {size:,}"
    return None


def _state_of(index_dir: Path) -> tuple:
    """What `outdated` depends on, as cheaply compared values."""
    try:
        names = sorted(n for n in (e.name for e in _scandir(index_dir))
                       if n.endswith(".toc") or n == manifest_file.MANIFEST)
        return _dir_id(index_dir), tuple(
            (n, (st := (index_dir / n).stat()).st_ino, st.st_size, st.st_mtime_ns)
            for n in names)
    except OSError:
        return None, ()


def _scandir(path: Path):
    with os.scandir(path) as it:
        return list(it)


@contextmanager
def _reading(path: Path):
    """Whatever reading the index raises deep in Whoosh (pickled, zlib-compressed blocks; a
    bare Exception for a bad block tag) is reported as a damaged index at `path`."""
    try:
        yield
    except (SearchCancelled, LibraryError):
        raise
    except Exception as exc:
        raise damaged(path, exc) from exc


class _Cancellable(collectors.WrappingCollector):
    """Stops a search between matches once `cancelled()` says so (checked every 256).

    It must sit inside a FilterCollector, which filters in its own loop and then calls
    `collect` here; on its own, its loop replaces the child's.
    """

    def __init__(self, child, cancelled: Callable[[], bool]):
        super().__init__(child)
        self.cancelled = cancelled
        self.seen = 0

    def collect_matches(self):
        for docnum in self.child.matches():
            self.collect(docnum)

    def collect(self, sub_docnum):
        if not self.seen & 255 and self.cancelled():
            raise SearchCancelled
        self.seen += 1
        return self.child.collect(sub_docnum)


@dataclass
class Results:
    """The documents a query matched, in order; papers are loaded only when asked for.

    Holds its searcher so that docnums stay valid while the library changes underneath.
    """

    docnums: list[int]
    scores: list[float | None]
    terms: frozenset[str]
    suggestion: str | None
    _searcher: object = field(repr=False, default=None)
    _found: object = field(repr=False, default=None)
    _path: Path | None = field(repr=False, default=None)
    _total: int | None = field(repr=False, default=None)

    def __len__(self) -> int:
        return len(self.docnums)

    @property
    def total(self) -> int:
        """Every match, beyond a limit too; counted only when asked, as it costs a pass."""
        if self._total is not None:
            return self._total
        return len(self._found) if self._found is not None else len(self.docnums)

    def paper(self, i: int) -> Paper:
        with _reading(self._path):
            # A cut-off stored-fields file reads as empty records, without even an id.
            return document_to_paper(self._searcher.stored_fields(self.docnums[i]))

    def hit(self, i: int) -> Hit:
        return Hit(self.paper(i), self.scores[i], self.terms)

    def hits(self, limit: int | None = None) -> list[Hit]:
        n = len(self) if limit is None else min(limit, len(self))
        return [self.hit(i) for i in range(n)]


class Library:
    """A read-only view of the index in a data directory, with a long-lived searcher."""

    def __init__(self, home: Path, *, cache: int = RANKER_BUDGET, arrays: bool = False):
        """`cache` bounds the postings kept for plain-word queries, in entries (~100 bytes
        each): see index.ranker. `arrays`: score them from the find cache with numpy when
        it is fresh (index.termarrays), for a process that searches many times."""
        self.home = Path(home)
        self.cache = cache
        self.arrays = arrays
        self._arrays_tried: tuple | None = None
        self.path = self.home / INDEX_DIR
        self._ix = None
        self._searcher = None
        self._ranker: Ranker | None = None
        self._ids: tuple[object, dict[str, int]] | None = None
        self._manifest: tuple[tuple | None, Manifest] | None = None
        self._dir_id: tuple[int, int] | None = None
        self._outdated: tuple[object, str | None] | None = None

    # -- opening ------------------------------------------------------------------------

    @property
    def exists(self) -> bool:
        """An index is here, readable or not: opening a damaged one says it is damaged,
        instead of the library looking empty."""
        return index_exists(self.path) or self._has_segments()

    def _has_segments(self) -> bool:
        return any(self.path.glob("*.trm")) or any(self.path.glob("*_stored.col"))

    @property
    def outdated(self) -> str | None:
        """Why the index must be rebuilt for this version of papers, or None: another
        format in the manifest, or a schema Whoosh cannot load or that differs from ours.

        Asked twice by every command (before opening, and on opening): the answer is kept
        while the directory, its manifest and its tables of contents stay the same files."""
        key = _state_of(self.path)
        if self._outdated is None or self._outdated[0] != key:
            self._outdated = (key, outdated(self.path))
        return self._outdated[1]

    @property
    def ix(self):
        if self._ix is None:
            if not index_exists(self.path):
                if self._has_segments():
                    raise damaged(self.path, "its table of contents (_MAIN_*.toc) is missing")
                raise LibraryMissing(
                    f"no library at {self.home} yet: add digests with `papers add PATH`"
                )
            if self.outdated:
                raise LibraryError(
                    "the library format changed in this version of papers; run "
                    "`papers index` to rebuild it from your digests (your stars, tags and "
                    "notes are kept)"
                )
            try:
                self._dir_id = _dir_id(self.path)
                self._ix = open_index(self.path)
            except Exception as exc:  # whoosh raises many kinds on a damaged index
                raise damaged(self.path, exc) from exc
            cut = _resized_segment_file(self.path)
            if cut:
                self._ix = None
                raise damaged(self.path, cut)
        return self._ix

    def searcher(self):
        """The shared searcher, refreshed when another process has committed.

        A rebuild replaces the whole index directory and Whoosh's generation numbers
        start again, so a refresh could not tell: a new directory means a fresh open.
        """
        if self._searcher is not None:
            current = _dir_id(self.path)
            if current is None:  # mid-swap of a rebuild: the old searcher still reads
                return self._searcher
            if current != self._dir_id:
                # Not closed: Results made from it may still be loading rows.
                self._searcher, self._ix = None, None
        with _reading(self.path):  # a truncated term file fails here
            if self._searcher is None or isinstance(self._searcher.reader(), EmptyReader):
                # Whoosh cannot refresh a searcher of no segments (an empty library).
                self._searcher = self.ix.searcher()
            elif not self._searcher.up_to_date():
                # Not Whoosh's refresh(): it reuses the reader of a segment whose name did
                # not change, with its old deletions, so papers a commit only deleted would
                # still be found.
                self._searcher = self.ix.searcher()
        return self._searcher

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix = None
        self._ranker = self._ids = None  # their caches belong to the closed searcher

    def manifest(self) -> Manifest:
        """What the index was built from (empty when there is no readable manifest); read
        again only when the file changed (100 ms of JSON at 100k papers). Shared: read it,
        never change it."""
        try:
            st = (self.path / manifest_file.MANIFEST).stat()
            key = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            key = None
        if key is None or self._manifest is None or self._manifest[0] != key:
            self._manifest = (key, manifest_file.load(self.path, current=SCHEMA_VERSION))
        return self._manifest[1]

    # -- queries ------------------------------------------------------------------------

    @cached_property
    def parser(self):
        """Whoosh's query parser with our plugins (imported here: plain words never need
        it, see `plain_query`)."""
        from whoosh import qparser

        from papers.index.schema import DayPlugin

        schema = make_schema()
        parser = qparser.MultifieldParser(["title", "abstract"], schema)
        parser.add_plugin(qparser.FuzzyTermPlugin())
        parser.add_plugin(qparser.GtLtPlugin())
        parser.add_plugin(qparser.FieldAliasPlugin({"org": ["organization"],
                                                    "published": ["pub"]}))
        parser.add_plugin(DayPlugin())
        return parser

    def parse(self, text: str) -> query.Query:
        """Parse the Whoosh query language; raise QueryError with a readable reason."""
        reason = _syntax_problem(text)
        if reason:
            raise QueryError(reason)
        try:
            q = self.parser.parse(_minus_to_not(text))
        except Exception as exc:  # the parser's own failures are user errors here
            raise QueryError(f"cannot parse query {text!r}: {exc}") from exc
        errors = [getattr(sub, "error", None) for sub in q.leaves()] + [getattr(q, "error", None)]
        errors = [e for e in errors if e]
        if errors:
            raise QueryError(f"cannot parse query {text!r}: {errors[0]}")
        return authors.rewrite(q)

    def search(
        self,
        text: str = "",
        *,
        sort: str = "relevance",
        limit: int | None = None,
        include: set[str] | None = None,
        exclude: set[str] | None = None,
        suggest: bool = True,
        cancelled: Callable[[], bool] | None = None,
    ) -> Results:
        """Run a query. No query text means every paper, newest first.

        `include` keeps only these paper ids, `exclude` drops them: that is how user-data
        filters (starred, tags, read) combine with a search. `suggest=False` skips the
        "did you mean" pass when nothing matches. `cancelled` is polled while matching: when
        it turns true the search stops with SearchCancelled (the reader's user typed on).
        """
        if sort not in _SORT_KEYS:
            raise QueryError(f"unknown sort {sort!r}; choose one of "
                             f"{', '.join(k for k in _SORT_KEYS if k != 'date')}")
        s = self.searcher()
        text = text.strip()
        q = (plain_query(text) or self.parse(text)) if text else query.Every()
        if not s.doc_count_all():  # an empty library is a library: nothing matches
            return Results([], [], frozenset(), None, s, None, self.path, 0)
        if not text and sort == "relevance":
            sort = "newest"
        key = _SORT_KEYS[sort]
        reverse = sort != "title"
        allow = self._docnums(s, include) if include is not None else None
        deny = self._docnums(s, exclude) if exclude else None
        total = None
        if not text or Ranker.handles(s, q):
            with _reading(self.path):
                if text:
                    docnums, scores, total = self._rank(s, q, key, reverse, limit, allow, deny,
                                                        cancelled)
                else:
                    docnums, total = self._browse(s, key, reverse, limit, allow, deny)
                    scores = [None] * len(docnums)
            found = None
        else:
            kwargs: dict = {"limit": limit}
            if key:
                kwargs["sortedby"] = sorting.FieldFacet(key, reverse=reverse)
            if allow is not None:
                kwargs["filter"] = allow
            if deny:
                kwargs["mask"] = deny
            with _reading(self.path):
                collector = _collector(s, kwargs, cancelled if limit is None else None)
                s.search_with_collector(q, collector)
                found = collector.results()
            # top_n holds (score or sort key, docnum) in result order, for any limit.
            docnums = [docnum for _, docnum in found.top_n]
            scores = ([score for score, _ in found.top_n] if sort == "relevance"
                      else [None] * len(docnums))
        terms = frozenset(t.decode("utf-8", "replace") if isinstance(t, bytes) else str(t)
                          for f, t in q.existing_terms(s.reader(), expand=True)
                          if f in ("title", "abstract"))
        suggestion = None
        if suggest and not docnums and text:
            suggestion = self._suggest(s, q, text)
        return Results(docnums, scores, terms, suggestion, s, found, self.path, total)

    def _browse(self, s, sort_key: str, reverse: bool, limit: int | None,
                allow: set[int] | None, deny: set[int] | None) -> tuple[list[int], int]:
        """No query: the whole library, or the papers a view allows, in sort order."""
        ranker = self.ranker_for(s)
        if allow is not None and len(allow) < 5000:  # a starred or tag view: sort just those
            docs = ranker.sort([d for d in allow if not deny or d not in deny], sort_key,
                               reverse, None)
        elif allow is not None:
            docs = [d for d in ranker.every(sort_key, reverse)
                    if d in allow and not (deny and d in deny)]
        elif deny:
            docs = [d for d in ranker.every(sort_key, reverse) if d not in deny]
        else:
            docs = ranker.every(sort_key, reverse)
        return docs[:limit], len(docs)

    def ranker_for(self, s) -> Ranker:
        """The ranker (and its postings cache) of searcher `s`, shared by For you."""
        if self._ranker is None or self._ranker.searcher is not s:
            self._ranker = Ranker(s, self.cache)
            self._arrays_tried = None
        return self._ranker

    def prepare(self) -> None:
        """Load what scoring as arrays needs (numpy, ~70 ms, and the find cache) before the
        first query asks: a reader calls it from a worker once its first listing is shown."""
        if not self.arrays:
            return
        try:
            if not self.exists or self.outdated:
                return
            with _reading(self.path):
                ranker = self.ranker_for(self.searcher())
        except LibraryError:  # the search that follows says what is wrong, once
            return
        if ranker.arrays is None:
            self._attach_arrays(ranker)

    def _attach_arrays(self, ranker: Ranker) -> None:
        """Give the ranker the find cache's arrays when the cache is of its searcher's
        commit. An ingest refreshes the cache just after its commit, so a searcher opened in
        between tries again when the cache's state file has changed."""
        from papers.index import findcache

        try:
            st = os.stat(os.path.join(findcache.cache_dir(str(self.home)), findcache.STATE))
            stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        except OSError:
            stamp = None
        if stamp is None or stamp == self._arrays_tried:
            return
        self._arrays_tried = stamp
        # A way to answer faster, never a reason to fail: anything wrong here (numpy
        # missing, a cache that cannot be read) leaves the ranker's own path to answer.
        try:
            cache = findcache.Cache.open(str(self.home))
            if cache is None or not cache.matches(ranker.searcher):
                return
            from papers.index.termarrays import TermArrays

            ranker.arrays = TermArrays(cache)
        except Exception:
            return

    def _rank(self, s, q, sort_key: str, reverse: bool, limit: int | None,
              allow: set[int] | None, deny: set[int] | None, cancelled=None):
        """A plain-word query through the Ranker: (docnums, scores, total), in the order
        Whoosh's collectors give (score high to low, then docnum; or by sort key)."""
        ranker = self.ranker_for(s)
        if self.arrays and ranker.arrays is None:
            self._attach_arrays(ranker)
        if ranker.arrays is not None:
            arrays = ranker.arrays
            found = arrays.within(arrays.matches(q, cancelled), allow, deny)
            total = len(found[0])
            if limit is None and cancelled is not None and cancelled():
                raise SearchCancelled
            if not sort_key:
                return (*arrays.order(found, limit), total)
            docnums = ranker.sort(found[0].tolist(), sort_key, reverse, limit)
            return docnums, [None] * len(docnums), total
        matches = ranker.scores(q, cancelled)
        docs = matches.keys()
        if allow is not None:
            docs = docs & allow
        if deny:
            docs = docs - deny
        total = len(docs)
        if limit is None and cancelled is not None and cancelled():
            raise SearchCancelled  # before the sort of the whole list, which holds the GIL
        if not sort_key:
            docs = list(docs)
            if limit is None or limit > 1000:
                # Two stable C-level sorts beat sorting (score, docnum) tuples 2 to 1.
                docs.sort()
                docs.sort(key=matches.__getitem__, reverse=True)
                docs = docs[:limit]
                return docs, list(map(matches.__getitem__, docs)), total
            keyed = zip(map(neg, map(matches.__getitem__, docs)), docs, strict=True)
            ranked = heapq.nsmallest(limit, keyed)
            return [d for _, d in ranked], [0 - k for k, _ in ranked], total
        docnums = ranker.sort(list(docs), sort_key, reverse, limit)
        return docnums, [None] * len(docnums), total

    def _docnums(self, s, ids: set[str]) -> set[int]:
        if len(ids) > _BULK_IDS:
            table = self._id_table(s)
            return {table[pid] for pid in ids if pid in table}
        out = set()
        for pid in ids:
            n = s.document_number(id=pid)
            if n is not None:
                out.add(n)
        return out

    def _id_table(self, s) -> dict[str, int]:
        """Every live paper's docnum by id, read once per searcher from the id field's
        terms (each names one document: its term info knows which): ~8 us a paper, where a
        lookup each costs ~40 (New on a first start asks for every paper)."""
        if self._ids is not None and self._ids[0] is s:
            return self._ids[1]
        table: dict[str, int] = {}
        with _reading(self.path):
            for sub, offset in s.reader().leaf_readers():
                for text, info in sub.iter_field("id"):
                    pid = text.decode("utf-8") if isinstance(text, bytes) else text
                    if info.doc_frequency() == 1:
                        docs = [info.min_id()]
                    else:  # never written so, but a term's postings are the answer of record
                        docs = list(sub.postings("id", text).all_ids())
                    for docnum in docs:
                        if not sub.is_deleted(docnum):
                            table[pid] = docnum + offset
        self._ids = (s, table)
        return table

    def _suggest(self, s, q, text: str) -> str | None:
        """The query with each unknown word replaced by the nearest known one, or None.

        Whoosh's own correct_query works on stemmed tokens ("difus" -> "diff"); this
        corrects the words as typed against the titles' unstemmed spelling words.
        """
        reader = s.reader()
        corrector = reader.corrector("title")
        changed = False

        def fix(m: re.Match) -> str:
            nonlocal changed
            word = m.group(0)
            if word in _OPERATORS or len(word) > MAX_CORRECTABLE:
                return word
            stems = [t.text for t in _ANALYZER(word)]
            if not stems or any((f, t) in reader for t in stems for f in ("title", "abstract")):
                return word
            candidates = corrector.suggest(word.lower(), limit=8, maxdist=2, prefix=1)
            if not candidates:
                return word
            changed = True
            # Nearest first (a swap of two letters counts as one edit), then most common.
            return min(candidates, key=lambda c: (damerau_levenshtein(word.lower(), c),
                                                  -_frequency(reader, c)))

        try:
            suggestion = _WORD.sub(fix, text)
        except Exception:  # a suggestion is a courtesy; never fail the search for it
            return None
        return suggestion if changed else None

    # -- single papers ------------------------------------------------------------------

    def get(self, paper_id: str) -> Paper | None:
        s = self.searcher()
        with _reading(self.path):
            docnum = s.document_number(id=paper_id)
            return None if docnum is None else document_to_paper(s.stored_fields(docnum))

    def resolve(self, prefix: str) -> list[str]:
        """Every paper id that starts with `prefix` (case-insensitive)."""
        prefix = prefix.strip().lower()
        reader = self.searcher().reader()
        return [t.decode() if isinstance(t, bytes) else t
                for t in reader.expand_prefix("id", prefix)]

    def more_like(self, paper_id: str, top: int = 5, numterms: int = 12,
                  cancelled: Callable[[], bool] | None = None) -> list[Hit]:
        """Papers like this one by the key terms of its abstract; `cancelled` as for
        `search` (it may raise SearchCancelled)."""
        s = self.searcher()
        with _reading(self.path):
            docnum = s.document_number(id=paper_id)
            if docnum is None:
                return []
            # Whoosh's more_like (its key terms as a boosted OR), ranked by the Ranker.
            key_terms = s.key_terms([docnum], "abstract", numterms=numterms, normalize=False)
            if not key_terms:  # no abstract: nothing to be like
                return []
            q = query.Or([query.Term("abstract", word, boost=weight)
                          for word, weight in key_terms])
            docnums, scores, _ = self._rank(s, q, "", False, top, None, {docnum}, cancelled)
            return [Hit(document_to_paper(s.stored_fields(d)), score)
                    for d, score in zip(docnums, scores, strict=True)]

    def count(self) -> int:
        return self.searcher().doc_count() if self.exists else 0

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.glob("*") if p.is_file())


def outdated(index_dir: Path) -> str | None:
    """Why the index at `index_dir` must be rebuilt for this version, or None (also when
    there is no index, or it is damaged: opening it says so)."""
    if not index_exists(index_dir):
        return None
    # No manifest is not another format: an ingest killed before writing it is completed
    # by the next one. Its head names the format; anything unexpected there, and the whole
    # manifest decides.
    schema = manifest_file.schema_hint(index_dir)
    if schema != SCHEMA_VERSION:
        schema = manifest_file.load(index_dir, current=SCHEMA_VERSION).schema
    if schema is not None and schema != SCHEMA_VERSION:
        return f"it was written in format {schema}, this version writes {SCHEMA_VERSION}"
    try:
        return stored_schema_problem(index_dir)
    except Exception:  # damage, which opening the index reports
        return None


def _collector(s, kwargs: dict, cancelled: Callable[[], bool] | None):
    """Whoosh's collector for `kwargs`, made cancellable when asked.

    Only whole-list searches are: a top-N search is quick and its own loop skips
    low-scoring blocks, which a wrapper's loop would undo.
    """
    if cancelled is None:
        return s.collector(**kwargs)
    allow, restrict = kwargs.pop("filter", None), kwargs.pop("mask", None)
    collector = _Cancellable(s.collector(**kwargs), cancelled)
    if allow is not None or restrict:
        collector = collectors.FilterCollector(collector, allow, restrict)
    return collector


def plain_query(text: str) -> query.Query | None:
    """The query Whoosh's parser makes of `text` when it is only words, each one term
    (`reinforcement learning`), made without the parser; None for anything else.

    The parser costs a cold `papers find` more than the search: importing it, building it,
    and parsing. tests/test_search.py checks this gives the parser's very query.
    """
    if not _PLAIN_WORDS.fullmatch(text) or len(text) > MAX_WORD:  # `parse` refuses a long one
        return None
    parts = []
    for word in text.split():
        if word in _OPERATORS:
            return None
        tokens = [token.text for token in _ANALYZER(word, mode="query")]
        if len(tokens) > 1:
            return None
        part = tokens and query.Or([query.Term("title", tokens[0]),
                                    query.Term("abstract", tokens[0])])
        # A stop word says nothing, and a word said twice says it once: the parser's too.
        if part and part not in parts:
            parts.append(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def _frequency(reader, word: str) -> int:
    return sum(reader.doc_frequency(field, token.text) for token in _ANALYZER(word)
               for field in ("title", "abstract"))


def highlight_spans(text: str, terms: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of `text` whose analysed form is one of the query's terms."""
    if not terms or not text:
        return []
    analyzer = _ANALYZER
    spans = []
    for token in analyzer(text, chars=True, removestops=False):
        if token.text in terms:
            spans.append((token.startchar, token.endchar))
    return spans


_ANALYZER = StemmingAnalyzer(cachesize=-1)
# A plain word the user typed: not a field name, wildcard, fuzzy term or operator.
_WORD = re.compile(r"(?<![\w*?~\\])[A-Za-z][A-Za-z'-]{2,}(?![\w*?~:])")
_OPERATORS = frozenset({"AND", "OR", "NOT", "TO", "ANDNOT", "ANDMAYBE"})
_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[ \t]+[A-Za-z][A-Za-z0-9]*)*")


# A "-" that starts a word (after a space or "(", before a word, phrase, group or field):
# "agents -survey". One inside a word ("GPT-4o", "x-ray") is part of the word; quoted
# phrases and ranges ("upvotes:[0 TO -1]") are matched first so that they stay as written.
_LEADING_MINUS = re.compile(r'"[^"]*"|\[[^\]]*\]|\{[^}]*\}|(?<![^\s(])-(?=[\w"(])')
_ENDS_WITH_NOT = re.compile(r"(?:^|[\s(])NOT\s+$")


def _minus_to_not(text: str) -> str:
    """`-word` as `NOT word` (but `NOT -word` stays one NOT); Whoosh's PlusMinusPlugin would
    also cut "GPT-4o" into GPT and NOT 4o."""

    def replace(m: re.Match) -> str:
        if m[0] != "-":
            return m[0]
        return "" if _ENDS_WITH_NOT.search(text, 0, m.start()) else "NOT "

    return _LEADING_MINUS.sub(replace, text)


def _syntax_problem(text: str) -> str | None:
    """Unbalanced quotes and brackets: Whoosh would silently guess, we say so instead.
    An over-long word: Whoosh's parser takes time quadratic in a word's length (2 s for
    20,000 characters)."""
    longest = max(map(len, text.split()), default=0)
    if longest > MAX_WORD:
        return f"a word of {longest:,} characters is too long to search for (at most {MAX_WORD:,})"
    if text.count('"') % 2:
        return "unbalanced quote (\") in query"
    depth = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    in_quote = False
    for ch in text:
        if ch == '"':
            in_quote = not in_quote
        elif in_quote:
            continue
        elif ch in depth:
            depth[ch] += 1
        elif ch in closing:
            depth[closing[ch]] -= 1
            if depth[closing[ch]] < 0:
                return f"unmatched {ch!r} in query"
    for opener, n in depth.items():
        if n:
            return f"unclosed {opener!r} in query"
    stripped = text.strip().rstrip(")")
    if stripped.endswith(":"):
        return f"field {stripped.split()[-1]!r} has nothing after it"
    return None
