"""Asking the library: find (a scope's papers) and show (one paper in full)."""

from __future__ import annotations

import click

from papers.index import jsontext
from papers.index.errors import NotFound
from papers.tui.cli.common import (
    Context,
    filter_options,
    json_option,
    option_scope,
    pass_ctx,
    resolve_id,
    sort_option,
)


class NoMatch(NotFound):
    """A search that found nothing, with the spelling it may have meant."""

    def __init__(self, query: str, suggestion: str | None):
        message = f"no papers match {query!r}" if query else "the library has no papers"
        super().__init__(message + (f"; did you mean: {suggestion}" if suggestion else ""))
        # What the error boundary prints for --json.
        self.json = {"error": message, **({"suggestion": suggestion} if suggestion else {})}


@click.command()
@click.argument("query", nargs=-1)
@click.option("-n", "--limit", default=20, show_default=True,
              help="How many results to show (0 for all).")
@sort_option("relevance")
@filter_options
@json_option("Print a JSON array of papers.")
@pass_ctx
def find(ctx: Context, query: tuple[str, ...], limit: int, sort: str, starred: bool,
         unread: bool, new: bool, tags: tuple[str, ...], saved: str | None,
         as_json: bool) -> None:
    """Search the library with the Whoosh query language. Exit 1 when no paper matches.

    \b
    Examples:
      papers find lora
      papers find 'title:"diffusion model" AND upvotes:[10 to]'
      papers find 'org:nvidia published:[2025-01 to 2025-06]'
      papers find 'lora~ -quantization' --sort upvotes
      papers find 'agents is:starred tag:to-read'
      papers find 'digest:2025-03-18'   papers find 'month:2025-03 is:unread'
      papers find --sort foryou --new    papers find 'for:agents'
    With no query: every paper, newest first. --sort foryou (or for:TAG) ranks by what
    you starred (or tagged TAG), and --json says why under "why".
    """
    from papers.index.scope import select

    lib = ctx.open_library()
    store = ctx.store()
    scope = option_scope(store, " ".join(query), starred, unread, tags, saved, sort, new)
    selection = select(lib, store, scope, limit=limit or None)
    if not selection.items:
        if as_json:
            click.echo("[]")
        raise NoMatch(selection.query, selection.suggestion)
    if as_json:
        rows = [{**item.to_json(), "score": None if score is None else round(score, 4)}
                for item, score in zip(selection.items, selection.scores, strict=True)]
        if selection.why is not None:
            for row, reasons in zip(rows, selection.why, strict=False):
                row["why"] = [reason.text for reason in reasons]
        click.echo(jsontext.dumps(rows, indent=2))
    else:
        from papers.tui.cli import output

        output.results_table(selection, total=selection.total)


@click.command()
@click.argument("paper_id")
@json_option("Print the paper as a JSON object.")
@pass_ctx
def show(ctx: Context, paper_id: str, as_json: bool) -> None:
    """Show one paper in full. ID may be any unique prefix of 4+ characters."""
    from papers.index.export import ExportItem

    lib = ctx.open_library(required=False)
    store = ctx.store()
    pid = resolve_id(lib, paper_id, extra=store.all_ids())
    paper = lib.get(pid) if lib.exists else None
    snapshot = store.remembered(pid) if paper is None else None
    if paper is None and snapshot is None:
        raise NotFound(f"no paper with id {pid}")
    item = ExportItem(paper or snapshot, store.state(pid), gone=paper is None)
    if as_json:
        click.echo(jsontext.dumps({**item.to_json(), "score": None}, indent=2))
    else:
        from papers.tui.cli import output

        output.paper_detail(item)


COMMANDS = (find, show)
