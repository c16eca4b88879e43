"""How well For you ranks a day's papers for simulated readers, and what it costs.

Usage: python bench/bench_foryou.py [--home DIR] [--papers N] [--fraction 0.3] [--set NAME=VALUE]

The library is the real corpus (../shared/corpus/hf-daily-papers.jsonl, 10,049 papers over
596 digest days) rendered as digests by bench/corpus.py and ingested once into `--home`
(kept and reused by later runs); `--papers 100000` adds bench/corpus.py's synthetic papers
after it, as bench/bench_library.py does.

Each simulated reader follows one topic, a rule a person would recognise on the TITLE
(a title about diffusion, about agents, ...), while the model sees titles and abstracts.
Up to a cut-off day the reader starred a random share of the topic's papers and marked a few
papers of other topics not interested. For every later day with a paper of the topic, the
day's papers are ranked; the score is the reciprocal rank of the first topic paper (MRR) and
the share of the day's topic papers in the top 10 (recall@10), averaged over the days and
then over the readers. Two baselines rank the same days: the page's own order (newest
first) and most upvoted.

`--set TERMS=80` (any constant of index/foryou.py) tries a variant of the model.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.corpus import load_corpus, write_corpus
from papers.index import foryou
from papers.index.identity import paper_id
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.userdata import UserData

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "hf-daily-papers.jsonl"

# One reader per topic: a rule on the title, as a person would put it.
TOPICS = {
    "diffusion": r"\bdiffusion\b",
    "agents": r"\bagent(s|ic)?\b",
    "reinforcement learning": r"\breinforcement\b|\bRL\b|\bGRPO\b",
    "video": r"\bvideos?\b",
    "3D": r"\b3D\b|\bgaussian splatting\b|\bNeRF\b|\bmesh(es)?\b",
    "speech and audio": r"\bspeech\b|\baudio\b|\bTTS\b|\bvoice\b|\bmusic\b",
    "code": r"\bcode\b|\bcoding\b|\bprogram(s|ming)?\b|\bsoftware\b",
    "math": r"\bmath(ematical|ematics)?\b|\btheorem\b|\bproofs?\b",
    "robots": r"\brobot(s|ic|ics)?\b|\bembodied\b|\bmanipulation\b",
    "safety": r"\bsafety\b|\bjailbreak\w*\b|\badversarial\b|\bred[- ]teaming\b",
    "retrieval": r"\bretrieval\b|\bRAG\b|\bsearch\b",
    "efficiency": r"\bquantiz\w*\b|\bpruning\b|\bsparse\b|\bsparsity\b|\bcompression\b",
}
CUTOFF = date(2025, 6, 1)  # stars and skips before, evaluation after
SKIPS = 5  # off-topic papers each reader marked not interested


@dataclass
class Doc:
    docnum: int
    id: str
    title: str
    day: date
    position: int  # on its digest page
    upvotes: int


def build(work: Path, papers: int) -> Path:
    """The library in `work/home`, written and ingested once."""
    home, digests = work / "home", work / "digests"
    if (home / "index").is_dir():
        if Library(home).outdated:  # another version of papers: ingest rebuilds it
            print("the library's format changed: rebuilding it ...", flush=True)
            ingest(home, [digests], procs=2)
        return home
    shutil.rmtree(digests, ignore_errors=True)
    print(f"writing {papers:,} papers as digests and ingesting them (once) ...", flush=True)
    write_corpus(digests, papers, real=REAL)
    started = time.perf_counter()
    ingest(home, [digests], procs=2)
    print(f"ingested in {time.perf_counter() - started:.0f} s", flush=True)
    return home


def documents(lib: Library) -> list[Doc]:
    """The real corpus's papers in the library, with their day, place on the page and
    upvotes as the digest showed them."""
    s = lib.searcher()
    out = []
    position: dict[date, int] = {}
    for p in load_corpus(REAL):
        if not p.digest_date:
            continue
        d = s.document_number(id=paper_id(p.title))
        if d is None:
            continue
        at = position[p.digest_date] = position.get(p.digest_date, -1) + 1
        out.append(Doc(d, paper_id(p.title), p.title, p.digest_date, at, p.upvotes))
    return out


def mrr_recall(ranked: list[Doc], wanted: set[int]) -> tuple[float, float]:
    first = next(i for i, doc in enumerate(ranked) if doc.docnum in wanted)
    top = sum(1 for doc in ranked[:10] if doc.docnum in wanted)
    return 1 / (first + 1), top / len(wanted)


def readers(mix: int) -> list[tuple[str, list[str]]]:
    """One reader per topic; with `mix` > 1 each follows that many topics (the next ones)."""
    names = list(TOPICS)
    return [(" + ".join(names[(k + j) % len(names)] for j in range(mix)),
             [names[(k + j) % len(names)] for j in range(mix)]) for k in range(len(names))]


def evaluate(lib: Library, docs: list[Doc], users: Path, fraction: float, seed: int,
             mix: int = 1, stars: int = 0,
             vectors: dict[int, dict] | None = None) -> dict[str, dict[str, tuple]]:
    """{reader: {ranking: (MRR, recall@10)}}. Each reader stars `fraction` of each of its
    topics' papers before the cut-off (or `stars` of them, when given). With `vectors`
    (docnum -> unit tf-idf vector), two models For you does not use are ranked too."""
    days: dict[date, list[Doc]] = {}
    for doc in docs:
        days.setdefault(doc.day, []).append(doc)
    before = [doc for doc in docs if doc.day < CUTOFF]
    of_topic = {topic: {doc.docnum for doc in docs
                        if re.search(rule, doc.title, re.IGNORECASE)}
                for topic, rule in TOPICS.items()}
    out = {}
    for k, (name, topics) in enumerate(readers(mix)):
        rng = random.Random(seed * 1000 + k)
        on = set().union(*(of_topic[t] for t in topics))
        kept = []
        for t in topics:
            mine = [doc for doc in before if doc.docnum in of_topic[t]]
            kept += (rng.sample(mine, min(stars, len(mine))) if stars else
                     [doc for doc in mine if rng.random() < fraction])
        off = [doc for doc in before if doc.docnum not in on]
        home = users / re.sub(r"\W+", "-", name)
        shutil.rmtree(home, ignore_errors=True)
        with UserData(home) as ud:
            ud.star([doc.id for doc in kept])
            if SKIPS:
                ud.skip([doc.id for doc in rng.sample(off, SKIPS)])
            taste = foryou.learn(lib, ud)
        scores = taste.scores(lib)
        found: dict[str, list[tuple[float, float]]] = {"for you": [], "newest first": [],
                                                       "most upvoted": []}
        others = {}
        if vectors is not None:
            others["kNN, 5 nearest stars"] = knn([vectors[doc.docnum] for doc in kept])
            others["logistic regression"] = logistic(
                [vectors[doc.docnum] for doc in kept],
                [vectors[doc.docnum] for doc in before if doc.docnum not in
                 {d.docnum for d in kept}], random.Random(seed))
            for model in others:
                found[model] = []
        for day, papers in sorted(days.items()):
            wanted = {doc.docnum for doc in papers} & on
            if day < CUTOFF or not wanted:
                continue
            page = sorted(papers, key=lambda doc: doc.position)
            found["newest first"].append(mrr_recall(page, wanted))
            found["most upvoted"].append(mrr_recall(
                sorted(page, key=lambda doc: -doc.upvotes), wanted))
            found["for you"].append(mrr_recall(
                sorted(page, key=lambda doc: -scores.get(doc.docnum, 0.0)), wanted))
            for model, score in others.items():
                found[model].append(mrr_recall(
                    sorted(page, key=lambda doc: -score(vectors[doc.docnum])), wanted))
        out[name] = {ranking: (statistics.fmean(m for m, _ in v),
                               statistics.fmean(r for _, r in v))
                     for ranking, v in found.items()}
        out[name]["_"] = (len({doc.id for doc in kept}), len(found["for you"]))
    return out


def means(results: dict) -> dict[str, tuple[float, float]]:
    names = [n for n in next(iter(results.values())) if n != "_"]
    return {name: (statistics.fmean(r[name][0] for r in results.values()),
                   statistics.fmean(r[name][1] for r in results.values()))
            for name in names}


def all_vectors(lib: Library, docs: list[Doc]) -> dict[int, dict]:
    """Each paper's unit tf-idf vector, as For you makes them for the papers it learns from."""
    s = lib.searcher()
    idf = foryou._idf(s)
    out = {}
    for doc in docs:
        stored = s.stored_fields(doc.docnum)
        text = foryou._analyse(stored["title"], stored["abstract"], words=False)
        out[doc.docnum] = foryou._unit(foryou._tfidf(text, idf))
    return out


