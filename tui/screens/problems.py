"""The `!` screen: what is wrong that the user can fix, as file:line: message. The missing
sources first, then the problems of digest files the manifest remembers (a file skipped
or read in part), until the file changes."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from papers.tui.store import Problem
from papers.tui.text import clean


def problem_line(p: Problem) -> Text:
    text = Text(clean(p.file), style="bold")
    if p.line:
        text.append(f":{p.line}", "bold")
    text.append(": ")
    text.append(clean(p.message))
    return text


class ProblemsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,exclamation_mark", "dismiss", "Close"),
    ]

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__()
        self.problems = problems

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="problems-body"):
            n = len(self.problems)
            yield Static(Text(f"{n} problem{'' if n == 1 else 's'}", style="bold"),
                         id="problems-title")
            if not n:
                yield Static("Every source is there and every digest was read whole.")
            for p in self.problems:
                yield Static(problem_line(p), classes="problem")
            yield Static(Text("\n`papers doctor` lists these too; a file's problems go "
                              "when it is fixed and read again. Esc closes.", style="dim"))

    def action_dismiss(self) -> None:
        self.dismiss(None)
