"""The filter pane on a narrow screen: one line naming the view, opening into the list of
views (the same views, with their counts) on enter, a click or `v`."""

from __future__ import annotations

from rich.text import Text
from textual.message import Message
from textual.widgets import Select
from textual.widgets.select import InvalidSelectValueError

from papers.index.scope import ALL, View
from papers.tui.screens.palette import KINDS, view_name
from papers.tui.text import clean


def _option(view: View, count: int | None) -> Text:
    text = Text(f"View: {KINDS.get(view.kind, '')}", style="dim")
    text.append(clean(view_name(view)), "bold")
    if count is not None:
        text.append(f"  {count:,}", "dim")
    return text


class ViewPicker(Select[View]):
    """A one-line Select over the views; picking one posts `ViewPicked`."""

    class ViewPicked(Message):
        def __init__(self, view: View) -> None:
            super().__init__()
            self.view = view

    def __init__(self, **kwargs) -> None:
        super().__init__([(_option(ALL, None), ALL)], allow_blank=False, compact=True,
                         value=ALL, **kwargs)
        self._shown: View = ALL  # the view the reader shows: picking it is no news

    def show_views(self, views: list[tuple[View, int | None]], current: View) -> None:
        """New views or counts, keeping the current view picked without announcing it."""
        if not any(v == current for v, _ in views):
            views = [(current, None), *views]
        with self.prevent(Select.Changed):
            self.set_options([(_option(v, n), v) for v, n in views])
            self.value = current
        self._shown = current

    def pick(self, view: View) -> None:
        """The view was picked elsewhere (the palette, the filter pane)."""
        self._shown = view
        if view != self.value:
            with self.prevent(Select.Changed):
                try:
                    self.value = view
                except InvalidSelectValueError:  # not among the options yet: the next counts add it
                    return

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Select announces its first value when mounted: the view shown, not opened.
        if isinstance(event.value, View) and event.value != self._shown:
            self._shown = event.value
            self.post_message(self.ViewPicked(event.value))