def knn(stars: list[dict], k: int = 5):
    """Score: the sum of a paper's k highest cosines to the starred papers."""
    postings: dict[str, list[tuple[int, float]]] = {}
    for i, v in enumerate(stars):
        for t, x in v.items():
            postings.setdefault(t, []).append((i, x))

    def score(v: dict) -> float:
        sims: dict[int, float] = {}
        for t, x in v.items():
            for i, y in postings.get(t, ()):
                sims[i] = sims.get(i, 0.0) + x * y
        return sum(sorted(sims.values(), reverse=True)[:k])

    return score


def logistic(positives: list[dict], negatives: list[dict], rng: random.Random,
             epochs: int = 5, rate: float = 0.5, l2: float = 1e-4):
    """A linear model as arxiv-sanity-lite trains one (its SVM: the starred papers against
    every other), here logistic regression by SGD in pure Python, positives weighted up to
    balance the classes."""
    import math

    data = [(v, 1.0) for v in positives] + [(v, 0.0) for v in negatives]
    up = len(negatives) / max(1, len(positives))
    w: dict[str, float] = {}
    bias = 0.0
    for _ in range(epochs):
        rng.shuffle(data)
        for v, y in data:
            z = bias + sum(x * w.get(t, 0.0) for t, x in v.items())
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - y) * (up if y else 1.0) * rate / up ** 0.5
            bias -= g
            for t, x in v.items():
                w[t] = w.get(t, 0.0) * (1 - rate * l2) - g * x

    return lambda v: sum(x * w.get(t, 0.0) for t, x in v.items())


