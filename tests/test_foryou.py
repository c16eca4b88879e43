"""For you ranks the library by what the user keeps (issue 15), on a small library of three
topics: image diffusion, robot manipulation and speech."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import digest, entry, write

from papers.index import foryou
from papers.index.ingest import ingest
from papers.index.library import Library
from papers.index.userdata import UserData

DIFFUSION = [
    ("Latent Diffusion for High-Resolution Image Synthesis",
     "We train a denoising diffusion model in the latent space of an autoencoder and sample "
     "high-resolution images from text prompts with classifier-free guidance."),
    ("Consistency Distillation Makes Diffusion Sampling Fast",
     "Distilling a pretrained diffusion model into a consistency model cuts image sampling "
     "to four denoising steps while keeping the quality of text-to-image generation."),
    ("Guided Denoising Diffusion for Image Editing",
     "A denoising diffusion sampler guided by attention maps edits images from text "
     "instructions without retraining the diffusion backbone."),
    ("Scaling Diffusion Transformers for Text-to-Image Generation",
     "Diffusion transformers replace the U-Net denoiser; scaling them improves image "
     "generation quality and prompt following with classifier-free guidance."),
    ("Noise Schedules Matter for Image Diffusion",
     "We study the noise schedule of denoising diffusion models and show a shifted "
     "schedule improves high-resolution image synthesis and sampling."),
]
ROBOTS = [
    ("Learning Dexterous Robot Manipulation from Human Videos",
     "A robot arm learns grasping and manipulation policies from videos of human hands, "
     "transferring to real-world pick-and-place tasks with a gripper."),
    ("Vision-Language-Action Policies for Robot Grasping",
     "We fine-tune a vision-language model into an action policy that controls a robot "
     "gripper for grasping unseen objects in cluttered scenes."),
    ("Sim-to-Real Transfer of Manipulation Skills",
     "Policies trained in simulation with domain randomisation transfer to a real robot "
     "arm for manipulation and grasping of household objects."),
    ("Tactile Sensing Improves Robot Assembly",
     "Tactile sensors on the gripper let a robot policy insert pegs and assemble parts, "
     "a manipulation task vision alone fails at."),
    ("Bimanual Robot Manipulation with Diffusion Policies",
     "A diffusion policy controls two robot arms for bimanual manipulation such as "
     "folding cloth and grasping deformable objects."),
]
SPEECH = [
    ("Streaming Speech Recognition with Small Transducers",
     "A compact transducer model transcribes streaming speech audio with low latency on "
     "phones, matching larger speech recognition systems."),
    ("Expressive Text-to-Speech with Prosody Tokens",
     "Prosody tokens let a text-to-speech model control emphasis and emotion in the "
     "synthesised speech audio of many speakers."),
    ("Speaker Diarization in Long Meetings",
     "We segment long meeting audio by speaker with a speech encoder and clustering, "
     "reducing diarization error on hours of recordings."),
]


def titles_of(papers):
    return [t for t, _ in papers]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    work = tmp_path_factory.mktemp("foryou")
    folder = work / "digests"
    days = [("Dec 8, 2025", DIFFUSION[:3] + ROBOTS[:3] + SPEECH[:2]),
            ("Dec 9, 2025", DIFFUSION[3:] + ROBOTS[3:] + SPEECH[2:])]
    for i, (line, papers) in enumerate(days):
        write(folder / f"day{i}.txt", digest(line, *(entry(t, a) for t, a in papers)))
    home = work / "home"
    ingest(home, [folder])
    return home


@pytest.fixture
def lib(built):
    library = Library(built)
    yield library
    library.close()


@pytest.fixture
def userdata(tmp_path):
    store = UserData(tmp_path / "user")
    yield store
    store.close()


def ids(lib, titles):
    return [lib.search(f'title:"{t}"').paper(0).id for t in titles]


def docnum(lib, title):
    return lib.search(f'title:"{title}"').docnums[0]


def title_of(lib, d):
    return lib.searcher().stored_fields(d)["title"]


def ranking(lib, taste, docnums=None):
    scores = taste.scores(lib, docnums)
    return [title_of(lib, d) for d in sorted(scores, key=lambda d: (-scores[d], d))]


def test_a_diffusion_taste_ranks_unseen_diffusion_papers_above_the_rest(lib, userdata):
    userdata.star(ids(lib, titles_of(DIFFUSION[:3])))
    taste = foryou.learn(lib, userdata)
    assert taste is not None and taste.size == 3
    order = ranking(lib, taste)
    assert order[:2] == sorted(titles_of(DIFFUSION[3:]), key=order.index)
    assert set(order[2:]) == set(titles_of(ROBOTS + SPEECH))
    assert "diffusion" in taste.describe().lower()
    assert "3 starred papers" in taste.describe()


def test_a_tag_taste_learns_from_that_tag_only(lib, userdata):
    userdata.star(ids(lib, titles_of(DIFFUSION[:3])))
    for pid in ids(lib, titles_of(ROBOTS[:2])):
        userdata.add_tags(pid, ["robots"])
    taste = foryou.learn(lib, userdata, "Robots")
    assert taste.size == 2 and "#Robots" in taste.describe()
    order = ranking(lib, taste)
    assert set(order[:3]) == set(titles_of(ROBOTS[2:]))
    # The starred papers are not what this taste learned from: they are ranked.
    assert set(titles_of(DIFFUSION[:3])) <= set(order)


def test_papers_learned_from_are_never_ranked(lib, userdata):
    kept = titles_of(DIFFUSION[:3])
    userdata.star(ids(lib, kept))
    taste = foryou.learn(lib, userdata)
    everything = lib.search("").docnums
    assert not set(kept) & set(ranking(lib, taste))
    assert not set(kept) & set(ranking(lib, taste, everything))
    assert len(taste.scores(lib, everything)) == len(everything) - 3


def test_a_day_scored_from_its_text_matches_the_whole_library_scored_from_postings(
        lib, userdata):
    userdata.star(ids(lib, titles_of(DIFFUSION[:2] + ROBOTS[:1])))
    taste = foryou.learn(lib, userdata)
    whole = taste.scores(lib)
    day = sorted(whole)[:6]
    part = taste.scores(lib, day)
    assert part.keys() == set(day)
    for d in day:
        assert part[d] == pytest.approx(whole[d], abs=1e-9)


def test_why_names_words_that_are_in_the_paper_and_a_starred_paper_it_is_like(lib, userdata):
    userdata.star(ids(lib, titles_of(DIFFUSION[:3])))
    taste = foryou.learn(lib, userdata)
    d = docnum(lib, DIFFUSION[4][0])
    reasons = taste.why(lib, d)
    assert 1 <= len(reasons) <= 3
    stored = lib.searcher().stored_fields(d)
    text = (stored["title"] + " " + stored["abstract"]).lower()
    likes = [r.text for r in reasons if r.text.startswith("like ")]
    words = [r.text for r in reasons if not r.text.startswith("like ")]
    assert words and all(w.lower() in text for w in words)
    assert any(w.lower() == "diffusion" for w in words)
    assert all(r[len("like "):] in titles_of(DIFFUSION[:3]) for r in likes)
    assert len(taste.why(lib, d, n=1)) == 1
    # A paper with nothing of the taste in it has no reason to rank.
    assert taste.why(lib, docnum(lib, SPEECH[2][0])) == []


def test_not_interested_pushes_its_topic_down(lib, userdata):
    userdata.star(ids(lib, titles_of(DIFFUSION[:2] + ROBOTS[:2])))
    before = foryou.learn(lib, userdata)
    robot, image = docnum(lib, ROBOTS[3][0]), docnum(lib, DIFFUSION[3][0])
    was = before.scores(lib, [robot, image])
    userdata.skip(ids(lib, titles_of(ROBOTS[2:3] + ROBOTS[4:])))
    after = foryou.learn(lib, userdata)
    assert after is not before and after.skipped == 2
    now = after.scores(lib, [robot, image])
    assert now[robot] < was[robot]
    assert now[robot] < now[image]
    assert "2 not interested" in after.describe()
    assert docnum(lib, ROBOTS[2][0]) not in after.scores(lib)


def test_nothing_to_learn_from_is_none(lib, userdata):
    assert foryou.learn(lib, userdata) is None
    assert foryou.learn(lib, userdata, "robots") is None
    userdata.add_tags(ids(lib, [SPEECH[0][0]])[0], ["audio"])
    assert foryou.learn(lib, userdata) is None  # a tag is not a star
    assert foryou.learn(lib, userdata, "audio") is not None
    assert "Star papers" in foryou.HOW_TO_TEACH and "`x`" in foryou.HOW_TO_TEACH


def test_a_taste_is_kept_until_a_star_changes_the_data(lib, userdata):
    first, second, third = ids(lib, titles_of(DIFFUSION[:3]))
    userdata.star([first])
    taste = foryou.learn(lib, userdata)
    assert foryou.learn(lib, userdata) is taste
    # A read mark moves the data version but changes nothing the taste learned from.
    version = userdata.data_version()
    userdata.mark_read([third])
    assert userdata.data_version() != version
    assert foryou.learn(lib, userdata) is taste
    userdata.star([second])
    again = foryou.learn(lib, userdata)
    assert again is not taste and again.size == 2
    assert foryou.learn(lib, userdata) is again
    userdata.unstar([first, second])
    assert foryou.learn(lib, userdata) is None


def test_a_starred_paper_gone_from_the_library_is_still_learned_from(tmp_path, userdata):
    folder = tmp_path / "digests"
    write(folder / "a.txt", digest("Dec 8, 2025", *(entry(t, a) for t, a in DIFFUSION[:2])))
    write(folder / "b.txt", digest("Dec 9, 2025", *(entry(t, a) for t, a in
                                                  DIFFUSION[2:] + ROBOTS)))
    home = tmp_path / "home"
    ingest(home, [folder])
    with_them = Library(home)
    kept = [with_them.search(f'title:"{t}"').paper(0) for t in titles_of(DIFFUSION[:2])]
    with_them.close()
    userdata.star([p.id for p in kept], remember=kept)
    (folder / "a.txt").unlink()
    ingest(home, [folder], prune=True)
    lib = Library(home)
    try:
        assert lib.get(kept[0].id) is None
        taste = foryou.learn(lib, userdata)
        assert taste is not None and taste.size == 2
        order = ranking(lib, taste)
        assert set(order[:3]) == set(titles_of(DIFFUSION[2:]))
    finally:
        lib.close()


def test_importing_foryou_leaves_the_query_parser_unloaded():
    code = ("import sys, papers.index.foryou; "
            "sys.exit('whoosh.qparser' in sys.modules or 'textual' in sys.modules "
            "or 'click' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_quick_stem_count_is_the_schema_analyzer_s():
    from collections import Counter

    texts = [t + " " + a for t, a in DIFFUSION + ROBOTS + SPEECH] + [
        "GPT-4o and o3-mini score 3.5x e.g. on MMLU-Pro; naïve Ünïcode ПРИВЕТ мир 数学 a I",
        "", "   ", "x.y.z ...dots... under_score CamelCase running runs ran"]
    for text in texts:
        # Whoosh reuses one token object: read each as it comes.
        tokens = [(t.text, text[t.startchar:t.endchar])
                  for t in foryou._ANALYZER(text, chars=True)]
        assert foryou._counts(text) == Counter(stem for stem, _ in tokens)
        written: dict[str, str] = {}
        assert foryou._counts(text, written) == foryou._counts(text)
        first: dict[str, str] = {}
        for stem, word in tokens:
            first.setdefault(stem, word)
        assert written == first


def test_a_taste_of_two_interests_ranks_the_papers_of_each(lib, userdata, monkeypatch):
    monkeypatch.setattr(foryou, "PER_CLUSTER", 2)
    userdata.star(ids(lib, titles_of(DIFFUSION[:3] + SPEECH[:2])))
    taste = foryou.learn(lib, userdata)
    assert len(taste.profiles) == 2
    assert any("diffus" in p and "speech" not in p for p in taste.profiles)
    assert any("speech" in p and "diffus" not in p for p in taste.profiles)
    order = ranking(lib, taste)
    # (The fifth robot paper is about a diffusion policy: it may come before.)
    for title in titles_of(DIFFUSION[3:] + SPEECH[2:]):
        assert all(order.index(title) < order.index(other) for other in titles_of(ROBOTS[:4]))
    speech = docnum(lib, SPEECH[2][0])
    assert "speech" in [r.text.lower() for r in taste.why(lib, speech)]
    whole = taste.scores(lib)
    assert taste.scores(lib, [speech])[speech] == pytest.approx(whole[speech], abs=1e-9)


def test_a_library_of_two_papers_ranks_without_failing(tmp_path, userdata):
    folder = tmp_path / "digests"
    write(folder / "a.txt", digest("Dec 8, 2025", entry(*DIFFUSION[0]), entry(*SPEECH[0])))
    ingest(tmp_path / "home", [folder])
    lib = Library(tmp_path / "home")
    try:
        userdata.star(ids(lib, [DIFFUSION[0][0]]))
        taste = foryou.learn(lib, userdata)
        speech = docnum(lib, SPEECH[0][0])
        assert taste.scores(lib).keys() == {speech}
        assert taste.scores(lib, [speech]).keys() == {speech}
        assert isinstance(taste.why(lib, speech), list)
    finally:
        lib.close()
