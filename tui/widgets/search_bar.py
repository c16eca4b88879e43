"""The search bar: the query as typed, and what came of it (hits, a hint, or an error)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label

from papers.tui.text import clean
from papers.tui.widgets.steady_label import SteadyLabel


class SearchInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave search", show=True),
        Binding("down", "leave", "To list", show=False),
        # When a "did you mean" is shown (the screen decides), tab takes it, as a shell
        # completes a word; otherwise tab moves on to the next pane.
        Binding("tab", "screen.take_suggestion", "Did you mean", show=False),
    ]

    class Leave(Message):
        pass

    def action_leave(self) -> None:
        self.post_message(self.Leave())


class SearchBar(Horizontal):
    """Posts `Changed` for every edit; the app decides when to search."""

    class Changed(Message):
        def __init__(self, query: str) -> None:
            super().__init__()
            self.query = query

    class Done(Message):
        """The user left the search bar (Esc or Enter)."""

    def compose(self) -> ComposeResult:
        yield SearchInput(placeholder="/ search: words, \"phrases\", title:x, tag:x, "
                                      "is:starred, is:unread …", id="search-input")
        yield SteadyLabel("", id="search-status")

    @property
    def input(self) -> SearchInput:
        return self.query_one(SearchInput)

    @property
    def value(self) -> str:
        return self.input.value

    def set_value(self, query: str) -> None:
        with self.input.prevent(Input.Changed):
            self.input.value = query

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())

    def on_search_input_leave(self, event: SearchInput.Leave) -> None:
        event.stop()
        self.post_message(self.Done())

    def show_status(self, hits: int | None, *, error: str | None = None,
                    suggestion: str | None = None, busy: bool = False,
                    more: bool = False) -> None:
        """The hit count, or the error, or a "did you mean" when nothing matched."""
        label = self.query_one("#search-status", Label)
        text = Text(no_wrap=True, overflow="ellipsis")
        if error:
            text.append(clean(error), "bold red")
        elif hits is not None:
            text.append(f"{hits:,}{'+' if more else ''} paper" + ("" if hits == 1 else "s"))
            if not hits and suggestion:
                text.append("  did you mean ", "dim")
                text.append(clean(suggestion), "bold")
                text.append("? tab takes it", "dim")
        if busy:
            text.append(" …", "dim")
        label.update(text)
        label.set_class(bool(error), "-error")
