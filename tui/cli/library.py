"""Building and checking the library: add, index, stats, doctor, and the demo."""

from __future__ import annotations

import os
from pathlib import Path

import click

from papers.index import jsontext
from papers.tui.cli.common import (
    Context,
    json_option,
    pass_ctx,
    registered_sources,
    run_ingest,
)
from papers.tui.cli.output import say


@click.command()
def demo() -> None:
    """Open the reader on a demo library (your own library is not touched)."""
    from papers.tui.launch import run_demo

    run_demo()


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@json_option("Print the summary as one JSON object.")
@pass_ctx
def add(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Register digest files or folders (searched for *.txt, *.md, *.json and *.jsonl) and
    ingest them."""
    from papers.index.sources import add_sources

    sources = add_sources(ctx.home, [Path(p) for p in paths])
    run_ingest(ctx, sources, as_json=as_json)


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Build the index afresh from the same files.")
@click.option("--optimize", is_flag=True, help="Merge the index into one segment afterwards.")
@click.option("--prune", is_flag=True,
              help="Remove the papers of sources that are missing (by default they are kept: "
                   "an unmounted disk is not an empty one).")
@json_option("Print the summary as one JSON object.")
@pass_ctx
def index_cmd(ctx: Context, rebuild: bool, optimize: bool, prune: bool, as_json: bool) -> None:
    """Re-scan the registered sources: read only new or changed digest files.

    With a sync folder set (`papers sync DIR`), then sync the user data through it.
    """
    run_ingest(ctx, registered_sources(ctx), rebuild=rebuild, optimize=optimize, prune=prune,
               as_json=as_json)
    _sync_on_its_own(ctx, quiet=as_json)


def _sync_on_its_own(ctx: Context, quiet: bool) -> None:
    """Sync when a sync folder is set. The index is built whatever happens here: a sync that
    fails is said on stderr and does not fail the command."""
    from papers.index import sync
    from papers.index.errors import PapersError
    from papers.tui.cli import output

    try:
        folder = sync.sync_dir(ctx.home)
        if folder is None:
            return
        report = sync.sync(ctx.home, folder, userdata=ctx.store())
        lib = ctx.library()
        if lib.exists:
            sync.remember_arrived(ctx.store(), lib)
    except PapersError as exc:
        output.err(f"sync: {exc}")
        return
    output.problems(report.problems)
    if not quiet:  # --json prints the ingest's one object only
        say(report.summary())


@click.command("sources")
@json_option("Print the sources as a JSON array.")
@pass_ctx
def sources_cmd(ctx: Context, as_json: bool) -> None:
    """List the registered digest files and folders, and whether each is there."""
    from papers.index.sources import status

    lib = ctx.library()
    known = lib.manifest().files if lib.exists else {}
    rows = []
    for source, state in status(ctx.home, known):
        inside = str(source) + os.sep
        digests = [k for k in known if k == str(source) or k.startswith(inside)]
        papers = len({pid for k in digests for pid in known[k].papers})
        rows.append({"source": str(source), "status": state, "digests": len(digests),
                     "papers": papers})
    if as_json:
        click.echo(jsontext.dumps(rows, indent=2))
        return
    if not rows:
        say("no sources registered yet: `papers add PATH`")
    for row in rows:
        say(f"{row['status']:<8} {row['digests']:>5} digests {row['papers']:>7} papers  "
            f"{row['source']}")


@click.command("remove")
@click.argument("source", type=click.Path())
@json_option("Print the summary as one JSON object.")
@pass_ctx
def remove(ctx: Context, source: str, as_json: bool) -> None:
    """Unregister a digest file or folder, and remove the papers only it gave.

    The files themselves are not touched; `papers add` registers it again.
    """
    from papers.index.errors import NotFound
    from papers.index.sources import load_sources, remove_source

    gone = remove_source(ctx.home, Path(source))
    if gone is None:
        raise NotFound(f"{source} is not a registered source; `papers sources` lists them")
    if not as_json:
        say(f"unregistered {gone}")
    run_ingest(ctx, load_sources(ctx.home), prune=True, as_json=as_json)


@click.command()
@json_option("Print the numbers as a JSON object.")
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    """How large the library is and where it lives."""
    from papers.index.sources import status
    from papers.tui.cli import output

    lib = ctx.open_library(required=False)
    exists = lib.exists
    known = lib.manifest().files if exists else {}
    states = [state for _, state in status(ctx.home, known)]
    data = {
        "papers": lib.count() if exists else 0,
        "digests": len(known),
        "sources": len(states),
        "missing_sources": sum(state != "ok" for state in states),
        "index_bytes": lib.size_bytes() if exists else 0,
        "home": str(ctx.home),
    }
    if as_json:
        click.echo(jsontext.dumps(data))
    else:
        output.stats_table(data)


@click.command()
@click.option("--repair", is_flag=True,
              help="Rebuild a damaged index from the digests and restore damaged user data "
                   "from the newest backup (damaged files are kept aside, never deleted).")
@json_option("Print the findings as JSON.")
@pass_ctx
def doctor(ctx: Context, repair: bool, as_json: bool) -> None:
    """Check the index, its manifest, user data, sources and backups.

    Exit 1 when it finds problems (after --repair: problems it could not fix).
    """
    from papers.index.doctor import check, healthy
    from papers.index.doctor import repair as run_repair

    home = ctx.home
    findings = check(home)
    actions: list[str] = []
    if repair and not healthy(findings):
        actions = run_repair(home)
        findings = check(home)
    if as_json:
        click.echo(jsontext.dumps({"healthy": healthy(findings), "repaired": actions,
                                   "findings": [f.to_json() for f in findings]}, indent=2))
    else:
        for action in actions:
            say(f"repaired: {action}")
        for finding in findings:
            say(str(finding))
        say("the library is healthy" if healthy(findings) else
                   "problems found" + ("" if repair else "; `papers doctor --repair` fixes them"))
    if not healthy(findings):
        raise click.exceptions.Exit(1)


COMMANDS = (add, index_cmd, sources_cmd, remove, stats, doctor, demo)
