"""The reading-list commands: stars, read marks, tags, notes, saved searches, undo, export.

Each is a plain Click command; `tui.cli` adds them to the `papers` group.
"""

from __future__ import annotations

import sys
from datetime import date

import click

from papers.index import jsontext
from papers.tui.cli import Context, _open_library, pass_ctx, resolve_id


def _store(ctx: Context):
    from papers.index.errors import UserDataError
    from papers.index.userdata import UserData

    try:
        return UserData(ctx.home)
    except UserDataError as exc:
        raise click.ClickException(str(exc)) from None


def _resolve_all(ctx: Context, ids: tuple[str, ...]) -> tuple[list[str], list]:
    """Full ids from prefixes, and the papers to remember for the ones still indexed."""
    lib = _open_library(ctx, required=False)
    store = _store(ctx)
    full, papers = [], []
    for prefix in ids:
        pid = resolve_id(lib, prefix, extra=store.all_ids())
        full.append(pid)
        paper = lib.get(pid) if lib.exists else None
        if paper is not None:
            papers.append(paper)
    if papers:
        store.remember(*papers)
    return full, papers


def _say(change, done: str, already: str) -> None:
    n = len(change.changed)
    text = f"{done} {n} paper{'s' if n != 1 else ''}"
    if change.unchanged:
        text += f" ({len(change.unchanged)} {already})"
    click.echo(text)


def _flag_command(name: str, method: str, done: str, already: str, help_text: str):
    @click.command(name, help=help_text)
    @click.argument("ids", nargs=-1, required=True)
    @pass_ctx
    def command(ctx: Context, ids: tuple[str, ...]) -> None:
        full, _ = _resolve_all(ctx, ids)
        _say(getattr(_store(ctx), method)(full), done, already)

    return command


star = _flag_command("star", "star", "starred", "already starred",
                     "Star papers (IDs or unique prefixes).")
unstar = _flag_command("unstar", "unstar", "unstarred", "were not starred", "Remove stars.")
read = _flag_command("read", "mark_read", "marked read", "already read", "Mark papers read.")
unread = _flag_command("unread", "mark_unread", "marked unread", "were not read",
                       "Mark papers unread.")


@click.command()
@click.argument("paper_id")
@click.argument("tags", nargs=-1, required=True)
@pass_ctx
def tag(ctx: Context, paper_id: str, tags: tuple[str, ...]) -> None:
    """Add tags to a paper."""
    [pid], _ = _resolve_all(ctx, (paper_id,))
    try:
        change = _store(ctx).add_tags(pid, tags)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="TAG") from None
    added = ", ".join(change.changed) or "nothing new"
    click.echo(f"tagged {pid}: {added}")


@click.command()
@click.argument("paper_id")
@click.argument("tags", nargs=-1, required=True)
@pass_ctx
def untag(ctx: Context, paper_id: str, tags: tuple[str, ...]) -> None:
    """Remove tags from a paper."""
    [pid], _ = _resolve_all(ctx, (paper_id,))
    change = _store(ctx).remove_tags(pid, tags)
    click.echo(f"untagged {pid}: {', '.join(change.changed) or 'it had none of them'}")


@click.command("tags")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def tags_cmd(ctx: Context, as_json: bool) -> None:
    """Every tag with the number of papers that carry it."""
    tags = _store(ctx).tags()
    if as_json:
        click.echo(jsontext.dumps([{"tag": t, "papers": n} for t, n in tags]))
        return
    if not tags:
        click.echo("no tags yet: `papers tag ID TAG`")
    for name, count in tags:
        click.echo(f"{count:>5}  {name}")


@click.command()
@click.argument("paper_id")
@click.option("--set", "text", help="Set the note to TEXT without opening an editor "
                                    "(an empty TEXT removes the note).")
@pass_ctx
def note(ctx: Context, paper_id: str, text: str | None) -> None:
    """Edit a paper's note in $EDITOR."""
    [pid], papers = _resolve_all(ctx, (paper_id,))
    store = _store(ctx)
    current = store.state(pid).note or ""
    if text is None:
        title = papers[0].title if papers else pid
        edited = click.edit(current or f"\n# Note on: {title}\n# Lines starting with # are "
                                       "dropped.\n", extension=".md")
        if edited is None:
            click.echo("note unchanged")
            return
        text = "\n".join(line for line in edited.splitlines()
                         if not line.startswith("# ")).strip()
    if text == current:
        click.echo("note unchanged")
        return
    store.set_note(pid, text)
    click.echo(f"note {'saved' if text else 'removed'} for {pid}")