def table(results: dict) -> str:
    names = ["for you", "newest first", "most upvoted"]
    lines = [f"{'reader (title rule)':24} {'stars':>5} {'days':>5}  "
             + "  ".join(f"{n:>20}" for n in names),
             f"{'':24} {'':>5} {'':>5}  " + "  ".join(f"{'MRR  recall@10':>20}" for _ in names)]
    for topic, r in results.items():
        kept, n = r["_"]
        lines.append(f"{topic:24} {kept:5} {n:5}  " + "  ".join(
            f"{r[name][0]:9.3f} {r[name][1]:10.3f}" for name in names))
    mean = means(results)
    lines.append(f"{'mean over readers':24} {'':>5} {'':>5}  " + "  ".join(
        f"{mean[name][0]:9.3f} {mean[name][1]:10.3f}" for name in names))
    return "\n".join(lines)


def costs(home: Path, docs: list[Doc], users: Path, runs: int) -> str:
    """Training after one more star, ranking a day, scoring the library: CPU time of this
    process (what the code costs, whatever else the machine runs) and wall time."""
    lib = Library(home)
    pattern = re.compile(TOPICS["diffusion"], re.IGNORECASE)
    on = [doc for doc in docs if pattern.search(doc.title)]
    rng = random.Random(7)
    user = users / "costs"
    shutil.rmtree(user, ignore_errors=True)
    days: dict[date, list[int]] = {}
    for doc in docs:
        days.setdefault(doc.day, []).append(doc.docnum)
    # The fullest days (50 papers in the synthetic part of a bigger library).
    full_days = sorted(days, key=lambda d: (-len(days[d]), d))[:runs]
    learn, day, whole = [], [], []

    def timed(call, into=None):
        wall, cpu = time.perf_counter(), time.process_time()
        out = call()
        spent = (time.process_time() - cpu, time.perf_counter() - wall)
        if into is not None:
            into.append(spent)
        return out, spent

    with UserData(user) as ud:
        ud.star([doc.id for doc in rng.sample(on, len(on) * 3 // 10)])
        taste, first = timed(lambda: foryou.learn(lib, ud))
        _, first_whole = timed(lambda: taste.scores(lib))
        for i in range(runs):
            ud.star([rng.choice(on).id])
            taste, _ = timed(lambda: foryou.learn(lib, ud), learn)
            timed(lambda: taste.scores(lib, days[full_days[i]]), day)  # noqa: B023
            timed(lambda: taste.scores(lib), whole)  # noqa: B023
        # A reader who kept a thousand papers of every kind.
        heavy = []
        with UserData(users / "heavy") as many:
            many.star([doc.id for doc in rng.sample(docs, 1000)])
            foryou.learn(lib, many)
            for _ in range(runs):
                many.star([rng.choice(docs).id])
                timed(lambda: foryou.learn(lib, many), heavy)
        shutil.rmtree(users / "heavy", ignore_errors=True)
    n = lib.count()
    lib.close()

    def ms(v: list[tuple[float, float]]) -> str:
        cpu, wall = [c for c, _ in v], [w for _, w in v]
        return (f"{statistics.median(cpu) * 1000:.0f} ms CPU (max {max(cpu) * 1000:.0f}), "
                f"wall {statistics.median(wall) * 1000:.0f} ms")

    return "\n".join([
        f"costs at {n:,} papers, {taste.size} stars ({runs} runs, median):",
        f"  first learn in a fresh process: {ms([first])}",
        f"  first whole-library scores (postings read from disk): {ms([first_whole])}",
        f"  learn after one more star:      {ms(learn)}",
        f"  the same with 1,000 stars:      {ms(heavy)}",
        f"  rank a day's {len(days[full_days[0]])} papers:        {ms(day)}",
        f"  score the whole library:        {ms(whole)}",
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, help="work folder to keep (the library is reused)")
    ap.add_argument("--papers", type=int, default=10_049)
    ap.add_argument("--fraction", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a constant of index/foryou.py, for trying a variant")
    ap.add_argument("--no-costs", action="store_true")
    ap.add_argument("--costs", action="store_true", help="only the costs")
    ap.add_argument("--compare", action="store_true",
                    help="also rank with kNN over the stars and a linear model (slow)")
    args = ap.parse_args()
    for item in args.set:
        name, value = item.split("=", 1)
        setattr(foryou, name, type(getattr(foryou, name))(value))
    work = args.home / str(args.papers) if args.home else Path(tempfile.mkdtemp())
    home = build(work, args.papers)
    users = work / "users"
    lib = Library(home)
    docs = documents(lib)
    if args.costs:
        print(costs(home, docs, users, args.runs))
        return
    started = time.perf_counter()
    results = evaluate(lib, docs, users, args.fraction, args.seed)
    print(f"{len(docs):,} real papers in a library of {lib.count():,}; stars up to "
          f"{CUTOFF}, {args.fraction:.0%} of each topic's papers, {SKIPS} not interested; "
          f"{time.perf_counter() - started:.1f} s")
    print(table(results))
    # Harder: fewer stars, and readers with several interests at once.
    vectors = all_vectors(lib, docs) if args.compare else None
    for label, kwargs in (("1 topic per reader, 30%", {}),
                          ("5 stars per reader", {"stars": 5}),
                          ("3 topics per reader, 30%", {"mix": 3}),
                          ("3 topics per reader, 5 stars each", {"mix": 3, "stars": 5})):
        if not kwargs and not args.compare:
            continue
        mean = means(evaluate(lib, docs, users, args.fraction, args.seed, vectors=vectors,
                              **kwargs))
        print(f"{label:34} " + "  ".join(f"{name} {m:.3f} {r:.3f}"
                                          for name, (m, r) in mean.items()))
    if not args.no_costs:
        print(costs(home, docs, users, args.runs))


if __name__ == "__main__":
    main()
