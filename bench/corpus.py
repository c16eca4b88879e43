"""Generate digest corpora for benchmarks: real Hugging Face daily papers, then synthetic ones.

The output imitates a Daily Papers page dump (see docs/digest-format.md in ../shared) so the
benchmarks exercise the same parser path as a researcher's saved files. Stdlib only, so the
generator runs without the app's dependencies.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
import random
import re
import textwrap
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The page header as a select-all copy of huggingface.co/papers gives it.
HEADER_LINES = (
    "new",
    "",
    "Get trending papers in your email inbox!",
    "",
    "Subscribe",
    "",
    "Daily Papers",
    "",
    "byAK and the research community",
    "",
)

# Where synthetic digests start when there is no real corpus to continue from.
DEFAULT_START = dt.date(2015, 1, 1)


@dataclass(frozen=True, slots=True)
class CorpusPaper:
    """One paper as the generator knows it (a corpus record, not the app's index.models.Paper)."""

    title: str
    abstract: str
    n_authors: int = 0  # 0 = unknown: no authors bullet
    organization: str | None = None
    published: dt.date | None = None
    upvotes: int = 0
    github: str | None = None
    digest_date: dt.date | None = None
    arxiv_id: str | None = None

    @property
    def has_metadata(self) -> bool:
        # The page never shows a block without both a "who" line and a date line.
        return self.published is not None and (bool(self.organization) or self.n_authors > 0)


Paper = CorpusPaper  # the name the brief uses; CorpusPaper avoids confusion with index.models


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """What write_corpus wrote."""

    files: int
    papers: int  # distinct papers
    entries: int  # papers plus repeated appearances
    bytes: int
    real: int
    synthetic: int
    first: dt.date | None
    last: dt.date | None


# --- text helpers ---------------------------------------------------------------------------


def normalise_title(s: str) -> str:
    """A title as render_digest writes it: one line, runs of whitespace as one space."""
    return " ".join(s.split())


def normalise_abstract(s: str) -> str:
    """An abstract as one page-dump line (hard wraps and paragraph indents joined)."""
    return " ".join(s.split())  # faster than any regex test for "already normal"


_LATEX_CMD = re.compile(r"\\[A-Za-z]+")
_NOT_ASCII_ALNUM = re.compile(r"[^0-9a-z]")


def fold_keys(title: str) -> tuple[str, str]:
    """Identity keys at least as coarse as the app's fold and the tests' plain fold.

    A title is unique if both keys are: the first is "lowercase, strip non-alphanumerics",
    the second also applies NFKC and drops LaTeX commands as the app does. Keeping only
    ASCII alphanumerics makes both coarser than any fold that keeps Greek letters.
    """
    plain = _NOT_ASCII_ALNUM.sub("", title.lower())
    app = _NOT_ASCII_ALNUM.sub(
        "", _LATEX_CMD.sub("", unicodedata.normalize("NFKC", title)).casefold()
    )
    return plain, app


def org_handle(name: str) -> str:
    """A Hugging Face style organisation handle for a display name, e.g. `stanford-university`."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "org"  # e.g. 香港科技大学 has no ASCII letters


def format_day(d: dt.date, *, year: bool) -> str:
    """`Mon D` or `Mon D, YYYY`; strftime is avoided because month names follow the locale."""
    s = f"{MONTHS[d.month - 1]} {d.day}"
    return f"{s}, {d.year}" if year else s


def _published_line(published: dt.date, digest: dt.date, upvotes: int) -> str:
    # Without a year a reader puts the date in the digest's year, or the year before if that
    # would be after the digest: so the year can only be left out when that reading is right.
    same_year = published.year == digest.year and published <= digest
    line = format_day(published, year=not same_year)
    return f"{line} {upvotes}" if upvotes > 0 else line


def _abstract_lines(abstract: str, wrap: bool) -> list[str]:
    if not wrap:
        return [normalise_abstract(abstract)]
    if "\n" in abstract:  # keep the corpus's own hard wraps (and their indents)
        return [line.rstrip() for line in abstract.split("\n") if line.strip()]
    # No breaks after hyphens: a reader joins lines with a space, "in-" + "context" would
    # come back as "in- context". Long URLs stay whole rather than being cut.
    return textwrap.wrap(abstract, 80, break_on_hyphens=False, break_long_words=False)


def render_entry(p: CorpusPaper, digest: dt.date, *, wrap: bool = False) -> list[str]:
    """The lines of one entry, ending with its trailing blank line."""
    title, abstract = normalise_title(p.title), _abstract_lines(p.abstract, wrap)
    if not title or not abstract or not abstract[0]:
        # An empty line here would shift every later entry by one position.
        raise ValueError(f"paper needs a title and an abstract: {p.title!r}")
    lines = [title, "", *abstract, ""]
    if p.has_metadata:
        assert p.published is not None
        if p.organization:  # the page shows the organisation instead of the author count
            name = " ".join(p.organization.split())
            lines.append(f"{org_handle(name)} {name}")
        else:
            lines.append(f"  • {p.n_authors} author{'s' if p.n_authors != 1 else ''}")
        lines += ["·", _published_line(p.published, digest, p.upvotes), ""]
    return lines


def render_digest(
    date: dt.date, papers: Iterable[CorpusPaper], *, header: bool = True, wrap: bool = False
) -> str:
    """One digest file's text in the Daily Papers page-dump layout."""
    lines = list(HEADER_LINES) if header else []
    lines += [format_day(date, year=True), ""]
    for p in papers:
        lines += render_entry(p, date, wrap=wrap)
    return "\n".join(lines) + "\n"


# --- the real corpus ------------------------------------------------------------------------


def load_corpus(path: Path | str) -> list[CorpusPaper]:
    """Read hf-daily-papers.jsonl, in digest-date order (file order within a day)."""
    papers = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            papers.append(
                CorpusPaper(
                    title=r["title"],
                    abstract=r["abstract"],
                    n_authors=r.get("n_authors") or len(r.get("authors") or ()),
                    organization=r.get("organization") or None,
                    published=_date(r.get("published")),
                    upvotes=r.get("upvotes") or 0,
                    github=r.get("github") or None,
                    digest_date=_date(r.get("digest_date")),
                    arxiv_id=r.get("arxiv_id"),
                )
            )
    papers.sort(key=lambda p: p.digest_date or dt.date.min)  # stable: keeps file order
    return papers


def _date(s: str | None) -> dt.date | None:
    return dt.date.fromisoformat(s) if s else None


# --- synthetic papers -----------------------------------------------------------------------


def _words(s: str) -> tuple[str, ...]:
    return tuple(s.split())


_FUNCTION = _words(
    "the of and to a in for is on that with by as we are this from at be an which our can "
    "it its these their or both than into not also has have more such while each over"
)
_COMMON = _words(
    "model models data method methods results performance approach learning training tasks "
    "task language large show propose using based new existing different however work "
    "paper study framework across significantly improves demonstrate achieves "
    "problem state art use two first set high quality further without remains "
    "effective efficient simple novel key real world recent strong previous single multiple "
    "human general specific various complex limited small better"
)
_ML = _words(
    "transformer attention diffusion latent token tokens embedding embeddings encoder decoder "
    "pretraining fine-tuning finetuning instruction alignment reward policy reinforcement "
    "benchmark benchmarks evaluation dataset datasets multimodal vision video image images "
    "text speech audio 3D reasoning chain-of-thought retrieval generation generative agent "
    "agents planning inference quantization sparse sparsity mixture-of-experts MoE routing "
    "distillation teacher student contrastive self-supervised supervised zero-shot few-shot "
    "in-context prompting prompt prompts hallucination safety jailbreak robustness "
    "adversarial scaling laws compute parameters context long-context memory KV cache "
    "decoding speculative sampling autoregressive masked denoising score flow matching "
    "rectified segmentation detection depth pose point cloud mesh Gaussian splatting NeRF "
    "rendering editing synthesis super-resolution captioning grounding VQA OCR LLM LLMs "
    "VLM VLMs MLLMs RLHF DPO PPO GRPO LoRA adapter adapters low-rank gradient optimizer "
    "loss objective curriculum synthetic preference verifier chain tool-use code math "
    "theorem proof robotics manipulation navigation embodied world simulation physics "
    "graph molecular protein genomic medical clinical radiology time-series forecasting "
    "recommendation search ranking reranking hashing compression pruning throughput "
    "latency GPU TPU kernel parallelism pipeline sharding checkpointing FP8 INT4 "
    "state-space Mamba recurrent convolutional ViT CLIP BERT GPT diffusion-based "
    "vision-language text-to-image text-to-video image-to-3D multilingual cross-lingual "
    "low-resource translation summarization dialogue conversational persona emotion "
    "uncertainty calibration interpretability probing circuits neurons features "
    "steering unlearning watermarking privacy federated continual lifelong meta-learning"
)
_RARE = _words(
    "heteroscedastic isotropic anisotropic Riemannian Lipschitz spectral eigenvalue "
    "Wasserstein Bregman Hessian Jacobian Fourier wavelet manifold topological homology "
    "stochastic variational Bayesian posterior prior Markov Langevin Hamiltonian "
    "ergodic monotone submodular combinatorial NP-hard polynomial logarithmic sublinear "
    "asymptotic minimax equivariant invariant permutation symmetric orthogonal unitary "
    "holistic granular hierarchical modular compositional disentangled counterfactual "
    "causal interventional observational longitudinal cohort ablation ablations"
)

# Zipf-ish frequencies without random.choices' slow cum_weights path: repeat by tier.
_ABSTRACT_WORDS = _FUNCTION * 40 + _COMMON * 8 + _ML * 3 + _RARE
# Title Case once here rather than per word drawn; acronyms like LoRA stay as they are.
_TITLE_WORDS = tuple(
    w[0].upper() + w[1:] if w.islower() else w for w in _COMMON[:40] + _ML * 3 + _RARE
)
_TITLE_GLUE = _words("for with of in via and from to through beyond")
# Abstracts are runs of shared sentences: sampling every word of 100k abstracts one by one
# was most of the run time.
_POOL_SENTENCES = 1 << 14

_NAME_HEADS = _words(
    "Video Omni Uni Mega Llama Vision Code Math Med Geo Bio Graph Flow Diff Seg Gen Agent Robo "
    "Chem Speech Audio Mol Pano Scene Text Web Tool Act Mem Auto Meta Hyper Nano Sparse Long "
    "Fast Deep Open Tiny Star Sky Light Intern Mini Phi Qwen Kimi Pixel Sora Lumi Wave Echo "
    "Trans Cog Mind Think Reason Plan Sim Real Any Every One Multi Neuro Quant Zero Hi Lo"
)
_NAME_TAILS = _words(
    "LLaMA GPT Former Net Bench Gen Diff Flow VLM RL Agent Mamba BERT Coder Mind Vision Fusion "
    "Zero X Pro Lite Edit Sync Pose Nav Eval Search Judge Math Med Seg Dreamer World Tok Pipe "
    "Scope Craft Verse Arena Gym Lens Bridge Pilot Forge Hub Kit"
)
_NAME_VERSIONS = ("",) * 8 + _words("2 3 -1.5 -R1 -7B -V2 ++ -Pro 12B")
_GREEK = "αβγδεθλμπστφψω"
_LATEX_FORMS = (
    "${g}$-{n}",
    "{n}$^{{2}}$",
    "{n}^{{2}}",
    "\\textsc{{{n}}}",
    "$\\textbf{{{n}}}$",
    "{n}$\\times${m}",
    "$\\mathcal{{{c}}}$-{n}",
)
# Text the app must show verbatim: LaTeX, Rich-markup lookalikes, tags, Markdown specials.
_ODD_BITS = ("GPT-[n]", "[CLS]", "<think>", "[MASK]", "o-[n]", "[x, y, z]", "10\\%", "$O(n^2)$")
_OPENERS = ("We propose", "In this paper, we introduce", "We present", "This work presents")
_STARTERS = (
    "Recent advances in",
    "Existing methods",
    "To address this,",
    "Experiments on",
    "Our results show that",
    "However,",
    "Moreover,",
    "Specifically,",
    "We further",
    "Extensive experiments demonstrate that",
    "Despite",
    "Unlike prior work,",
    "We introduce",
    "Finally,",
)
_ORGS = (
    "Stanford University",
    "NVIDIA",
    "ByteDance Seed",
    "Tencent Hunyuan",
    "Peking University",
    "Google DeepMind",
    "AI at Meta",
    "Microsoft Research",
    "Tsinghua University",
    "KAIST AI",
    "Allen Institute for AI",
    "Hugging Face",
    "Shanghai AI Laboratory",
    "ETH Zürich",
    "Mila – Quebec Artificial Intelligence Institute",
    "Carnegie Mellon University",
    "Alibaba Qwen",
    "Apple",
    "香港科技大学",
    "University of Oxford",
    "CodeFuse AI",
    "Lexsi Labs",
    "Université de Montréal",
    "National University of Singapore",
)


def _pick(rng: random.Random, seq: Sequence[str]) -> str:
    # rng.choice goes through _randbelow; this is several times faster and as deterministic.
    return seq[int(rng.random() * len(seq))]


def _method_name(rng: random.Random) -> str:
    name = _pick(rng, _NAME_HEADS) + _pick(rng, ("", "", "-")) + _pick(rng, _NAME_TAILS)
    version = _pick(rng, _NAME_VERSIONS)
    name += f" {version}" if version[:1].isdigit() else version
    r = rng.random()
    if r < 0.08:  # LaTeX, as in $λ$-ECLIPSE or S$^{2}$FT
        name = _pick(rng, _LATEX_FORMS).format(
            g=_pick(rng, _GREEK), n=name, m=_pick(rng, _NAME_TAILS), c=name[0].upper()
        )
    elif r < 0.11:  # names that start lowercase, like aMUSEd
        name = name[0].lower() + name[1:].upper()
    return name


def _title_phrase(rng: random.Random, n: int) -> list[str]:
    words = [_pick(rng, _TITLE_WORDS)]
    for i in range(1, n):
        # Glue words ("for", "via", ...) never start or end a title, nor follow each other.
        if i < n - 1 and words[-1][0].isupper() and rng.random() < 0.3:
            words.append(_pick(rng, _TITLE_GLUE))
        else:
            words.append(_pick(rng, _TITLE_WORDS))
    return words


def _title(rng: random.Random, name: str) -> str:
    n = min(25, max(3, int(rng.lognormvariate(2.15, 0.35))))  # median ~9 words, as the corpus
    r = rng.random()
    if r < 0.45 and n > len(name.split()) + 2:  # "Name: subtitle", common on the page
        return f"{name}: " + " ".join(_title_phrase(rng, n - len(name.split())))
    if r < 0.52:
        return " ".join(_title_phrase(rng, n)) + "?"
    if r < 0.56 and n <= 22:
        return " ".join(_title_phrase(rng, n - 2)) + f" with {_pick(rng, _ODD_BITS[:5])}"
    return " ".join(_title_phrase(rng, n))


@functools.lru_cache(maxsize=4)
def _sentence_pool(seed: int) -> tuple[list[str], list[int]]:
    """Shared sentences and their cumulative word counts (cum[i] = words before sentence i).

    Cached (callers only read it): building it is a fixed ~0.15 s per call otherwise.
    """
    rng = random.Random(f"sentences-{seed}")
    sentences, cum, total = [], [0], 0
    for _ in range(_POOL_SENTENCES):
        k = 10 + int(rng.random() * 19)
        words = rng.choices(_ABSTRACT_WORDS, k=k)
        if rng.random() < 0.6:
            words.insert(0, _pick(rng, _STARTERS))
        else:
            words[0] = words[0][0].upper() + words[0][1:]
        sentences.append(" ".join(words) + ".")
        total += len(sentences[-1].split())  # starters are several words
        cum.append(total)
    return sentences, cum


def _abstract(rng: random.Random, name: str, pool: tuple[list[str], list[int]]) -> str:
    # A run of consecutive pool sentences from a random offset: cheap, and with ~16k
    # offsets and varying lengths, no two abstracts are alike.
    sentences, cum = pool
    target = 115 + int(rng.random() * 136)  # + opener and extras: 120-300 words
    at = int(rng.random() * (len(sentences) - 40))
    end = bisect.bisect_left(cum, cum[at] + target, at)
    parts = [f"{_pick(rng, _OPENERS)} {name}, a {_pick(rng, _ML)} {_pick(rng, _ML)}."]
    parts += sentences[at:end]
    if rng.random() < 0.15:
        parts.append(f"We report {_pick(rng, _ODD_BITS)} gains.")
    if rng.random() < 0.2:
        parts.append(f"Code is available at https://github.com/{org_handle(name)}.")
    return " ".join(parts)


def _upvotes(rng: random.Random) -> int:
    # Most papers get a few; some trend into the hundreds (corpus quartiles: 2, 6, 14).
    if rng.random() < 0.25:
        return 0
    return min(999, int(rng.paretovariate(1.4) * (1 + rng.random() * 5)) - 1)


def _published(rng: random.Random, digest: dt.date) -> dt.date:
    r = rng.random()
    if r < 0.75:
        lag = int(rng.random() * 8)
    elif r < 0.9:
        lag = 8 + int(rng.random() * 53)
    else:  # old papers resurface: dates in the year before, shown as `Mon D, YYYY`
        lag = 61 + int(rng.random() * 740)
    return digest - dt.timedelta(days=lag)


def synthetic_papers(
    n: int,
    seed: int = 0,
    *,
    start: dt.date = DEFAULT_START,
    per_day: int = 50,
    exclude: Iterable[str] = (),
) -> list[CorpusPaper]:
    """n realistic synthetic papers, deterministic for a seed, with fold-unique titles.

    Paper i gets digest date start + i // per_day. Titles are unique after folding among
    themselves and against `exclude` (e.g. the real corpus's titles). The first k papers
    do not depend on n, so a smaller corpus is a prefix of a larger one.
    """
    rng = random.Random(seed)
    pool = _sentence_pool(seed)
    taken: set[str] = set()
    for t in exclude:
        taken.update(fold_keys(t))
    papers = []
    for i in range(n):
        name = _method_name(rng)
        title = base = _title(rng, name)
        version = 1
        # Collisions are rare; a version number keeps the title plausible and unique.
        keys = fold_keys(title)
        while keys[0] in taken or keys[1] in taken:
            version += 1
            title = f"{base} v{version}"
            keys = fold_keys(title)
        taken.update(keys)
        digest = start + dt.timedelta(days=i // per_day)
        r = rng.random()
        n_authors, org = 0, None
        if r < 0.9:  # else no metadata block at all, as some entries on the page
            n_authors = max(1, int(rng.lognormvariate(1.9, 0.6)))
            if r >= 0.7:  # the page shows the organisation instead of the author count
                org = _pick(rng, _ORGS)
        has_meta = n_authors > 0
        papers.append(
            CorpusPaper(
                title=title,
                abstract=_abstract(rng, name, pool),
                n_authors=n_authors,
                organization=org,
                published=_published(rng, digest) if has_meta else None,
                upvotes=_upvotes(rng) if has_meta else 0,
                github=f"https://github.com/{org_handle(name)}" if rng.random() < 0.3 else None,
                digest_date=digest,
            )
        )
    return papers


# --- writing a corpus -----------------------------------------------------------------------


def add_repeats(
    days: Sequence[tuple[dt.date, list[CorpusPaper]]], fraction: float, seed: int = 0
) -> list[tuple[dt.date, list[CorpusPaper]]]:
    """Re-list about `fraction` of the papers in a digest 1-14 files later, as trending papers
    are, with more upvotes: the library must merge them and keep the latest count."""
    out = [(d, list(ps)) for d, ps in days]
    if fraction <= 0 or len(out) < 2:
        return out
    rng = random.Random(seed + 1_000_003)  # independent of the paper stream
    for i, (_, ps) in enumerate(days[:-1]):
        for p in ps:
            if rng.random() < fraction:
                j = min(len(out) - 1, i + rng.randint(1, 14))
                bump = rng.randint(1, 30) if p.has_metadata else 0
                out[j][1].append(replace(p, upvotes=p.upvotes + bump))
    return out


def write_corpus(
    out_dir: Path | str,
    n: int,
    *,
    seed: int = 0,
    per_day: int = 50,
    real: Path | str | None = None,
    repeats: float = 0.0,
    wrap: bool = False,
) -> CorpusInfo:
    """Write n distinct papers as digest files `YYYY-MM-DD.txt`, one per digest date.

    The real corpus comes first (if `real` exists), one file per digest_date; synthetic papers
    fill up to n, `per_day` a file, on the days after the real corpus's last date.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    real_papers = load_corpus(real) if real and Path(real).exists() else []
    # A record without a digest date has no file to go in.
    real_papers = [p for p in real_papers if p.digest_date][:n]
    last = real_papers[-1].digest_date if real_papers else None
    start = last + dt.timedelta(days=1) if last else DEFAULT_START
    synth = synthetic_papers(
        n - len(real_papers),
        seed,
        start=start,
        per_day=per_day,
        exclude=(p.title for p in real_papers),
    )
    papers = real_papers + synth
    days = [(d, list(ps)) for d, ps in groupby(papers, key=lambda p: p.digest_date)]
    days = add_repeats(days, repeats, seed)

    total = 0
    for d, ps in days:
        data = render_digest(d, ps, wrap=wrap).encode("utf-8")
        (out / f"{d.isoformat()}.txt").write_bytes(data)
        total += len(data)
    return CorpusInfo(
        files=len(days),
        papers=len(papers),
        entries=sum(len(ps) for _, ps in days),
        bytes=total,
        real=len(real_papers),
        synthetic=len(synth),
        first=days[0][0] if days else None,
        last=days[-1][0] if days else None,
    )
