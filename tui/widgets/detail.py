"""The detail pane: everything about one paper, and papers like it that can be opened."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from papers.index.library import highlight_spans
from papers.index.models import Paper
from papers.index.userdata import EMPTY, PaperState
from papers.tui.text import clean, highlighted

HIGHLIGHT = "bold reverse"
AUTHORS_SHOWN = 3  # the first few authors; the rest on demand (`a`, or a click)
LABEL_WIDTH = 14


@dataclass(frozen=True)
class DetailData:
    """What the pane shows; built off the main thread by the app."""

    paper: Paper
    state: PaperState = EMPTY
    terms: frozenset[str] = frozenset()
    similar: tuple[Paper, ...] = field(default=())
    missing: tuple[str, ...] = ()  # sources that are missing: their digests are marked
    why: tuple[str, ...] = ()  # listed by a taste (For you): what weighs most for it
    today: date | None = None  # the reader's today: a snooze that ran out is not shown


def title_text(data: DetailData) -> Text:
    p = data.paper
    return highlighted(p.title, highlight_spans(p.title, data.terms), style=HIGHLIGHT,
                       base="bold")


def authors_text(paper: Paper, everyone: bool = False) -> Text | None:
    """The first few authors and "+N more", or all of them; None when no names are known.
    One name more than the few is shown rather than "+1 more"."""
    names = paper.author_names
    if not names:
        return None
    cut = len(names) if everyone or len(names) <= AUTHORS_SHOWN + 1 else AUTHORS_SHOWN
    text = Text(", ".join(clean(n) for n in names[:cut]))
    if cut < len(names):
        text.append(f"  +{len(names) - cut} more", "bold")
        text.append(" (a: all)", "dim")
    return text


def links(paper: Paper) -> list[tuple[str, str, str]]:
    """(label, url, what follows it): the paper's own pages first, then its code and
    project, then the URLs its abstract mentions, which are about it but are not it."""
    out = []
    if paper.arxiv_id:
        out.append(("arXiv", paper.url, ""))
        out.append(("PDF", paper.pdf_url or "", ""))
        out.append(("Hugging Face", paper.hf_url or "", ""))
    else:
        out.append(("arXiv search", paper.url, ""))
    if paper.github:
        stars = f"  ★ {paper.github_stars:,}" if paper.github_stars is not None else ""
        out.append(("Code", paper.github, stars))
    if paper.project_page:
        out.append(("Project", paper.project_page, ""))
    own = {paper.github, paper.project_page}
    for url in paper.links:
        if url not in own:
            out.append(("In abstract", url, ""))
    return out


def body_parts(data: DetailData) -> list:
    """Everything under the title and the authors, as literal Rich Text, never markup."""
    p, st = data.paper, data.state
    facts = Text(style="dim")
    who = (f"{p.authors} author" + ("s" if p.authors != 1 else "")) if p.authors else None
    bits = [who, clean(p.organization) if p.organization else None,
            f"published {p.published.isoformat()}" if p.published else None,
            f"▲ {p.upvotes} upvotes" if p.upvotes else None,
            (f"{p.comments} comment" + ("s" if p.comments != 1 else "")) if p.comments else None,
            f"id {p.id}"]
    facts.append(" · ".join(b for b in bits if b))
    marks = Text()
    marks.append("★ starred" if st.starred else "☆ not starred",
                 "bold yellow" if st.starred else "dim")
    marks.append("   ")
    marks.append("read" if st.read else "● unread", "dim" if st.read else "bold cyan")
    if st.skipped:
        marks.append("   ✗ not interested", "bold")
    if st.snoozed_until is not None and st.snoozed_until > (data.today or date.today()):
        marks.append(f"   snoozed until {st.snoozed_until.isoformat()}", "bold")
    if st.tags:
        marks.append("   tags: ", "dim")
        for i, tag in enumerate(st.tags):
            marks.append(("  " if i else "") + "#" + clean(tag), "green")
    parts: list = [facts, marks]
    if data.why:
        # Terms and titles from the papers: literal text, never markup.
        why = Text()
        for i, reason in enumerate(data.why):
            why.append(("  ·  " if i else "") + clean(reason), "cyan")
        parts += [Text(""), Text("Why", style="bold"), why]
    if st.note:
        parts += [Text(""), Text("Note", style="bold underline"),
                  Text(clean(st.note, newlines=True), style="italic")]
    block = Text()
    for i, (label, url, after) in enumerate(links(p)):
        block.append(("\n" if i else "") + label.ljust(LABEL_WIDTH), "dim")
        block.append(clean(url), "underline")
        block.append(after, "yellow")
    parts += [Text(""), Text("Links", style="bold"), block]
    if p.ai_summary:
        parts += [Text(""), Text("AI summary", style="bold"), Text(clean(p.ai_summary))]
    if p.keywords:
        parts += [Text(""), Text("Keywords  ", style="bold")
                  + Text(", ".join(clean(k) for k in p.keywords), style="green")]
    seen = Text(style="dim")
    for i, s in enumerate(sorted(p.digests, key=lambda s: s.date or Path(s.file).name,
                                 reverse=True)):
        seen.append(("\n" if i else "") + "  "
                    + (s.date.isoformat() if s.date else "????-??-??") + "  "
                    + clean(Path(s.file).name))
        if any(s.file == m or s.file.startswith(m.rstrip(os.sep) + os.sep)
               for m in data.missing):
            seen.append("  ⚠ source missing: papers sources", "bold yellow")
    if p.digests:
        parts += [Text(""), Text(f"In {len(p.digests)} digest"
                                 + ("s" if len(p.digests) != 1 else ""), style="bold"), seen]
    abstract = highlighted(p.abstract, highlight_spans(p.abstract, data.terms),
                           style=HIGHLIGHT)
    parts += [Text(""), abstract]
    return parts


def describe(data: DetailData, everyone: bool = False) -> Group:
    """The pane's body, whole: title, authors, the rest."""
    authors = authors_text(data.paper, everyone)
    return Group(title_text(data), *([authors] if authors else []), *body_parts(data))


