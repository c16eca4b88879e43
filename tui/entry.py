"""The `papers` console script: what it can answer before Click loads, and Click for the rest.

Click takes about as long to import as a whole `papers find` should take, and Whoosh longer.
`papers --version`, `papers --help` (Click's own text, kept from the last time Click made it
for this version, width and code) and a `papers find` of plain words, ranked by relevance,
printed as JSON or as lines to a pipe (from `index.findcache`, with the marks read from the
user data) are answered here, and print what the Click command would, byte for byte
(tests/test_entry.py). Anything else, or anything unusual on the way (no fresh cache, no user
data yet, a terminal, a locale that is not UTF-8), goes to the Click command untouched.
Set PAPERS_FAST=0 to always go through Click.
"""

from __future__ import annotations

import os
import sys

from papers.tui.version import __version__

# find's options this path answers; any other goes to Click.
_LIMIT = ("-n", "--limit")


def main() -> None:
    argv = sys.argv[1:]
    if os.environ.get("PAPERS_FAST") != "0":
        code = answer(argv, sys.stdout)
        if code is not None:
            raise SystemExit(code)
    from papers.tui.cli import main as click_main

    home = _find_home(argv)
    try:
        click_main()
    finally:
        if home is not None:
            _catch_up(home)


def answer(argv: list[str], out) -> int | None:
    """The exit code after answering `argv` on `out`, or None when Click must."""
    if argv == ["--version"]:
        out.write(f"papers, version {__version__}\n")
        out.flush()
        return 0
    if argv in (["--help"], ["-h"]):
        return _help(out)
    if _utf8(out):
        return _find(argv, out)
    return None


# -- --help ---------------------------------------------------------------------------------


def _help(out) -> int:
    width = _help_width()
    path = _help_cache(width)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, ValueError):
        text = None
    if text is None:
        import click

        from papers.tui.cli import cli

        # What Click's --help does: a top-level context with the group's settings.
        text = click.Context(cli, info_name="papers", **cli.context_settings).get_help()
        _save(path, text)
    out.write(text + "\n")
    out.flush()
    return 0


def _help_width() -> int:
    """The width Click's HelpFormatter chooses (shutil.get_terminal_size, without shutil)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return max(min(columns, 80) - 2, 50)


def _help_cache(width: int) -> str:
    """The help text's file, named by everything it depends on: this version, the width,
    the CLI's modules and Click itself."""
    from importlib.util import find_spec

    here = os.path.dirname(os.path.abspath(__file__))
    cli = os.path.join(here, "cli")
    parts = [__version__, str(width)]
    spec = find_spec("click")
    for path in [*(os.path.join(cli, n) for n in sorted(os.listdir(cli)) if n.endswith(".py")),
                 spec.origin if spec and spec.origin else ""]:
        st = os.stat(path)
        parts.append(f"{st.st_size}.{st.st_mtime_ns}")
    import zlib

    digest = zlib.crc32("|".join(parts).encode()) & 0xFFFFFFFF
    return os.path.join(_cache_home(), f"help-{__version__}-{width}-{digest:08x}.txt")


def _cache_home() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "papers")


def _save(path: str, text: str) -> None:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home: Click makes it each time


# -- find -----------------------------------------------------------------------------------


def _utf8(out) -> bool:
    encoding = (getattr(out, "encoding", None) or "").lower().replace("_", "-")
    return encoding in ("utf-8", "utf8")


def _parse_find(argv: list[str]) -> tuple[str | None, list[str], int, bool] | None:
    """(--home, words, limit, --json) of `[--home H] find ...`, or None for anything else."""
    home = None
    i = 0
    while i < len(argv) and argv[i] != "find":
        arg = argv[i]
        if arg == "--home" and i + 1 < len(argv):
            home, i = argv[i + 1], i + 2
        elif arg.startswith("--home="):
            home, i = arg[len("--home="):], i + 1
        else:
            return None
    if i >= len(argv) or home == "":
        return None
    words, limit, as_json = [], 20, False
    args = argv[i + 1:]
    j = 0
    while j < len(args):
        arg = args[j]
        if arg == "--":
            words += args[j + 1:]
            break
        value = None
        if arg in _LIMIT or arg == "--sort":
            if j + 1 >= len(args):
                return None
            value, j = args[j + 1], j + 1
        elif arg.startswith("--limit="):
            arg, value = "--limit", arg[len("--limit="):]
        elif arg.startswith("--sort="):
            arg, value = "--sort", arg[len("--sort="):]
        elif arg.startswith("-n") and len(arg) > 2:
            arg, value = "-n", arg[2:]
        if arg == "--json":
            as_json = True
        elif arg in _LIMIT:
            if not value.isascii() or not value.isdigit():
                return None
            limit = int(value)
        elif arg == "--sort":
            if value != "relevance":
                return None
        elif arg.startswith("-"):
            return None
        else:
            words.append(arg)
        j += 1
    return home, words, limit, as_json


