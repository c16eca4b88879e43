"""The command palette over the reader: one entry per action, and every view by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from papers.index.scope import View
from papers.tui.text import clean

if TYPE_CHECKING:
    from papers.tui.screens.main import ReaderScreen

KINDS = {"all": "", "unread": "", "starred": "", "tag": "tag ", "saved": "saved search ",
         "digest": "digest ", "month": "month ", "foryou": "", "new": "", "rising": ""}


def view_name(view: View) -> str:
    """A view as the filter pane and the palette name it: a digest by its day (and its
    file only when another digest has the same day)."""
    if view.kind == "digest" and view.query.startswith("digest:") \
            and view.query[7:8].isdigit() and len(view.query) == 17:
        return view.query[7:]
    return clean(view.label)


class _Commands(Provider):
    def commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for title, help_text, run in self.commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self.commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


class ActionCommands(_Commands):
    """Every action of the reader's key table, once, with its key."""

    def commands(self):
        from papers.tui.screens.main import ACTIONS

        screen: ReaderScreen = self.screen  # type: ignore[assignment]
        return [(what, f"key {key}", lambda a=action: screen.run_action(a))
                for action, key, what in ACTIONS]


class ViewCommands(_Commands):
    """Every view the filter pane offers: the library's parts, For you, New and Rising,
    tags (and each one's For you), saved searches, digests and months, by name."""

    def commands(self):
        screen: ReaderScreen = self.screen  # type: ignore[assignment]
        out = []
        for view, count in screen.views():
            title = f"View {KINDS.get(view.kind, '')}{view_name(view)}"
            said = "ranked by your taste" if count is None else f"{count:,} papers"
            out.append((title, said, lambda v=view: screen.pick_view(v)))
        return out
