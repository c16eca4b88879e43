"""Bad input everywhere: odd queries, odd files, and text that tries to drive the terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO, digest, entry, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.index.errors import QueryError
from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.sources import MAX_DIGEST_BYTES
from papers.tui.cli import cli

QUERIES = [
    '"unclosed',
    '"',
    '""',
    "title:(",
    "(a",
    "a)",
    "((((",
    "))",
    "[",
    "]",
    "{",
    "}",
    "[2024 to",
    "AND",
    "OR",
    "NOT",
    "-",
    "+",
    "AND OR NOT",
    "a AND",
    "OR b",
    "NOT NOT",
    "- -",
    "a -",
    "title:",
    "title:)",
    ":",
    "::",
    "nosuchfield:x",
    "org:",
    "*",
    "?",
    "~",
    "a~~",
    "a~x",
    "a^",
    "a^x",
    "title:*",
    "\\",
    "'",
    "published:[abc to]",
    "upvotes:[x to y]",
    "upvotes:>abc",
    "upvotes:<",
    "published:2024-13",
    "published:2024-02-30",
    "seen:[2024 to 2023]",
    "authors:[1 to",
    "upvotes:[10 to]",
    "published:[to 2024]",
    "a-b" * 3_400,  # 10,200 characters; one 10,000-character word is tested below
    "lora " * 2_000,
    "(" * 5_000 + ")" * 5_000,
    '"a' * 3_000,
    "\x00",
    "\x1b[31m",
    "\x07",
    "a\x00b",
    "\t\n\r",
    "\u202e",
    "\ufeff",
    "\ud800",
    "is:",
    "is:nothing",
    "tag:",
    "is:starred AND NOT",
]


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    home = tmp / "home"
    write(
        tmp / "d" / "2025-12-09.txt",
        digest(
            "Dec 9",
            entry("LoRA adapters", "Low-rank adaptation.", "  • 3 authors\n·\nDec 1 4"),
            entry("Olmo 3", "Open models."),
        ),
    )
    ingest(home, [tmp / "d"])
    return home


def _no_traceback(result) -> None:
    text = result.output + (result.stderr or "")
    assert "Traceback" not in text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q[:20]))
def test_cli_find_never_tracebacks(library, query):
    # `--` first, as a user must type it for a query starting with `-`.
    result = CliRunner().invoke(cli, ["--home", str(library), "find", "--", query])
    _no_traceback(result)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code:
        assert result.stderr.startswith("papers: "), result.stderr
    json_result = CliRunner().invoke(cli, ["--home", str(library), "find", "--json", "--", query])
    _no_traceback(json_result)
    if json_result.exit_code == 2:
        assert "error" in json.loads(json_result.stderr)
    # Without `--` a leading `-` is an unknown option: Click's usage message, exit 2.
    bare = CliRunner().invoke(cli, ["--home", str(library), "find", query])
    _no_traceback(bare)
    assert bare.exit_code in (0, 1, 2)


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: repr(q[:20]))
def test_library_search_raises_only_query_error(library, query):
    lib = Library(library)
    try:
        for sort in ("relevance", "date"):
            try:
                lib.search(query, sort=sort, limit=5)
            except QueryError as exc:
                assert str(exc)
    finally:
        lib.close()


def test_a_10000_character_word_is_refused_at_once_and_a_long_one_searched(library):
    import threading

    lib = Library(library)
    lib.searcher()
    outcome = []

    def search():
        for word in ("x" * 1_000, "x" * 10_000, "lora " * 5_000):
            try:
                outcome.append(len(lib.search(word, limit=5)))
            except QueryError as exc:
                outcome.append(str(exc))

    # A daemon thread, so that a hang cannot hold the test run up. Whoosh's parser alone
    # would take 0.6 s for the 10,000-character word, and 50 s for 100,000.
    worker = threading.Thread(target=search, daemon=True)
    worker.start()
    worker.join(timeout=10.0)
    assert outcome == [
        0,
        "a word of 10,000 characters is too long to search for (at most 1,000)",
        1,
    ]


_SYNTAX = st.sampled_from(
    [
        *"()[]{}\"':*?~^-+\\ ",
        "AND",
        "OR",
        "NOT",
        "TO",
        "to",
        "title:",
        "abstract:",
        "org:",
        "upvotes:",
        "published:",
        "seen:",
        "authors:",
        "is:",
        "tag:",
        "lora",
        "2024",
        "2024-06",
        "x",
        "<",
        ">",
        "=",
        "\x00",
        "\x1b",
    ]
)


@settings(
    max_examples=150 if os.environ.get("HYPOTHESIS_PROFILE") != "long" else 5_000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(_SYNTAX, max_size=12).map("".join))
def test_random_query_syntax_raises_only_query_error(library, query):
    lib = Library(library)
    try:
        lib.search(query, limit=3)
    except QueryError:
        pass
    finally:
        lib.close()


# -- files --------------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path) -> Path:
    out = tmp_path / "digests"
    write(out / "2025-12-09.txt", digest("Dec 9", entry("Good Paper", "Fine.")))
    return out


def good_ingested(home: Path) -> bool:
    lib = Library(home)
    try:
        return lib.get(paper_id("Good Paper")) is not None
    finally:
        lib.close()


def messages(report) -> str:
    return " | ".join(str(p) for p in report.problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file regardless of mode")
def test_unreadable_file_is_reported_and_skipped(home, folder):
    locked = write(folder / "locked.txt", digest("Dec 9", entry("Locked", "No.")))
    locked.chmod(0)
    try:
        report = ingest(home, [folder])
    finally:
        locked.chmod(0o644)
    assert "locked.txt" in messages(report) and "permission" in messages(report)
    assert good_ingested(home)


def test_directory_named_txt_is_skipped(home, folder):
    (folder / "notes.txt").mkdir()
    write(folder / "notes.txt" / "2025-12-10.txt", digest("Dec 10", entry("Inner", "In.")))
    report = ingest(home, [folder, folder / "notes.txt"])
    assert good_ingested(home)
    assert Library(home).get(paper_id("Inner")) is not None  # a folder is searched, not read
    assert "Traceback" not in messages(report)


def test_explicit_directory_source_named_txt_is_fine(home, tmp_path, folder):
    odd = tmp_path / "odd.txt"
    odd.mkdir()
    report = ingest(home, [folder, odd])
    assert good_ingested(home) and report.files_scanned == 1


def test_symlink_loops_are_reported_and_skipped(home, folder):
    os.symlink(folder / "b.txt", folder / "a.txt")
    os.symlink(folder / "a.txt", folder / "b.txt")
    os.symlink(folder / "self.txt", folder / "self.txt")
    os.symlink(folder, folder / "loop")  # a folder that contains itself
    report = ingest(home, [folder, folder / "a.txt"])
    for name in ("a.txt", "b.txt", "self.txt"):
        assert name in messages(report)
    assert good_ingested(home)


def test_huge_file_is_reported_and_skipped_without_reading_it(home, folder):
    huge = folder / "huge.txt"
    with open(huge, "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: no disk used
    assert huge.stat().st_size > MAX_DIGEST_BYTES
    report = ingest(home, [folder])
    assert "huge.txt" in messages(report) and "too large" in messages(report)
    assert good_ingested(home)


def test_binary_and_empty_files_are_reported(home, folder):
    write(folder / "empty.txt", b"")
    write(folder / "image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    report = ingest(home, [folder])
    assert "empty.txt" in messages(report) and "image.txt" in messages(report)
    assert good_ingested(home)


def _growing(monkeypatch, target: Path) -> None:
    """Make `target` grow while the ingest reads it, as a browser still saving it would."""
    from papers.index import ingest as ingest_module

    class Growing:
        def __init__(self, fh):
            self._fh = fh

        def read(self, *args):
            data = self._fh.read(*args)
            with open(target, "ab") as out:
                out.write(entry("Appended Later", "Written after the read.").encode())
            os.utime(target, ns=(target.stat().st_mtime_ns + 10**9,) * 2)
            return data

        def fileno(self):
            return self._fh.fileno()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    def opening(file, mode="r", *args, **kwargs):
        fh = open(file, mode, *args, **kwargs)  # noqa: SIM115 (closed by the caller)
        return Growing(fh) if Path(file).name == target.name and "r" in mode else fh

    # The ingest's own `open`: a name in its module shadows the builtin there only.
    monkeypatch.setattr(ingest_module, "open", opening, raising=False)


def test_file_changing_while_read_ends_up_ingested_whole(home, folder, monkeypatch):
    target = write(folder / "2025-12-10.txt", digest("Dec 10", entry("First Half", "A.")))
    _growing(monkeypatch, target)
    ingest(home, [folder])
    monkeypatch.undo()
    assert good_ingested(home)
    again = ingest(home, [folder])  # the next run sees the file changed and reads it again
    assert again.files_changed == 1
    assert Library(home).get(paper_id("Appended Later")) is not None


def test_file_changing_while_read_is_reported(home, folder, monkeypatch):
    target = write(folder / "2025-12-10.txt", digest("Dec 10", entry("First Half", "A.")))
    _growing(monkeypatch, target)
    report = ingest(home, [folder])
    assert "2025-12-10.txt" in messages(report) and "changed" in messages(report)


# -- terminal safety ----------------------------------------------------------------------

HOSTILE = {
    "ansi": "Red \x1b[31mALERT\x1b[0m title",
    "osc52": "Clip \x1b]52;c;aGVsbG8=\x07 board",
    "osc8": "Link \x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\ end",
    "c1": "Csi \x9b31m eight-bit \x9d0;title\x9c end",
    "bel": "Bell \x07\x08\x7f end",
    "close": "Markup [/] closes",
    "link": "Markup [link=https://x]click[/link] and [bold]b[/bold]",
}
# Rich's own colour codes are the only escape sequences allowed out.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


ALL = " ".join(HOSTILE.values())


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory) -> Path:
    """One paper per kind of hostile text, and one with all of them in title and abstract."""
    tmp = tmp_path_factory.mktemp("terminal")
    entries = [
        entry(f"Paper {key} {text}", f"Abstract {key} {text}") for key, text in HOSTILE.items()
    ]
    entries.append(
        entry(
            f"Everything {ALL}", f"Everything abstract {ALL}", f"hostile-org Org {ALL}\n·\nDec 1 3"
        )
    )
    write(tmp / "d" / "2025-12-09.txt", digest("Dec 9", *entries))
    home = tmp / "home"
    report = ingest(home, [tmp / "d"])
    assert report.papers_added == len(HOSTILE) + 1
    return home


def papers_out(home: Path, *args: str, terminal: bool) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM")
    }
    env.update(PAPERS_HOME=str(home), COLUMNS="400", LINES="100")
    if terminal:
        env.update(FORCE_COLOR="1", TTY_COMPATIBLE="1", TERM="xterm-256color")
    proc = subprocess.run(
        [sys.executable, "-m", "papers.tui", *args], env=env, cwd=REPO, capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout.decode("utf-8")


def assert_inert(out: str) -> str:
    """No control character left once Rich's colour codes are taken out; return the text."""
    plain = _SGR.sub("", out)
    bad = sorted({f"U+{ord(c):04X}" for c in _FORBIDDEN.findall(plain)})
    assert not bad, f"raw control characters in the output: {bad}"
    return plain


