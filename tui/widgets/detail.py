"""The detail pane: everything about one paper, and papers like it that can be opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.text import Text
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


@dataclass(frozen=True)
class DetailData:
    """What the pane shows; built off the main thread by the app."""

    paper: Paper
    state: PaperState = EMPTY
    terms: frozenset[str] = frozenset()
    similar: tuple[Paper, ...] = field(default=())


def describe(data: DetailData) -> Group:
    """The pane's body as literal Rich Text, never markup."""
    p, st = data.paper, data.state
    title = highlighted(p.title, highlight_spans(p.title, data.terms), style=HIGHLIGHT,
                        base="bold")
    facts = Text(style="dim")
    who = (f"{p.authors} author" + ("s" if p.authors != 1 else "")) if p.authors else None
    bits = [who, clean(p.organization) if p.organization else None,
            f"published {p.published.isoformat()}" if p.published else None,
            f"▲ {p.upvotes} upvotes" if p.upvotes else None,
            f"id {p.id}"]
    facts.append(" · ".join(b for b in bits if b))
    marks = Text()
    marks.append("★ starred" if st.starred else "☆ not starred",
                 "bold yellow" if st.starred else "dim")
    marks.append("   ")
    marks.append("read" if st.read else "● unread", "dim" if st.read else "bold cyan")
    if st.tags:
        marks.append("   tags: ", "dim")
        for i, tag in enumerate(st.tags):
            marks.append(("  " if i else "") + "#" + clean(tag), "green")
    parts: list = [title, facts, marks]
    if st.note:
        parts += [Text(""), Text("Note", style="bold underline"),
                  Text(clean(st.note, newlines=True), style="italic")]
    seen = Text(style="dim")
    for i, s in enumerate(sorted(p.digests, key=lambda s: s.date or Path(s.file).name,
                                 reverse=True)):
        seen.append(("\n" if i else "") + "  "
                    + (s.date.isoformat() if s.date else "????-??-??") + "  "
                    + clean(Path(s.file).name))
    if p.digests:
        parts += [Text(""), Text(f"In {len(p.digests)} digest"
                                 + ("s" if len(p.digests) != 1 else ""), style="bold"), seen]
    if p.links:
        links = Text()
        for i, url in enumerate(p.links):
            links.append(("\n" if i else "") + "  " + clean(url), "underline")
        parts += [Text(""), Text("Links", style="bold"), links]
    abstract = highlighted(p.abstract, highlight_spans(p.abstract, data.terms),
                           style=HIGHLIGHT)
    parts += [Text(""), abstract]
    return Group(*parts)


class DetailPane(VerticalScroll, can_focus=True):
    """Shows a `DetailData`; selecting a similar paper posts `OpenPaper`."""

    class OpenPaper(Message):
        def __init__(self, paper_id: str) -> None:
            super().__init__()
            self.paper_id = paper_id

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.data: DetailData | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a paper to see its details.", style="dim"), id="detail-body")
        yield Label("Similar papers", id="similar-title")
        yield OptionList(id="similar")

    def on_mount(self) -> None:
        self.query_one("#similar-title").display = False
        self.query_one("#similar").display = False

    def show(self, data: DetailData | None) -> None:
        """Show a paper; the same paper shown again (a star, new highlights) stays where
        the reader has scrolled to."""
        body = self.query_one("#detail-body", Static)
        same = (data is not None and self.data is not None
                and data.paper.id == self.data.paper.id)
        self.data = data
        if data is None:
            body.update(Text("No paper selected.", style="dim"))
            self._fill_similar(())
            return
        body.update(describe(data))
        self._fill_similar(data.similar)
        if not same:
            self.scroll_home(animate=False)

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

