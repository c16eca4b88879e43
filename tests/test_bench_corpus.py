"""The benchmark corpus generator writes digests in the real page-dump layout."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.corpus import (
    HEADER_LINES,
    CorpusPaper,
    fold_keys,
    load_corpus,
    normalise_abstract,
    normalise_title,
    render_digest,
    synthetic_papers,
    write_corpus,
)

REPO = Path(__file__).resolve().parent.parent
SHARED = next(
    (p for p in (REPO.parent / "shared", Path("/work/shared")) if p.is_dir()),
    None,
)
REAL = SHARED / "corpus" / "hf-daily-papers.jsonl" if SHARED else None


@functools.cache
def real_papers() -> list[CorpusPaper]:
    assert REAL is not None
    return load_corpus(REAL)


needs_real = pytest.mark.skipif(
    REAL is None or not REAL.exists(), reason="no ../shared real corpus here"
)

# The shapes of the metadata lines in the real files (../shared/digests/004_*.txt).
AUTHORS = re.compile(r"^  • (\d+) authors?$")
ORG = re.compile(r"^([a-z0-9][a-z0-9-]*) (\S.*)$")
DAY = re.compile(r"^([A-Z][a-z]{2}) (\d{1,2})(?:, (\d{4}))?(?: (\d+))?$")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Entry:
    title: str
    abstract_lines: list[str]
    who: str | None = None
    day: str | None = None


def parse_day(s: str, digest: dt.date) -> tuple[dt.date, int]:
    """A `Mon D[, YYYY][ N]` line read by the rule in digest-format.md."""
    m = DAY.match(s)
    assert m, s
    mon, day, year, votes = m.groups()
    d = dt.date(int(year or digest.year), MONTHS.index(mon) + 1, int(day))
    if not year and d > digest:
        d = d.replace(year=d.year - 1)
    return d, int(votes or 0)


def parse(text: str) -> tuple[dt.date, list[Entry]]:
    """Split a digest by position only: title, blank, abstract, blank, optional block."""
    lines = text.split("\n")
    assert lines[-1] == "", "a digest ends with a newline"
    i = 0
    while not DAY.match(lines[i]):  # the header
        i += 1
    m = DAY.match(lines[i])
    assert m and m.group(3), "the digest date line carries its year"
    digest = dt.date(int(m.group(3)), MONTHS.index(m.group(1)) + 1, int(m.group(2)))
    assert lines[i + 1] == ""
    i += 2
    entries = []
    while i < len(lines) - 1:
        title = lines[i]
        assert title.strip() and lines[i + 1] == "", (i, title)
        i += 2
        start = i
        while lines[i] != "":
            i += 1
        entry = Entry(title, lines[start:i])
        assert entry.abstract_lines, (i, title)
        i += 1  # the blank after the abstract
        if i + 1 < len(lines) and lines[i + 1] == "·":
            entry.who, entry.day = lines[i], lines[i + 2]
            assert lines[i + 3] == "", (i, title)
            i += 4
        entries.append(entry)
    return digest, entries


def check_entry(e: Entry, p: CorpusPaper, digest: dt.date) -> None:
    assert e.title == normalise_title(p.title)
    # Hard-wrapped lines may carry the corpus's paragraph indent; a reader strips it.
    assert " ".join(line.strip() for line in e.abstract_lines) == normalise_abstract(p.abstract)
    if not p.has_metadata:
        assert e.who is None
        return
    assert e.who is not None and e.day is not None
    if p.organization:
        m = ORG.match(e.who)
        assert m and m.group(2) == " ".join(p.organization.split()), e.who
    else:
        m = AUTHORS.match(e.who)
        assert m and int(m.group(1)) == p.n_authors, e.who
        assert e.who.endswith("author" if p.n_authors == 1 else "authors")
    assert parse_day(e.day, digest) == (p.published, p.upvotes)


def test_render_round_trips_by_position():
    papers = synthetic_papers(400, seed=0)
    digest = dt.date(2025, 1, 15)
    text = render_digest(digest, papers)
    assert text.split("\n")[: len(HEADER_LINES) + 1] == [*HEADER_LINES, "Jan 15, 2025"]
    got_digest, entries = parse(text)
    assert got_digest == digest and len(entries) == len(papers)
    for e, p in zip(entries, papers, strict=True):
        assert len(e.abstract_lines) == 1  # page dumps: one line per abstract
        check_entry(e, p, digest)
    # all three metadata shapes occur
    assert any(e.who is None for e in entries)
    assert any(e.who and AUTHORS.match(e.who) for e in entries)
    assert any(e.who and not AUTHORS.match(e.who) for e in entries)


def test_render_wrapped_and_headerless():
    papers = synthetic_papers(50, seed=0)
    digest = dt.date(2024, 12, 9)
    text = render_digest(digest, papers, header=False, wrap=True)
    assert text.startswith("Dec 9, 2024\n\n")
    _, entries = parse(text)
    assert len(entries) == 50
    for e, p in zip(entries, papers, strict=True):
        assert len(e.abstract_lines) > 1 and max(map(len, e.abstract_lines)) <= 80
        check_entry(e, p, digest)


def test_metadata_block_details():
    digest = dt.date(2025, 3, 1)
    cases = [  # (paper fields, expected who line, expected date line)
        (dict(n_authors=1, published=dt.date(2025, 2, 27), upvotes=0), "  • 1 author", "Feb 27"),
        (
            dict(n_authors=15, published=dt.date(2025, 1, 22), upvotes=6),
            "  • 15 authors",
            "Jan 22 6",
        ),
        (
            dict(n_authors=4, published=dt.date(2024, 12, 17), upvotes=2),
            "  • 4 authors",
            "Dec 17, 2024 2",
        ),
        # same year but after the digest: without the year a reader would put it in 2024
        (
            dict(n_authors=2, published=dt.date(2025, 3, 5), upvotes=1),
            "  • 2 authors",
            "Mar 5, 2025 1",
        ),
        (
            dict(n_authors=9, organization="Stanford University", published=digest, upvotes=0),
            "stanford-university Stanford University",
            "Mar 1",
        ),
        (
            dict(organization="香港科技大学", published=digest, upvotes=3),
            "org 香港科技大学",
            "Mar 1 3",
        ),
    ]
    for fields, who, day in cases:
        text = render_digest(digest, [CorpusPaper("T", "A", **fields)], header=False)
        assert text.endswith(f"T\n\nA\n\n{who}\n·\n{day}\n\n"), text
    bare = render_digest(digest, [CorpusPaper("T", "A")], header=False)
    assert bare == "Mar 1, 2025\n\nT\n\nA\n\n"


def test_titles_are_normalised_to_one_line():
    p = CorpusPaper(
        "State-offset Tuning: State-based Fine-Tuning for\n  State Space Models", "x\n  y"
    )
    text = render_digest(dt.date(2025, 1, 1), [p], header=False)
    title = "State-offset Tuning: State-based Fine-Tuning for State Space Models"
    assert normalise_title(p.title) == title
    assert text == f"Jan 1, 2025\n\n{title}\n\nx y\n\n"


def test_synthetic_papers_look_like_the_corpus():
    papers = synthetic_papers(10_000, seed=0)
    plain = {re.sub(r"[^0-9a-z]", "", p.title.lower()) for p in papers}
    assert len(plain) == len(papers), "titles must be unique after folding"
    assert len({fold_keys(p.title)[1] for p in papers}) == len(papers)
    for p in papers[:2000]:
        assert "\n" not in p.title and 3 <= len(p.title.split()) <= 25
        assert 115 <= len(p.abstract.split()) <= 310
        assert p.published is None or p.published <= p.digest_date
    meta = sum(p.has_metadata for p in papers) / len(papers)
    orgs = sum(bool(p.organization) for p in papers) / len(papers)
    zero = sum(p.upvotes == 0 for p in papers) / len(papers)
    assert 0.85 < meta < 0.95 and 0.15 < orgs < 0.25 and zero > 0.2
    assert max(p.upvotes for p in papers) >= 100
    assert any(":" in p.title for p in papers) and any("$" in p.title for p in papers)
    assert any("[" in p.title for p in papers)


def test_synthetic_titles_avoid_excluded_titles():
    first = synthetic_papers(300, seed=0)
    again = synthetic_papers(300, seed=0, exclude=[p.title for p in first[:100]])
    assert {p.title for p in again[:100]}.isdisjoint({p.title for p in first[:100]})


def test_deterministic_for_a_seed(tmp_path):
    papers = synthetic_papers(300, seed=0)
    assert papers == synthetic_papers(300, seed=0)
    assert papers[:100] == synthetic_papers(100, seed=0)
    assert papers[:100] != synthetic_papers(100, seed=1)

    def files(d: Path) -> dict[str, bytes]:
        return {f.name: f.read_bytes() for f in sorted(d.iterdir())}

    write_corpus(tmp_path / "a", 700, seed=0, per_day=40, repeats=0.2)
    write_corpus(tmp_path / "b", 700, seed=0, per_day=40, repeats=0.2)
    assert files(tmp_path / "a") == files(tmp_path / "b")


def test_write_corpus_synthetic(tmp_path):
    info = write_corpus(tmp_path, 1000, seed=0, per_day=50, real=None)
    names = sorted(f.name for f in tmp_path.iterdir())
    assert info.files == len(names) == 20 and info.papers == info.entries == 1000
    assert info.bytes == sum(f.stat().st_size for f in tmp_path.iterdir())
    for name in names:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}\.txt", name)
        digest, entries = parse((tmp_path / name).read_text(encoding="utf-8"))
        assert digest.isoformat() == name[:-4] and len(entries) == 50


def test_repeats_relist_papers_in_later_digests(tmp_path):
    info = write_corpus(tmp_path, 2000, seed=0, per_day=50, repeats=0.1)
    assert info.papers == 2000 and 150 < info.entries - info.papers < 250
    seen: dict[str, list[tuple[dt.date, int]]] = {}
    for f in sorted(tmp_path.iterdir()):
        digest, entries = parse(f.read_text(encoding="utf-8"))
        for e in entries:
            votes = parse_day(e.day, digest)[1] if e.day else 0
            seen.setdefault(e.title, []).append((digest, votes))
    assert len(seen) == 2000
    repeated = [s for s in seen.values() if len(s) > 1]
    assert len(repeated) > 100
    for sightings in repeated:
        dates = [d for d, _ in sightings]
        assert dates == sorted(dates) and len(set(dates)) == len(dates)
        assert [v for _, v in sightings] == sorted(v for _, v in sightings)


@needs_real
@pytest.mark.slow  # ~1.5 s: writes and re-reads all 10,049 papers
def test_real_corpus_one_file_per_digest_date(tmp_path):
    papers = real_papers()
    assert len(papers) == 10_049
    info = write_corpus(tmp_path, len(papers) + 120, per_day=60, real=REAL)
    real_dates = {p.digest_date for p in papers}
    assert (info.real, info.synthetic, info.papers) == (10_049, 120, 10_169)
    assert info.files == len(real_dates) + 2
    by_title = {normalise_title(p.title): p for p in papers}
    n_real = 0
    for f in sorted(tmp_path.iterdir()):
        digest, entries = parse(f.read_text(encoding="utf-8"))
        assert digest.isoformat() == f.name[:-4]
        if digest not in real_dates:
            assert digest > max(real_dates) and len(entries) == 60
            assert not {e.title for e in entries} & by_title.keys()
            continue
        for e in entries:
            p = by_title[e.title]
            assert p.digest_date == digest
            check_entry(e, p, digest)
            n_real += 1
    assert n_real == 10_049


@needs_real
def test_real_corpus_keeps_its_hard_wraps_when_wrapped():
    papers = [p for p in real_papers()[:400] if "\n" in p.abstract]
    assert papers
    digest = max(p.digest_date for p in papers)
    _, entries = parse(render_digest(digest, papers, wrap=True))
    assert len(entries) == len(papers)
    for e, p in zip(entries, papers, strict=True):
        assert len(e.abstract_lines) > 1
        check_entry(e, p, digest)


def test_empty_title_or_abstract_is_refused():
    for p in (CorpusPaper(" \n ", "A"), CorpusPaper("T", "\n")):
        with pytest.raises(ValueError):
            render_digest(dt.date(2025, 1, 1), [p])


def test_gen_corpus_script(tmp_path, capsys):
    from bench.gen_corpus import main

    assert main([str(tmp_path), "-n", "120", "--per-day", "50", "--no-real"]) == 0
    out = capsys.readouterr().out
    assert "wrote 3 digest files" in out and "120 papers" in out
    assert len(list(tmp_path.glob("*.txt"))) == 3
