"""Export papers with the user's marks as Markdown, JSON, CSV or BibTeX, and write files safely.

Everything here is a pure function from items to text; nothing goes through Rich markup.

Markdown is meant to be pasted into notes, a wiki or a GitHub issue, so text that comes from
digests or from the user is escaped to render exactly as written:
- inline text (titles, organisations, tags, notes) gets a backslash before every character
  CommonMark, GFM or common extensions would read as syntax: \\ ` * _ [ ] < > | ~ $ #, and `&`
  when it would start an entity. Backslash-escaping ASCII punctuation is always literal in
  CommonMark, and we escape only those characters so the raw text stays readable;
- a line that could start a block (`-`, `+`, `=`, `1.`) gets its first character escaped;
- runs of whitespace become one space, since Markdown would fold them anyway and a newline
  in a title would otherwise break the list item;
- the abstract sits in a one-line `<details>` HTML block, where Markdown is not parsed but
  HTML is, so it is HTML-escaped instead (`&`, `<`, `>`; `$` too, for GitHub's math), and
  has no blank line that would end the block early.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from papers.index import jsontext
from papers.index.controls import visible
from papers.index.models import Paper
from papers.index.userdata import EMPTY, PaperState

FORMATS = ("markdown", "json", "csv", "bibtex", "csl")
GROUPINGS = ("none", "tag", "digest", "month")
CSV_FIELDS = (
    "id", "title", "abstract", "authors", "organization", "published", "upvotes", "digests",
    "first_seen", "last_seen", "links", "url", "arxiv_id", "author_names", "github",
    "github_stars", "project_page", "keywords", "ai_summary", "comments", "submitter",
    "starred", "read", "tags", "note", "skipped", "snoozed_until",
)  # fmt: skip


@dataclass(frozen=True)
class ExportItem:
    """One paper to export with what the user said about it. `gone`: the paper is no longer
    in any digest (it was rebuilt from the snapshot the user-data store remembered)."""

    paper: Paper
    state: PaperState = EMPTY
    gone: bool = False

    def to_json(self) -> dict:
        """The object `papers find --json` prints: the paper plus starred, read, tags, note."""
        return {**self.paper.to_json(), **self.state.to_json()}


def render(
    items: Sequence[ExportItem],
    fmt: str = "markdown",
    *,
    query: str | None = None,
    group_by: str = "none",
    abstracts: bool = False,
    today: date | None = None,
) -> str:
    """The export of `items`, in their order, as text ending in a newline. `query`, `today`
    and `group_by` only shape the Markdown reading list; `abstracts` adds abstracts to
    Markdown and BibTeX (JSON and CSV always carry them)."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}: use one of {', '.join(GROUPINGS)}")
    # Text for people: whatever control characters the digests held become visible escapes
    # (index.controls), in files too, since files are read in terminals and editors.
    if fmt == "markdown":
        return visible(_markdown(items, query, group_by, abstracts, today or date.today()))
    if fmt == "json":
        return jsontext.dumps([it.to_json() for it in items], indent=2) + "\n"
    if fmt == "csv":
        return _csv(items)
    if fmt == "bibtex":
        return visible("\n".join(_bibtex(it, abstracts) for it in items))
    if fmt == "csl":
        return jsontext.dumps([_csl(it, abstracts) for it in items], indent=2) + "\n"
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Replace `path` with `text` (UTF-8) so that it is either the old file or the whole new
    one, never half: write a temporary file beside it, fsync, rename over.

    A symlink is written through (its target is replaced, the link stays); a FIFO, a device
    or anything else that is not a regular file is written in place, never replaced by a
    regular file (`-o /dev/stdout`, `-o /dev/null`, a named pipe)."""
    path = Path(path)
    data = text.encode("utf-8")
    if path.is_symlink():
        path = path.resolve()
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(path, "wb") as f:
            f.write(data)
        return
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide, as a plain open() would; mkstemp would make
    # every export 0600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep the old file's mode
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable; not every platform can open a directory
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


# -- Markdown ---------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|~$#]|&(?=#?[0-9A-Za-z]+;)")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_BLOCK_START = re.compile(r"[-+=]|\d+(?=[.)])")
_URL_UNSAFE = re.compile(r"[\s()<>\[\]\\`\"{}|^]")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _md(text: str) -> str:
    """Inline text that renders exactly as `text` (with whitespace runs folded), and pings
    nobody: an empty HTML comment after `@` keeps GitHub from reading `@name` as a mention
    (it renders as nothing)."""
    escaped = _MD_SPECIAL.sub(lambda m: "\\" + m.group(), " ".join(text.split()))
    return _MENTION.sub("@<!-- -->", escaped)


def _md_line(text: str) -> str:
    """Like _md, for text that begins a line and must not begin a block."""
    return _not_a_block(_md(text))


def _not_a_block(escaped: str) -> str:
    m = _BLOCK_START.match(escaped)
    if m is None:
        return escaped
    end = m.end()
    # "1." -> "1\.", "-" -> "\-"
    return escaped[:end] + "\\" + escaped[end:] if m.group()[0].isdigit() else "\\" + escaped


def _code(text: str) -> str:
    """A code span showing `text` exactly: backslashes do not escape inside code spans, so
    the fence must be longer than any backtick run inside."""
    text = " ".join(text.split())
    longest = max((len(r) for r in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if text[:1] in ("`", " ") or text[-1:] in ("`", " "):
        text = f" {text} "  # one space each side is stripped again by the parser
    return f"{fence}{text}{fence}"


def _link(paper: Paper) -> str:
    """The paper's own page (never a URL its abstract mentions), safe inside `(...)`."""
    return _URL_UNSAFE.sub(lambda m: f"%{ord(m.group()):02X}", paper.url)