class Authors(Static):
    """The author line: a click shows them all, or the first few again."""

    def on_click(self, event: events.Click) -> None:
        event.stop()
        pane = next(a for a in self.ancestors if isinstance(a, DetailPane))
        pane.toggle_authors()


class DetailPane(VerticalScroll, can_focus=True):
    """Shows a `DetailData`; selecting a similar paper posts `OpenPaper`."""

    class OpenPaper(Message):
        def __init__(self, paper_id: str) -> None:
            super().__init__()
            self.paper_id = paper_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: DetailData | None = None
        self.everyone = False  # all the authors shown, until another paper is

    def compose(self) -> ComposeResult:
        yield Static(Text("▶ The keys act on this paper, not the list's: backspace goes back.",
                          style="bold"), id="detail-origin")
        yield Static(Text("Select a paper to see its details.", style="dim"),
                     id="detail-title")
        yield Authors("", id="detail-authors")
        yield Static("", id="detail-body")
        yield Label("Similar papers", id="similar-title")
        yield OptionList(id="similar")

    def on_mount(self) -> None:
        self.query_one("#similar-title").display = False
        self.query_one("#similar").display = False
        self.query_one("#detail-authors").display = False
        self.query_one("#detail-origin").display = False

    def show_origin(self, elsewhere: bool) -> None:
        """Say so when the paper shown is not the list's (a similar paper was opened)."""
        self.query_one("#detail-origin").display = elsewhere

    def show(self, data: DetailData | None) -> None:
        """Show a paper; the same paper shown again (a star, new highlights) stays where
        the reader has scrolled to."""
        same = (data is not None and self.data is not None
                and data.paper.id == self.data.paper.id)
        self.data = data
        if not same:
            self.everyone = False
        title = self.query_one("#detail-title", Static)
        body = self.query_one("#detail-body", Static)
        if data is None:
            title.update(Text("No paper selected.", style="dim"))
            body.update("")
            self._show_authors()
            self._fill_similar(())
            return
        title.update(title_text(data))
        self._show_authors()
        body.update(Group(*body_parts(data)))
        self._fill_similar(data.similar)
        if not same:
            self.scroll_home(animate=False)

    def toggle_authors(self) -> bool:
        """All the authors, or the first few again; False when there are no more to show."""
        if self.data is None or len(self.data.paper.author_names) <= AUTHORS_SHOWN + 1:
            return False
        self.everyone = not self.everyone
        self._show_authors()
        return True

    def _show_authors(self) -> None:
        widget = self.query_one("#detail-authors", Authors)
        text = authors_text(self.data.paper, self.everyone) if self.data else None
        widget.display = text is not None
        widget.update(text or "")

    def show_similar(self, data: DetailData) -> None:
        """Add the similar papers to the paper already shown, leaving where the reader has
        scrolled to: they arrive after a pause, often while it is being read."""
        if self.data is None or self.data.paper.id != data.paper.id:
            return
        self.data = data
        self._fill_similar(data.similar)

    def _fill_similar(self, papers: tuple[Paper, ...]) -> None:
        similar = self.query_one("#similar", OptionList)
        if [p.id for p in papers] == [o.id for o in similar.options]:
            return  # unchanged: keep the reader's place in it
        similar.clear_options()
        similar.add_options(
            [Option(Text(clean(p.title), no_wrap=True, overflow="ellipsis"), id=p.id)
             for p in papers])
        similar.display = self.query_one("#similar-title").display = bool(papers)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.OpenPaper(event.option.id))
