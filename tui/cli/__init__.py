"""The `papers` command line: one function per command.

Imports of Whoosh and Textual happen inside the commands that need them, so that
`papers --help` and `papers find` start fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from papers.index import jsontext

EXIT_NO_RESULTS = 1
EXIT_USAGE = 2


class Context:
    """What every command shares: where the library lives."""

    def __init__(self, home: str | None):
        from papers.index.paths import data_home

        self.home = data_home(home)

    def library(self):
        from papers.index.library import Library

        return Library(self.home)


pass_ctx = click.make_pass_decorator(Context)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False), envvar="PAPERS_HOME",
              help="Data directory of the library (default: the platform's user data dir; "
                   "env PAPERS_HOME).")
@click.version_option(package_name="papers-tui", prog_name="papers")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """A terminal reader for Hugging Face Daily Papers digests.

    Run without a command to open the reader. Save a Daily Papers page as a text file,
    then `papers add FILE_OR_FOLDER`.
    """
    ctx.obj = Context(home)
    if ctx.invoked_subcommand is None:
        from papers.tui.launch import run_reader

        run_reader(ctx.obj.home)


@cli.command()
def demo() -> None:
    """Open the reader on a demo library (your own library is not touched)."""
    from papers.tui.launch import run_demo

    run_demo()


# -- ingest -----------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_ctx
def add(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Register digest files or folders (searched for *.txt and *.md) and ingest them."""
    from papers.index.sources import add_sources

    sources = add_sources(ctx.home, [Path(p) for p in paths])
    _run_ingest(ctx, sources, as_json=as_json)


