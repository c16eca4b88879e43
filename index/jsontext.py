"""JSON text that is safe to print: valid JSON, but no raw control characters.

`json.dumps(ensure_ascii=False)` escapes only U+0000-U+001F; DEL and the C1 controls
(U+009B is a one-character CSI to some terminals) would reach a terminal raw.
"""

from __future__ import annotations

import json
import re

_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029]")


def dumps(obj, **kwargs) -> str:
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)
