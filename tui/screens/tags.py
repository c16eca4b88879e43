"""Edit a paper's tags: space-separated words, completing tags already in use."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Label, Static

from papers.index.userdata import normalise_tag
from papers.tui.text import clean


class TagSuggester(Suggester):
    """Completes the word being typed from the tags in use (case-insensitive)."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.tags = sorted(tags, key=str.casefold)

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value[-1].isspace():
            return None
        head, _, word = value.rpartition(" ")
        typed = {w.casefold() for w in head.split()}
        for tag in self.tags:
            if tag.casefold().startswith(word.casefold()) and tag.casefold() not in typed \
                    and len(tag) > len(word):
                return value[: len(value) - len(word)] + tag
        return None


def parse_tags(value: str) -> list[str]:
    """The tags typed, each checked; ValueError says what is wrong."""
    seen: dict[str, str] = {}
    for word in value.replace(",", " ").split():
        tag = normalise_tag(word)
        seen.setdefault(tag.casefold(), tag)
    return list(seen.values())


class TagsScreen(ModalScreen[list[str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: list[str], known: list[str]) -> None:
        super().__init__()
        self.paper_title = title
        self.current = current
        self.known = known

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Tags"), classes="dialog-title")
            yield Static(Text(clean(self.paper_title), style="italic"))
            value = " ".join(self.current) + (" " if self.current else "")
            yield Input(value=value, placeholder="tags separated by spaces", id="tags",
                        suggester=TagSuggester(self.known))
            known = ", ".join(clean(t) for t in self.known[:30]) or "none yet"
            yield Static(Text(f"In use: {known}", style="dim"), id="known-tags")
            yield Static(Text("→ completes, Enter saves, Esc cancels.", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            tags = parse_tags(event.value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.dismiss(tags)

    def action_cancel(self) -> None:
        self.dismiss(None)
