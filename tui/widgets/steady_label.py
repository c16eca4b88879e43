"""A label that is left alone when told what it already says."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.css.scalar import Unit
from textual.widgets import Label


class SteadyLabel(Label):
    """Counts and headers are set again by every search, mostly to what they said: each
    update lays the whole screen out again in the frame that draws the new rows.

    And when the new words take the room the old ones took (a fixed size, or an auto
    width that comes out the same, as a `min-width` makes it for most counts), it is
    only repainted: a layout of the whole screen costs a millisecond or two, and a
    label whose width moves resizes its neighbours, which are then drawn again in a
    second frame, competing with the next key.
    """

    _said: object = None

    def update(self, content="", *, layout: bool = True) -> None:
        if content == self._said and type(content) is type(self._said):
            return
        if layout and self._said is not None and self._same_size(self._said, content):
            layout = False
        self._said = content
        super().update(content, layout=layout)

    def _same_size(self, old: object, new: object) -> bool:
        """Whether `new` leaves the label the size `old` gave it. Only one line of plain
        text or `Text` is judged; a fixed height is needed (an auto one wraps)."""
        styles = self.styles
        height = styles.height
        if height is None or height.is_auto or height.unit != Unit.CELLS:
            return False
        width = styles.width
        if width is not None and not width.is_auto:
            return True
        if not (isinstance(old, str | Text) and isinstance(new, str | Text)):
            return False
        # Rich markup would change what a str's width is: only literal strs are judged.
        if isinstance(old, str) and self._render_markup and "[" in old:
            return False
        if isinstance(new, str) and self._render_markup and "[" in new:
            return False
        least = styles.min_width
        floor = (int(least.value) - styles.gutter.width
                 if least is not None and least.unit == Unit.CELLS else 0)
        return max(floor, _cells(old)) == max(floor, _cells(new))


def _cells(content: str | Text) -> int:
    if isinstance(content, Text):
        return content.cell_len
    return cell_len(content)
