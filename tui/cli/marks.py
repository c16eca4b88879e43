"""What the user says about papers: stars, read marks, tags, notes, and undo."""

from __future__ import annotations

import click

from papers.index import jsontext
from papers.tui.cli.common import Context, json_option, pass_ctx, resolve_all
from papers.tui.cli.output import say


def _say(change, done: str, already: str) -> None:
    n = len(change.changed)
    text = f"{done} {n} paper{'s' if n != 1 else ''}"
    if change.unchanged:
        text += f" ({len(change.unchanged)} {already})"
    say(text)


def _flag_command(name: str, method: str, done: str, already: str, help_text: str):
    @click.command(name, help=help_text)
    @click.argument("ids", nargs=-1, required=True)
    @pass_ctx
    def command(ctx: Context, ids: tuple[str, ...]) -> None:
        full, papers = resolve_all(ctx, ids)
        _say(getattr(ctx.store(), method)(full, remember=papers), done, already)

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
    [pid], papers = resolve_all(ctx, (paper_id,))
    change = ctx.store().add_tags(pid, tags, remember=papers)
    say(f"tagged {pid}: {', '.join(change.changed) or 'nothing new'}")


@click.command()
@click.argument("paper_id")
@click.argument("tags", nargs=-1, required=True)
@pass_ctx
def untag(ctx: Context, paper_id: str, tags: tuple[str, ...]) -> None:
    """Remove tags from a paper."""
    [pid], papers = resolve_all(ctx, (paper_id,))
    change = ctx.store().remove_tags(pid, tags, remember=papers)
    say(f"untagged {pid}: {', '.join(change.changed) or 'it had none of them'}")


@click.command("tags")
@json_option("Print a JSON array of {tag, papers}.")
@pass_ctx
def tags_cmd(ctx: Context, as_json: bool) -> None:
    """Every tag with the number of papers that carry it."""
    tags = ctx.store().tags()
    if as_json:
        click.echo(jsontext.dumps([{"tag": t, "papers": n} for t, n in tags]))
        return
    if not tags:
        say("no tags yet: `papers tag ID TAG`")
    for name, count in tags:
        say(f"{count:>5}  {name}")


@click.command()
@click.argument("paper_id")
@click.option("--set", "text", help="Set the note to TEXT without opening an editor "
                                    "(an empty TEXT removes the note).")
@pass_ctx
def note(ctx: Context, paper_id: str, text: str | None) -> None:
    """Edit a paper's note in $EDITOR."""
    from papers.index.models import Paper
    from papers.tui.notefile import note_from_edit, note_template

    [pid], papers = resolve_all(ctx, (paper_id,))
    store = ctx.store()
    current = store.state(pid).note or ""
    if text is None:
        # The reader's note file: the note above a scissors line, so `# ` headings stay.
        paper = papers[0] if papers else store.remembered(pid) or Paper(pid, pid, "")
        edited = click.edit(note_template(current, paper), extension=".md")
        if edited is None:
            say("note unchanged")
            return
        text = note_from_edit(edited)
    if text == current:
        say("note unchanged")
        return
    store.set_note(pid, text, remember=papers)
    say(f"note {'saved' if text else 'removed'} for {pid}")


@click.command()
@pass_ctx
def undo(ctx: Context) -> None:
    """Revert the last change to stars, read marks, tags, notes, saved searches, skips, mute
    rules or snoozes."""
    say(ctx.store().undo() or "nothing to undo")


COMMANDS = (star, unstar, read, unread, tag, untag, tags_cmd, note, undo)