@cli.command("index")
@click.option("--rebuild", is_flag=True, help="Build the index afresh from the same files.")
@click.option("--optimize", is_flag=True, help="Merge the index into one segment afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_ctx
def index_cmd(ctx: Context, rebuild: bool, optimize: bool, as_json: bool) -> None:
    """Re-scan the registered sources: read only new or changed digest files."""
    from papers.index.sources import load_sources

    sources = load_sources(ctx.home)
    if not sources:
        raise click.ClickException("no sources registered yet: add digests with `papers add PATH`")
    _run_ingest(ctx, sources, rebuild=rebuild, optimize=optimize, as_json=as_json)


def _run_ingest(ctx: Context, sources, *, rebuild=False, optimize=False, as_json=False,
                quiet=False) -> None:
    from papers.index.errors import LibraryError
    from papers.index.ingest import ingest
    from papers.tui import output

    with output.ingest_progress(enabled=not as_json) as progress:
        try:
            report = ingest(ctx.home, sources, rebuild=rebuild, optimize=optimize,
                            procs=min(os.cpu_count() or 1, 4), progress=progress)
        except LibraryError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(jsontext.dumps(report.to_json()))
        return
    if quiet:
        return
    if report.reason:
        output.err(report.reason)
    output.problems(report.problems)
    rate = ""
    written = report.papers_added + report.papers_updated
    if written and report.seconds > 0:
        rate = f" in {report.seconds:.1f}s ({written / report.seconds:,.0f} papers/s)"
    click.echo(report.summary() + rate)


# -- search -----------------------------------------------------------------------------


@cli.command()
@click.argument("query", nargs=-1)
@click.option("-n", "--limit", default=20, show_default=True,
              help="How many results to show (0 for all).")
@click.option("--sort", type=click.Choice(["relevance", "newest", "date", "upvotes", "title"]),
              default="relevance", show_default=True)
@click.option("--starred", is_flag=True, help="Only starred papers (same as is:starred).")
@click.option("--unread", is_flag=True, help="Only unread papers (same as is:unread).")
@click.option("--tag", "tags", multiple=True, help="Only papers with this tag (repeatable).")
@click.option("--saved", help="Run the saved search NAME (combined with QUERY if given).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of papers.")
@pass_ctx
def find(ctx: Context, query: tuple[str, ...], limit: int, sort: str, starred: bool,
         unread: bool, tags: tuple[str, ...], saved: str | None, as_json: bool) -> None:
    """Search the library with the Whoosh query language.

    \b
    Examples:
      papers find lora
      papers find 'title:"diffusion model" AND upvotes:[10 to]'
      papers find 'org:nvidia published:[2025-01 to 2025-06]'
      papers find 'lora~ -quantization' --sort upvotes
      papers find 'agents is:starred tag:to-read'
    With no query: every paper, newest first.
    """
    from papers.index.errors import PapersError
    from papers.index.scope import select
    from papers.index.userdata import UserData

    lib = _open_library(ctx)
    try:
        store = UserData(ctx.home)
        scope = option_scope(store, " ".join(query), starred, unread, tags, saved, sort)
        selection = select(lib, store, scope, limit=limit or None)
    except PapersError as exc:
        _fail(str(exc), as_json, EXIT_USAGE)
    if not selection.items:
        message = "no papers match" + (f" {selection.query!r}" if selection.query else "")
        suggestion = selection.suggestion
        if as_json:
            obj = {"error": message, **({"suggestion": suggestion} if suggestion else {})}
            click.echo(jsontext.dumps(obj), err=True)
            click.echo("[]")
        else:
            from papers.tui import output

            output.err(message + (f"; did you mean: {suggestion}" if suggestion else ""))
        sys.exit(EXIT_NO_RESULTS)
    if as_json:
        rows = [{**item.to_json(), "score": None if score is None else round(score, 4)}
                for item, score in zip(selection.items, selection.scores, strict=True)]
        click.echo(jsontext.dumps(rows, indent=2))
    else:
        from papers.tui import output

        output.results_table(selection, total=selection.total)


@cli.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as a JSON object.")
@pass_ctx
def show(ctx: Context, paper_id: str, as_json: bool) -> None:
    """Show one paper in full. ID may be any unique prefix of 4+ characters."""
    from papers.index.export import ExportItem
    from papers.index.userdata import UserData, paper_from_json
    from papers.tui import output

    lib = _open_library(ctx, required=False)
    store = UserData(ctx.home)
    pid = resolve_id(lib, paper_id, extra=store.all_ids())
    paper = lib.get(pid) if lib.exists else None
    snapshot = store.remembered(pid) if paper is None else None
    if paper is None and snapshot is None:
        output.err(f"no paper with id {pid}")
        sys.exit(EXIT_NO_RESULTS)
    item = ExportItem(paper or paper_from_json(snapshot), store.state(pid), gone=paper is None)
    if as_json:
        click.echo(jsontext.dumps({**item.to_json(), "score": None}, indent=2))
    else:
        output.paper_detail(item)


def option_scope(store, text: str, starred: bool, unread: bool, tags, saved: str | None,
                 sort: str):
    """The scope the filter options and QUERY describe."""
    from papers.index.scope import ALL, Scope, combine, saved_scope, tag_view

    extra = ["is:starred"] * starred + ["is:unread"] * unread + [tag_view(t).query for t in tags]
    text = combine(*extra, text)
    return saved_scope(store, saved, text, sort) if saved else Scope(ALL, text, sort)


def resolve_id(lib, prefix: str, extra: set[str] = frozenset()) -> str:
    """A full paper id from a unique prefix, or a clear error.

    `extra` are ids known elsewhere (user data of papers no longer in any digest).
    """
    from papers.tui import output

    prefix = prefix.strip().lower()
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
        raise click.BadParameter(f"{prefix!r} is not a paper id (4 to 12 hex characters)",
                                 param_hint="ID")
    matches = sorted(set(lib.resolve(prefix) if lib.exists else ())
                     | {i for i in extra if i.startswith(prefix)})
    if not matches:
        output.err(f"no paper with id {prefix}")
        sys.exit(EXIT_NO_RESULTS)
    if len(matches) > 1:
        raise click.BadParameter(
            f"{prefix!r} matches {len(matches)} papers ({', '.join(matches[:5])}"
            f"{', ...' if len(matches) > 5 else ''}); type more of it", param_hint="ID")
    return matches[0]


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the numbers as a JSON object.")
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    """How large the library is and where it lives."""
    from papers.index.sources import load_sources
    from papers.tui import output

    lib = _open_library(ctx, required=False)
    exists = lib.exists
    data = {
        "papers": lib.count() if exists else 0,
        "digests": len(lib.manifest().files) if exists else 0,
        "sources": len(load_sources(ctx.home)),
        "index_bytes": lib.size_bytes() if exists else 0,
        "home": str(ctx.home),
    }
    if as_json:
        click.echo(jsontext.dumps(data))
    else:
        output.stats_table(data)


@cli.command()
@click.option("--repair", is_flag=True,
              help="Rebuild a damaged index from the digests and restore damaged user data "
                   "from the newest backup (damaged files are kept aside, never deleted).")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@pass_ctx
def doctor(ctx: Context, repair: bool, as_json: bool) -> None:
    """Check the index, its manifest, user data, sources and backups."""
    from papers.index.doctor import check, healthy
    from papers.index.doctor import repair as run_repair

    findings = check(ctx.home)
    actions: list[str] = []
    if repair and not healthy(findings):
        actions = run_repair(ctx.home)
        findings = check(ctx.home)
    if as_json:
        click.echo(jsontext.dumps({"healthy": healthy(findings), "repaired": actions,
                                   "findings": [f.to_json() for f in findings]}, indent=2))
    else:
        for action in actions:
            click.echo(f"repaired: {action}")
        for finding in findings:
            click.echo(str(finding))
        click.echo("the library is healthy" if healthy(findings) else
                   "problems found" + ("" if repair else "; `papers doctor --repair` fixes them"))
    if not healthy(findings):
        sys.exit(1)


# -- helpers ----------------------------------------------------------------------------


def _open_library(ctx: Context, *, required: bool = True):
    """The library, opened (rebuilt first if its format is old), or a clean error.

    `required=False`: no library yet is fine (user data alone), a damaged one is not.
    """
    from papers.index.errors import LibraryError
    from papers.index.sources import load_sources

    lib = ctx.library()
    if not required and not lib.exists:
        return lib
    if lib.outdated and load_sources(ctx.home):
        from papers.tui import output

        output.err("the library format changed in this version; rebuilding the index from "
                   "your digests (stars, tags and notes are kept)")
        _run_ingest(ctx, load_sources(ctx.home), rebuild=True, quiet=True)
        lib = ctx.library()
    try:
        lib.searcher()
    except LibraryError as exc:
        raise click.ClickException(str(exc)) from None
    return lib


def _fail(message: str, as_json: bool, code: int):
    from papers.tui import output

    if as_json:
        click.echo(jsontext.dumps({"error": message}), err=True)
    else:
        output.err(message)
    sys.exit(code)


def main() -> None:
    cli(prog_name="papers")


def _register() -> None:
    from papers.tui.reading_cli import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_register()
