"""JSON text that is safe to print: valid JSON, but no raw control characters.

`json.dumps(ensure_ascii=False)` escapes only U+0000-U+001F; the rest of what
`index.controls` names unsafe (DEL, C1, bidi controls, line separators) is escaped here.
"""

from __future__ import annotations

import json


def dumps(obj, **kwargs) -> str:
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    if text.isascii() and "\x7f" not in text:
        # Nothing left to escape: the unsafe characters below 0x80 are C0 (escaped by
        # json.dumps) and DEL. Most output is so, and a cold `papers find` does not then
        # compile controls' pattern.
        return text
    from papers.index.controls import json_escaped

    return json_escaped(text)
