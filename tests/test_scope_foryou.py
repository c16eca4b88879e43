"""For you, New and Rising through the one query path: what each view lists, what it hides
(not interested, snoozed, muted), and what "new since you last looked" counts."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from _app_library import DAY_ONE, DAY_TWO, build_library, digest_text

from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.scope import (
    ALL,
    FOR_YOU,
    NEW,
    Scope,
    Untaught,
    for_view,
    new_count,
    new_ids,
    rising_view,
    saved_view,
    select,
    why,
)
from papers.index.sources import load_sources
from papers.index.userdata import UserData
from papers.tui.cli import cli

VIDEO = paper_id("Diffusion Models for Video Generation")
SCALE = paper_id("Diffusion Transformers at Scale")
AGENTS = paper_id("Language Agents That Plan")
REWARD = paper_id("Reward Models and Length Bias")
SPARSE = paper_id("Sparse Attention for Long Context")
EVERY = {paper_id(t) for t, _, _ in DAY_ONE + DAY_TWO}

DAY_THREE = [
    ("Diffusion Policies for Robot Control",
     "A diffusion model generates robot actions; diffusion policies beat behaviour cloning.",
     "  • 3 authors\n·\nDec 11 12"),
    ("Reward Hacking in Language Agents",
     "Agents exploit reward models; we measure reward hacking across agent benchmarks.",
     "  • 2 authors\n·\nDec 11 4"),
]
ROBOT = paper_id("Diffusion Policies for Robot Control")
HACKING = paper_id("Reward Hacking in Language Agents")


@pytest.fixture
def home(tmp_path):
    return build_library(tmp_path)


@pytest.fixture
def lib(home):
    library = Library(home)
    yield library
    library.close()


@pytest.fixture
def ud(home):
    with UserData(home) as store:
        yield store


def listed(lib, ud, view, text="", sort="relevance", today=None) -> list[str]:
    return [item.paper.id for item in select(lib, ud, Scope(view, text, sort), today=today).items]


def add_day_three(home, lib) -> None:
    (home.parent / "digests" / "2025-12-11.txt").write_text(
        digest_text("Dec 11, 2025", DAY_THREE), "utf-8")
    ingest(home, load_sources(home), procs=1)
    lib.close()


def test_for_you_with_nothing_learned_says_how_to_teach_it(lib, ud, home, runner):
    with pytest.raises(Untaught, match="Star papers"):
        listed(lib, ud, FOR_YOU)
    result = runner.invoke(cli, ["--home", str(home), "find", "--sort", "foryou"])
    assert result.exit_code == 1
    assert "Star papers" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_for_you_ranks_like_the_stars_and_says_why(lib, ud, home, runner):
    ud.star([VIDEO])
    ranked = listed(lib, ud, FOR_YOU)
    assert VIDEO not in ranked  # learned from, not recommended back
    assert ranked[0] == SCALE  # the other diffusion paper
    reasons = [r.text for r in why(lib, ud, Scope(FOR_YOU), SCALE)]
    assert reasons and any("diffusion" in r.lower() for r in reasons)
    result = runner.invoke(cli, ["--home", str(home), "find", "--sort", "foryou", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert rows[0]["id"] == SCALE and rows[0]["why"] and rows[0]["score"] > 0
    # A plain sort has no taste and no reasons.
    plain = json.loads(runner.invoke(cli, ["--home", str(home), "find", "--json"]).output)
    assert "why" not in plain[0]
    assert why(lib, ud, Scope(ALL), SCALE) == []


def test_for_tag_ranks_like_the_tagged_papers(lib, ud):
    ud.add_tags(AGENTS, ["agents"])
    ranked = listed(lib, ud, for_view("agents"))
    assert AGENTS not in ranked and ranked
    # Sparse attention's abstract shares "language models" with the agents paper; the
    # diffusion papers share nothing and are not "for" this tag at all.
    assert SPARSE in ranked and SCALE not in ranked
    assert listed(lib, ud, ALL, "for:agents") == ranked


def test_not_interested_snoozed_and_muted_leave_for_you_and_new_only(lib, ud):
    ud.star([VIDEO])
    assert SCALE in listed(lib, ud, FOR_YOU)
    ud.skip([SCALE])
    assert SCALE not in listed(lib, ud, FOR_YOU) and SCALE not in listed(lib, ud, NEW)
    assert SCALE in listed(lib, ud, ALL)
    assert listed(lib, ud, ALL, "is:skipped") == [SCALE]
    assert ud.undo()
    assert SCALE in listed(lib, ud, FOR_YOU)

    today = date(2026, 12, 2)
    ud.snooze([SCALE], today + timedelta(days=1))
    assert SCALE not in listed(lib, ud, FOR_YOU, today=today)
    assert SCALE not in listed(lib, ud, NEW, today=today)
    assert listed(lib, ud, ALL, "is:snoozed", today=today) == [SCALE]
    back = today + timedelta(days=1)
    assert SCALE in listed(lib, ud, FOR_YOU, today=back)
    assert SCALE in listed(lib, ud, NEW, today=back)

    ud.mute("reward")
    assert REWARD not in listed(lib, ud, NEW, today=back)
    assert REWARD in listed(lib, ud, ALL)
    assert listed(lib, ud, ALL, "is:muted") == [REWARD]
    assert set(listed(lib, ud, ALL, "-is:muted")) == EVERY - {REWARD}


def test_new_counts_what_came_in_since_the_view_was_last_looked_at(lib, ud, home):
    assert new_count(lib, ud, ALL) == len(EVERY)  # never looked at: everything is new
    ud.mark_seen(ALL.query)
    assert new_count(lib, ud, ALL) == 0 and listed(lib, ud, NEW) == []
    ud.save_search("agents", "agents")
    agents = saved_view("agents", "agents")
    ud.mark_seen(agents.query)

    add_day_three(home, lib)
    assert new_ids(lib, ud, ALL) == {ROBOT, HACKING}
    assert set(listed(lib, ud, NEW)) == {ROBOT, HACKING}
    assert new_ids(lib, ud, agents) == {HACKING}
    ud.mark_seen(agents.query)
    assert new_count(lib, ud, agents) == 0 and new_count(lib, ud, ALL) == 2

    ud.star([VIDEO])
    assert ROBOT in new_ids(lib, ud, FOR_YOU)  # diffusion, like the star
    ud.mute("robot")
    assert ROBOT not in new_ids(lib, ud, ALL) and new_count(lib, ud, ALL) == 1


def test_new_papers_stay_new_after_a_rebuild(lib, ud, home):
    ud.mark_seen(ALL.query)
    add_day_three(home, lib)
    ingest(home, load_sources(home), procs=1, rebuild=True)
    lib.close()
    assert new_ids(lib, ud, ALL) == {ROBOT, HACKING}


def test_rising_this_week_is_the_last_week_of_digests_by_upvotes_gained(lib, ud):
    view = rising_view(lib.manifest(), today=date(2026, 12, 2))
    assert view.query == "seen:[2025-12-04 to 2025-12-10]" and view.sort == "rising"
    assert set(listed(lib, ud, view)) == EVERY
    before = rising_view(lib.manifest(), today=date(2025, 12, 9))
    assert before.query == "seen:[2025-12-03 to 2025-12-09]"
    assert set(listed(lib, ud, before)) == {paper_id(t) for t, _, _ in DAY_ONE}


def test_looking_at_new_itself_makes_its_papers_old(lib, ud, home):
    """A morning's triage happens in New: tomorrow New must not show today's papers again."""
    ud.mark_seen(ALL.query)
    add_day_three(home, lib)
    assert set(listed(lib, ud, NEW)) == {ROBOT, HACKING}
    ud.mark_seen(NEW.query)
    assert listed(lib, ud, NEW) == [] and new_count(lib, ud, ALL) == 0
