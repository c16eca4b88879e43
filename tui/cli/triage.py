"""Keeping the inbox small: not interested (skip), mute rules, snoozes, and what is new."""

from __future__ import annotations

import re
from datetime import date, timedelta

import click

from papers.index import jsontext
from papers.index.errors import InputError, NotFound
from papers.tui.cli.common import Context, json_option, pass_ctx, resolve_all
from papers.tui.cli.output import say

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"(\d{1,4})\s*([dw])")
UNTIL_HELP = "UNTIL: a date (2026-12-09), tomorrow, 3d, 2w, or a weekday (monday: the next one)."


def parse_until(text: str, today: date) -> date:
    """The day a snooze ends, from what a person types; it must be after `today`."""
    word = text.strip().lower()
    if word == "tomorrow":
        day = today + timedelta(days=1)
    elif span := _SPAN.fullmatch(word):
        n = int(span[1])
        day = today + timedelta(days=n if span[2] == "d" else 7 * n)
    elif len(word) >= 3 and (names := [d for d in WEEKDAYS if d.startswith(word)]):
        # The next such day: "monday" on a Monday is a week away, never today.
        day = today + timedelta(days=(WEEKDAYS.index(names[0]) - today.weekday() - 1) % 7 + 1)
    else:
        try:
            day = date.fromisoformat(word)
        except ValueError:
            raise InputError(f"not a date: {text!r}; give 2026-12-09, tomorrow, 3d, 2w or "
                             "a weekday") from None
    if day <= today:
        raise InputError(f"{day.isoformat()} is not after today ({today.isoformat()}): "
                         "a snooze ends on a later day")
    return day


def _count(n: int, what: str = "paper") -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _say(change, done: str, already: str, after: str = "") -> None:
    text = f"{done} {_count(len(change.changed))}{after}"
    if change.unchanged:
        text += f" ({len(change.unchanged)} {already})"
    say(text)


@click.command()
@click.argument("ids", nargs=-1, required=True)
@pass_ctx
def skip(ctx: Context, ids: tuple[str, ...]) -> None:
    """Mark papers not interested: New and For you hide them, and For you learns from it."""
    full, papers = resolve_all(ctx, ids)
    _say(ctx.store().skip(full, remember=papers), "skipped", "already skipped")


@click.command()
@click.argument("ids", nargs=-1, required=True)
@pass_ctx
def unskip(ctx: Context, ids: tuple[str, ...]) -> None:
    """Take back "not interested"."""
    full, papers = resolve_all(ctx, ids)
    _say(ctx.store().unskip(full, remember=papers), "unskipped", "were not skipped")


@click.command()
@click.argument("query", nargs=-1, required=True)
@pass_ctx
def mute(ctx: Context, query: tuple[str, ...]) -> None:
    """Hide the papers QUERY matches from New and For you (now and as they come)."""
    from papers.index import scope

    text = " ".join(query).strip()
    if not text:
        raise InputError("a mute rule needs a query")
    store = ctx.store()
    lib = ctx.open_library(required=False)
    # Run it once now: a query that cannot run is refused before it becomes a rule.
    matched = scope.select(lib, store, scope.Scope(text=text), limit=1).total \
        if lib.exists else None
    change = store.mute(text)
    if not change:
        say(f"{text!r} is already muted")
    elif matched is None:
        say(f"muted {text!r} (no library yet to match it against)")
    else:
        say(f"muted {text!r}: it hides {_count(matched)} now")


@click.command()
@click.argument("query", nargs=-1, required=True)
@pass_ctx
def unmute(ctx: Context, query: tuple[str, ...]) -> None:
    """Delete a mute rule (as `papers mutes` lists it)."""
    text = " ".join(query).strip()
    if not ctx.store().unmute(text):
        raise NotFound(f"no mute rule {text!r}; `papers mutes` lists them")
    say(f"unmuted {text!r}")


@click.command()
@json_option("Print a JSON array of {query, at}.")
@pass_ctx
def mutes(ctx: Context, as_json: bool) -> None:
    """List the mute rules, oldest first."""
    rules = ctx.store().mutes()
    if as_json:
        click.echo(jsontext.dumps([{"query": m.query, "at": m.at.isoformat()} for m in rules]))
        return
    if not rules:
        say("no mute rules: `papers mute QUERY` hides what it matches from New and For you")
    for m in rules:
        say(f"{m.at.date().isoformat()}  {m.query}")


@click.command(epilog=UNTIL_HELP)
@click.argument("ids", nargs=-1, required=True)
@click.argument("until")
@pass_ctx
def snooze(ctx: Context, ids: tuple[str, ...], until: str) -> None:
    """Hide papers from New and For you until a day (they are back on that day)."""
    day = parse_until(until, date.today())
    full, papers = resolve_all(ctx, ids)
    _say(ctx.store().snooze(full, day, remember=papers), "snoozed",
         "already snoozed until then", f" until {day:%a} {day.isoformat()}")


@click.command()
@click.argument("ids", nargs=-1, required=True)
@pass_ctx
def unsnooze(ctx: Context, ids: tuple[str, ...]) -> None:
    """Bring snoozed papers back now."""
    full, papers = resolve_all(ctx, ids)
    _say(ctx.store().unsnooze(full, remember=papers), "unsnoozed", "were not snoozed")


@click.command()
@json_option("Print {new, since, saved: [{name, query, new, since}]}.")
@pass_ctx
def new(ctx: Context, as_json: bool) -> None:
    """How many papers came in since the reader last showed them (for cron or a login
    shell): in the library, and in each saved search. Marks nothing seen."""
    from papers.index import scope

    lib = ctx.open_library()
    store = ctx.store()
    # new_count, not len(new_ids): counting reads no stored paper (all of them, the first
    # time, in a library of 100k).
    total = scope.new_count(lib, store, scope.ALL)
    saved = []
    for s in store.saved_searches():
        view = scope.saved_view(s.name, s.query)
        saved.append({"name": s.name, "query": s.query,
                      "new": scope.new_count(lib, store, view),
                      "since": store.seen_at(view.query)})
    if as_json:
        click.echo(jsontext.dumps({"new": total, "since": store.seen_at(scope.ALL.query),
                                   "saved": saved}))
        return
    say(_summary(total, store.seen_at(scope.ALL.query) is not None,
                 [(s["name"], s["new"]) for s in saved if s["new"]]))


def _summary(total: int, looked: bool, saved: list[tuple[str, int]]) -> str:
    """'12 new papers since you last looked (3 match your saved search 'agents')'."""
    if not total and not saved:
        return "nothing new"
    head = (f"{_count(total, 'new paper')} since you last looked" if looked
            else f"{_count(total, 'new paper')} (the reader has not shown them yet)")
    if not saved:
        return head
    if len(saved) == 1:
        (name, n), = saved
        return f"{head} ({n} {'match' if n != 1 else 'matches'} your saved search {name!r})"
    return f"{head} (new in your saved searches: " + \
        ", ".join(f"{name!r} {n}" for name, n in saved) + ")"


COMMANDS = (skip, unskip, mute, unmute, mutes, snooze, unsnooze, new)
