"""Text from digests, made safe for a terminal.

Titles and abstracts are data: they are never parsed as Rich markup (every renderable
here is a `Text`, never a markup string) and never reach the terminal as control
sequences (control characters are shown as visible escapes).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.text import Text

# C0 controls but tab/newline, DEL, and C1 controls (0x9b is a one-byte CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, *, newlines: bool = False) -> str:
    """Control characters as visible escapes (ESC -> `\\x1b`); newlines too unless allowed."""

    def visible(m: re.Match) -> str:
        return f"\\x{ord(m.group(0)):02x}"

    text = _CONTROL.sub(visible, text)
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
