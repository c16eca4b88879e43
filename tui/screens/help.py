"""The `?` screen: every key the reader knows, from the same table as the palette."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, actions: tuple[tuple[str, str, str], ...],
                 moves: tuple[tuple[str, str], ...]) -> None:
        super().__init__()
        self.actions = actions
        self.moves = moves

    def compose(self) -> ComposeResult:
        syntax = (
            ("words", "all of them, stemmed (“diffusion models”)"),
            ('"a phrase"', "the words in this order"),
            ("a OR b, NOT c", "boolean operators; -word excludes too"),
            ("title:x  org:x", "only in the title / organisation"),
            ("upvotes:>50", "ranges on upvotes, published:, seen:"),
            ("is:starred", "your marks: is:unread, is:read, tag:NAME"),
            ("is:new", "came in since you last looked at All; is:skipped, is:snoozed"),
            ("for:me  for:TAG", "ranked by your taste: the starred papers, or a tag's"),
        )
        with VerticalScroll(id="help-body"):
            yield Static(Text("papers — keys", style="bold"), id="help-title")
            yield Static(_section("Moving", self.moves))
            yield Static(_section("Acting on the paper",
                                  [(key, what) for _, key, what in self.actions]))
            yield Static(_section("Search syntax", syntax))
            yield Static(Text("Esc, q or ? closes this screen.", style="dim"))

    def action_dismiss(self) -> None:
        self.dismiss(None)


def _section(title: str, rows) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=16)
    table.add_column()
    table.add_row(Text(title, style="underline"), "")
    for key, what in rows:
        table.add_row(Text(key), Text(what))
    table.add_row("", "")
    return table
