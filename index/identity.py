"""A paper's identity: its title folded so that different spellings of one title agree."""

from __future__ import annotations

import hashlib
import re
import unicodedata

# `\textsc{X}` keeps X; the command name itself is markup, not title.
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+\*?")


def fold_title(title: str) -> str:
    """Fold case, Unicode form, whitespace, punctuation and LaTeX markup out of a title.

    `S^{2}FT`, `S$^{2}$FT` and `s2ft` all fold to `s2ft`.
    """
    text = unicodedata.normalize("NFKC", title)
    text = _LATEX_COMMAND.sub("", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def paper_id(title: str) -> str:
    """12 hex characters that name a paper across every digest it appears in."""
    folded = fold_title(title) or title.strip()
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()[:12]
