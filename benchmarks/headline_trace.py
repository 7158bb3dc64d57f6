"""Headline tracing: articles that keep a real story's headline over an invented body, traced
against an index of the genuine stories plus distractors; prints recall@1 and recall@5.

    python benchmarks/headline_trace.py [--total 2200] [--index DIR] [--split heldout|train|all]
        [--hand-weights] [--threads 1]

How the cases are made (nothing is written into the repository; the index is cached under /tmp):

* Stories. The human texts of ../shared/data/detect carry no headline, so each gets one made from
  its first sentence, the way a news headline compresses the lead: a leading time phrase and a
  trailing clause are cut, at most 12 words are kept (``headline_for``). Every human original of
  every domain is indexed with its headline as title, plus synthetic distractors (sentences of
  different human texts recombined, as in provenance_recall.py) titled the same way from their
  own first sentence, so every indexed article has a headline.
* Cases. For each human BBC story A, two spun articles: the title is A's headline kept verbatim, a
  light paraphrase of it (synonyms, articles dropped, the tail shortened), or an invented clickbait
  title with A's headline as the sub-headline; the body is machine text about another story B
  (B != A, a different storyline): a current model's continuation, rewrite or content-farm spin of
  B (detect/current-news.jsonl), an older generator's continuation of B with the opening it shares
  with B removed (open-generators.jsonl), or a machine-written fiction story (stories-reddit).
  B's human original is indexed too, so the body points at B: the article is traced correctly
  only when the headline wins over the body. The answer is A.
* Controls (reported apart): an invented clickbait title over a machine text about the story
  itself, so the headline says nothing and the body has to decide.
* Split. A case belongs to the held-out side when both A and B are held-out pairs
  (train_reranker.is_heldout), to the training side when both are training pairs. The headline
  stage of the re-ranker is fitted on training-side cases (train_reranker.py --headline); this
  benchmark reports held-out cases by default.

Also printed: how the body alone (no title) traces (its recall of A, and how often it picks B),
which shows why the headline has to count.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from claims_eval import reword  # noqa: E402
from provenance_recall import (  # noqa: E402
    DATA,
    load_pairs,
    strip_shared_opening,
    synthesise_distractors,
)
from train_reranker import is_heldout  # noqa: E402

HEADLINE_WORDS = 12
CLICKBAIT = [
    "You won't believe what happened next",
    "The story everyone is talking about this week",
    "Here is what we know so far",
    "Breaking: the latest update",
    "This changes everything, experts say",
    "Why this matters more than you think",
]
_LEADING_TIME = re.compile(
    r"^(?:on|in|at|by|last|this|earlier|later|since|during|over)\b[^,]{0,40},\s*", re.IGNORECASE
)
_PRONOUNS = {"he", "she", "it", "they", "we", "i", "you", "his", "her", "their", "its", "this",
             "that", "these", "those", "there", "but", "and"}  # fmt: skip
_DANGLING = {"of", "its", "to", "the", "a", "an", "and", "or", "for", "with", "on", "in", "at",
             "by", "that", "from", "his", "her", "their", "as", "is", "was", "has", "have", "had",
             "be", "been", "are", "were", "who", "which", "than", "into", "over"}  # fmt: skip
_CLAUSE = re.compile(r",\s|\s[-–—]\s|;\s|\s(?:who|which|after|because|when|while|as|but)\s")


def headline_for(text: str) -> str:
    """A headline made from the text's first sentence (see the module docstring)."""
    from unspun.article.sentences import split_sentences

    spans = split_sentences(text[:2000])
    lead = text[spans[0][0] : spans[0][1]] if spans else text
    lead = _LEADING_TIME.sub("", lead.strip())
    for match in _CLAUSE.finditer(lead):
        if len(lead[: match.start()].split()) >= 5:
            lead = lead[: match.start()]
            break
    tokens = lead.split()[:HEADLINE_WORDS]
    while len(tokens) > 4 and tokens[-1].lower().strip(",;:") in _DANGLING:
        tokens.pop()  # a headline does not end on "of", "its", "to" ...
    if tokens and tokens[0].lower() in {"the", "a", "an"} and len(tokens) > 4:
        tokens = tokens[1:]
    headline = " ".join(tokens).strip(" .,:;\"'")
    return headline[:1].upper() + headline[1:]


