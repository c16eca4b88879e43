"""`papers sync`: share the user data with other machines through a folder they all sync.

The work is `papers.index.sync`; here are the options and what is printed.
"""

from __future__ import annotations

from pathlib import Path

import click

from papers.index import jsontext
from papers.tui.cli.common import Context, json_option, pass_ctx
from papers.tui.cli.output import say


@click.command("sync")
@click.argument("folder", required=False, type=click.Path(file_okay=False))
@click.option("--status", "show_status", is_flag=True,
              help="Say what is there instead of syncing: the machines seen and the last "
                   "change from each, what is not sent or applied yet, marks waiting for "
                   "their papers.")
@json_option("Print the summary (or the status) as one JSON object.")
@pass_ctx
def sync_cmd(ctx: Context, folder: str | None, show_status: bool, as_json: bool) -> None:
    """Share stars, read marks, tags, notes, saved searches, skips, mutes and snoozes with
    your other machines.

    FOLDER is any folder every machine sees: Syncthing, Dropbox, a git repository, a network
    share. This machine appends its changes to FOLDER/<machine id>.jsonl, a file no other
    machine writes, and applies the changes in every other machine's file it has not applied
    yet. The same changes give the same data on every machine, in whatever order they
    arrive; the later change wins, and a note edited on two machines at once keeps the
    other text in its history (shown by --status).

    Without FOLDER: the sync_dir setting. The first FOLDER given becomes that setting, and
    then `papers index` syncs on its own.
    """
    from papers.index import sync
    from papers.index.errors import InputError

    target = Path(folder).expanduser() if folder else sync.sync_dir(ctx.home)
    if show_status:
        _status(ctx, target, as_json)
        return
    if target is None:
        raise InputError("no sync folder: `papers sync DIR` syncs through DIR and keeps it as "
                         "the sync_dir setting")
    saved = False
    if folder and sync.sync_dir(ctx.home) is None:
        sync.save_sync_dir(ctx.home, target)
        saved = True
    report = sync.sync(ctx.home, target, userdata=ctx.store())
    lib = ctx.library()
    if lib.exists and not lib.outdated:
        sync.remember_arrived(ctx.store(), lib)
    if as_json:
        click.echo(jsontext.dumps({**report.to_json(), "saved_as_sync_dir": saved}))
        return
    from papers.tui.cli import output

    output.problems(report.problems)
    say(report.summary())
    if saved:
        say(f"{target} is now the sync folder (settings.json): `papers sync` and "
            "`papers index` sync there on their own")


def _status(ctx: Context, folder: Path | None, as_json: bool) -> None:
    from papers.index import sync
    from papers.index.errors import PapersError

    try:
        lib = ctx.open_library(required=False)
        library = lib if lib.exists else None
    except PapersError:  # a damaged index: what waits for it cannot be told, the rest can
        library = None
    store = ctx.store()
    data = sync.status(ctx.home, folder, store, library)
    notes = {pid: [{"text": v.text, "machine": v.machine,
                    "at": v.at.isoformat(timespec="seconds") if v.at else None}
                   for v in store.note_history(pid)]
             for pid in data["note_conflicts"]}
    if as_json:
        click.echo(jsontext.dumps({**data, "note_conflicts": notes}, indent=2))
        return
    say(f"this machine: {data['machine']}")
    say(f"sync folder: {data['folder'] or 'none (`papers sync DIR` sets one)'}")
    for m in data["machines"]:
        this = " (this one)" if m["this"] else ""
        say(f"  {m['machine']}{this}: {_n(m['changes'], 'change')}, last at {m['last']}")
    if not data["machines"]:
        say("  no changes from any machine yet")
    say(f"not sent yet: {_n(data['to_send'], 'change')}")
    if folder is not None:
        say(f"in the folder, not applied yet: {_n(data['to_apply'], 'change')}")
    waiting = data["waiting"]
    if waiting:
        shown = ", ".join(waiting[:5]) + (", ..." if len(waiting) > 5 else "")
        say(f"waiting for their papers (marks kept, shown once a digest has them): "
            f"{_n(len(waiting), 'paper')}: {shown}")
    for kind, n in data["unknown_kinds"].items():
        say(f"kept for a newer papers: {_n(n, 'mark')} of kind {kind!r}")
    for pid, versions in notes.items():
        say(f"note of {pid} was also edited elsewhere at the same time; kept:")
        for v in versions:
            say(f"  from {v['machine']} at {v['at']}: {v['text']}")
    from papers.tui.cli import output

    output.problems(data["problems"])


def _n(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


COMMANDS = (sync_cmd,)
