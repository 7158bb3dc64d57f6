"""Out-of-domain inputs get "uncertain" with the reason named; human texts do not.

Builds inputs of six kinds that no detector of English prose can judge, with a fixed seed and
nothing read from disk but the human texts of ../shared/data (whose words the word salad and the
link lists are shuffled from): word salad, random characters or encoded data, source code, tables
of numbers, boilerplate-only pages and text in other languages. Each goes through the real
pipeline (read as `unspun check FILE.txt` reads it, then `Checker.check`), and counts as caught
when the verdict is `uncertain` and the reason names its kind ("out of domain (KIND): ...").
Then every human text of ../shared/data/detect goes through the same path, and the share called
out of domain (any kind) is the false-alarm rate, by domain and by half: the thresholds in
unspun/detect/domain.py were tuned on the "tune" half (pair ids whose sha1 is even) and the
"check" half was only looked at to report these figures.

    python benchmarks/out_of_domain.py [--per-kind 50] [--seed 0] [--detector encoder]

The out-of-domain reason does not depend on the detector's score (the pipeline decides it before
and apart from scoring), so the default is the fast encoder detector; `--detector none` scores
every text 0 with no calibration, for a quick run without any model.
Targets: >= 95 % of the out-of-domain inputs caught with the right reason, <= 1 % of the human
texts called out of domain.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import string
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from unspun.stats import wilson_interval

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "detect"
KINDS = ("word-salad", "random", "code", "table", "boilerplate", "not-english")
TARGET_CAUGHT = 0.95
TARGET_HUMAN = 0.01


# --- human texts --------------------------------------------------------------------------------


def machine_texts(folder: Path, n: int, seed: int) -> list[dict]:
    """A seeded sample of ``n`` machine texts (an out-of-domain call would hide their verdict)."""
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("label") == "machine":
                    rows.append({"text": record["text"], "domain": record["domain"]})
    return random.Random(seed).sample(rows, min(n, len(rows)))


def human_texts(folder: Path) -> list[dict]:
    """Every human text of the data folder once, with its domain and its half (tune or check)."""
    seen: set[str] = set()
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if record.get("label") != "human" or record["text"] in seen:
                    continue
                seen.add(record["text"])
                key = str(record.get("pair_id") or record["id"])
                half = (
                    "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "check"
                )
                rows.append({"text": record["text"], "domain": record["domain"], "half": half})
    return rows


# --- word salad ---------------------------------------------------------------------------------


def word_salad(rng: random.Random, texts: list[str]) -> str:
    """Real words of real texts in random order, in several shapes and lengths."""
    shape = rng.randrange(5)
    picked = rng.sample(texts, rng.randint(1, 4))
    words = [w for text in picked for w in text.split()]
    rng.shuffle(words)
    if shape == 1:  # lower case, no punctuation
        words = [w.strip(".,;:!?\"'()").lower() for w in words]
        words = [w for w in words if w]
    elif shape == 2:  # a normal opening paragraph, then salad
        return rng.choice(texts) + "\n\n" + " ".join(words)
    elif shape == 3:  # re-cut into "sentences" with capitals and full stops
        out = []
        while words:
            n = rng.randint(6, 18)
            chunk = [w.strip(".,;:!?") for w in words[:n]]
            words = words[n:]
            chunk = [w for w in chunk if w]
            if chunk:
                out.append(chunk[0][:1].upper() + " ".join(chunk)[1:] + ".")
        return " ".join(out)
    elif shape == 4:  # words drawn from English word frequencies
        return frequency_salad(rng, rng.randint(120, 500))
    paragraphs, size = [], rng.randint(40, 90)
    for start in range(0, len(words), size):
        paragraphs.append(" ".join(words[start : start + size]))
    return "\n\n".join(paragraphs)


def frequency_salad(rng: random.Random, length: int) -> str:
    """``length`` English words drawn by frequency, set out as sentences."""
    from wordfreq import top_n_list

    vocabulary = top_n_list("en", 5000)
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    return _sentences(rng, rng.choices(vocabulary, weights, k=length))


def _sentences(rng: random.Random, words: list[str]) -> str:
    out = []
    while words:
        n = rng.randint(5, 16)
        chunk, words = words[:n], words[n:]
        if rng.random() < 0.4 and len(chunk) > 4:
            chunk[rng.randrange(1, len(chunk) - 1)] += ","
        sentence = " ".join(chunk)
        out.append(sentence[:1].upper() + sentence[1:] + rng.choice(".....?!"))
    return " ".join(out)


# --- random characters and encoded data ---------------------------------------------------------


def random_characters(rng: random.Random) -> str:
    shape = rng.randrange(5)
    size = rng.randint(600, 3000)
    if shape == 0:  # base64, wrapped as MIME does
        encoded = base64.b64encode(rng.randbytes(size * 3 // 4)).decode()
        return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    if shape == 1:  # hex digests or a hex blob
        if rng.random() < 0.5:
            return "\n".join(rng.randbytes(32).hex() for _ in range(size // 64 + 1))
        blob = rng.randbytes(size // 2).hex()
        return " ".join(blob[i : i + rng.choice((8, 16, 32))] for i in range(0, len(blob), 32))
    if shape == 2:  # printable noise with spaces
        alphabet = string.ascii_letters + string.digits + string.punctuation
        return " ".join(
            "".join(rng.choices(alphabet, k=rng.randint(2, 12))) for _ in range(size // 7)
        )
    if shape == 3:  # keyboard mashing: letters only, word-like lengths
        return " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10)))
            for _ in range(size // 6)
        )
    # identifiers: UUIDs, API keys, tokens
    lines = []
    for _ in range(size // 40):
        choice = rng.randrange(3)
        if choice == 0:
            h = rng.randbytes(16).hex()
            lines.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
        elif choice == 1:
            lines.append("sk_" + "".join(rng.choices(string.ascii_letters + string.digits, k=32)))
        else:
            lines.append(base64.urlsafe_b64encode(rng.randbytes(24)).decode().rstrip("="))
    return "\n".join(lines)


# --- source code --------------------------------------------------------------------------------

_NAMES = (
    "total count items value result record user order price index buffer config path name "
    "data payload score limit offset row column key node parent child cache session token"
).split()


def _ident(rng: random.Random, style: str = "snake") -> str:
    a, b = rng.sample(_NAMES, 2)
    return f"{a}_{b}" if style == "snake" else a + b.capitalize()


def _python(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(4, 9)):
        name, arg, other = _ident(rng), rng.choice(_NAMES), rng.choice(_NAMES)
        body = rng.choice(
            [
                f"    if {arg} is None:\n        return {rng.randint(0, 9)}\n"
                f"    return len({arg}) * {rng.randint(2, 9)}",
                f"    {other} = []\n    for item in {arg}:\n"
                f"        if item > {rng.randint(1, 99)}:\n"
                f"            {other}.append(item)\n    return {other}",
                f'    """Return the {arg} of the {other}."""\n'
                f"    return sum(x.{other} for x in {arg}) / max(1, len({arg}))",
                f"    try:\n        return {arg}[{other!r}]\n    except KeyError:\n"
                f"        raise ValueError(f'no {other} in {{{arg}!r}}')",
            ]
        )
        blocks.append(f"def {name}({arg}, {other}={rng.randint(0, 5)}):\n{body}\n")
    header = "import os\nimport sys\nfrom pathlib import Path\n\n\n"
    return header + "\n\n".join(blocks)


def _javascript(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randint(4, 9)):
        name, arg = _ident(rng, "camel"), rng.choice(_NAMES)
        blocks.append(
            rng.choice(
                [
                    f"function {name}({arg}) {{\n  const out = [];\n"
                    f"  for (let i = 0; i < {arg}.length; i++) {{\n"
                    f"    if ({arg}[i] > {rng.randint(1, 50)}) out.push({arg}[i]);\n  }}\n"
                    "  return out;\n}",
                    f"const {name} = async ({arg}) => {{\n"
                    f"  const res = await fetch(`/api/{arg}/${{{arg}.id}}`);\n"
                    "  if (!res.ok) throw new Error(res.statusText);\n  return res.json();\n};",
                    f"export function {name}({arg}, opts = {{}}) {{\n"
                    f"  return {arg}.map((x) => x * {rng.randint(2, 9)}).filter(Boolean);\n}}",
                    f"document.querySelector('#{arg}').addEventListener('click', (e) => {{\n"
                    f"  e.preventDefault();\n  console.log('{name}', e.target.value);\n}});",
                ]
            )
        )
    return "\n\n".join(blocks)


def _c(rng: random.Random) -> str:
    blocks = ["#include <stdio.h>\n#include <stdlib.h>\n"]
    for _ in range(rng.randint(3, 7)):
        name, arg = _ident(rng), rng.choice(_NAMES)
        blocks.append(
            f"static int {name}(const int *{arg}, size_t n)\n{{\n    int acc = 0;\n"
            f"    for (size_t i = 0; i < n; ++i) {{\n"
            f"        if ({arg}[i] % {rng.randint(2, 7)} == 0)\n"
            f"            acc += {arg}[i];\n    }}\n    return acc;\n}}"
        )
    blocks.append('int main(void)\n{\n    printf("%d\\n", 0);\n    return 0;\n}')
    return "\n\n".join(blocks)


def _sql(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(4, 9)):
        table, col, other = rng.choice(_NAMES) + "s", rng.choice(_NAMES), rng.choice(_NAMES)
        out.append(
            rng.choice(
                [
                    f"SELECT {col}, COUNT(*) AS n\nFROM {table}\n"
                    f"WHERE {other} > {rng.randint(1, 99)}\nGROUP BY {col}\nORDER BY n DESC;",
                    f"CREATE TABLE {table} (\n  id INTEGER PRIMARY KEY,\n  {col} TEXT NOT NULL,\n"
                    f"  {other} REAL DEFAULT 0\n);",
                    f"UPDATE {table}\nSET {col} = {col} + 1\nWHERE id = {rng.randint(1, 999)};",
                    f"INSERT INTO {table} ({col}, {other}) VALUES ('{rng.choice(_NAMES)}', "
                    f"{rng.randint(1, 99)});",
                ]
            )
        )
    return "\n\n".join(out)


def _html_css(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randint(3, 6)):
        cls = rng.choice(_NAMES)
        out.append(
            f".{cls}-{rng.choice(_NAMES)} {{\n  margin: {rng.randint(0, 24)}px auto;\n"
            f"  color: #{rng.randbytes(3).hex()};\n  display: flex;\n}}"
        )
    for _ in range(rng.randint(3, 6)):
        cls, word = rng.choice(_NAMES), rng.choice(_NAMES)
        out.append(
            f'<div class="{cls}">\n  <a href="/{word}/{rng.randint(1, 999)}">{word}</a>\n'
            f'  <span id="{cls}-{rng.randint(1, 99)}"></span>\n</div>'
        )
    rng.shuffle(out)
    return "\n".join(out)


def source_code(rng: random.Random) -> str:
    return rng.choice([_python, _javascript, _c, _sql, _html_css])(rng)


# --- tables of numbers --------------------------------------------------------------------------


def table_of_numbers(rng: random.Random) -> str:
    rows, columns = rng.randint(15, 60), rng.randint(3, 8)
    shape = rng.randrange(4)

    def cell() -> str:
        kind = rng.randrange(4)
        if kind == 0:
            return str(rng.randint(0, 99999))
        if kind == 1:
            return f"{rng.uniform(-100, 100):.{rng.randint(1, 3)}f}"
        if kind == 2:
            return f"{rng.uniform(0, 100):.1f}%"
        return f"{rng.randint(1, 9999):,}"

    header = [
        rng.choice(["year", "q1", "q2", "total", "rate", "n", "mean", "sd", "id"])
        for _ in range(columns)
    ]
    body = []
    for _ in range(rows):
        values = [cell() for _ in range(columns)]
        if shape in (1, 3) and rng.random() < 0.8:
            values[0] = str(rng.randint(1950, 2030))
        body.append(values)
    if shape == 0:
        lines = [",".join(header)] + [",".join(v.replace(",", "") for v in r) for r in body]
    elif shape == 1:
        lines = ["  ".join(f"{h:>9}" for h in header)]
        lines += ["  ".join(f"{v:>9}" for v in r) for r in body]
    elif shape == 2:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * columns]
        lines += ["| " + " | ".join(r) + " |" for r in body]
    else:
        lines = ["\t".join(r) for r in body]
    return "\n".join(lines)


# --- boilerplate-only pages ---------------------------------------------------------------------

_MENU = (
    "Home News World UK US Business Politics Sport Tech Science Health Entertainment Arts "
    "Culture Travel Opinion Video Live Weather Money Education Climate Podcasts Newsletters"
).split()
_ACCOUNT = ["Sign in", "Log in", "Register", "Subscribe", "My account", "Search", "Menu"]
_SHARE = [
    "Share on Facebook",
    "Share on Twitter",
    "Share on WhatsApp",
    "Share via email",
    "Copy link",
    "Print",
    "Tweet",
    "Pin it",
]
_NOTICES = [
    "We use cookies to give you the best experience on our website. Accept all cookies",
    "Manage cookie preferences",
    "Privacy policy",
    "Terms of use",
    "Cookie settings",
    "Accessibility",
    "Contact us",
    "About us",
    "Advertise with us",
    "Careers",
    "Sitemap",
    "Back to top",
    "Follow us on Instagram",
    "Sign up for our morning newsletter",
]
_LINK_SUBJECTS = [
    "Council",
    "Rail strike",
    "Heatwave",
    "Local school",
    "Transfer news",
    "Election",
    "House prices",
    "Storm warning",
    "Hospital waiting lists",
    "Football club",
]
_LINK_TAILS = [
    "what we know so far",
    "latest updates",
    "in pictures",
    "five things to watch",
    "live",
    "explained",
    "the week ahead",
    "your questions answered",
    "watch again",
    "full results",
]


def boilerplate_page(rng: random.Random) -> str:
    site = rng.choice(["The Daily Ledger", "Northside Post", "Metro Wire", "Valley Herald"])
    parts = [site, *rng.sample(_MENU, rng.randint(8, 18)), *rng.sample(_ACCOUNT, 3)]
    if rng.random() < 0.7:
        parts.append(rng.choice(["Most read", "Trending", "Latest news", "Top stories"]))
        for _ in range(rng.randint(3, 10)):
            parts.append(f"{rng.choice(_LINK_SUBJECTS)}: {rng.choice(_LINK_TAILS)}")
    parts += rng.sample(_SHARE, rng.randint(2, 6))
    parts += rng.sample(_NOTICES, rng.randint(4, 9))
    parts.append(f"© {rng.randint(2005, 2026)} {site}. All rights reserved.")
    return "\n".join(parts)


# --- other languages ----------------------------------------------------------------------------
# Sentence parts written for this benchmark, combined at random into news-like paragraphs.

_FOREIGN = {
    "German": (
        [
            "Die Stadtverwaltung",
            "Der Minister",
            "Eine Sprecherin der Polizei",
            "Das Unternehmen",
            "Die Gewerkschaft",
            "Der Trainer",
        ],
        [
            "hat am Montag neue Pläne für den Bahnhof vorgestellt",
            "will die Gebühren im kommenden Jahr deutlich senken",
            "war mit dem Ergebnis der Verhandlungen nicht zufrieden",
            "kündigte eine gründliche Untersuchung des Vorfalls an",
            "sprach von einem schwierigen Jahr für alle Beteiligten",
            "bestätigte, dass niemand verletzt wurde",
        ],
        ["", " in der Innenstadt", " nach langen Gesprächen", " trotz heftiger Kritik"],
    ),
    "French": (
        [
            "La mairie",
            "Le ministre",
            "Une porte-parole de la police",
            "L'entreprise",
            "Le syndicat",
            "L'entraîneur",
        ],
        [
            "a présenté lundi un nouveau projet pour la gare",
            "veut réduire nettement les frais l'année prochaine",
            "n'était pas satisfait du résultat des négociations",
            "a annoncé une enquête approfondie sur l'incident",
            "a parlé d'une année difficile pour tout le monde",
            "a confirmé que personne n'avait été blessé",
        ],
        ["", " dans le centre-ville", " après de longues discussions", " malgré les critiques"],
    ),
    "Spanish": (
        [
            "El ayuntamiento",
            "La ministra",
            "Un portavoz de la policía",
            "La empresa",
            "El sindicato",
            "El entrenador",
        ],
        [
            "presentó el lunes un nuevo plan para la estación",
            "quiere bajar las tasas de forma notable el año que viene",
            "no quedó contento con el resultado de las negociaciones",
            "anunció una investigación a fondo sobre lo ocurrido",
            "habló de un año difícil para todos los implicados",
            "confirmó que nadie resultó herido",
        ],
        ["", " en el centro de la ciudad", " tras largas conversaciones", " pese a las críticas"],
    ),
    "Italian": (
        [
            "Il comune",
            "Il ministro",
            "Una portavoce della polizia",
            "L'azienda",
            "Il sindacato",
            "L'allenatore",
        ],
        [
            "ha presentato lunedì un nuovo progetto per la stazione",
            "vuole ridurre in modo deciso le tariffe il prossimo anno",
            "non era soddisfatto del risultato delle trattative",
            "ha annunciato un'indagine approfondita sull'accaduto",
            "ha parlato di un anno difficile per tutti",
            "ha confermato che nessuno è rimasto ferito",
        ],
        ["", " nel centro della città", " dopo lunghe discussioni", " nonostante le critiche"],
    ),
    "Dutch": (
        [
            "De gemeente",
            "De minister",
            "Een woordvoerder van de politie",
            "Het bedrijf",
            "De vakbond",
            "De trainer",
        ],
        [
            "heeft maandag een nieuw plan voor het station gepresenteerd",
            "wil de kosten volgend jaar flink verlagen",
            "was niet tevreden met de uitkomst van het overleg",
            "kondigde een grondig onderzoek naar het incident aan",
            "sprak van een moeilijk jaar voor iedereen",
            "bevestigde dat niemand gewond is geraakt",
        ],
        ["", " in het centrum", " na lange gesprekken", " ondanks de kritiek"],
    ),
    "Portuguese": (
        [
            "A câmara municipal",
            "O ministro",
            "Uma porta-voz da polícia",
            "A empresa",
            "O sindicato",
            "O treinador",
        ],
        [
            "apresentou na segunda-feira um novo plano para a estação",
            "quer baixar as taxas de forma clara no próximo ano",
            "não ficou satisfeito com o resultado das negociações",
            "anunciou uma investigação profunda sobre o incidente",
            "falou de um ano difícil para todos os envolvidos",
            "confirmou que ninguém ficou ferido",
        ],
        ["", " no centro da cidade", " depois de longas conversas", " apesar das críticas"],
    ),
}
_WORDFREQ_LANGUAGES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "ru": "Russian",
    "el": "Greek",
}


def foreign_text(rng: random.Random) -> tuple[str, str]:
    """A news-like text in another language and the language's name."""
    if rng.random() < 0.6:
        language = rng.choice(sorted(_FOREIGN))
        subjects, predicates, tails = _FOREIGN[language]
        sentences = [
            f"{rng.choice(subjects)} {rng.choice(predicates)}{rng.choice(tails)}."
            for _ in range(rng.randint(8, 30))
        ]
        paragraphs, size = [], rng.randint(3, 6)
        for start in range(0, len(sentences), size):
            paragraphs.append(" ".join(sentences[start : start + size]))
        return "\n\n".join(paragraphs), language
    # Words of another language drawn by frequency and set out as sentences.
    from wordfreq import top_n_list

    code = rng.choice(sorted(_WORDFREQ_LANGUAGES))
    vocabulary = top_n_list(code, 3000)
    weights = [1 / (rank + 10) for rank in range(len(vocabulary))]
    words = rng.choices(vocabulary, weights, k=rng.randint(80, 400))
    return _sentences(rng, words), _WORDFREQ_LANGUAGES[code]


