"""Triage from the command line: skip, mute, snooze, and `papers new` (issue 15)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from conftest import digest, entry, write

from papers.index import scope
from papers.index.userdata import UserData
from papers.tui.cli import cli
from papers.tui.cli.triage import parse_until

WED = date(2026, 12, 2)  # a Wednesday


def run(runner, *args):
    return runner.invoke(cli, list(args))


def ok(runner, *args) -> str:
    result = run(runner, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def papers(runner, query: str = "") -> dict[str, dict]:
    """`papers find --json` by title."""
    rows = json.loads(ok(runner, "find", *([query] if query else []), "--json", "--limit",
                         "100"))
    return {r["title"]: r for r in rows}


def new_count(runner) -> int:
    return json.loads(ok(runner, "new", "--json"))["new"]


def one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("papers: ") and all(w in line for w in words), line


# -- the day a snooze ends ----------------------------------------------------------------------


@pytest.mark.parametrize(("text", "day"), [
    ("2026-12-09", date(2026, 12, 9)),
    ("tomorrow", date(2026, 12, 3)),
    ("3d", date(2026, 12, 5)),
    ("2w", date(2026, 12, 16)),
    ("monday", date(2026, 12, 7)),
    ("Sun", date(2026, 12, 6)),
    ("wednesday", date(2026, 12, 9)),  # the next Wednesday, a week away, never today
    ("thursday", date(2026, 12, 3)),
])
def test_snooze_dates_read_as_people_type_them(text, day):
    assert parse_until(text, WED) == day


@pytest.mark.parametrize(("text", "why"), [
    ("2026-12-02", "not after today"),
    ("2020-01-01", "not after today"),
    ("0d", "not after today"),
    ("yesterday", "not a date"),
    ("next year", "not a date"),
    ("s", "not a date"),
])
def test_a_snooze_date_that_is_not_later_is_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parse_until(text, WED)


# -- skip -------------------------------------------------------------------------------------


def test_skip_marks_papers_not_interested_and_undo_takes_it_back(samples, runner):
    pid = papers(runner, "olmo")["Olmo 3"]["id"]
    before = new_count(runner)
    assert ok(runner, "skip", pid[:6]) == "skipped 1 paper\n"
    assert ok(runner, "skip", pid) == "skipped 0 papers (1 already skipped)\n"
    assert papers(runner, "olmo")["Olmo 3"]["skipped"] is True
    assert new_count(runner) == before - 1  # gone from New
    assert ok(runner, "undo").startswith("nothing to revert")
    assert ok(runner, "undo") == f"unskipped {pid}\n"
    assert papers(runner, "olmo")["Olmo 3"]["skipped"] is False
    assert new_count(runner) == before
    ok(runner, "skip", pid)
    assert ok(runner, "unskip", pid) == "unskipped 1 paper\n"
    assert ok(runner, "undo") == f"skipped {pid} again\n"
    assert papers(runner, "olmo")["Olmo 3"]["skipped"] is True


def test_skip_of_an_unknown_id_changes_nothing(samples, runner):
    result = run(runner, "skip", "ffffffffffff")
    one_line_error(result, 1, "no paper with id")
    assert not any(p["skipped"] for p in papers(runner).values())


# -- mute -------------------------------------------------------------------------------------


def test_mute_runs_the_query_says_what_it_hides_and_undo_takes_it_back(samples, runner):
    before = new_count(runner)
    assert ok(runner, "mute", "model") == "muted 'model': it hides 3 papers now\n"
    assert ok(runner, "mute", "title:olmo") == "muted 'title:olmo': it hides 1 paper now\n"
    assert ok(runner, "mute", " model ") == "'model' is already muted\n"
    assert ok(runner, "mutes").splitlines() == [f"{date.today().isoformat()}  model",
                                                 f"{date.today().isoformat()}  title:olmo"]
    rules = json.loads(ok(runner, "mutes", "--json"))
    assert [r["query"] for r in rules] == ["model", "title:olmo"]
    assert new_count(runner) == before - 3  # Olmo 3 matches both rules
    # Muted papers are only hidden from New and For you: a search still finds them.
    assert "Olmo 3" in papers(runner, "olmo")
    ok(runner, "undo")  # the mute that changed nothing
    assert ok(runner, "undo") == "unmuted 'title:olmo'\n"
    assert ok(runner, "unmute", "model") == "unmuted 'model'\n"
    assert ok(runner, "mutes").startswith("no mute rules")
    assert new_count(runner) == before
    assert ok(runner, "undo") == "muted 'model' again\n"
    assert [r["query"] for r in json.loads(ok(runner, "mutes", "--json"))] == ["model"]


def test_a_query_that_cannot_run_is_not_muted(samples, runner):
    one_line_error(run(runner, "mute", "title:(olmo"), 2, "query")
    assert json.loads(ok(runner, "mutes", "--json")) == []


def test_unmute_of_a_rule_that_is_not_there_is_nothing_found(samples, runner):
    one_line_error(run(runner, "unmute", "diffusion"), 1, "no mute rule 'diffusion'")


def test_mute_before_there_is_a_library_keeps_the_rule(home, runner):
    assert ok(runner, "mute", "diffusion") == \
        "muted 'diffusion' (no library yet to match it against)\n"
    assert ok(runner, "mutes", "--json").count("diffusion") == 1


# -- snooze -----------------------------------------------------------------------------------


def test_snooze_hides_a_paper_until_the_day_and_undo_takes_it_back(samples, runner):
    pid = papers(runner, "olmo")["Olmo 3"]["id"]
    before = new_count(runner)
    day = date.today() + timedelta(days=1)
    assert ok(runner, "snooze", pid[:6], "tomorrow") == \
        f"snoozed 1 paper until {day:%a} {day.isoformat()}\n"
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] == day.isoformat()
    assert new_count(runner) == before - 1
    later = date.today() + timedelta(days=14)
    ok(runner, "snooze", pid, "2w")
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] == later.isoformat()
    assert ok(runner, "undo") == f"put back the earlier date of {pid}\n"
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] == day.isoformat()
    assert ok(runner, "unsnooze", pid) == "unsnoozed 1 paper\n"
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] is None
    assert new_count(runner) == before
    assert ok(runner, "undo") == f"snoozed {pid} again\n"
    assert ok(runner, "undo") == f"unsnoozed {pid}\n"
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] is None


def test_a_snoozed_paper_is_back_on_its_day(samples, runner, home):
    pid = papers(runner, "olmo")["Olmo 3"]["id"]
    ok(runner, "snooze", pid, "tomorrow")
    tomorrow = date.today() + timedelta(days=1)
    with UserData(home) as ud:
        from papers.index.library import Library

        lib = Library(home)
        assert pid not in scope.new_ids(lib, ud, scope.ALL)
        assert pid in scope.new_ids(lib, ud, scope.ALL, today=tomorrow)


@pytest.mark.parametrize(("until", "why"), [("2020-01-01", "not after today"),
                                            ("someday", "not a date")])
def test_a_snooze_that_ends_in_the_past_or_never_is_refused(samples, runner, until, why):
    pid = papers(runner, "olmo")["Olmo 3"]["id"]
    one_line_error(run(runner, "snooze", pid, until), 2, why)
    assert papers(runner, "olmo")["Olmo 3"]["snoozed_until"] is None
    assert ok(runner, "undo") == "nothing to undo\n"


# -- new --------------------------------------------------------------------------------------


def test_new_counts_the_papers_since_the_reader_last_looked(samples, runner, home):
    ok(runner, "save", "agents", "agent")
    everything = papers(runner)
    assert ok(runner, "new").startswith(f"{len(everything)} new papers (the reader has not")
    agents = scope.saved_view("agents", "agent")
    with UserData(home) as ud:  # the reader opens All and the saved search
        ud.mark_seen(scope.ALL.query)
        ud.mark_seen(agents.query)
    assert ok(runner, "new") == "nothing new\n"
    write(samples / "sample-2025-12-11.txt", digest(
        "Dec 11",
        entry("Agent Workflow Memory", "Agents that remember the workflows they learn."),
        entry("Tiny Recursive Models", "Small networks that think recursively."),
        entry("Flow Matching for Proteins", "Generative models of protein backbones."),
    ), mtime="2025-12-11")
    ok(runner, "index")
    assert ok(runner, "new") == ("3 new papers since you last looked "
                                 "(1 matches your saved search 'agents')\n")
    report = json.loads(ok(runner, "new", "--json"))
    assert report["new"] == 3 and report["since"] is not None
    assert report["saved"] == [{"name": "agents", "query": "agent", "new": 1,
                                "since": report["saved"][0]["since"]}]
    # `papers new` only tells: it marks nothing seen.
    assert new_count(runner) == 3
    pid = papers(runner, "tiny")["Tiny Recursive Models"]["id"]
    ok(runner, "skip", pid)
    assert ok(runner, "new").startswith("2 new papers since you last looked")


def test_new_says_nothing_new_quietly_with_exit_zero(samples, runner, home):
    with UserData(home) as ud:
        ud.mark_seen(scope.ALL.query)
    result = run(runner, "new")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "nothing new\n", "")
    assert json.loads(ok(runner, "new", "--json")) == {
        "new": 0, "since": json.loads(ok(runner, "new", "--json"))["since"], "saved": []}


def test_new_before_anything_was_looked_at_says_so(samples, runner):
    n = len(papers(runner))
    assert ok(runner, "new") == f"{n} new papers (the reader has not shown them yet)\n"
    assert json.loads(ok(runner, "new", "--json"))["since"] is None
