"""The command line, run through Click's CliRunner as a user would type it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES, REPO, digest, entry, write

from papers.tui.cli import cli

PAPER_KEYS = {"id", "title", "abstract", "authors", "organization", "published", "upvotes",
              "digests", "first_seen", "last_seen", "links", "url", "arxiv_id", "author_names",
              "github", "github_stars", "project_page", "keywords", "ai_summary", "comments",
              "submitter", "score", "starred", "read", "tags", "note", "skipped",
              "snoozed_until"}


def run(runner, *args):
    return runner.invoke(cli, list(args))


def test_add_prints_the_summary(home, tmp_path, runner):
    folder = tmp_path / "d"
    write(folder / "sample.txt", (FIXTURES / "sample-2025-12-10.txt").read_text())
    result = run(runner, "add", str(folder), "--json")
    summary = json.loads(result.output)
    assert set(summary) == {"files_scanned", "files_changed", "files_removed", "papers_added",
                            "papers_updated", "papers_removed", "missing_sources", "problems",
                            "earlier_problems"}
    assert (summary["files_changed"], summary["papers_added"]) == (1, 2)
    again = run(runner, "index")
    assert again.exit_code == 0 and "nothing changed" in again.output


def test_index_json_lists_problems_with_file_and_line(home, tmp_path, runner):
    folder = tmp_path / "d"
    write(folder / "bad.txt", digest("Dec 9", entry("Fine", "Ok.")) + "Cut off title\n")
    summary = json.loads(run(runner, "add", str(folder), "--json").output)
    [problem] = summary["problems"]
    assert problem["file"].endswith("bad.txt") and problem["line"] == 17
    assert "no abstract" in problem["message"]


def test_find_json_has_exactly_the_documented_keys(samples, runner):
    result = run(runner, "find", "sparse", "--json")
    assert result.exit_code == 0
    papers = json.loads(result.output)
    assert papers and all(set(p) == PAPER_KEYS for p in papers)
    s2ft = papers[0]
    assert s2ft["title"].startswith("S$^{2}$FT")
    assert [d["date"] for d in s2ft["digests"]] == ["2025-12-09", "2025-12-10"]
    assert all(os.path.isabs(d["file"]) for d in s2ft["digests"])
    assert s2ft["published"] == "2025-11-30" and s2ft["upvotes"] == 12


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("title:olmo", ["Olmo 3"]),
        ('"open language models"', ["Olmo 3"]),
        ("org:codefuse", ["$λ$-ECLIPSE"]),
        ("upvotes:[20 to]", ["Pixtral 12B"]),
        ("published:[2024 to 2024]", ["GPT-[n]", "Pixtral 12B"]),
        # After or before the whole year or month, not its first day.
        ("published:>2024", ["$λ$-ECLIPSE", "Olmo 3", "S$^{2}$FT"]),
        ("published:<2025", ["GPT-[n]", "Pixtral 12B"]),
        ("published:>2025-06", ["S$^{2}$FT"]),
        ("published:>=2025-06", ["$λ$-ECLIPSE", "S$^{2}$FT"]),
        ("olmo -pixtral", ["Olmo 3"]),
        ("model -olmo -pixtral", ["GPT-[n]"]),
        ("seen:[2025-12-10 to 2025-12-10]", ["Pixtral 12B", "S$^{2}$FT"]),
        ("pixtr*", ["Pixtral 12B"]),
        ("pixtrl~", ["Pixtral 12B"]),
        ("multimodal AND NOT documents", []),
        ("olmo OR pixtral", ["Olmo 3", "Pixtral 12B"]),
    ],
)
def test_query_language(samples, runner, query, expected):
    result = run(runner, "find", query, "--json")
    found = sorted(p["title"] for p in json.loads(result.stdout))
    assert len(found) == len(expected)
    assert all(f.startswith(e) for f, e in zip(found, sorted(expected), strict=True))
    assert result.exit_code == (0 if expected else 1)


def test_no_query_lists_every_paper_newest_first(samples, runner):
    papers = json.loads(run(runner, "find", "--json", "--sort", "date").output)
    assert len(papers) == 7
    dates = [p["published"] or p["first_seen"] for p in papers]
    assert dates == sorted(dates, reverse=True)


def test_sort_by_upvotes_and_title(samples, runner):
    by_up = json.loads(run(runner, "find", "--json", "--sort", "upvotes").output)
    assert [p["upvotes"] for p in by_up][:3] == [25, 12, 6]
    by_title = [p["title"] for p in json.loads(run(runner, "find", "--json", "--sort",
                                                   "title").output)]
    assert by_title == sorted(by_title, key=str.casefold)


def test_no_match_suggests_a_correction(samples, runner):
    result = run(runner, "find", "pixtrel", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)
    assert error["suggestion"] == "pixtral"
    plain = run(runner, "find", "pixtrel")
    assert "did you mean: pixtral" in plain.stderr


@pytest.mark.parametrize("query", ['title:(', '"unclosed', "a)", "[2024 to", "title:"])
def test_bad_query_exits_2_with_a_message(samples, runner, query):
    result = run(runner, "find", query)
    assert result.exit_code == 2
    assert "papers:" in result.stderr and "Traceback" not in result.output + result.stderr


def test_show_accepts_a_unique_prefix(samples, runner):
    pid = json.loads(run(runner, "find", "olmo", "--json").output)[0]["id"]
    result = run(runner, "show", pid[:5], "--json")
    assert result.exit_code == 0 and json.loads(result.output)["title"] == "Olmo 3"
    assert "Olmo 3" in run(runner, "show", pid[:4]).output
    assert run(runner, "show", "zz").exit_code == 2
    assert run(runner, "show", "ffffffff").exit_code == 1


def test_stats(samples, runner):
    data = json.loads(run(runner, "stats", "--json").output)
    assert data["papers"] == 7 and data["digests"] == 2 and data["sources"] == 1
    assert data["index_bytes"] > 0 and data["home"] == os.environ["PAPERS_HOME"]


def test_find_without_a_library_says_what_to_do(home, runner):
    result = run(runner, "find", "x")
    assert result.exit_code != 0 and "papers add" in result.output


def test_plain_output_in_a_pipe_is_literal_and_escaped(home, tmp_path, runner):
    folder = tmp_path / "d"
    write(folder / "x.txt", digest("Dec 9", entry("GPT-[n] \x1b[31mRed\x1b[0m [bold]x[/bold]",
                                                  "Text.")))
    run(runner, "add", str(folder))
    out = run(runner, "find", "gpt").output
    assert "GPT-[n] \\x1b[31mRed\\x1b[0m [bold]x[/bold]" in out
    assert "\x1b" not in out


def test_terminal_table_never_interprets_markup_or_escapes(home, tmp_path):
    """A real `papers find` on a (forced) colour terminal: the title's bytes come out literal."""
    folder = tmp_path / "d"
    write(folder / "x.txt", digest("Dec 9", entry("GPT-[n] and o-[n] [/x] \x1b]52;c;aGk=\x07",
                                                  "Text.")))
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "200", "TTY_COMPATIBLE": "1"}
    env.pop("NO_COLOR", None)
    subprocess.run([sys.executable, "-m", "papers.tui", "add", str(folder)], env=env, check=True,
                   capture_output=True, cwd=REPO)
    out = subprocess.run([sys.executable, "-m", "papers.tui", "find", "gpt"], env=env,
                         capture_output=True, cwd=REPO).stdout.decode()
    assert "GPT-[n] and o-[n] [/x] \\x1b]52;c;aGk=\\x07" in _strip_sgr(out)
    assert "\x1b]52" not in out and "\x07" not in out


