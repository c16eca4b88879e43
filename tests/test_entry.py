"""The console script answers `--version`, `--help` and plain-word finds before Click loads,
printing byte for byte what the Click commands print, and hands everything else to them."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import write_corpus
from papers.index import findcache
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.userdata import UserData
from papers.tui import entry
from papers.tui.cli import cli
from papers.tui.version import __version__

WORDS = ["diffusion", "language models", "Video GENERATION with diffusion", "reasoning agents",
         "reinforcement   learning", "the model", "model diffusion data learning method",
         "learning learning", "a b c model", "Transformer"]
PHRASES = ['"language models"', '"Video generation"', '"diffusion  model"',
           '"large language models"', '"vision of the language"']
OPTIONS = [["--json"], [], ["--json", "-n", "0"], ["-n", "3"], ["--limit=7", "--json"],
           ["-n5"], ["--json", "--sort", "relevance"], ["--sort=relevance", "--limit", "1500"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("entry")
    write_corpus(work / "digests", 900, seed=3, per_day=60)
    ingest(work / "home", [work / "digests"], procs=2)
    first = sorted((work / "digests").glob("*.txt"))[0]
    shutil.copy(first, work / "digests" / "2099-01-01.txt")  # deleted documents
    ingest(work / "home", [work / "digests"])
    UserData(work / "home").close()
    assert findcache.refresh(work / "home" / "index")
    return work / "home"


@pytest.fixture
def home(built, tmp_path, monkeypatch):
    mine = tmp_path / "home"
    shutil.copytree(built, mine)
    monkeypatch.setenv("PAPERS_HOME", str(mine))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "COLUMNS", "PAPERS_FAST"):
        monkeypatch.delenv(name, raising=False)
    return mine


def fast(argv: list[str]) -> tuple[int | None, str]:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    code = entry.answer(argv, out)
    out.flush()
    return code, out.buffer.getvalue().decode("utf-8")


def clicks(runner, argv: list[str]) -> tuple[int, str]:
    result = runner.invoke(cli, argv, prog_name="papers")
    return result.exit_code, result.stdout


def test_plain_word_finds_print_what_click_prints(home, runner):
    taken = 0
    for words in WORDS:
        for options in OPTIONS:
            argv = ["find", *words.split(), *options]
            code, text = fast(argv)
            if code is None:
                continue
            taken += 1
            assert (code, text) == clicks(runner, argv), argv
    assert taken >= len(WORDS) * len(OPTIONS) - len(OPTIONS)  # all but nothing-found ones
    phrases = 0
    for phrase in PHRASES:
        for options in OPTIONS:
            argv = ["find", phrase, *options]
            code, text = fast(argv)
            want = clicks(runner, argv)
            if code is None:  # nothing found: Click says so, and what was perhaps meant
                assert want[0] == 1, argv
            else:
                phrases += 1
                assert (code, text) == want, argv
    assert phrases >= 3 * len(OPTIONS)


def test_home_option_and_double_dash(home, runner, monkeypatch):
    monkeypatch.delenv("PAPERS_HOME")
    argv = ["--home", str(home), "find", "--json", "--", "diffusion", "model"]
    code, text = fast(argv)
    assert code == 0 and (code, text) == clicks(runner, argv)
    code, text = fast([f"--home={home}", "find", "agents"])
    assert code == 0 and (code, text) == clicks(runner, ["--home", str(home), "find", "agents"])


def test_marks_are_fresh_after_a_star(home, runner):
    ids = [Library(home).search("diffusion", limit=4).paper(i).id for i in range(4)]
    with UserData(home) as store:
        store.star(ids[:2])
        store.mark_read(ids[1:3])
        store.add_tags(ids[0], ["later", "Alpha"])
        store.set_note(ids[3], "read \x1b[31m this")
    for argv in (["find", "diffusion", "--json"], ["find", "diffusion"]):
        code, text = fast(argv)
        assert code == 0 and (code, text) == clicks(runner, argv)
    assert '"starred": true' in fast(["find", "diffusion", "--json"])[1]
    assert "★" in fast(["find", "diffusion"])[1]


def test_an_ingest_that_moves_the_statistics_is_never_answered_stale(built, home, runner,
                                                                    tmp_path, monkeypatch):
    import papers.index.ingest as ingest_mod

    write_corpus(tmp_path / "more", 200, seed=11, per_day=50)
    # A commit the cache did not follow (a crash between the two, an older papers).
    monkeypatch.setattr(ingest_mod, "_cache_for_find", lambda *args: None)
    ingest(home, [built.parent / "digests", tmp_path / "more"])
    assert fast(["find", "diffusion", "--json"]) == (None, "")
    assert findcache.refresh(home / "index")
    for argv in (["find", "diffusion", "--json"], ["find", "language", "model", "-n", "0"]):
        code, text = fast(argv)
        assert code == 0 and (code, text) == clicks(runner, argv)


@pytest.mark.parametrize("damage", ["truncate", "zeros", "state"])
def test_a_damaged_cache_goes_to_click(home, runner, damage):
    folder = home / findcache.DIR
    seg = sorted(folder.glob("seg-*"))[0]
    if damage == "truncate":
        seg.write_bytes(seg.read_bytes()[:1000])
    elif damage == "zeros":
        seg.write_bytes(bytes(seg.stat().st_size))
    else:
        (folder / findcache.STATE).write_text("[1, 2")
    assert fast(["find", "diffusion", "--json"]) == (None, "")


@pytest.mark.parametrize("argv", [
    ["find", "diffusion", "AND", "video"], ["find", "title:diffusion"],
    ["find", '"vision language"', "model"], ["find", '"diffusion"'], ["find", '"the of model"'],
    ["find", "diffusion", "--sort", "newest"], ["find", "diffusion", "--starred"],
    ["find", "diffusion", "--tag", "x"], ["find", "diffusion", "is:starred"], ["find"],
    ["find", "diffusion", "-n", "-1"], ["find", "diffusion", "-n", "1_0"], ["find", "zzzyqx"],
    ["find", "the", "of"], ["find", "diffus*"], ["find", "diffusion", "--help"],
    ["find", "diffusion", "--limit"], ["--home", "", "find", "diffusion"], ["tags"],
    ["show", "abcd"], ["--version", "find"], ["find", "GPT-4o"], ["find", "lora~"],
])
def test_anything_else_goes_to_click(home, argv):
    assert fast(argv) == (None, "")


def test_a_terminal_gets_clicks_table(home, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert fast(["find", "diffusion"]) == (None, "")
    assert fast(["find", "diffusion", "--json"])[0] == 0  # JSON is never a table


def test_no_user_data_yet_goes_to_click(home):
    (home / "userdata.sqlite").unlink()
    assert fast(["find", "diffusion", "--json"]) == (None, "")


def test_json_text_escapes_every_unsafe_character_and_nothing_else():
    """`jsontext.dumps` (the fast path's JSON too) escapes each character `index.controls`
    names unsafe, so the JSON parses back to the text, and leaves the rest as it is."""
    import json

    from papers.index import jsontext
    from papers.index.controls import UNSAFE

    unsafe = [c for c in map(chr, range(0x110000)) if UNSAFE.match(c)]
    for c in [*unsafe, "plain ascii", "Tomás Łukasz 日本", "a\x7fb"]:
        text = jsontext.dumps({"t": c})
        assert json.loads(text) == {"t": c}
        assert not UNSAFE.search(text)
    assert jsontext.dumps({"t": "Tomás"}) == '{"t": "Tomás"}'


def test_version_is_clicks(home, runner):
    assert fast(["--version"]) == (0, f"papers, version {__version__}\n")
    assert clicks(runner, ["--version"]) == (0, f"papers, version {__version__}\n")


def script(*argv: str, env: dict) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-m", "papers.tui.entry", *argv], env=env,
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    return proc.returncode, proc.stdout.decode("utf-8")


@pytest.mark.parametrize("columns", ["80", "60", "200", "30"])
def test_help_is_clicks_and_is_kept(home, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", columns)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    want = script("--help", env={**env, "PAPERS_FAST": "0"})  # Click's, in a pipe
    assert fast(["--help"]) == want  # made by Click, then kept
    assert list((home.parent / "cache" / "papers").glob("help-*"))
    assert fast(["--help"]) == want == fast(["-h"])  # from the file
    assert script("--help", env=env) == want


def test_help_in_a_pipe_without_columns(home, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    want = script("--help", env={**env, "PAPERS_FAST": "0"})
    assert script("--help", env=env) == want == script("-h", env=env)


# -- as installed --------------------------------------------------------------------------


def run(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, env=env, timeout=120,
                          stdin=subprocess.DEVNULL)


def test_the_script_answers_without_click_or_whoosh(home, tmp_path):
    env = {**os.environ, "PAPERS_HOME": str(home), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("PYTHONPATH", None)
    for argv in (["find", "diffusion", "model", "--json"], ["find", "agents"], ["--version"]):
        ours = run("-X", "importtime", "-m", "papers.tui.entry", *argv, env=env)
        theirs = run("-m", "papers.tui.entry", *argv, env={**env, "PAPERS_FAST": "0"})
        assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
        assert ours.returncode == 0
        modules = {line.rsplit(b"|", 1)[1].strip().decode() for line in ours.stderr.splitlines()
                   if line.startswith(b"import time:") and line.count(b"|") == 2}
        assert not {m for m in modules if m.split(".")[0] in ("click", "rich", "textual")}
        # Not even the stemmer: the cache has the stems of its titles' words.
        assert not {m for m in modules if m.startswith("whoosh")}


def test_a_find_click_answered_catches_the_cache_up(built, home, tmp_path, monkeypatch):
    """After a small commit the cache did not follow, the first find goes to Click, and
    brings the cache up to date."""
    import papers.index.ingest as ingest_mod

    write_corpus(tmp_path / "more", 60, seed=5, per_day=60)
    monkeypatch.setattr(ingest_mod, "_cache_for_find", lambda *args: None)
    ingest(home, [built.parent / "digests", tmp_path / "more"])
    assert findcache.Cache.open(str(home)) is None
    env = {**os.environ, "PAPERS_HOME": str(home)}
    env.pop("PYTHONPATH", None)
    proc = run("-m", "papers.tui.entry", "find", "diffusion", "--json", env=env)
    assert proc.returncode == 0
    assert findcache.Cache.open(str(home)) is not None


REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "hf-daily-papers.jsonl"


@pytest.mark.skipif(not REAL.exists(), reason="../shared is not present")
def test_real_papers_print_as_click_prints_them(tmp_path, monkeypatch, runner):
    """Real titles and abstracts (Unicode, TeX, odd characters) print byte for byte."""
    write_corpus(tmp_path / "digests", 3000, real=REAL)
    home = tmp_path / "home"
    ingest(home, [tmp_path / "digests"], procs=2)
    UserData(home).close()
    assert findcache.refresh(home / "index")
    monkeypatch.setenv("PAPERS_HOME", str(home))
    for name in ("FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE", "PAPERS_FAST"):
        monkeypatch.delenv(name, raising=False)
    queries = ["language models", "diffusion", "reasoning", "agent benchmark", "video",
               '"large language models"', '"chain of thought"', "LLM", "robot policy"]
    for q in queries:
        for options in (["--json", "-n", "0"], ["-n", "50"]):
            argv = ["find", *q.split(), *options] if '"' not in q else ["find", q, *options]
            code, text = fast(argv)
            assert code == 0 and (code, text) == clicks(runner, argv), argv
