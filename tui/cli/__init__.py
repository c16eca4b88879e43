"""The `papers` command line: the group, its one error boundary, and `main()`.

The commands live one module per group of commands (`library`, `fetch`, `search`, `marks`,
`triage`, `searches`, `export`, `sync`); `common` holds what they share. Whoosh, Rich and
Textual load inside the commands that need them, so `papers --help` and `papers tags` start
fast.
"""

from __future__ import annotations

import click

from papers.tui.cli import export, fetch, library, marks, search, searches, sync, triage
from papers.tui.cli.common import JSON_KEY, Context

EXIT_CODES = """\b
Exit codes:
  0  done (a search found papers)
  1  nothing found: no paper matches, no such id or saved search
  2  bad usage or input: an option, a query, an id, a tag
  3  the library or the user data cannot be used now:
     missing, damaged, busy, or on a read-only disk"""


class PapersGroup(click.Group):
    """A Click group that is the CLI's one error boundary.

    Commands raise `PapersError`s (and let an `OSError` from the environment escape); here
    each becomes one line on standard error, or `{"error": ...}` when the command was asked
    for `--json`, and the error's exit code. Click's own usage errors keep theirs (2).
    """

    def invoke(self, ctx: click.Context):
        from papers.index.errors import PapersError, from_os_error

        try:
            return super().invoke(ctx)
        except PapersError as exc:
            report(ctx, exc)
        except OSError as exc:
            report(ctx, from_os_error(exc, "use"))


def _print_version(ctx: click.Context) -> None:
    click.echo(f"papers, version {version()}")
    ctx.exit()


def version() -> str:
    """The version, from the one module the build reads it from (importlib.metadata would
    take longer to import than all of `papers --version` should take)."""
    from papers.tui.version import __version__

    return __version__


def report(ctx: click.Context, exc) -> None:
    """Say what went wrong in one line (or one JSON object) on stderr, and exit."""
    from papers.tui.cli import output

    if ctx.meta.get(JSON_KEY):
        output.err_json(getattr(exc, "json", None) or {"error": str(exc)})
    else:
        output.err(str(exc))
    ctx.exit(exc.exit_code)


@click.group(cls=PapersGroup, invoke_without_command=True, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(file_okay=False), envvar="PAPERS_HOME",
              help="Data directory of the library (default: the platform's user data dir; "
                   "env PAPERS_HOME).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, param, value: _print_version(ctx) if value else None,
              help="Show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """A terminal reader for Hugging Face Daily Papers digests.

    Run without a command to open the reader. Save a Daily Papers page as a text file,
    then `papers add FILE_OR_FOLDER`.
    """
    ctx.obj = Context(home)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        from papers.tui.launch import run_reader

        run_reader(ctx.obj.home)


for _module in (library, fetch, search, marks, triage, searches, export, sync):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    cli(prog_name="papers")