def _strip_sgr(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.mark.parametrize("sort", ["date", "upvotes", "title", "relevance"])
def test_unlimited_results_keep_their_order(samples, runner, sort):
    """--limit 0 returns every paper in the same order as the first page."""
    every = json.loads(run(runner, "find", "--json", "--limit", "0", "--sort", sort).stdout)
    first = json.loads(run(runner, "find", "--json", "--limit", "3", "--sort", sort).stdout)
    assert [p["id"] for p in every[:3]] == [p["id"] for p in first]
    if sort == "upvotes":
        ups = [p["upvotes"] or 0 for p in every]
        assert ups == sorted(ups, reverse=True)


@pytest.mark.parametrize(("typo", "meant"), [("olmoo", "olmo"), ("pixtrla", "pixtral"),
                                             ("title:pixtrel", "title:pixtral")])
def test_did_you_mean_offers_words_as_written(samples, runner, typo, meant):
    """Suggestions are real words from titles, not stems, and keep the field prefix."""
    result = run(runner, "find", typo, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["suggestion"] == meant


@pytest.mark.parametrize("args", [["find", "pixtral", "--json"], ["find", "pixtral"]])
def test_find_in_a_pipe_loads_nothing_it_does_not_need(home, samples, args):
    """Startup is most of a `papers find`: it must not load the reader (Textual), Rich
    when printing plain lines, nor what Whoosh imports and never uses here."""
    heavy = ("textual", "rich", "asyncio", "urllib.request", "ssl", "email")
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print(sorted(m for m in {heavy!r} if m in sys.modules),"
        " file=sys.stderr))\n"
        f"sys.argv = ['papers', *{args!r}]\n"
        "from papers.tui.cli import main\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PAPERS_HOME": str(home)}, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert "Pixtral" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "[]"
