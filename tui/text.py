"""Text from digests, made safe for a terminal.

Titles and abstracts are data: they are never parsed as Rich markup (every renderable
here is a `Text`, never a markup string) and never reach the terminal as control
sequences (`index.controls` says which characters, and how they are shown instead).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from papers.index.controls import visible

if TYPE_CHECKING:
    from rich.text import Text


def clean(text: str, *, newlines: bool = False) -> str:
    """Unsafe characters as visible escapes (ESC -> `\\x1b`); newlines and tabs as spaces
    unless `newlines`."""
    text = visible(text)
    if not newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def highlighted(text: str, spans: list[tuple[int, int]], style: str = "bold yellow",
                base: str = "") -> Text:
    """A literal Text with `spans` styled; spans index the original text."""
    from rich.text import Text  # here: `clean` serves commands that print without Rich

    out = Text(style=base)
    pos = 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(clean(text[pos:start]))
        out.append(clean(text[start:end]), style=style)
        pos = end
    out.append(clean(text[pos:]))
    return out