@click.command()
@click.argument("name")
@click.argument("query", nargs=-1, required=True)
@pass_ctx
def save(ctx: Context, name: str, query: tuple[str, ...]) -> None:
    """Save a search under NAME (use it with `find --saved NAME`)."""
    from papers.index.errors import QueryError
    from papers.index.query import plan_query

    text = " ".join(query)
    store = _store(ctx)
    try:
        plan = plan_query(text, store, ctx.library().manifest)
        if plan.text:
            ctx.library().parse(plan.text)
    except QueryError as exc:
        raise click.BadParameter(str(exc), param_hint="QUERY") from None
    store.save_search(name, text)
    click.echo(f"saved search {name!r}: {text}")


@click.command()
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def saved(ctx: Context, as_json: bool) -> None:
    """List saved searches."""
    searches = _store(ctx).saved_searches()
    if as_json:
        click.echo(jsontext.dumps([{"name": s.name, "query": s.query} for s in searches],
                              ensure_ascii=False))
        return
    if not searches:
        click.echo("no saved searches yet: `papers save NAME QUERY`")
    for s in searches:
        click.echo(f"{s.name}\t{s.query}")


@click.command()
@click.argument("name")
@pass_ctx
def unsave(ctx: Context, name: str) -> None:
    """Delete a saved search."""
    change = _store(ctx).unsave_search(name)
    if not change:
        raise click.ClickException(f"no saved search named {name!r}")
    click.echo(f"deleted saved search {name!r}")


@click.command()
@pass_ctx
def undo(ctx: Context) -> None:
    """Revert the last change to stars, read marks, tags, notes or saved searches."""
    what = _store(ctx).undo()
    click.echo(what or "nothing to undo")


@click.command()
@click.argument("query", nargs=-1)
@click.option("--starred", is_flag=True, help="Only starred papers.")
@click.option("--unread", is_flag=True, help="Only unread papers.")
@click.option("--tag", "tags", multiple=True, help="Only papers with this tag (repeatable).")
@click.option("--saved", help="Use a saved search.")
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv", "bibtex"]),
              default="md", show_default=True)
@click.option("--group-by", type=click.Choice(["none", "tag", "digest", "month"]),
              default="none", show_default=True)
@click.option("--abstracts/--no-abstracts", default=True, show_default=True,
              help="Fold each abstract into the Markdown list.")
@click.option("--sort", type=click.Choice(["relevance", "newest", "date", "upvotes", "title"]),
              default="newest", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="Write to FILE (atomically) instead of standard output.")
@pass_ctx
def export(ctx: Context, query, starred, unread, tags, saved, fmt, group_by, abstracts, sort,
           out) -> None:
    """Export a reading list; by default the starred papers as Markdown.

    \b
    Examples:
      papers export > reading-list.md
      papers export --tag to-read --group-by month -o ~/notes/to-read.md
      papers export 'diffusion is:unread' --format bibtex
    """
    from papers.index.errors import PapersError
    from papers.index.export import render, write_atomic
    from papers.index.scope import select
    from papers.tui.cli import option_scope

    text = " ".join(query)
    if not (text or unread or tags or saved):
        starred = True
    try:
        store = _store(ctx)
        scope = option_scope(store, text, starred, unread, tags, saved, sort)
        selection = select(_open_library(ctx), store, scope)
    except PapersError as exc:
        raise click.ClickException(str(exc)) from None
    label = selection.query
    fmt = {"md": "markdown"}.get(fmt, fmt)
    body = render(selection.items, fmt, query=label.strip() or None, group_by=group_by,
                  abstracts=abstracts, today=date.today())
    if out:
        try:
            write_atomic(out, body)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
        n = len(selection.items)
        click.echo(f"wrote {n} paper{'s' if n != 1 else ''} to {out}", err=True)
    else:
        sys.stdout.write(body)


COMMANDS = (star, unstar, read, unread, tag, untag, tags_cmd, note, save, saved, unsave, undo,
            export)
