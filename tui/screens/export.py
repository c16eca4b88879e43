"""Where `e` writes the view's reading list: a file name to confirm or change, and a
second Enter before an existing file is replaced."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from papers.tui.text import clean


class ExportScreen(ModalScreen[Path | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: Path, count: int, what: str) -> None:
        super().__init__()
        self.default = default
        self.count = count
        self.what = what
        self._confirmed: Path | None = None  # the existing file Enter was pressed on once

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Export {self.count:,} papers as a Markdown reading list"),
                        classes="dialog-title")
            yield Static(Text(clean(self.what), style="italic"))
            yield Input(str(self.default), id="export-path")
            yield Static(Text("Enter writes the file, Esc cancels.", style="dim"),
                         id="export-hint")

    def on_input_changed(self, event: Input.Changed) -> None:
        self._confirmed = None
        self._hint("Enter writes the file, Esc cancels.")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self._hint("Type a file name.", warn=True)
            return
        path = Path(text).expanduser()
        if path.is_dir():
            self._hint(f"{path} is a folder: add a file name.", warn=True)
            return
        if path.exists() and self._confirmed != path:
            self._confirmed = path
            self._hint(f"{path.name} exists. Enter again replaces it; or change the name.",
                       warn=True)
            return
        self.dismiss(path)

    def _hint(self, text: str, warn: bool = False) -> None:
        self.query_one("#export-hint", Static).update(
            Text(clean(text), style="bold yellow" if warn else "dim"))

    def action_cancel(self) -> None:
        self.dismiss(None)
