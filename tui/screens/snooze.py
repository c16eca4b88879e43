"""Snooze a paper (`z`): until tomorrow, next week, next month, or a date typed in."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from papers.tui.text import clean


def next_month(day: date) -> date:
    """The same day of the next month, or that month's last day (31 Jan -> 28/29 Feb)."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def choices(today: date) -> list[tuple[str, date]]:
    """The dates offered, each with its name."""
    return [("Tomorrow", today + timedelta(days=1)),
            ("Next week", today + timedelta(days=7)),
            ("Next month", next_month(today))]


_RELATIVE = re.compile(r"^\s*(\d{1,3})\s*([dw])\s*$", re.IGNORECASE)


def parse_until(text: str, today: date) -> date:
    """A typed date: `2026-12-24`, or `3d` / `2w` from today. ValueError says what is wrong;
    a day that is not after today is refused (the paper would not be hidden at all)."""
    text = text.strip()
    found = _RELATIVE.match(text)
    if found:
        n = int(found.group(1)) * (7 if found.group(2).lower() == "w" else 1)
        until = today + timedelta(days=n)
    else:
        try:
            until = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a date: {text!r} (type 2026-12-24, 3d or 2w)") from None
    if until <= today:
        raise ValueError(f"{until.isoformat()} is not after today: pick a later day")
    return until


def _option(name: str, until: date) -> Text:
    text = Text(name.ljust(12), style="bold")
    text.append(f"{until:%a} {until.isoformat()}", "dim")
    return text


class SnoozeScreen(ModalScreen[date | None]):
    """Answers the day the paper comes back, or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, today: date) -> None:
        super().__init__()
        self.paper_title = title
        self.today = today
        self.choices = choices(today)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Snooze until"), classes="dialog-title")
            yield Static(Text(clean(self.paper_title), style="italic"))
            yield OptionList(*[Option(_option(name, until), id=str(i))
                               for i, (name, until) in enumerate(self.choices)],
                             id="snooze-choices")
            yield Input(placeholder="or a date: 2026-12-24, 3d, 2w", id="snooze-date")
            yield Static(Text("It leaves For you and New until that day. Enter picks, "
                              "tab goes to the date, Esc cancels.", style="dim"))

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][1])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            until = parse_until(event.value, self.today)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self.dismiss(until)

    def action_cancel(self) -> None:
        self.dismiss(None)
