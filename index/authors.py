"""Author names in the index: one column, written per paper and matched by `author:` queries.

A paper from the Daily Papers API names a dozen or more authors, nearly every name new to the
library: as terms of a Whoosh field they were a third of its terms and most of what made a
JSON paper slower to index than a saved page's. Here each paper's names are one value of a
Whoosh column, folded as the query parser folds an `author:` word (tokens of the default
tokenizer, lower case, accents off), a name a line, its words one space apart; `author:`
queries (`AuthorQuery`) find their documents with one regular-expression scan of a
segment's column (a few milliseconds at 100k papers). A word matches a whole word of a name,
a phrase consecutive words of one name, `pfist*` the start of a word. Every match scores the
query's boost: who wrote a paper filters, it does not rank.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from papers.index import _lean_imports  # noqa: F401  (before Whoosh: see there)

# isort: split
from whoosh import query
from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer
from whoosh.matching import ListMatcher, NullMatcher
from whoosh.support.charset import accent_map

FIELD = "author"  # what queries name: parsed with ANALYZER, never indexed
COLUMN = "author_names"  # where the names are
ANALYZER = RegexTokenizer() | LowercaseFilter() | CharsetFilter(accent_map)
# The tokenizer's words, and the breaks between names.
_WORD_OR_BREAK = re.compile(r"\w+(?:\.?\w+)*|\n")
_SEPARATORS = b" \n"  # between the words of a name, and between names


def column_value(names) -> bytes:
    """The column's value for a paper's author names: each name's words as ANALYZER makes
    them, space-separated, a line per name."""
    text = "\n".join(name.replace("\n", " ") for name in names) + "\n"
    line = " ".join(_WORD_OR_BREAK.findall(text)).replace(" \n", "\n").replace("\n ", "\n")
    # Lower case and accents after the words are found, as ANALYZER's filters do:
    # the separators are unchanged by either.
    line = line.lower()
    return (line if line.isascii() else line.translate(accent_map)).encode("utf-8")


class AuthorQuery(query.Query):
    """Documents with an author name matching `words`: one word (`prefix`: the start of a
    word, or a `*`/`?` pattern), or a phrase of consecutive words of one name."""

    def __init__(self, words, *, prefix: bool = False, pattern: bool = False,
                 boost: float = 1.0) -> None:
        self.words = tuple(words)
        self.prefix, self.pattern, self.boost = prefix, pattern, boost
        self.fieldname = FIELD

    def __eq__(self, other) -> bool:
        return (type(other) is type(self) and other.words == self.words
                and other.prefix == self.prefix and other.pattern == self.pattern
                and other.boost == self.boost)

    def __hash__(self) -> int:
        return hash((type(self), self.words, self.prefix, self.pattern, self.boost))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.words!r}, prefix={self.prefix!r}, " \
               f"pattern={self.pattern!r}, boost={self.boost!r})"

    def __str__(self) -> str:
        text = " ".join(self.words)
        return f'{FIELD}:"{text}"' if len(self.words) > 1 else \
            f"{FIELD}:{text}{'*' if self.prefix else ''}"

    def is_leaf(self) -> bool:
        return True

    def field(self) -> str:
        return FIELD

    def estimate_size(self, ixreader) -> int:
        return ixreader.doc_count()

    def estimate_min_size(self, ixreader) -> int:
        return 0

    def _starts(self, blob: bytes):
        """Where in a column's bytes a name matches: the literal words found by
        `bytes.find` (each start tried, so overlapping candidates are not missed), then
        checked for whole words; a `*`/`?` pattern by a regular expression."""
        if self.pattern:
            parts = (b"[^ \n]*".join(b"[^ \n]".join(re.escape(p.encode("utf-8"))
                                                     for p in part.split("?"))
                                      for part in w.split("*")) for w in self.words)
            regex = re.compile(b"(?:^| )" + b" ".join(parts) + b"(?=[ \n])", re.MULTILINE)
            for m in regex.finditer(blob):
                yield m.start()
            return
        text = " ".join(self.words).encode("utf-8")
        size, end = len(text), len(blob)
        i = blob.find(text)
        while i >= 0:
            after = i + size
            if (i == 0 or blob[i - 1] in _SEPARATORS) and (
                    self.prefix or after >= end or blob[after] in _SEPARATORS):
                yield i
            i = blob.find(text, i + 1)

    def docs(self, searcher):
        return iter(self._docnums(searcher.reader()))

    def matcher(self, searcher, context=None):
        found = self._docnums(searcher.reader())
        if not found:
            return NullMatcher()
        return ListMatcher(found, all_weights=self.boost)

    def _docnums(self, reader) -> list[int]:
        if not reader.is_atomic():
            return [base + d for sub, base in reader.leaf_readers()
                    for d in self._docnums(sub)]
        if not self.words or not all(self.words) or not reader.has_column(COLUMN):
            return []
        column = reader.column_reader(COLUMN, translate=False)
        offsets, lengths = column._offsets, column._lengths
        if not len(offsets):
            return []
        blob = column._dbfile.get(column._basepos, offsets[-1] + lengths[-1])
        found: set[int] = set()
        last_end = -1  # the current document's end: one bisect per document, not per match
        doc = -1
        for at in self._starts(blob):
            if at >= last_end:
                doc = bisect_right(offsets, at) - 1
                last_end = offsets[doc] + lengths[doc]
                found.add(doc)
        if reader.has_deletions():
            found = {d for d in found if not reader.is_deleted(d)}
        return sorted(found)


def rewrite(q: query.Query) -> query.Query:
    """`q` with every query on the author field made an AuthorQuery (the parser makes
    Term, Phrase, Prefix and Wildcard queries for it, as for any text field)."""
    def fix(node):
        if getattr(node, "fieldname", None) != FIELD or isinstance(node, AuthorQuery):
            return node
        boost = getattr(node, "boost", 1.0)
        if isinstance(node, query.Phrase):
            return AuthorQuery(node.words, boost=boost)
        if isinstance(node, query.Prefix):
            return AuthorQuery([node.text], prefix=True, boost=boost)
        if isinstance(node, query.Wildcard):
            return AuthorQuery([node.text], pattern=True, boost=boost)
        if isinstance(node, query.Term):  # a fuzzy word too: names are matched as written
            return AuthorQuery([node.text], boost=boost)
        return query.NullQuery  # a range of names means nothing

    return q.accept(fix)


__all__ = ["ANALYZER", "COLUMN", "FIELD", "AuthorQuery", "column_value", "rewrite"]
