"""The list pane: one row per paper, drawn with the Line API.

Only the rows on screen are ever read or rendered, so 100,000 papers cost the same as 30:
the widget holds a `Listing` (a sequence of index docnums), tells the scroll machinery how
tall it is, and builds a `Strip` for each visible line on demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from papers.index.library import highlight_spans
from papers.tui.store import Listing, Row
from papers.tui.text import clean

STAR, UNREAD = "★", "●"
DRAWN_KEPT = 300  # drawn rows kept (see `PaperList._drawn`): a few screens; each is 20 objects
SKIPPED, SNOOZED = "✗", "z"  # in the star's column: not interested, snoozed


@dataclass(frozen=True)
class Marks:
    """The user's marks the rows show; replaced whole when the user data changes."""

    starred: frozenset[str] = frozenset()
    read: frozenset[str] = frozenset()
    # Gone from For you and New; elsewhere shown dim, with their mark.
    skipped: frozenset[str] = frozenset()
    snoozed: frozenset[str] = frozenset()


class PaperList(ScrollView, can_focus=True):
    """A cursor over a `Listing`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("g,home", "first", "First", show=False),
        Binding("G,end", "last", "Last", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("enter", "open", "Open"),
        # Only when the list is empty and a "did you mean" is shown (the screen decides):
        # otherwise tab moves to the next pane as everywhere.
        Binding("tab", "screen.take_suggestion", "Did you mean", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paper-list--cursor",
        "paper-list--cursor-blurred",
        "paper-list--star",
        "paper-list--unread",
        "paper-list--date",
        "paper-list--upvotes",
        "paper-list--highlight",
        "paper-list--read",
        "paper-list--empty",
        "paper-list--set-aside",
    }

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to a paper (None: the list is empty). `kept`: it did not move
        at all; a new listing (a search, a refresh) left it on the paper it was on."""

        def __init__(self, index: int, paper_id: str | None, kept: bool = False) -> None:
            super().__init__()
            self.index = index
            self.paper_id = paper_id
            self.kept = kept

    class Opened(Message):
        """The user opened the paper under the cursor (enter or double click)."""

        def __init__(self, index: int, paper_id: str) -> None:
            super().__init__()
            self.index = index
            self.paper_id = paper_id

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.listing = Listing()
        self.marks = Marks()
        self.empty_message = "No papers."
        self.drawn_generation = -1  # the listing generation last painted (for the bench)
        self._kept: str | None = None  # while a new listing places the cursor: its paper
        self.votes = True  # the upvotes column: dropped when no paper near the top has any
        # Rows drawn, by what they show: typing redraws the same rows again and again (the
        # whole list after its first page, a space typed, a letter taken back), and a row
        # costs more to build (marks, highlights, styles) than the frame has to spare.
        self._drawn: dict[tuple, Strip] = {}
        self._drawn_for: tuple | None = None  # what every row drawn shares
        # The widget's style, read once per pass over the rows (`render_lines`): Textual
        # works it out from every ancestor's background at each read.
        self._style: Style | None = None

    # -- data ---------------------------------------------------------------------------

    def show_listing(self, listing: Listing, keep: str | tuple[str, ...] | None = None) -> None:
        """Show a new listing; keep the cursor on paper `keep` when it is still there (or
        on the first of several that is: a paper, then its neighbours)."""
        old, was = self.cursor, self.current
        self.listing = listing
        # Rows near the top are read to be drawn anyway; a column no paper fills is waste.
        self.votes = any(listing.row(i).upvotes for i in range(min(len(listing), 60)))
        self.virtual_size = Size(self.scrollable_content_region.width, len(listing))
        # The scroll bar told now, drawn in the frame that draws the rows: left to the
        # layout, it is drawn again in a frame of its own after them.
        self._scroll_update(self.virtual_size)
        index = None
        for paper_id in ((keep,) if isinstance(keep, str) else keep or ()) if len(listing) else ():
            index = listing.index_of(paper_id, near=old)
            if index is not None:
                break
        if index is None:
            self.scroll_to(y=0, animate=False, immediate=True)
        self._kept = was.id if was else None
        try:
            self.cursor = index if index is not None else 0
        finally:
            self._kept = None
        if index:
            # The new height is known to the scroll machinery only after the next layout:
            # scrolled now, a kept cursor far down the new list would stay off screen.
            self.call_after_refresh(self.scroll_to_region, Region(0, index, 1, 1),
                                    animate=False, x_axis=False)
        self.refresh()

    def set_marks(self, marks: Marks) -> None:
        self.marks = marks
        self._drawn.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()  # a theme, or the CSS, changed the rows' styles
        self._drawn.clear()

    @property
    def current(self) -> Row | None:
        if 0 <= self.cursor < len(self.listing):
            return self.listing.row(self.cursor)
        return None

    # -- cursor -------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.listing) - 1)) if len(self.listing) else 0

    def on_focus(self) -> None:
        self.refresh_line(self.cursor)

    def on_blur(self) -> None:
        self.refresh_line(self.cursor)

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old)
        self.refresh_line(new)
        self.scroll_to_region(Region(0, new, 1, 1), animate=False, immediate=True,
                              x_axis=False)
        row = self.current
        paper_id = row.id if row else None
        self.post_message(self.Highlighted(new, paper_id,
                                           paper_id is not None and paper_id == self._kept))

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        self.cursor = len(self.listing) - 1

    def action_page(self, direction: int) -> None:
        step = max(1, self.scrollable_content_region.height - 1)
        self.cursor += direction * step

    def action_open(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Opened(self.cursor, row.id))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self.listing):
            self.cursor = index
            if event.chain >= 2:
                self.action_open()

    # Textual lays out a Line-API list with the compositor's idea of its virtual size (its
    # region), never the list's own: every layout of the screen, even for a label beside
    # the search input, read that as a change, refreshed the scroll bar and drew a second
    # frame that recomposed every line beside it (4 ms, 1.5 times per key). Told the list's
    # own size when that is what the scroll bar last showed, it updates only on a change.
    _scrolled_for: Size | None = None

    def _scroll_update(self, virtual_size: Size) -> None:
        self._scrolled_for = virtual_size
        super()._scroll_update(virtual_size)

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size,
                      layout: bool = True) -> bool:
        if self.virtual_size == self._scrolled_for:
            virtual_size = self.virtual_size
        return super()._size_updated(size, virtual_size, container_size, layout)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.listing))

    # -- drawing ------------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._style = None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        base = self._style or self.rich_style
        self.drawn_generation = self.listing.generation
        if not len(self.listing):
            if y == 1:
                text = Text(f"  {self.empty_message}", end="")
                style = self.get_component_rich_style("paper-list--empty")
                return Strip(text.render(self.app.console), text.cell_len).crop_extend(
                    0, width, style)
            return Strip.blank(width, base)
        if index >= len(self.listing):
            return Strip.blank(width, base)
        row = self.listing.row(index)
        # And the marks: `set_marks` clears.
        shared = (width, self.votes, self.listing.terms, base)
        if shared != self._drawn_for:
            self._drawn.clear()
            self._drawn_for = shared
        cursor = index == self.cursor
        key = (index, row, cursor and self.has_focus, cursor)
        strip = self._drawn.get(key)
        if strip is None:
            strip = self._draw(index, row, width, cursor, base)
            if len(self._drawn) >= DRAWN_KEPT:
                self._drawn.clear()
            self._drawn[key] = strip
        return strip

    def _draw(self, index: int, row: Row, width: int, cursor: bool, base: Style) -> Strip:
        pieces = self.row_pieces(row)
        cells = sum(cell_len(text) for text, _ in pieces)
        if cells > width > 1:
            pieces, cells = _ellipsis(pieces, width), width
        if cells < width:
            pieces.append((" " * (width - cells), None))
        # The widget's style under the cursor's under the piece's own (so the cursor's
        # background shows), then the row's number, which the mouse handlers read: one
        # sum per segment, where three passes over the strip each made a new one.
        under = base
        if cursor:
            name = "paper-list--cursor" if self.has_focus else "paper-list--cursor-blurred"
            under = base + self.get_component_rich_style(name)
        meta = Style.from_meta({"row": index})
        segments = [Segment(text, under + style + meta if style else under + meta)
                    for text, style in pieces if text]
        strip = Strip(segments, max(cells, width))
        return strip.crop(0, width) if cells > width else strip

    def row_pieces(self, row: Row) -> list[tuple[str, Style | None]]:
        """One row as literal text in styled pieces: marks, date, upvotes, the title with
        query terms lit. Segments made here, not a rich `Text` rendered: a row costs a
        third of that, and a new query draws a screenful of new rows in its frame."""
        def style(name: str) -> Style:
            # Partial: only what the rule sets, so the cursor's background shows through.
            return self.get_component_rich_style(name, partial=True)

        starred = row.id in self.marks.starred
        unread = row.id not in self.marks.read
        aside = SKIPPED if row.id in self.marks.skipped else (
            SNOOZED if row.id in self.marks.snoozed else "")
        if starred or not aside:
            out = [(STAR if starred else " ", style("paper-list--star"))]
        else:
            out = [(aside, style("paper-list--set-aside"))]
        out.append((" ", None))
        out.append((UNREAD if unread else " ", style("paper-list--unread")))
        out.append((" ", None))
        out.append((row.day.isoformat() if row.day else "          ",
                    style("paper-list--date")))
        if self.votes:
            out.append((f"{row.upvotes:>5}" if row.upvotes else "     ",
                        style("paper-list--upvotes")))
        out.append(("  ", None))
        title = (style("paper-list--set-aside") if aside
                 else None if unread else style("paper-list--read"))
        lit = style("paper-list--highlight")
        if title is not None:
            lit = title + lit  # the title's style under the highlight's, as Rich combines
        pos = 0
        for start, end in highlight_spans(row.title, self.listing.terms):
            if start < pos:
                continue
            out.append((clean(row.title[pos:start]), title))
            out.append((clean(row.title[start:end]), lit))
            pos = end
        out.append((clean(row.title[pos:]), title))
        return out

    def column_names(self) -> str:
        """The header over the columns `row_pieces` draws."""
        return "★ ● date      " + ("    ▲" if self.votes else "") + "  title"

    def __len__(self) -> int:
        return len(self.listing)


def _ellipsis(pieces: list[tuple[str, Style | None]], width: int
              ) -> list[tuple[str, Style | None]]:
    """`pieces` cut to `width` cells, the last one an ellipsis, as Rich's `Text.truncate`
    cuts: the whole text to width - 1 cells, then "…"; each character keeps the style of
    the one at its position before the cut (Rich's spans are positions)."""
    pieces = [(text, style) for text, style in pieces if text]
    cut = set_cell_size("".join(text for text, _ in pieces), width - 1)
    out: list[tuple[str, Style | None]] = []
    pos, last = 0, None
    for text, style in pieces:
        if pos <= len(cut) < pos + len(text):
            last = style  # the character the ellipsis stands on
        if pos < len(cut):
            out.append((cut[pos:pos + len(text)], style))
        pos += len(text)
    if pos < len(cut):
        out.append((cut[pos:], None))
    out.append(("…", last))
    return out


def plain_lines(widget: PaperList) -> list[str]:
    """The visible rows as plain text (for tests and the bench)."""
    return [widget.render_line(y).text for y in range(widget.scrollable_content_region.height)]


__all__ = ["Marks", "PaperList", "plain_lines"]