# --- running ------------------------------------------------------------------------------------


def out_of_domain_inputs(per_kind: int, seed: int, texts: list[str]) -> list[tuple[str, str]]:
    """(kind, text) pairs, ``per_kind`` of each kind, the same for the same seed and texts."""
    rng = random.Random(seed)
    builders = {
        "word-salad": lambda: word_salad(rng, texts),
        "random": lambda: random_characters(rng),
        "code": lambda: source_code(rng),
        "table": lambda: table_of_numbers(rng),
        "boilerplate": lambda: boilerplate_page(rng),
        "not-english": lambda: foreign_text(rng)[0],
    }
    return [(kind, builders[kind]()) for kind in KINDS for _ in range(per_kind)]


class _NoScore:
    """A stand-in detector that scores every text 0, for runs without a model."""

    name = "none"
    version = "0"

    def score(self, texts):
        from unspun.detect.base import Scores

        return [Scores(document=0.0) for _ in texts]


def _share(hits: int, n: int) -> str:
    low, high = wilson_interval(hits, n)
    rate = hits / n if n else 0.0
    return f"{100 * rate:5.1f} % ({100 * low:.1f}-{100 * high:.1f} %)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=50, help="out-of-domain inputs per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--detector", default="encoder", help="registry name, or 'none'")
    parser.add_argument("--data", default=str(DATA), help="folder of the human texts (*.jsonl)")
    parser.add_argument("--machine", type=int, default=1000, help="machine texts to check")
    parser.add_argument("--show", type=int, default=3, help="print up to N misses of each kind")
    args = parser.parse_args()

    folder = Path(args.data)
    if not folder.is_dir():
        print(f"skipped: {folder} is not present (the benchmark needs its human texts)")
        return

    from unspun.article import read_article_bytes
    from unspun.detect.domain import out_of_domain_kind
    from unspun.errors import UnspunError
    from unspun.pipeline import CheckConfig, Checker

    humans = human_texts(folder)
    news = [row["text"] for row in humans if row["domain"] == "news-bbc"]
    inputs = out_of_domain_inputs(args.per_kind, args.seed, news)

    if args.detector == "none":
        checker = Checker(CheckConfig(), detector=_NoScore())
    else:
        checker = Checker(CheckConfig(detector=args.detector))

    def verdict(text: str) -> tuple[str, str]:
        try:
            article = read_article_bytes(text.encode(), name="input.txt")
        except UnspunError as exc:
            return "error", exc.message
        report = checker.check(article)
        return report.verdict, report.reason

    started = time.perf_counter()
    caught: Counter[str] = Counter()
    misses: dict[str, list[str]] = defaultdict(list)
    for kind, text in inputs:
        answer, reason = verdict(text)
        if answer == "uncertain" and out_of_domain_kind(reason) == kind:
            caught[kind] += 1
        else:
            misses[kind].append(f"{answer}: {reason}")
    print(
        f"detector: {checker.detector.name}; seed {args.seed}; {len(inputs)} out-of-domain "
        f"inputs, {len(humans)} human texts"
    )
    print()
    print(
        f"out-of-domain inputs (target: >= {100 * TARGET_CAUGHT:.0f} % uncertain with the "
        "reason naming the kind)"
    )
    print(f"{'kind':<14}{'n':>5}  caught (95% Wilson)")
    for kind in KINDS:
        print(f"{kind:<14}{args.per_kind:>5}  {_share(caught[kind], args.per_kind)}")
    print(f"{'all':<14}{len(inputs):>5}  {_share(sum(caught.values()), len(inputs))}")
    for kind in KINDS:
        for line in Counter(misses[kind]).most_common(args.show):
            print(f"  missed {kind}: {line[1]} x {line[0][:150]}")

    called: Counter[tuple[str, str]] = Counter()
    totals: Counter[tuple[str, str]] = Counter()
    kinds_seen: Counter[str] = Counter()
    for row in humans:
        # As given (one paragraph each), and with one sentence per line as fiction, dialogue
        # and pasted pages often come: the line-based checks (code, tables, boilerplate) see it.
        for layout, text in (
            ("as given", row["text"]),
            ("lines", one_sentence_per_line(row["text"])),
        ):
            answer, reason = verdict(text)
            kind = out_of_domain_kind(reason)
            for key in ((row["domain"], row["half"]), ("all", row["half"]), ("all", "both")):
                totals[(layout, *key)] += 1
                called[(layout, *key)] += kind is not None
            if kind is not None:
                kinds_seen[f"{kind} ({layout})"] += 1
                if args.show:
                    print(f"  human text called {kind} ({layout}): {text[:100]!r}")
    print()
    print(
        f"human texts (target: <= {100 * TARGET_HUMAN:.0f} % called out of domain; thresholds "
        "were tuned on the 'tune' half)"
    )
    print(f"{'layout':<10}{'domain':<16}{'half':<7}{'n':>6}  called out of domain (95% Wilson)")
    for key in sorted(totals):
        print(
            f"{key[0]:<10}{key[1]:<16}{key[2]:<7}{totals[key]:>6}  "
            f"{_share(called[key], totals[key])}"
        )
    if kinds_seen:
        print(
            "  human texts called out of domain, by kind: "
            + ", ".join(f"{kind} {n}" for kind, n in kinds_seen.most_common())
        )

    machines = machine_texts(folder, args.machine, args.seed)
    machine_called: Counter[str] = Counter()
    for row in machines:
        kind = out_of_domain_kind(verdict(row["text"])[1])
        machine_called[kind or ""] += 1
    hidden = len(machines) - machine_called[""]
    print(
        f"\nmachine texts (a seeded sample; an out-of-domain call would hide their verdict): "
        f"{len(machines)}, called out of domain {_share(hidden, len(machines))}"
        + "".join(f"; {kind} {n}" for kind, n in machine_called.items() if kind)
    )

    # How short word salad may be and still be caught (the check alone, 200 texts a length):
    # a stretch of the news texts shuffled, and English words drawn by their frequency.
    from unspun.detect.domain import abstain_reason

    print("\nword salad by length (the check alone, 200 texts each): caught")
    rng = random.Random(args.seed)
    words = " ".join(news).split()
    for length in (80, 100, 150, 200, 300, 500):
        shuffled = 0
        for _ in range(200):
            start = rng.randrange(len(words) - length)
            window = words[start : start + length]
            rng.shuffle(window)
            reason = abstain_reason(" ".join(window), min_words=50)
            shuffled += out_of_domain_kind(reason) == "word-salad"
        drawn = sum(
            out_of_domain_kind(abstain_reason(frequency_salad(rng, length), min_words=50))
            == "word-salad"
            for _ in range(200)
        )
        print(
            f"  {length:>4} words: shuffled news words {_share(shuffled, 200)}; "
            f"words drawn by English frequency {_share(drawn, 200)}"
        )

    # The issue's case: megabytes of shuffled words after a normal first paragraph. Only the
    # out-of-domain check is timed (reading and normalising 3 MB is measured by long_inputs.py).
    big = word_salad_megabytes(news, 3_000_000, args.seed)
    began = time.perf_counter()
    reason = abstain_reason(big, min_words=50)
    print(
        f"\n3 MB of shuffled news words after a normal paragraph: {reason!r} in "
        f"{time.perf_counter() - began:.2f} s (the check alone)"
    )
    print(f"\n{time.perf_counter() - started:.0f} s in all")


def one_sentence_per_line(text: str) -> str:
    return re.sub(r"(?<=[.!?\"”])\s+(?=\S)", "\n", text)


def word_salad_megabytes(texts: list[str], size: int, seed: int) -> str:
    rng = random.Random(seed)
    words = " ".join(texts).split()
    parts, total = [texts[0], ""], 0
    while total < size:
        rng.shuffle(words)
        parts.append(" ".join(words))
        total += len(parts[-1])
    return "\n\n".join(parts)[:size]


if __name__ == "__main__":
    sys.exit(main())