def _names(paper: Paper, shown: int = 3) -> str:
    names = [" ".join(n.split()) for n in paper.author_names]
    if len(names) > shown:
        return ", ".join(names[:shown]) + " et al."
    return ", ".join(names)


def _html(text: str) -> str:
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    escaped = (
        p.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("$", "&#36;")
        for p in paragraphs
        if p
    )
    return "".join(f"<p>{p}</p>" for p in escaped)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _task(item: ExportItem, abstracts: bool) -> str:
    p, s = item.paper, item.state
    first = f"- [{'x' if s.read else ' '}] [{_md(p.title) or 'untitled'}]({_link(p)})"
    details: list[str] = []
    if p.author_names:
        details.append(_md(_names(p)))
    if p.published:
        details.append(p.published.isoformat())
    elif p.first_seen:
        details.append(f"first seen {p.first_seen.isoformat()}")
    if p.upvotes is not None:
        details.append(_plural(p.upvotes, "upvote"))
    if p.organization:
        details.append(_md(p.organization))
    if s.starred:
        details.append("starred")
    if s.tags:
        details.append("tags: " + ", ".join(_md(t) for t in s.tags))
    if item.gone:
        details.append("no longer in any digest")
    lines = [first]
    if details:
        lines.append(_not_a_block(" · ".join(details)))  # it may start with a name
    if s.note:
        note = [line for line in s.note.splitlines() if line.strip()]
        lines.append("Note: " + _md(note[0]))
        lines.extend(_md_line(line) for line in note[1:])
    # A trailing backslash is a hard line break: one item, one paragraph, lines kept apart.
    text = "\\\n  ".join(lines)
    if abstracts and p.abstract.strip():
        # An HTML block may interrupt the item's paragraph; it must stay on one line because
        # a blank line would end it.
        text += f"\n  <details><summary>Abstract</summary>{_html(p.abstract)}</details>"
    return text


def _groups(items: Sequence[ExportItem], group_by: str) -> list[tuple[str | None, list]]:
    """Sections in reading order, each with its items in the order given."""
    if group_by == "none":
        return [(None, list(items))]
    sections: dict[tuple, tuple[str, list[ExportItem]]] = {}
    for it in items:
        for order, title in _sections(it, group_by):
            sections.setdefault(order, (title, []))[1].append(it)
    return [sections[k] for k in sorted(sections)]


def _sections(item: ExportItem, group_by: str) -> list[tuple[tuple, str]]:
    """(sort key, heading) of every section `item` belongs in; the catch-all ones sort last."""
    if group_by == "tag":
        return [((0, t.casefold()), t) for t in item.state.tags] or [((1,), "Untagged")]
    if group_by == "digest":
        if item.gone:  # its digests (from an old snapshot) no longer list it
            return [((2,), "No longer in any digest")]
        seen = item.paper.digests
        out = [
            ((0, -d.toordinal()), f"Digest of {d.isoformat()}")
            for d in {s.date for s in seen if s.date}
        ]
        if any(s.date is None for s in seen):
            out.append(((1,), "Undated digests"))
        return out or [((2,), "No longer in any digest")]
    pub = item.paper.published
    if pub is None:
        return [((1,), "Publication date unknown")]
    return [((0, -(pub.year * 12 + pub.month)), f"{_MONTHS[pub.month - 1]} {pub.year}")]


def _markdown(
    items: Sequence[ExportItem], query: str | None, group_by: str, abstracts: bool, today: date
) -> str:
    header = [f"Exported {today.isoformat()}"]
    if query and query.strip():
        header.append(f"query: {_code(query)}")
    header.append(_plural(len(items), "paper"))
    out = ["# Reading list", "", " · ".join(header), ""]
    if not items:
        out += ["No papers.", ""]
    for title, group in _groups(items, group_by):
        if title is not None:
            out += [f"## {_md(title)}", ""]
        out += [_task(it, abstracts) for it in group]
        out.append("")
    return "\n".join(out)


# -- CSV --------------------------------------------------------------------------------------


