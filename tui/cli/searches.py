"""Saved searches: save, saved, unsave (run one with `papers find --saved NAME`)."""

from __future__ import annotations

import click

from papers.index import jsontext
from papers.index.errors import NotFound
from papers.tui.cli.common import Context, json_option, pass_ctx
from papers.tui.cli.output import say


@click.command()
@click.argument("name")
@click.argument("query", nargs=-1, required=True)
@pass_ctx
def save(ctx: Context, name: str, query: tuple[str, ...]) -> None:
    """Save a search under NAME (use it with `find --saved NAME`)."""
    from papers.index.query import plan_query

    text = " ".join(query)
    store = ctx.store()
    lib = ctx.library()
    plan = plan_query(text, store, lib.manifest)
    if plan.text:
        lib.parse(plan.text)  # a query that cannot run is refused now, not when it is used
    store.save_search(name, text)
    say(f"saved search {name!r}: {text}")


@click.command()
@json_option("Print a JSON array of {name, query}.")
@pass_ctx
def saved(ctx: Context, as_json: bool) -> None:
    """List saved searches."""
    searches = ctx.store().saved_searches()
    if as_json:
        click.echo(jsontext.dumps([{"name": s.name, "query": s.query} for s in searches]))
        return
    if not searches:
        say("no saved searches yet: `papers save NAME QUERY`")
    for s in searches:
        say(f"{s.name}\t{s.query}")


@click.command()
@click.argument("name")
@pass_ctx
def unsave(ctx: Context, name: str) -> None:
    """Delete a saved search."""
    if not ctx.store().unsave_search(name):
        raise NotFound(f"no saved search named {name!r}; `papers saved` lists them")
    say(f"deleted saved search {name!r}")


COMMANDS = (save, saved, unsave)