def _find_home(argv: list[str]) -> str | None:
    """The data home of a `papers find` the fast path would take, for `_catch_up`."""
    parsed = _parse_find(argv)
    if parsed is None:
        return None
    try:
        return _home(parsed[0])
    except Exception:
        return None


def _home(explicit: str | None) -> str | None:
    """`index.paths.data_home`, as a string (None when $PAPERS_HOME is set but empty)."""
    if explicit:
        return os.path.realpath(os.path.expanduser(explicit))
    env = os.environ.get("PAPERS_HOME")
    if env:
        return os.path.realpath(os.path.expanduser(env))
    if env is not None:
        return None
    import platformdirs

    return str(platformdirs.user_data_dir("papers", appauthor=False))


def _find(argv: list[str], out) -> int | None:
    parsed = _parse_find(argv)
    if parsed is None:
        return None
    explicit, words, limit, as_json = parsed
    if not as_json and _to_terminal(out):
        return None  # Rich's table
    from papers.index import findcache

    text = " ".join(" ".join(words).split())
    phrase = findcache.phrase_words(text)
    plain = findcache.plain_words(text) if text and not phrase else None
    if not plain and not phrase:
        return None
    home = _home(explicit)
    if home is None:
        return None
    cache = findcache.Cache.open(home)
    if cache is None:
        return None
    if phrase:
        # The parser's phrase: each word analysed, stop words dropped, repeats kept.
        terms = [t for t in map(cache.stem, phrase) if t is not None]
        found = cache.phrase_ranked(home, terms, limit or None) if len(terms) > 1 else None
        if found is None:
            return None
        ranked = found[0]
    else:
        # The parser's words: stop words dropped, a repeated word said once.
        terms = []
        for word in plain:
            stem = cache.stem(word)
            if stem is not None and stem not in terms:
                terms.append(stem)
        if not terms:
            return None
        ranked, _ = cache.ranked(terms, limit or None)
    if not ranked:
        return None  # "no papers match", with a suggestion: Whoosh's
    records = [cache.record(doc) for _, doc in ranked]
    from papers.index import marks as user_marks

    layout = tuple(cache.state["marks_layout"])
    marks = user_marks.read(home, {r["id"] for r in records}, layout,
                            cache.state["userdata_format"])
    if marks is None:
        return None
    none = user_marks.empty(layout)
    if as_json:
        from papers.index import jsontext

        rows = [{**rec, **marks.get(rec["id"], none), "score": round(score, 4)}
                for rec, (score, _) in zip(records, ranked, strict=True)]
        text = jsontext.dumps(rows, indent=2) + "\n"
    else:
        from papers.tui.text import clean

        lines = []
        for rec in records:
            m = marks.get(rec["id"], none)
            up = "" if rec["upvotes"] is None else str(rec["upvotes"])
            day = rec["published"] or rec["first_seen"] or ""
            flags = ("★" if m["starred"] else " ") + (" " if m["read"] else "•")
            lines.append(f"{rec['id']}\t{flags}\t{day}\t{up}\t{clean(rec['title'])}\n")
        text = "".join(lines)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    try:
        out.write(text)
        out.flush()
    except OSError as exc:
        return _write_failed(exc, as_json)
    return 0


def _to_terminal(out) -> bool:
    """Whether the Click command would draw a Rich table (`cli.output._to_terminal`, asked
    without Rich: any doubt is a yes)."""
    if any(os.environ.get(v) for v in ("FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE")):
        return True
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return True


def _write_failed(exc: OSError, as_json: bool) -> int:
    """What the Click command's error boundary says of an OSError."""
    from papers.index import jsontext
    from papers.index.errors import from_os_error
    from papers.tui.text import clean

    error = from_os_error(exc, "use")
    try:
        if as_json:
            sys.stderr.write(jsontext.dumps({"error": str(error)}) + "\n")
        else:
            sys.stderr.write("papers: " + clean(str(error)) + "\n")
        sys.stderr.flush()
    except OSError:
        pass
    return error.exit_code


def _catch_up(home: str) -> None:
    """After Click answered a find this path could not: bring the cache up to date when
    that means reading only a few new papers (a whole library is the ingest's to cache)."""
    if os.environ.get("PAPERS_FAST") == "0":
        return
    try:
        from papers.index import findcache

        if findcache.Cache.open(home) is None:
            findcache.refresh(os.path.join(home, "index"), budget=2000)
    except Exception:
        pass


if __name__ == "__main__":
    main()
