"""The note editor's file: the note above a scissors line, the instructions below it.

As `git commit` does, everything from the scissors line down is dropped on save, so every
line of the note is kept, Markdown headings (`# ...`) included. Nothing here imports
Textual: the CLI's `papers note` can write and read the same file.
"""

from __future__ import annotations

from papers.index.models import Paper
from papers.tui.text import clean

SCISSORS = "# ------------------------ >8 ------------------------"


def note_file_prefix(paper: Paper) -> str:
    """`papers-note-<the title's first words>-`: the editor's tab says which paper it is."""
    slug = "".join(c if c.isalnum() else "-" for c in clean(paper.title).casefold())
    slug = "-".join(part for part in slug.split("-") if part)[:40].strip("-")
    return f"papers-note-{slug or paper.id}-"


def note_template(note: str, paper: Paper) -> str:
    title = " ".join(clean(paper.title).split())
    return (f"{note.rstrip()}\n\n{SCISSORS}\n"
            "# Do not change or delete the line above: everything below it is dropped.\n"
            f"# The note on: {title}\n"
            f"# {paper.url}\n"
            "# Write Markdown above the line; an empty note removes it.\n")


def note_from_edit(text: str) -> str:
    """The note as edited: every line above the scissors line (all of it if the user
    deleted the line), without the blank lines around it."""
    lines = text.splitlines()
    if SCISSORS in lines:
        lines = lines[:lines.index(SCISSORS)]
    return "\n".join(lines).strip()
