"""Importing this module imports Whoosh without two heavy modules it never uses here.

`whoosh.compat` imports `urllib.request` (with ssl, http, email: ~22 ms) for a Python 2
alias, and whoosh-reloaded's `cached_property` dependency imports `asyncio` (~13 ms) to
check whether a property is a coroutine, which no Whoosh property is; `whoosh.query`
imports `whoosh.lang.morph_en` (hundreds of regular expressions compiled at import: ~10 ms)
for the `Variations` query, which papers never makes. That is a fifth of a `papers find`.
They are loaded here with stand-ins bound in their place: a `urlretrieve` that imports the
real one when called, an `iscoroutinefunction` from `inspect`, and a `variations` that
imports the real one when called. The stand-ins leave `sys.modules` at once, so anything
importing `urllib.request` or `asyncio` later (the reader's Textual) gets the real modules.

Every module that imports Whoosh imports this one first (after an `isort: split`).
"""

from __future__ import annotations

import sys
import types


def _urlretrieve(*args, **kwargs):
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)


def _iscoroutinefunction(func) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


def _variations(word):
    from whoosh.lang.morph_en import variations

    return variations(word)


def _with_stand_in(name: str, attributes: dict, module: str) -> None:
    if module in sys.modules:
        return
    if name in sys.modules:  # the real one is loaded already: nothing to save
        __import__(module)
        return
    stand_in = types.ModuleType(name)
    stand_in.__dict__.update(attributes)
    sys.modules[name] = stand_in
    try:
        __import__(module)
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


def load() -> None:
    _with_stand_in("urllib.request", {"urlretrieve": _urlretrieve}, "whoosh.compat")
    _with_stand_in("asyncio", {"iscoroutinefunction": _iscoroutinefunction}, "cached_property")
    _with_stand_in("whoosh.lang.morph_en", {"variations": _variations}, "whoosh.query")


load()
