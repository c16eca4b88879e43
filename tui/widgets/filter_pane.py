"""The filter pane: library views with live counts; selecting one filters the list."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from papers.index.scope import ALL, STARRED, UNREAD, View
from papers.tui.screens.palette import view_name
from papers.tui.store import Counts
from papers.tui.text import clean

GROUPS = ("Tags", "Saved searches", "Digests", "Months")
MONTHS_AFTER = 60  # more digests than this are grouped by month


def _label(name: str, count: int | None) -> Text:
    text = Text(clean(name))
    if count is not None:
        text.append(f"  {count:,}", style="dim")
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
        self.clear()
        root = self.root
        keep: TreeNode | None = None

        def leaf(parent: TreeNode, view: View, count: int | None) -> None:
            nonlocal keep
            label = _label(view_name(view), count)
            if view in counts.unreachable:
                label.append("  ⚠ source missing", "bold yellow")
            node = parent.add_leaf(label, data=view)
            if view == self.selected:
                keep = node

        leaf(root, ALL, counts.total)
        leaf(root, UNREAD, counts.unread)
        leaf(root, STARRED, counts.starred)
        groups = {"Tags": counts.tags, "Saved searches": counts.saved,
                  "Digests": counts.digests, "Months": counts.months}
        for name in GROUPS:
            items = groups[name]
            label = _label(name, len(items))
            if name == "Digests" and counts.unreachable:
                label.append("  ⚠", "bold yellow")
            group = root.add(label, data=None,
                             expand=name in self._expanded, allow_expand=bool(items))
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
                leaf(group, view, n)
        if keep is not None:
            self.move_cursor(keep)

    def select_view(self, view: View) -> None:
        """Put the cursor on `view` (picked elsewhere: the palette)."""
        self.selected = view
        for node in (*self.root.children, *(c for n in self.root.children for c in n.children)):
            if node.data == view:
                if node.parent is not None and node.parent is not self.root:
                    node.parent.expand()
                self.move_cursor(node)
                return

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        view = event.node.data
        if view is not None:
            self.selected = view
            self.post_message(self.ViewSelected(view))
