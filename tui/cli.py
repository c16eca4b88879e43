"""The `papers` command line: one function per command.

Imports of Whoosh and Textual happen inside the commands that need them, so that
`papers --help` and `papers find` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

EXIT_NO_RESULTS = 1
EXIT_USAGE = 2


class Context:
    """What every command shares: where the library lives."""

    def __init__(self, home: str | None):
        from index.paths import data_home

        self.home = data_home(home)

    def library(self):
        from index.library import Library

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
        from tui.launch import run_reader

        run_reader(ctx.obj.home)


@cli.command()
def demo() -> None:
    """Open the reader on a demo library (your own library is not touched)."""
    from tui.launch import run_demo

    run_demo()


# -- ingest -----------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_ctx
def add(ctx: Context, paths: tuple[str, ...], as_json: bool) -> None:
    """Register digest files or folders (searched for *.txt and *.md) and ingest them."""
    from index.sources import add_sources

    sources = add_sources(ctx.home, [Path(p) for p in paths])
    _run_ingest(ctx, sources, as_json=as_json)


@cli.command("index")
@click.option("--rebuild", is_flag=True, help="Build the index afresh from the same files.")
@click.option("--optimize", is_flag=True, help="Merge the index into one segment afterwards.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@pass_ctx
def index_cmd(ctx: Context, rebuild: bool, optimize: bool, as_json: bool) -> None:
    """Re-scan the registered sources: read only new or changed digest files."""
    from index.sources import load_sources

    sources = load_sources(ctx.home)
    if not sources:
        raise click.ClickException("no sources registered yet: add digests with `papers add PATH`")
    _run_ingest(ctx, sources, rebuild=rebuild, optimize=optimize, as_json=as_json)


def _run_ingest(ctx: Context, sources, *, rebuild=False, optimize=False, as_json=False) -> None:
    from index.ingest import ingest
    from index.library import LibraryError
    from tui import output

    with output.ingest_progress(enabled=not as_json) as progress:
        try:
            report = ingest(ctx.home, sources, rebuild=rebuild, optimize=optimize,
                            procs=min(os.cpu_count() or 1, 4), progress=progress)
        except LibraryError as exc:
            raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
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
@click.option("--sort", type=click.Choice(["relevance", "date", "upvotes", "title"]),
              default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of papers.")
@pass_ctx
def find(ctx: Context, query: tuple[str, ...], limit: int, sort: str, as_json: bool) -> None:
    """Search the library with the Whoosh query language.

    \b
    Examples:
      papers find lora
      papers find 'title:"diffusion model" AND upvotes:[10 to]'
      papers find 'org:nvidia published:[2025-01 to 2025-06]'
      papers find 'lora~ -quantization' --sort upvotes
    With no query: every paper, newest first.
    """
    from index.library import LibraryError, QueryError
    from tui import output

    text = " ".join(query)
    lib = _open_library(ctx)
    try:
        results = lib.search(text, sort=sort, limit=limit or None)
    except QueryError as exc:
        _fail(str(exc), as_json, EXIT_USAGE)
    except LibraryError as exc:
        _fail(str(exc), as_json, EXIT_USAGE)
    hits = results.hits()
    if not hits:
        message = "no papers match" + (f" {text!r}" if text else "")
        if as_json:
            obj = {"error": message}
            if results.suggestion:
                obj["suggestion"] = results.suggestion
            click.echo(json.dumps(obj, ensure_ascii=False), err=True)
            click.echo("[]")
        else:
            output.err(message + (f"; did you mean: {results.suggestion}"
                                  if results.suggestion else ""))
        sys.exit(EXIT_NO_RESULTS)
    if as_json:
        click.echo(json.dumps([output.paper_json(h.paper, h.score) for h in hits],
                              ensure_ascii=False, indent=2))
    else:
        output.results_table(hits, total=_total(lib, text, sort, len(hits), limit))


def _total(lib, text: str, sort: str, shown: int, limit: int) -> int:
    if limit and shown >= limit:
        return len(lib.search(text, sort=sort))
    return shown


@cli.command()
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print the paper as a JSON object.")
@pass_ctx
def show(ctx: Context, paper_id: str, as_json: bool) -> None:
    """Show one paper in full. ID may be any unique prefix of 4+ characters."""
    from tui import output

    lib = _open_library(ctx)
    paper = lib.get(resolve_id(lib, paper_id))
    if as_json:
        click.echo(json.dumps(output.paper_json(paper, None), ensure_ascii=False, indent=2))
    else:
        output.paper_detail(paper)


def resolve_id(lib, prefix: str) -> str:
    """A full paper id from a unique prefix, or a clear error."""
    from tui import output

    prefix = prefix.strip().lower()
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
        raise click.BadParameter(f"{prefix!r} is not a paper id (4 to 12 hex characters)",
                                 param_hint="ID")
    matches = lib.resolve(prefix)
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
    from index.sources import load_sources
    from tui import output

    lib = ctx.library()
    exists = lib.exists
    data = {
        "papers": lib.count() if exists else 0,
        "digests": len(lib.manifest().get("files", {})) if exists else 0,
        "sources": len(load_sources(ctx.home)),
        "index_bytes": lib.size_bytes() if exists else 0,
        "home": str(ctx.home),
    }
    if as_json:
        click.echo(json.dumps(data))
    else:
        output.stats_table(data)


# -- helpers ----------------------------------------------------------------------------


def _open_library(ctx: Context):
    from index.library import LibraryError

    lib = ctx.library()
    try:
        lib.searcher()
    except LibraryError as exc:
        raise click.ClickException(str(exc)) from None
    return lib


def _fail(message: str, as_json: bool, code: int):
    from tui import output

    if as_json:
        click.echo(json.dumps({"error": message}, ensure_ascii=False), err=True)
    else:
        output.err(message)
    sys.exit(code)


def main() -> None:
    cli(prog_name="papers")
