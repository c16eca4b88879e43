"""Export a reading list: a scope's papers as Markdown, JSON, CSV or BibTeX."""

from __future__ import annotations

import sys
from datetime import date

import click

from papers.tui.cli.common import Context, filter_options, option_scope, pass_ctx, sort_option
from papers.tui.cli.output import say


@click.command()
@click.argument("query", nargs=-1)
@filter_options
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv", "bibtex", "csl"]),
              default="md", show_default=True,
              help="Markdown, JSON, CSV, BibTeX, or CSL-JSON (what Zotero and pandoc import).")
@click.option("--group-by", type=click.Choice(["none", "tag", "digest", "month"]),
              default="none", show_default=True)
@click.option("--abstracts/--no-abstracts", default=True, show_default=True,
              help="Fold each abstract into the Markdown list.")
@sort_option("newest")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Write to FILE (atomically) instead of standard output.")
@pass_ctx
def export(ctx: Context, query, starred, unread, new, tags, saved, fmt, group_by, abstracts,
           sort, out) -> None:
    """Export a reading list; by default the starred papers as Markdown.

    \b
    Examples:
      papers export > reading-list.md
      papers export --tag to-read --group-by month -o ~/notes/to-read.md
      papers export 'diffusion is:unread' --format bibtex
      papers export 'digest:2025-03-18' --format csv
      papers export 'tag:thesis' --format csl -o thesis.json
    """
    from papers.index.errors import from_os_error
    from papers.index.export import render, write_atomic
    from papers.index.scope import select

    text = " ".join(query)
    if not (text or unread or new or tags or saved):
        starred = True
    store = ctx.store()
    scope = option_scope(store, text, starred, unread, tags, saved, sort, new)
    selection = select(ctx.open_library(), store, scope)
    fmt = {"md": "markdown"}.get(fmt, fmt)
    body = render(selection.items, fmt, query=selection.query.strip() or None,
                  group_by=group_by, abstracts=abstracts, today=date.today())
    if not out:
        sys.stdout.write(body)
        return
    try:
        write_atomic(out, body)
    except OSError as exc:
        raise from_os_error(exc, "write") from exc
    n = len(selection.items)
    say(f"wrote {n} paper{'s' if n != 1 else ''} to {out}", err=True)


COMMANDS = (export,)