def names_a_story(headline: str) -> bool:
    """A headline that says what happened to whom: 4+ words, two or more uncommon ones, not
    opening on a pronoun (an XSum text may start mid-story: "She made the comments ...")."""
    from unspun.provenance.facts import rare_terms

    tokens = headline.split()
    return (
        len(tokens) >= 4
        and tokens[0].lower() not in _PRONOUNS
        and len(rare_terms(headline, 10)) >= 2
    )


def paraphrase(headline: str) -> str:
    """A light paraphrase: synonyms swapped, articles dropped, a long tail shortened."""
    tokens = [t for t in reword(headline).split() if t.lower() not in {"the", "a", "an"}]
    if len(tokens) >= 9:
        tokens = tokens[:-2]
    text = " ".join(tokens)
    return text[:1].upper() + text[1:]


@dataclass
class Case:
    story: str  # pair_id of the story whose headline the article kept (the answer)
    title: str
    subtitle: str | None
    body: str
    body_story: str  # pair_id of the story the body was written from
    title_kind: str  # kept | paraphrased | sub-headline
    body_kind: str  # current-news/<task> | continuation | fiction


def load_stories() -> tuple[dict[str, dict], list[dict]]:
    """Every human original (by pair_id) and every machine text, current-news included."""
    originals, machines = load_pairs()
    path = DATA / "current-news.jsonl"
    if not path.is_file():
        sys.exit(f"missing {path}: this benchmark needs ../shared/data")
    machines = machines + [
        r for r in map(json.loads, path.open(encoding="utf-8")) if r["pair_id"] in originals
    ]
    return originals, machines


