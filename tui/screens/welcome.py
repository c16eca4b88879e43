"""The first screen of an empty library: how to add digests, or a demo library to try."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

# One line per paragraph: the box wraps them to its width (a hard break at a width would
# leave a word alone on a line at another).
WELCOME = (
    "Your library is empty.",
    "Save Hugging Face Daily Papers pages as text files (select all, copy, paste into a "
    "file), or the JSON of huggingface.co/api/daily_papers?date=YYYY-MM-DD, then add them, "
    "or a folder of them, from a shell:",
    "    papers add ~/Downloads/daily-papers/",
    "The reader opens on them next time, and picks up new files in registered folders "
    "each time it starts.",
    "Or try the reader on a small demo library first: it lives in a temporary folder and "
    "does not touch your data.",
)


class WelcomeScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "demo", "Open the demo"),
        Binding("q,escape", "quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="welcome"):
            yield Static(Text("Welcome to papers", style="bold"), id="welcome-title")
            for paragraph in WELCOME:
                yield Static(Text(paragraph), classes="welcome-paragraph")
            with Horizontal(id="welcome-buttons"):
                yield Button("Open the demo (d)", id="demo", variant="primary")
                yield Button("Quit (q)", id="quit")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "demo":
            self.action_demo()
        else:
            self.app.exit()

    def action_demo(self) -> None:
        # The demo is another library: the launcher reopens the reader on it.
        self.app.exit("demo")

    def action_quit(self) -> None:
        self.app.exit()
