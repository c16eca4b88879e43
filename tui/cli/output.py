"""How the CLI prints: Rich tables on a terminal, plain lines in a pipe, JSON on request.

Everything from a digest goes through `papers.tui.text` first: no markup, no control sequences.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import click

from papers.index import jsontext
from papers.tui.text import clean

MAX_PROBLEMS_SHOWN = 20


# Rich loads in ~20 ms and ~45 modules: a command whose output goes to a pipe never needs it.
@cache
def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _out():
    return _console()


def _err():
    return _console(stderr=True)


def _Text(*args, **kwargs):
    from rich.text import Text

    return Text(*args, **kwargs)


def _to_terminal(stream) -> bool:
    """Whether Rich would treat `stream` as a terminal, without importing Rich when the
    answer is plainly no."""
    forced = any(os.environ.get(v) for v in ("FORCE_COLOR", "TTY_INTERACTIVE", "TTY_COMPATIBLE"))
    if not forced and not (hasattr(stream, "isatty") and stream.isatty()):
        return False
    return _console(stderr=stream is sys.stderr).is_terminal


def say(text: str, *, err: bool = False) -> None:
    """A line for people, with anything unsafe in it (from tags, names, paths, titles) as a
    visible escape: the one rule of `index.controls`."""
    click.echo(clean(text, newlines=True), err=err)


def err(message: str) -> None:
    """One line on standard error; plain, since Rich would wrap a long path onto a second line."""
    click.echo("papers: " + clean(message), err=True)


def err_json(obj: dict) -> None:
    """An error as one JSON object on standard error (for commands given --json)."""
    click.echo(jsontext.dumps(obj), err=True)


def problems(items) -> None:
    """One line each (yellow on a terminal), the first MAX_PROBLEMS_SHOWN of them."""
    lines = [clean(str(p)) for p in items[:MAX_PROBLEMS_SHOWN]]
    if len(items) > MAX_PROBLEMS_SHOWN:
        lines.append(f"... and {len(items) - MAX_PROBLEMS_SHOWN} more problems "
                     "(see `papers index --json`)")
    for line in lines:
        if _to_terminal(sys.stderr):
            _err().print(_Text(line, style="yellow"))
        else:
            click.echo(line, err=True)


def _date(paper) -> str:
    d = paper.published or paper.first_seen
    return d.isoformat() if d else ""


def _marks(item) -> str:
    return ("★" if item.state.starred else " ") + (" " if item.state.read else "•")


def results_table(selection, total: int) -> None:
    """One row per paper: id, marks (★ starred, • unread), date, upvotes, title."""
    items = selection.items
    if not _to_terminal(sys.stdout):
        for item in items:
            p = item.paper
            up = "" if p.upvotes is None else str(p.upvotes)
            sys.stdout.write(f"{p.id}\t{_marks(item)}\t{_date(p)}\t{up}\t{clean(p.title)}\n")
        return
    from rich.table import Table
    from rich.text import Text

    from papers.index.library import highlight_spans
    from papers.tui.text import highlighted

    table = Table(show_edge=False, pad_edge=False, expand=False)
    table.add_column("id", style="cyan", no_wrap=True)
    table.add_column("", no_wrap=True, style="yellow")
    table.add_column("date", no_wrap=True)
    table.add_column("▲", justify="right", no_wrap=True)
    table.add_column("title", overflow="fold")
    for item in items:
        p = item.paper
        title = highlighted(p.title, highlight_spans(p.title, selection.terms))
        if item.gone:
            title.append("  (no longer in any digest)", style="dim italic")
        table.add_row(p.id, _marks(item), _date(p),
                      "" if p.upvotes is None else str(p.upvotes), title)
    _out().print(table)
    if total > len(items):
        _out().print(Text(f"{len(items)} of {total} papers; --limit 0 shows all", style="dim"))


def paper_detail(item) -> None:
    from rich.text import Text

    paper, state = item.paper, item.state
    lines = [Text(clean(paper.title), style="bold")]
    meta = [f"id {paper.id}"]
    if paper.published:
        meta.append(f"published {paper.published.isoformat()}")
    if paper.upvotes is not None:
        meta.append(f"{paper.upvotes} upvotes")
    if paper.authors is not None:
        meta.append(f"{paper.authors} author{'s' if paper.authors != 1 else ''}")
    if paper.organization:
        meta.append(clean(paper.organization))
    lines.append(Text(" · ".join(meta), style="dim"))
    marks = ["★ starred"] * state.starred + ["read" if state.read else "unread"]
    if state.tags:
        marks.append("tags: " + ", ".join(clean(t) for t in state.tags))
    if item.gone:
        marks.append("no longer in any digest")
    lines.append(Text(" · ".join(marks), style="yellow"))
    if state.note:
        lines.append(Text("note: " + clean(state.note, newlines=True), style="italic"))
    lines.append(Text(""))
    lines.append(Text(clean(paper.abstract)))
    if paper.links:
        lines.append(Text(""))
        for link in paper.links:
            lines.append(Text(clean(link), style="blue"))
    lines.append(Text(""))
    for s in paper.digests:
        lines.append(Text(f"seen {s.date.isoformat() if s.date else '?'} in {clean(s.file)}",
                          style="dim"))
    for line in lines:
        _out().print(line)


def stats_table(data: dict) -> None:
    width = max(map(len, data), default=0) + 1
    for key, value in data.items():
        if key == "index_bytes":
            value = f"{value / 1e6:.1f} MB"
        click.echo(f"{key:<{width}} {clean(str(value))}")


@contextmanager
def progress(enabled: bool) -> Iterator:
    """A Rich progress bar a stage at a time (a fetch's days, then an ingest's files and
    papers) on a terminal; None elsewhere.

    It refreshes from the calling thread only (no auto-refresh thread), because the bulk
    writer forks worker processes and forking a multi-threaded process can deadlock.
    """
    if not enabled or not _to_terminal(sys.stderr):
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description:<9}"), BarColumn(), MofNCompleteColumn(),
                   TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                   TimeRemainingColumn(), console=_err(), auto_refresh=False, transient=True)
    tasks: dict[str, int] = {}
    started: dict[str, float] = {}
    last = [0.0]

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total, rate="")
            started[stage] = time.perf_counter()
        elapsed = time.perf_counter() - started[stage]
        unit = {"fetching": "days", "reading": "files"}.get(stage, "papers")
        rate = f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0.2 else ""
        bar.update(tasks[stage], completed=done, total=total, rate=rate)
        now = time.perf_counter()
        if now - last[0] > 0.1 or done == total:
            last[0] = now
            bar.refresh()

    with bar:
        yield update