def _csv(items: Iterable[ExportItem]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for it in items:
        row = it.to_json()
        # One cell per field: a digest is shown by its date (its file when undated); tags
        # cannot contain ';' and URLs cannot contain spaces, so those joins are reversible.
        row["digests"] = ";".join(s["date"] or s["file"] for s in row["digests"])
        row["links"] = " ".join(row["links"])
        row["tags"] = ";".join(row["tags"])
        row["author_names"] = ";".join(row["author_names"])
        row["keywords"] = ";".join(row["keywords"])
        row["starred"] = "true" if row["starred"] else "false"
        row["read"] = "true" if row["read"] else "false"
        writer.writerow({k: _cell(row[k]) for k in CSV_FIELDS})
    return buf.getvalue()


def _cell(value) -> object:
    """A CSV cell no spreadsheet runs as a formula (text that starts with `=`, `+`, `-`,
    `@`, a tab or a carriage return gets a leading `'`: OWASP's rule), and no control
    character reaches a terminal raw."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return visible(value)


# -- BibTeX -----------------------------------------------------------------------------------

_TEX = {
    "\\": r"\textbackslash{}",
    # BibTeX counts braces even when escaped as \{, so an unbalanced one would break the
    # entry: these commands print a brace with balanced source.
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
}
_TEX_SPECIAL = re.compile("[" + re.escape("".join(_TEX)) + "]")
_STOPWORDS = frozenset({
    "a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "without", "towards",
    "toward", "via", "is", "are", "do", "does", "can", "how", "what", "why", "when", "where",
    "from", "by", "at", "as", "your", "you", "we", "our", "all", "not", "i", "it", "its", "be",
    "beyond", "into",
})  # fmt: skip
_BIB_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _tex(text: str) -> str:
    """Text that LaTeX prints exactly as written; titles keep their TeX ($\\lambda$) literal,
    as the digest showed it."""
    return _TEX_SPECIAL.sub(lambda m: _TEX[m.group()], " ".join(text.split()))


def bibtex_key(paper: Paper) -> str:
    """A key that stays the same for a paper across exports: the first word of its title
    that says something, its year, and the start of its id, e.g. `lora2021-a1b2c3`."""
    title = re.sub(r"\\[A-Za-z]+", " ", paper.title)  # \textit{...} is not a word
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = [w for w in re.findall(r"[a-z0-9]+", ascii_title.lower()) if w not in _STOPWORDS]
    word = words[0][:20] if words else "paper"
    year = _year(paper)
    return f"{word}{year or ''}-{paper.id[:6]}"


def _year(paper: Paper) -> int | None:
    """The year it was published; none at all rather than the year a digest showed it."""
    return paper.published.year if paper.published else None


def _bibtex(item: ExportItem, abstracts: bool) -> str:
    p, s = item.paper, item.state
    # Values are written as given: braced text, or a bare month macro.
    fields = [("title", "{{" + _tex(p.title) + "}}")]  # double braces keep the title's case
    if p.author_names:
        # Braced names keep their parts together ("Dalvi Mishra"); "and" separates them.
        fields.append(("author", "{" + " and ".join(_tex(n) for n in p.author_names) + "}"))
    if (year := _year(p)) is not None:
        fields.append(("year", f"{{{year}}}"))
    if p.published:
        fields.append(("month", _BIB_MONTHS[p.published.month - 1]))
    if p.arxiv_id:
        url = _link(p)
        fields += [("howpublished", f"{{\\url{{{url}}}}}"), ("url", f"{{{url}}}"),
                   ("eprint", f"{{{_tex(p.arxiv_id)}}}"), ("archivePrefix", "{arXiv}")]
    if s.tags:
        fields.append(("keywords", "{" + _tex(", ".join(s.tags)) + "}"))
    if s.note:
        fields.append(("note", "{" + _tex(s.note) + "}"))
    if abstracts and p.abstract.strip():
        fields.append(("abstract", "{" + _tex(p.abstract) + "}"))
    body = "".join(f"  {name} = {value},\n" for name, value in fields)
    return f"@misc{{{bibtex_key(p)},\n{body}}}\n"


# -- CSL-JSON ---------------------------------------------------------------------------------


def _csl(item: ExportItem, abstracts: bool) -> dict:
    """One CSL-JSON item (what Zotero and pandoc import): an arXiv preprint when its id is
    known."""
    p, s = item.paper, item.state
    out: dict = {"id": bibtex_key(p), "type": "article", "title": " ".join(p.title.split())}
    if p.author_names:
        out["author"] = [_csl_name(n) for n in p.author_names]
    if p.published:
        out["issued"] = {"date-parts": [[p.published.year, p.published.month,
                                         p.published.day]]}
    if p.arxiv_id:
        out.update({"publisher": "arXiv", "number": p.arxiv_id, "URL": p.url,
                    "DOI": f"10.48550/arXiv.{p.arxiv_id}"})
    if s.tags:
        out["keyword"] = ", ".join(s.tags)
    if s.note:
        out["note"] = s.note
    if abstracts and p.abstract.strip():
        out["abstract"] = p.abstract
    return out


def _csl_name(name: str) -> dict:
    """A name as CSL's family and given parts: the last word is the family name, as in
    most of the names the Daily Papers list; a single word stays whole."""
    parts = name.split()
    if len(parts) < 2:
        return {"literal": " ".join(parts)}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}
