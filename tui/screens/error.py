"""Why the reader cannot show the library (a damaged index or user-data file), whole."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from papers.index.errors import PapersError
from papers.tui.text import clean

# Said when the message itself names no way out.
REMEDY = "`papers doctor` says what is wrong; `papers doctor --repair` fixes what it can."


class ErrorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("q,escape", "quit", "Quit")]

    def __init__(self, error: PapersError) -> None:
        super().__init__()
        self.error = error

    def compose(self) -> ComposeResult:
        message = clean(str(self.error), newlines=True)
        with VerticalScroll(id="error"), Vertical(id="error-box"):
            yield Static(Text("papers cannot open this library", style="bold"),
                         id="error-title")
            yield Static(Text(message), id="error-message")
            if "papers doctor" not in message:
                yield Static(Text(REMEDY), id="error-remedy")
            yield Static(Text("q quits.", style="dim"))
        yield Footer()

    def action_quit(self) -> None:
        self.app.exit()
