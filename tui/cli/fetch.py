"""`papers fetch`: download Daily Papers JSON from the Hugging Face API and add it.

The work is `papers.index.fetch.fetch`; here are the options, the progress bar and the
summary. Errors go to the group's error boundary like every command's.
"""

from __future__ import annotations

import os
from datetime import date

import click

from papers.tui.cli.common import Context, json_option, pass_ctx


@click.command()
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Fetch this one day.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Fetch every day from this one (to --until, default today).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Last day for --since.")
@click.option("--days", type=click.IntRange(min=1), metavar="N",
              help="Fetch the last N days up to today (a backfill).")
@click.option("--endpoint", metavar="URL",
              help="The Hub to ask (default: env HF_ENDPOINT, else https://huggingface.co).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              metavar="SECONDS",
              help="Seconds to wait for a connection and for each read.")
@click.option("--retries", type=click.IntRange(min=0), default=3, show_default=True,
              metavar="N",
              help="Tries again after a 429, a 5xx or a network fault.")
@click.option("--backoff", type=click.FloatRange(min=0), default=2.0, show_default=True,
              metavar="SECONDS",
              help="Seconds before the first retry; doubled for each next one (a "
                   "Retry-After from the server wins).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing unless it fails (for cron).")
@json_option("Print the summary as one JSON object.")
@pass_ctx
def fetch(ctx: Context, on, since, until, days, endpoint, timeout, retries, backoff, quiet,
          as_json) -> None:
    """Download Daily Papers from the Hugging Face API into the library.

    Without a date: today, and yesterday again (its upvotes still move). Each day is saved
    as DATA_DIR/fetched/YYYY-MM-DD.json, a digest file like any other, and added. Days
    fetched once they had settled (two days after) are final and not asked for again; empty
    days, such as weekends, are remembered as empty.

    Exit 3 when the server cannot be reached or does not answer with Daily Papers JSON.
    """
    from papers.index.fetch import Network, endpoint_from, plan_days
    from papers.index.fetch import fetch as run_fetch

    today = date.today()
    planned = plan_days(today, on=_day(on), since=_day(since), until=_day(until), days=days)
    network = Network(endpoint=endpoint_from(endpoint), timeout=timeout, retries=retries,
                      backoff=backoff)
    from papers.tui.cli import output

    with output.progress(enabled=not (quiet or as_json)) as progress:
        report = run_fetch(ctx.home, planned, today=today, network=network, progress=progress,
                           procs=min(os.cpu_count() or 1, 4))
    if as_json:
        from papers.index import jsontext

        click.echo(jsontext.dumps(report.to_json()))
        return
    if quiet:
        return
    if report.ingest is not None:
        if report.ingest.reason:
            output.err(report.ingest.reason)
        output.problems(report.ingest.problems)
    click.echo(report.summary())


def _day(value) -> date | None:
    return value.date() if value is not None else None


COMMANDS = (fetch,)
