"""Daily Papers JSON: the API's answer and the JSON-lines corpus, read as digests.

The real files in ../shared/hf-api are checked field by field against the JSON itself; the
small fixtures in tests/fixtures/json cover each shape and each kind of bad input, so the
tests also run without ../shared.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import pytest
from conftest import FIXTURES, SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from papers.index.dailyjson import parse_daily_json, sniff, unwrap_abstract, unwrap_title
from papers.index.digest import Digest, find_links

JSON_FIXTURES = FIXTURES / "json"
API_DIR = SHARED / "hf-api"
CORPUS = SHARED / "corpus" / "hf-daily-papers.jsonl"


def parse(name: str, data: bytes | None = None, *, as_name: str | None = None) -> Digest:
    if data is None:
        data = (JSON_FIXTURES / name).read_bytes()
    return parse_daily_json(data, name=as_name or name, mtime=date(2026, 9, 1))


def messages(d: Digest) -> str:
    return "\n".join(str(p) for p in d.problems)


def api_files() -> list[Path]:
    if not API_DIR.is_dir():
        return []
    return sorted(API_DIR.glob("*.json"))


needs_shared = pytest.mark.skipif(not API_DIR.is_dir(), reason="../shared is not present")


def assert_clean(d: Digest, name: str) -> None:
    """What every parse must give, whatever the input: nothing a terminal or UTF-8 chokes on."""
    for p in d.problems:
        assert p.file == name and p.line >= 1 and p.message
    for e in d.entries:
        assert e.title and "\n" not in e.title and e.title == e.title.strip()
        for text in (e.title, e.abstract, *e.author_names, *e.keywords, e.ai_summary or "",
                     e.organization or "", e.submitter or ""):
            text.encode("utf-8")  # no lone surrogates
            bad = [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F]
            assert not bad, (text, bad)
        assert e.line >= 1


# -- the real API files ---------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("path", api_files(), ids=lambda p: p.name)
def test_real_api_file_reads_every_paper_as_the_api_has_it(path: Path):
    raw = json.loads(path.read_bytes())
    d = parse(path.name, path.read_bytes())
    assert not d.problems, messages(d)
    assert len(d.entries) == len(raw)
    assert d.date == date.fromisoformat(path.stem)
    for e, item in zip(d.entries, raw, strict=True):
        paper = item["paper"]
        # The only wrap in an API title is arXiv's newline and two spaces.
        assert e.title == paper["title"].replace("\n  ", " ")
        assert e.arxiv_id == paper["id"]
        assert list(e.author_names) == [a["name"] for a in paper["authors"]]
        assert e.authors == len(paper["authors"])
        assert e.published == date.fromisoformat(paper["publishedAt"][:10])
        assert e.upvotes == paper["upvotes"]
        assert e.comments == item["numComments"]
        assert e.digest_date is None  # every entry is on the file's day
        # Unwrapping changes the whitespace of an abstract and nothing else.
        assert e.abstract.split() == paper["summary"].split()
        assert "\n" not in e.abstract.replace("\n\n", "")
        assert e.links == find_links(e.abstract)
        assert e.github == ((paper.get("githubRepo") or "").strip() or None)
        assert e.github_stars == paper.get("githubStars")
        assert e.project_page == ((paper.get("projectPage") or "").strip() or None)
        # 2025-12-08.json has `"ai_keywords": [""]`: an empty keyword is none.
        assert list(e.keywords) == [k.strip() for k in paper.get("ai_keywords", []) if k.strip()]
        assert e.ai_summary == paper.get("ai_summary")
        org = item.get("organization") or paper.get("organization")
        # Names are shown on one line with single spaces, as a web page shows them.
        assert e.organization == (org and " ".join((org.get("fullname") or org["name"]).split()))
        assert e.org_handle == (org and org["name"])
        if "submittedBy" in item:
            assert e.submitter == item["submittedBy"]["name"]
        else:
            assert e.submitter is None


@needs_shared
def test_real_api_days_come_from_the_content_when_the_name_has_none():
    """From 2025-03 on, `submittedOnDailyAt` names the page's day; before, the entries'
    own `publishedAt` is when they were put on the page (near enough: a day early at worst)."""
    for path in api_files():
        raw = json.loads(path.read_bytes())
        d = parse("saved.json", path.read_bytes())
        day = date.fromisoformat(path.stem)
        if "submittedOnDailyAt" in raw[0]["paper"]:
            assert d.date == day, path.name
        elif d.date is not None:
            assert 0 <= (day - d.date).days <= 1, path.name


@needs_shared
def test_real_api_papers_per_second_beside_the_text_parser(capsys):
    """Not a timing assertion (CI machines are loaded): the numbers, for the report."""
    import time

    from papers.index.digest import parse_digest

    def rate(paths, fn):
        datas = [(str(p), p.read_bytes()) for p in paths]
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            n = sum(len(fn(b, name=n, mtime=None).entries) for n, b in datas)
            best = min(best, time.perf_counter() - start)
        return n, n / best

    n_json, json_rate = rate(api_files(), parse_daily_json)
    n_text, text_rate = rate(sorted((SHARED / "digests").glob("*.txt")), parse_digest)
    with capsys.disabled():
        print(f"\nJSON {n_json} papers {json_rate:,.0f}/s; text {n_text} papers "
              f"{text_rate:,.0f}/s")
    assert n_json == sum(len(json.loads(p.read_bytes())) for p in api_files())


@pytest.mark.skipif(not CORPUS.is_file(), reason="../shared is not present")
def test_corpus_lines_parse_with_their_digest_dates():
    with CORPUS.open("rb") as f:
        lines = [next(f) for _ in range(2000)]
    d = parse("hf-daily-papers.jsonl", b"".join(lines))
    assert not d.problems, messages(d)
    assert len(d.entries) == 2000
    for e, line in zip(d.entries, lines, strict=True):
        item = json.loads(line)
        assert (e.digest_date or d.date).isoformat() == item["digest_date"]
        assert e.arxiv_id == item["arxiv_id"]
        assert e.title == " ".join(item["title"].split())
        assert list(e.author_names) == item["authors"]
        assert e.authors == item["n_authors"]
        assert e.published.isoformat() == item["published"]
        assert e.organization == item["organization"]
        assert e.abstract.split() == item["abstract"].split()
    days = {e.digest_date or d.date for e in d.entries}
    assert len(days) > 10  # the corpus spans many days: each entry keeps its own


# -- the shapes, from the fixtures ----------------------------------------------------------


def test_2024_shape_without_submitter_or_organisation():
    d = parse("api-2024.json")
    assert not d.problems, messages(d)
    # No date in the name and no `submittedOnDailyAt`: the entries' own stamp gives the day.
    assert d.date == date(2024, 5, 27)
    first, second = d.entries
    assert first.title == (
        "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models")
    assert first.abstract == (
        "High-resolution Large Multimodal Models (LMMs) encounter the challenges of excessive "
        "visual tokens and quadratic visual complexity.\n\nWe propose ConvLLaVA, which employs "
        "ConvNeXt as the visual encoder. Code: https://github.com/alibaba/conv-llava.")
    # A URL in the abstract is listed as such; it is not the paper's code link.
    assert first.links == ("https://github.com/alibaba/conv-llava",)
    assert first.github is None
    assert first.author_names == ("Chunjiang Ge", "Sijie Cheng", "Gao Huang")
    assert first.authors == 3
    assert (first.arxiv_id, first.published, first.upvotes, first.comments) == (
        "2405.15738", date(2024, 5, 24), 32, 3)
    assert first.submitter is None and first.organization is None and first.keywords == ()
    assert (first.line, second.line) == (1, 2)
    assert second.upvotes == 0 and second.comments == 0


def test_2025_shape_with_code_keywords_and_summary():
    d = parse("api-2025.json")
    assert not d.problems, messages(d)
    assert d.date == date(2025, 6, 13)  # submittedOnDailyAt, not the arXiv-time publishedAt
    e = d.entries[0]
    assert e.title == "ReasonMed: A 370K Multi-Agent Generated Dataset for Advancing Medical " \
                      "Reasoning"
    assert e.abstract.split("\n\n") == [
        "Though reasoning-based large language models (LLMs) have excelled in mathematics and "
        "programming, their capabilities in medical question answering remain underexplored.",
        "To address this, we introduce ReasonMed, the largest medical reasoning dataset.",
        "Data: https://huggingface.co/datasets/lingshu-medical-mllm/ReasonMed",
    ]
    assert e.author_names[2] == "Zoë Łukasiewicz-Müller"
    assert e.github == "https://github.com/YuSun-Work/ReasonMed"
    assert e.github_stars == 57
    assert e.project_page == "https://yusun-work.github.io/reasonmed/"
    assert e.keywords == ("reasoning-based large language models", "LLMs", "Chain-of-Thought")
    assert e.ai_summary == "ReasonMed, a large medical reasoning dataset, improves medical " \
                           "question answering."
    assert (e.organization, e.org_handle) == ("DAMO Academy", "alibaba-damo")
    assert e.submitter == "YuSun-AI"
    assert e.published == date(2025, 6, 11)
    assert d.entries[1].github is None and d.entries[1].keywords == ()


def test_2026_shape_with_organisation_and_hidden_authors():
    d = parse("api-2026.json")
    assert not d.problems, messages(d)
    assert d.date == date(2026, 8, 21)
    first, second = d.entries
    assert first.author_names == ("Chengsong Huang", "Zifeng Wang", "Tomas Pfister")
    assert (first.organization, first.org_handle) == ("Google", "google")
    assert first.github_stars == 8 and first.project_page == "https://envharness.com/"
    # An organisation without a display name shows its handle; the submitter comes from the
    # paper's `submittedOnDailyBy` when the entry has no `submittedBy`.
    assert (second.organization, second.org_handle) == ("tablelab", "tablelab")
    assert second.submitter == "mokafor"


def test_the_file_name_gives_the_day_when_the_content_does_not():
    data = (JSON_FIXTURES / "escapes.json").read_bytes()
    assert parse("escapes.json", data).date is None
    assert parse("x", data, as_name="/tmp/2025-01-02.json").date == date(2025, 1, 2)
    assert parse("x", data, as_name="/tmp/2025-02-31.json").date is None


def test_json_lines_keep_each_entry_its_own_day():
    d = parse("corpus.jsonl")
    assert not d.problems, messages(d)
    assert d.date == date(2024, 3, 12)  # the day most of its entries are from
    assert [e.digest_date or d.date for e in d.entries] == [
        date(2024, 3, 12), date(2024, 3, 12), date(2024, 3, 13)]
    assert [e.line for e in d.entries] == [1, 2, 3]
    nvme = d.entries[1]
    assert nvme.title == "Adding NVMe SSDs to Enable and Accelerate 100B Model Fine-tuning on " \
                         "a Single GPU"
    assert nvme.abstract.split("\n\n")[1].startswith("We present Fuyou")
    assert nvme.github == "https://github.com/fuyou-team/fuyou"  # hard-wrapped in the corpus
    assert nvme.organization == "Zhejiang University" and nvme.org_handle is None
    assert nvme.author_names == ("Changyue Liao", "Mo Sun") and nvme.authors == 2


def test_api_entries_one_a_line_are_read_too():
    raw = json.loads((JSON_FIXTURES / "api-2026.json").read_bytes())
    data = "\n".join(json.dumps(item) for item in raw).encode()
    d = parse("api.jsonl", data)
    assert not d.problems, messages(d)
    assert [e.arxiv_id for e in d.entries] == ["2608.19880", "2608.18012"]


def test_an_empty_day_is_reported_not_an_error():
    d = parse("empty.json")
    assert d.entries == [] and messages(d) == "empty.json:1: no papers in this file"


# -- telling the forms apart ----------------------------------------------------------------


@pytest.mark.parametrize("data, kind", [
    (b"[\n  {\"paper\": {}}]", "array"),
    (b"\xef\xbb\xbf  []", "array"),
    (b'["a"]', "array"),
    (b'{"arxiv_id": "1"}\n', "lines"),
    (b'{\n  "error": "x"\n}', "lines"),
    (b"new\n\nDaily Papers\n\nDec 9\n", None),
    (b"[Re] Attention Is All You Need\n\nAn abstract.\n", None),
    (b"{Curly} titles happen\n\nAn abstract.\n", None),
    (b"", None),
    ('[{"paper": {}}]'.encode("utf-16"), "array"),
])
def test_sniff_tells_json_from_a_text_digest_by_content(data, kind):
    assert sniff(data) == kind


# -- bad input: problems with the file name, never a traceback ------------------------------


def test_object_instead_of_array():
    d = parse("object.json")
    assert d.entries == []
    assert messages(d) == ("object.json:1: a JSON object, not Daily Papers JSON (an array of "
                           "entries, or one entry a line); skipped")


def test_api_error_answer_says_what_the_api_said():
    d = parse("error.json")
    assert d.entries == []
    assert "Invalid date, expected YYYY-MM-DD" in messages(d)


def test_strings_instead_of_entries():
    d = parse("strings.json")
    assert d.entries == []
    assert [p.message for p in d.problems] == [
        "entry 1 is a string, not a paper entry; skipped",
        "entry 2 is a string, not a paper entry; skipped",
    ]


def test_truncated_file_keeps_the_entries_before_the_cut():
    d = parse("truncated.json")
    assert [e.arxiv_id for e in d.entries] == ["2506.09513"]
    assert messages(d) == "truncated.json:38: the file ends inside entry 2 (truncated?)"


def test_a_broken_entry_costs_only_itself():
    d = parse("broken-middle.json")
    assert [(e.line, e.title) for e in d.entries] == [
        (1, "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"),
        (3, "Broken Neighbour"),
    ]
    assert len(d.problems) == 1
    assert d.problems[0].line == 27  # the line the broken entry starts on
    assert d.problems[0].message.startswith("entry 2 is not valid JSON (Expecting ','")


def test_wrong_types_leave_the_field_unknown_and_the_rest_read():
    d = parse("wrong-types.json")
    assert [e.title for e in d.entries] == ["Wrong Types Everywhere", "Minimal", "Bad Id"]
    wrong, minimal, bad_id = d.entries
    assert wrong.arxiv_id == "2405.99999"
    assert wrong.abstract == "" and wrong.author_names == () and wrong.authors is None
    assert wrong.upvotes is None and wrong.github is None and wrong.github_stars is None
    assert wrong.project_page is None and wrong.published is None and wrong.comments is None
    assert wrong.keywords == ("kept", "also kept")
    assert wrong.organization is None and wrong.submitter is None
    assert (minimal.line, minimal.abstract) == (5, "Only a title and an abstract.")
    assert bad_id.arxiv_id is None
    text = messages(d)
    for expected in [
        "wrong-types.json:2: entry 1: paper.upvotes is a string, not a whole number; left out",
        "entry 1: paper.authors is a string, not a list; left out",
        "entry 1: paper.githubStars is true/false, not a whole number; left out",
        "entry 1: paper.projectPage 'not a url at all' is not a web address; left out",
        "entry 1: paper.publishedAt 'yesterday' is not a date; left out",
        "entry 1: numComments is negative; left out",
        "entry 2: no paper object; skipped",
        "entry 3: no title; skipped",
        "entry 4 is a number, not a paper entry; skipped",
        "entry 6: paper.id '../../etc/passwd' is not an arXiv id; left out",
        "entry 7 has neither 'paper' nor 'title'",
    ]:
        assert expected in text


def test_bad_utf8_is_replaced_and_reported_at_its_line():
    d = parse("bad-utf8.json")
    assert len(d.entries) == 2
    assert d.entries[0].title.startswith("ConvLLaVA\ufffd: Hierarchical")
    assert messages(d) == "bad-utf8.json:17: bytes that are not UTF-8 replaced with \ufffd"


def test_nul_byte_in_a_string_is_removed_and_reported():
    d = parse("nul.json")
    assert d.entries[1].title.startswith("Meteor: Mamba-based")
    assert messages(d) == ("nul.json:27: entry 2: control characters or broken escapes in "
                           "paper.title removed")


def test_nul_bytes_outside_strings_and_binary_data():
    d = parse("x.json", b"[\x00\x00\x00]")
    assert d.entries == [] and d.problems
    d = parse("x.json", b"\x00\x01\x02 binary")
    assert d.entries == [] and "not Daily Papers JSON" in messages(d)


def test_escaped_controls_and_lone_surrogates_are_cleaned():
    d = parse("escapes.json")
    (e,) = d.entries
    assert e.title == "Colours [31mred[0m and a bell"
    assert e.abstract == "A lone surrogate \ufffd here, a C1 control  there, a NUL  too."
    assert e.author_names == ("Eve[2J Mallory", "Bob")
    assert_clean(d, "escapes.json")


def test_five_megabyte_string_is_cut_and_the_rest_read():
    raw = json.loads((JSON_FIXTURES / "api-2026.json").read_bytes())
    raw[0]["paper"]["summary"] = "word " * 1_000_000
    raw[1]["paper"]["title"] = "T" * 5_000_000
    d = parse("big.json", json.dumps(raw).encode())
    assert len(d.entries) == 2
    assert len(d.entries[0].abstract) <= 20_000 and len(d.entries[1].title) == 20_000
    assert "entry 1: paper.summary of 5,000,000 characters cut" in messages(d)
    assert "entry 2: paper.title of 5,000,000 characters cut" in messages(d)


def test_utf16_file_with_a_bom_is_read():
    data = (JSON_FIXTURES / "api-2026.json").read_text(encoding="utf-8").encode("utf-16")
    d = parse("api-2026.json", data)
    assert not d.problems, messages(d)
    assert d.entries[0].author_names[0] == "Chengsong Huang"


def test_numbers_too_long_and_nesting_too_deep_cost_only_their_entry():
    good = (JSON_FIXTURES / "api-2024.json").read_text(encoding="utf-8").strip()[1:-1]
    data = f'[{{"paper": {{"title": "Big", "upvotes": {"9" * 5000}}}}}, {"[" * 100_000},' \
           f'{good}]'
    d = parse("odd.json", data.encode())
    assert [e.arxiv_id for e in d.entries] == ["2405.15738", "2405.15574"]
    assert "entry 1 cannot be read" in messages(d)
    lines = "\n".join([f'{{"title": "T", "upvotes": {"9" * 5000}}}', "[" * 100_000,
                       '{"title": "Kept", "abstract": "A."}'])
    d = parse("odd.jsonl", lines.encode())
    assert [e.title for e in d.entries] == ["Kept"]
    assert [p.line for p in d.problems] == [1, 2]


def test_many_bad_entries_give_a_few_examples_and_a_count():
    # 200,000 of them: counting each one's line would take minutes (quadratic).
    d = parse("many.json", json.dumps(["x"] * 200_000, indent=1).encode())
    assert len(d.problems) == 101
    assert d.problems[-1].message == "and 199,900 more problems"
    assert d.problems[99].line == 101


def test_unwrap_rules():
    assert unwrap_title("A title that wraps\n  onto two lines") == "A title that wraps onto " \
                                                                   "two lines"
    assert unwrap_title("Keeps  double spaces") == "Keeps  double spaces"
    assert unwrap_abstract("one\ntwo\n  three\nfour\n\n\nfive") == "one two\n\nthree four\n\nfive"
    assert unwrap_abstract("  indented\n  throughout") == "indented throughout"
    assert unwrap_abstract("windows\r\nline ends") == "windows line ends"


# -- fuzzing: mutated real entries never make the parser raise ------------------------------

FUZZ = settings(max_examples=int(os.environ.get("DAILYJSON_FUZZ_EXAMPLES", "150")),
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_SEEDS = [json.loads((JSON_FIXTURES / n).read_bytes())
          for n in ("api-2024.json", "api-2025.json", "api-2026.json")]
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(["\ud800", "\x00", "\x1b[2J", "\u009b", "\n  ", "\r", " ", "2405.15738"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=10,
)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated_entries(draw):
    entries = json.loads(json.dumps(draw(st.sampled_from(_SEEDS))))
    for _ in range(draw(st.integers(1, 6))):
        paths = [p for p in _paths(entries) if p]
        path = draw(st.sampled_from(paths))
        parent = entries
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_JSON_VALUES)
    return entries


@FUZZ
@given(mutated_entries(), st.sampled_from(["array", "lines"]))
def test_fuzz_mutated_entries_never_raise(entries, form):
    if form == "array":
        data = json.dumps(entries, indent=2).encode()
    else:
        data = "\n".join(json.dumps(e) for e in entries).encode()
    d = parse_daily_json(data, name="fuzz.json", mtime=None)
    assert_clean(d, "fuzz.json")


@FUZZ
@given(mutated_entries(), st.data())
def test_fuzz_mangled_bytes_never_raise(entries, data):
    raw = bytearray(json.dumps(entries, indent=2, ensure_ascii=False).encode(
        "utf-8", "surrogatepass"))  # a lone surrogate becomes bytes that are not UTF-8
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["cut", "insert", "flip"]))
        at = data.draw(st.integers(0, len(raw)))
        if op == "cut":
            del raw[at:]
        elif op == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        elif at < len(raw):
            raw[at] = data.draw(st.integers(0, 255))
        if not raw:
            break
    d = parse_daily_json(bytes(raw), name="fuzz.json", mtime=None)
    assert_clean(d, "fuzz.json")


_URLISH = st.sampled_from([
    "https://github.com/a/b", "GitHub.com/x/y", "xgithub.com/no", "(see http://x.org/p).",
    "İ", "gıthub.com/dotless/i", "https://", "a://b", "\u00a0", "\t", "word", "\n", "\n  ",
    "https://x.org/q)", "HTTP://UP.ORG/Case,",
])


@FUZZ
@given(st.lists(_URLISH | st.text(max_size=6), max_size=40))
def test_links_are_what_the_text_parser_finds_in_the_abstract(words):
    abstract = " ".join(words)
    d = parse("x.jsonl", json.dumps({"title": "T", "abstract": abstract}).encode())
    (e,) = d.entries
    assert e.links == find_links(e.abstract)
