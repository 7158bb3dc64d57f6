"""The shared data helpers of the benchmarks, in one place: reading the shared pairs of
../shared/data/detect, the held-out split of the pairs, rule rewording, distractor articles, the
provenance and headline benchmark indexes and the headline cases.

Every benchmark that needs these imports them from here; no benchmark imports another benchmark's
script, so the scripts form no import loop. Nothing here writes into the repository: indexes are
cached under /tmp.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "detect"
# Share of pairs held out of the trace re-ranker's training (and of the claim judge's): the same
# rule unspun's detector training uses.
HELDOUT_SHARE = 0.3


def load_pairs(data_dir: Path = DATA) -> tuple[dict[str, dict], list[dict]]:
    """Human originals by pair_id, and the machine texts made from them."""
    originals: dict[str, dict] = {}
    machines: list[dict] = []
    for name in ("open-generators.jsonl", "closed-generators.jsonl"):
        path = data_dir / name
        if not path.is_file():
            sys.exit(f"missing {path}: this benchmark needs ../shared/data")
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            if record["label"] == "human":
                originals.setdefault(record["pair_id"], record)
            else:
                machines.append(record)
    return originals, [m for m in machines if m["pair_id"] in originals]


def strip_shared_opening(machine: str, original: str) -> str:
    """The machine text after the words it shares with the start of its original."""
    a, b = machine.split(), original.split()
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return " ".join(a[n:])


def synthesise_distractors(originals: list[dict], count: int, seed: int = 13) -> list[dict]:
    from unspun.article.sentences import split_sentences

    rng = random.Random(seed)
    pools = []
    for record in originals:
        text = record["text"]
        # Not the opening sentence: a distractor that starts with an original's own first sentence
        # would be a copy of that original's lead, not another article.
        sentences = [text[s:e] for s, e in split_sentences(text)[1:] if e - s > 30]
        if sentences:
            pools.append((record["pair_id"], sentences))
    distractors = []
    for i in range(count):
        picked = rng.sample(range(len(pools)), k=rng.randint(4, 8))
        text = " ".join(rng.choice(pools[p][1]) for p in picked)
        distractors.append(
            {"id": f"synthetic-{i:05d}", "text": text, "from": [pools[p][0] for p in picked]}
        )
    return distractors


def approximate_distractors(index, originals: dict[str, dict], distractors: list[dict]) -> int:  # noqa: ANN001
    """Store distractors without running the encoder: text, BM25 terms, entities, figures and
    MinHash are computed from the synthetic text exactly; the embedding is the normalised mean of
    the embeddings of the originals its sentences were taken from."""
    import numpy as np

    from unspun.provenance.fingerprint import article_features, content_hash, minhash
    from unspun.provenance.store import PreparedDoc, SourceDoc

    vectors: dict[str, np.ndarray] = {}
    for batch in index.store.iter_prepared():
        for prepared in batch:
            if prepared.doc.id in originals:
                vectors[prepared.doc.id] = prepared.embedding
    prepared_docs = []
    for d in distractors:
        mean = np.mean([vectors[o] for o in d["from"]], axis=0)
        prepared_docs.append(
            PreparedDoc(
                doc=SourceDoc(id=d["id"], text=d["text"]),
                content_hash=content_hash(d["text"]),
                embedding=(mean / np.linalg.norm(mean)).astype(np.float32),
                minhash=minhash(d["text"]),
                features=article_features(None, d["text"]),
            )
        )
    return index.add_prepared(prepared_docs)


def build_provenance_index(
    location: str, total: int, *, quiet: bool = False, approximate: bool = False
):  # noqa: ANN201
    """Open (or build once) the benchmark index with all originals plus distractors."""
    from unspun.provenance.index import SourceIndex
    from unspun.provenance.store import SourceDoc

    originals, _ = load_pairs()
    index = SourceIndex(location, create=True)
    wanted = max(total, len(originals))
    have = index.store.count()
    if have >= wanted:
        return index, originals
    distractors = synthesise_distractors(list(originals.values()), wanted - len(originals))
    if approximate:
        index.add([SourceDoc(id=r["pair_id"], text=r["text"]) for r in originals.values()])
        present = _ids(index, set(index.store.keys_for_ids([d["id"] for d in distractors])))
        missing = [d for d in distractors if d["id"] not in present]
        started = time.perf_counter()
        added = approximate_distractors(index, originals, missing)
        print(
            f"approximated {added} distractor embeddings in {time.perf_counter() - started:.0f} s"
        )
        return index, originals
    docs = [SourceDoc(id=r["pair_id"], text=r["text"]) for r in originals.values()]
    docs += [SourceDoc(id=d["id"], text=d["text"]) for d in distractors]

    def progress(seen: int, added: int) -> None:
        if not quiet and seen % 1024 == 0:
            print(f"  indexed {seen}/{len(docs)}", file=sys.stderr, flush=True)

    result = index.add(docs, batch_size=128, progress=progress)
    print(
        f"indexing: {result.added} new articles in {result.seconds:.0f} s = "
        f"{result.added / max(result.seconds, 1e-9):.1f} articles/s",
        flush=True,
    )
    return index, originals


def _ids(index, keys: set[int]) -> set[str]:  # noqa: ANN001
    return {stored.doc.id for stored in index.store.fetch(sorted(keys))}


def is_heldout(pair_id: str, share: float = HELDOUT_SHARE) -> bool:
    """Deterministic split by pair: the same rule unspun's detector training uses."""
    return int(hashlib.sha1(pair_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def machine_queries() -> list[tuple[dict, str]]:
    """Every machine text (with its shared opening removed) long enough to trace, in file order."""
    originals, machines = load_pairs()
    queries = []
    for record in machines:
        text = strip_shared_opening(record["text"], originals[record["pair_id"]]["text"])
        if len(text.split()) >= 20:
            queries.append((record, text))
    return queries


SYNONYMS = {
    "said": "stated", "says": "states", "about": "around", "people": "individuals",
    "began": "started", "started": "began", "also": "additionally", "but": "however",
    "big": "large", "large": "big", "help": "assist", "show": "indicate", "shows": "indicates",
    "buy": "purchase", "bought": "purchased", "told": "informed", "because": "since",
    "many": "numerous", "important": "significant", "found": "discovered", "city": "town",
    "children": "kids", "start": "beginning", "near": "close to", "later": "subsequently",
}  # fmt: skip
WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
}


def reword(sentence: str) -> str:
    def swap(match: re.Match[str]) -> str:
        word = match.group()
        new = SYNONYMS.get(word.lower())
        if new is None:
            return word
        return new.capitalize() if word[0].isupper() else new

    sentence = re.sub(r"[A-Za-z]+", swap, sentence)
    return re.sub(r"\b([1-9])\b(?![.,]\d)", lambda m: WORDS[int(m.group(1))], sentence)


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
class HeadlineCase:
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


def make_cases(side: str, seed: int = 5, controls: bool = False) -> list[HeadlineCase]:
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
    stories = sorted(p for p, r in originals.items() if r["domain"] == "news-bbc" and on_side(p))
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
                HeadlineCase(story, title, subtitle, body, body_story, title_kind, body_label)
            )
        own = [b for kind in ("current", "continuation") for b in bodies[kind] if b[0] == story]
        if controls and own:
            _, body_label, body = rng.choice(own)
            cases.append(
                HeadlineCase(story, rng.choice(CLICKBAIT), None, body, story, "control", body_label)
            )
    return cases


def build_headline_index(location: str, total: int):  # noqa: ANN201
    """Open (or build once) the headline benchmark's index: every human original and distractors,
    all with headlines."""
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
