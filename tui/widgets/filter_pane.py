"""The filter pane: library views with live counts; selecting one filters the list."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from papers.index.scope import ALL, FOR_YOU, NEW, STARRED, UNREAD, View
from papers.tui.screens.palette import view_name
from papers.tui.store import Counts
from papers.tui.text import clean

GROUPS = ("Tags", "Saved searches", "Digests", "Months")
MONTHS_AFTER = 60  # more digests than this are grouped by month


def _label(name: str, count: int | None, new: int | None = None) -> Text:
    text = Text(clean(name))
    if count is not None:
        text.append(f"  {count:,}", style="dim")
    if new:
        text.append(f"  {new:,} new", style="bold cyan")
    return text


class FilterPane(Tree[View | None]):
    """A tree of views; groups are expanded by the user and stay so across refreshes."""

    # The list's moves, here too: a hand on j/k should not have to reach for the arrows.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class ViewSelected(Message):
        def __init__(self, view: View) -> None:
            super().__init__()
            self.view = view

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("Library"), data=None, **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self.selected: View = ALL
        self._expanded: set[str] = {"Tags", "Saved searches"}

    def update_counts(self, counts: Counts) -> None:
        for node in self.root.children:
            if node.data is None and node.allow_expand:
                name = node.label.plain.split("  ")[0]
                (self._expanded.add if node.is_expanded else self._expanded.discard)(name)
        # The cursor stays on its line's view (or group) across the rebuild: counts arrive
        # while the user moves through the pane, and must not pull the cursor away.
        at = self.cursor_node
        here = None if at is None else (
            at.data if at.data is not None else at.label.plain.split("  ")[0])
        self.clear()
        root = self.root
        keep: TreeNode | None = None
        stay: TreeNode | None = None

        def leaf(parent: TreeNode, view: View, count: int | None, name: str = "",
                 under: View | None = None) -> None:
            nonlocal keep, stay
            label = _label(name or view_name(view), count, counts.fresh.get(view.query))
            if view in counts.unreachable:
                label.append("  ⚠ source missing", "bold yellow")
            if under is None:
                node = parent.add_leaf(label, data=view)
            else:
                # A view with one under it, always shown (a tag and its For you): it opens
                # as a leaf does, and does not fold.
                node = parent.add(label, data=view, expand=True, allow_expand=False)
                leaf(node, under, None, "for you")
            if view == self.selected:
                keep = node
            if view == here:
                stay = node

        leaf(root, ALL, counts.total)
        leaf(root, UNREAD, counts.unread)
        leaf(root, STARRED, counts.starred)
        # The taste's views count only their news: how many papers a taste likes at all
        # says little, and would cost a pass over the library per tag.
        leaf(root, FOR_YOU, None)
        leaf(root, NEW, counts.new)
        if counts.rising is not None:
            leaf(root, *counts.rising)
        groups = {"Tags": counts.tags, "Saved searches": counts.saved,
                  "Digests": counts.digests, "Months": counts.months}
        for name in GROUPS:
            items = groups[name]
            label = _label(name, len(items))
            if name == "Digests" and counts.unreachable:
                label.append("  ⚠", "bold yellow")
            group = root.add(label, data=None,
                             expand=name in self._expanded, allow_expand=bool(items))
            if name == here:
                stay = group
            if name == "Digests" and len(items) > MONTHS_AFTER:
                # Hundreds of digests: one branch per month, newest first.
                months: dict[str, list[tuple[View, int]]] = {}
                for view, n in items:
                    months.setdefault(view_name(view)[:7], []).append((view, n))
                for month, days in months.items():
                    branch = group.add(_label(month, len(days)), data=None,
                                       expand=f"Digests {month}" in self._expanded)
                    for view, n in days:
                        leaf(branch, view, n)
                continue
            for view, n in items:
                leaf(group, view, n, under=counts.for_tags.get(view) if name == "Tags" else None)
        target = stay or keep
        # `last_line` lays the new lines out first: until then a new node has no line.
        if target is not None and self.last_line >= 0:
            self.move_cursor(target)

    def select_view(self, view: View) -> None:
        """Put the cursor on `view` (picked elsewhere: the palette)."""
        self.selected = view
        found = [*self.root.children]
        for node in found:  # breadth first: the views near the top come first
            if node.data == view:
                parent = node.parent
                while parent is not None and parent is not self.root:
                    parent.expand()
                    parent = parent.parent
                self.move_cursor(node)
                return
            found.extend(node.children)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        view = event.node.data
        if view is not None:
            self.selected = view
            self.post_message(self.ViewSelected(view))
