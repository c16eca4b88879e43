"""A label that is left alone when told what it already says."""

from __future__ import annotations

from textual.widgets import Label


class SteadyLabel(Label):
    """Counts and headers are set again by every search, mostly to what they said: each
    update lays the whole screen out again in the frame that draws the new rows."""

    _said: object = None

    def update(self, content="", *, layout: bool = True) -> None:
        if content == self._said and type(content) is type(self._said):
            return
        self._said = content
        super().update(content, layout=layout)
