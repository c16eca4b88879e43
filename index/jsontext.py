"""JSON text that is safe to print: valid JSON, but no raw control characters.

`json.dumps(ensure_ascii=False)` escapes only U+0000-U+001F; the rest of what
`index.controls` names unsafe (DEL, C1, bidi controls, line separators) is escaped here.
"""

from __future__ import annotations

import json

from papers.index.controls import json_escaped


def dumps(obj, **kwargs) -> str:
    return json_escaped(json.dumps(obj, ensure_ascii=False, **kwargs))