def visible(text: str) -> str:
    """How the CLI shows a control character: as its escape, e.g. `\\x1b`."""
    return _FORBIDDEN.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_find_table_and_lines_are_inert_and_literal(hostile_home, terminal):
    plain = assert_inert(
        papers_out(hostile_home, "find", "paper", "--limit", "0", terminal=terminal)
    )
    for key, text in HOSTILE.items():
        assert visible(f"Paper {key} {text}") in plain, key


def test_find_json_round_trips(hostile_home):
    out = papers_out(hostile_home, "find", "paper", "--json", "--limit", "0", terminal=False)
    titles = {p["title"] for p in json.loads(out)}
    assert titles == {f"Paper {key} {text}" for key, text in HOSTILE.items()}


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_show_is_inert_and_literal(hostile_home, terminal):
    plain = assert_inert(
        papers_out(hostile_home, "show", paper_id(f"Everything {ALL}"), terminal=terminal)
    )
    assert visible(f"Everything {ALL}") in plain
    assert visible(f"Everything abstract {ALL}") in plain
    assert visible(f"Org {ALL}") in plain


def test_show_json_round_trips(hostile_home):
    out = papers_out(hostile_home, "show", paper_id(f"Everything {ALL}"), "--json", terminal=False)
    paper = json.loads(out)
    assert (paper["title"], paper["organization"]) == (f"Everything {ALL}", f"Org {ALL}")


def test_json_output_has_no_raw_control_characters(hostile_home):
    pid = paper_id(f"Everything {ALL}")
    assert_inert(papers_out(hostile_home, "show", pid, "--json", terminal=False))
    assert_inert(papers_out(hostile_home, "find", "paper", "--json", terminal=False))