def make_cases(side: str, seed: int = 5, controls: bool = False) -> list[Case]:
    """The spun articles of one side: ``heldout``, ``train`` or ``all``. With ``controls``, also
    one control per story: an invented clickbait title over a machine text about the story
    itself (title_kind ``control``), where the headline says nothing and the body must decide."""
    originals, machines = load_stories()

    def on_side(pair_id: str) -> bool:
        return side == "all" or is_heldout(pair_id) == (side == "heldout")

    kinds = ("current", "continuation", "fiction")
    bodies: dict[str, list[tuple[str, str, str]]] = {kind: [] for kind in kinds}
    for m in machines:
        if not on_side(m["pair_id"]):
            continue
        if m.get("task"):
            text = strip_shared_opening(m["text"], originals[m["pair_id"]]["text"])
            bodies["current"].append((m["pair_id"], f"current-news/{m['task']}", text))
        elif m["domain"] == "news-bbc":
            text = strip_shared_opening(m["text"], originals[m["pair_id"]]["text"])
            bodies["continuation"].append((m["pair_id"], "continuation", text))
        elif m["domain"] == "stories-reddit":
            bodies["fiction"].append((m["pair_id"], "fiction", m["text"]))
    for kind in bodies:
        bodies[kind] = [b for b in bodies[kind] if len(b[2].split()) >= 60]
    rng = random.Random(seed)
    stories = sorted(
        p for p, r in originals.items() if r["domain"] == "news-bbc" and on_side(p)
    )
    cases = []
    title_kinds = ["kept", "paraphrased", "sub-headline"]
    body_kinds = ["current", "continuation", "fiction"]
    turn = 0
    for story in stories:
        headline = headline_for(originals[story]["text"])
        if not names_a_story(headline):
            continue
        for _ in range(2):
            title_kind = title_kinds[turn % 3]
            body_kind = body_kinds[(turn // 3) % 3]
            turn += 1
            pool = [b for b in bodies[body_kind] if b[0] != story]
            body_story, body_label, body = rng.choice(pool)
            if title_kind == "kept":
                title, subtitle = headline, None
            elif title_kind == "paraphrased":
                title, subtitle = paraphrase(headline), None
            else:
                title, subtitle = rng.choice(CLICKBAIT), headline
            cases.append(
                Case(story, title, subtitle, body, body_story, title_kind, body_label)
            )
        own = [b for kind in ("current", "continuation") for b in bodies[kind] if b[0] == story]
        if controls and own:
            _, body_label, body = rng.choice(own)
            cases.append(
                Case(story, rng.choice(CLICKBAIT), None, body, story, "control", body_label)
            )
    return cases


def build_index(location: str, total: int):  # noqa: ANN201
    """Open (or build once) the index: every human original and distractors, all with headlines."""
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    originals, _ = load_stories()
    index = SourceIndex(location, create=True)
    if index.store.count() >= total:
        return index
    docs = [
        SourceDoc(id=p, title=headline_for(r["text"]), text=r["text"]) for p, r in originals.items()
    ]
    for d in synthesise_distractors(list(originals.values()), max(0, total - len(docs)), seed=29):
        docs.append(SourceDoc(id=d["id"], title=headline_for(d["text"]), text=d["text"]))

    def progress(seen: int, added: int) -> None:
        if seen % 1024 == 0:
            print(f"  indexed {seen}/{len(docs)}", file=sys.stderr, flush=True)

    result = index.add(docs, batch_size=128, progress=progress)
    print(f"indexing: {result.added} new articles in {result.seconds:.0f} s", flush=True)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=2200, help="articles in the index")
    parser.add_argument("--index", default="/tmp/unspun-bench/headline-v1")
    parser.add_argument("--split", choices=["heldout", "train", "all"], default="heldout")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hand-weights", action="store_true")
    parser.add_argument("--no-body-only", action="store_true", help="skip the body-only pass")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from unspun.provenance.trace import Tracer

    index = build_index(args.index, args.total)
    cases = make_cases(args.split, controls=True)
    tracer = Tracer(index, hand_weights=args.hand_weights)
    hits1 = hits5 = body1 = body_to_b = 0
    by_kind: dict[str, list[int]] = {}
    latencies = []
    controls = [c for c in cases if c.title_kind == "control"]
    cases = [c for c in cases if c.title_kind != "control"]
    for case in cases:
        started = time.perf_counter()
        ranked = tracer.trace(case.title, case.body, subtitle=case.subtitle, top=5)
        latencies.append(time.perf_counter() - started)
        ids = [c.stored.doc.id for c in ranked]
        at1 = bool(ids) and ids[0] == case.story
        hits1 += at1
        hits5 += case.story in ids
        for kind in (case.title_kind, case.body_kind.split("/")[0]):
            stats = by_kind.setdefault(kind, [0, 0])
            stats[0] += 1
            stats[1] += at1
        if not args.no_body_only:
            alone = [c.stored.doc.id for c in tracer.trace(None, case.body, top=1)]
            body1 += bool(alone) and alone[0] == case.story
            body_to_b += bool(alone) and alone[0] == case.body_story
    n = len(cases)
    scorer = (
        f"learned re-ranker v{tracer.reranker.version}"
        + (" + headline stage" if getattr(tracer.reranker, "headline", None) else "")
        if tracer.reranker is not None
        else "hand-set weights"
    )
    print(f"index: {index.store.count()} articles at {args.index}")
    print(f"cases: {n} ({args.split} side), scoring: {scorer}")
    print(f"recall@1 = {hits1 / n:.4f}   recall@5 = {hits5 / n:.4f}")
    for kind, (count, h1) in sorted(by_kind.items()):
        print(f"  {kind:14s} n={count:4d}  recall@1={h1 / count:.4f}")
    if not args.no_body_only:
        print(
            f"body alone (no title): recall@1 of the headline's story {body1 / n:.4f}; "
            f"traced to the body's own story {body_to_b / n:.4f}"
        )
    control_hits = control_body = 0
    for case in controls:
        ranked = tracer.trace(case.title, case.body, top=1)
        control_hits += bool(ranked) and ranked[0].stored.doc.id == case.story
        alone = tracer.trace(None, case.body, top=1)
        control_body += bool(alone) and alone[0].stored.doc.id == case.story
    m = max(1, len(controls))
    print(
        f"controls (invented clickbait title over a machine text about the story itself): "
        f"n={len(controls)}  recall@1={control_hits / m:.4f} (body alone {control_body / m:.4f})"
    )
    latencies.sort()
    print(f"trace latency: p50 {latencies[n // 2] * 1000:.0f} ms, "
          f"p95 {latencies[int(0.95 * (n - 1))] * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
