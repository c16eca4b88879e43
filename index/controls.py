"""The one rule for characters that must never leave papers raw.

They are the C0 controls but tab and newline, DEL, the C1 controls (U+0080-U+009F; U+009B
is a one-character CSI to some terminals), the bidi embeddings, overrides and isolates
(U+202A-U+202E, U+2066-U+2069, which reorder what a terminal or an editor shows), and the
line and paragraph separators (U+2028, U+2029). Text from digests and from the user can
hold any of them.

Wherever text is shown or written for people (the terminal, the reader, Markdown, CSV,
BibTeX) each becomes a visible escape: ESC as `\\x1b`, RLO as `\\u202e`. In JSON each
becomes JSON's own `\\u001b` escape, so the JSON still parses back to the text as it was.
"""

from __future__ import annotations

import re

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def visible(text: str) -> str:
    """`text` with every unsafe character as a visible escape."""
    return UNSAFE.sub(_escape, text)


def json_escaped(text: str) -> str:
    """JSON text (from `json.dumps`) with every unsafe character as a JSON escape."""
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def _escape(m: re.Match) -> str:
    code = ord(m.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
