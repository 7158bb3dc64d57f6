"""Machine-written counterparts of human articles, spun from their headline and lead the way
content farms rewrite wire copy: red-team and training data against the generators users face."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unspun.article.sentences import split_sentences
from unspun.errors import ConfigError, EmptyInput, MalformedInput
from unspun.jsonl import read_objects
from unspun.models.causal import CausalLM

STYLES = ("auto", "continue", "chat")
# The lead is the opening sentence, or the first two when the first is very short (a dateline).
LEAD_MIN_WORDS = 12


@dataclass(frozen=True)
class HumanArticle:
    text: str
    pair_id: str
    id: str | None = None
    title: str | None = None
    domain: str = "unknown"


def read_human(path: str | Path) -> tuple[list[HumanArticle], int]:
    """Human articles from JSONL (``text`` required; optional ``title``/``headline``, ``id``,
    ``pair_id``, ``domain``, ``label``). Records labelled machine are skipped and counted."""
    articles: list[HumanArticle] = []
    skipped = 0
    for where, data in read_objects(path):
        article = _parse(data, where)
        if article is None:
            skipped += 1
        else:
            articles.append(article)
    if not articles:
        raise EmptyInput(f"no human-written records found in {path}")
    return articles, skipped


def _parse(data: dict[str, Any], where: str) -> HumanArticle | None:
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise MalformedInput(f"{where}: missing or empty 'text'")
    label = data.get("label", "human")
    if label not in ("human", "machine"):
        raise MalformedInput(f"{where}: 'label' must be 'human' or 'machine', got {label!r}")
    if label == "machine":
        return None
    title = data.get("title") or data.get("headline")
    record_id = None if data.get("id") is None else str(data["id"])
    pair_id = data.get("pair_id") or record_id or hashlib.sha1(text.encode()).hexdigest()[:12]
    return HumanArticle(
        text=text,
        pair_id=str(pair_id),
        id=record_id,
        title=str(title).strip() if title else None,
        domain=str(data.get("domain") or "unknown"),
    )


def lead_of(text: str) -> str:
    """The article's opening: its first sentence, or first two when the first is a fragment."""
    spans = split_sentences(text)
    if not spans:
        return text.strip()
    end = spans[0][1]
    if len(text[spans[0][0] : end].split()) < LEAD_MIN_WORDS and len(spans) > 1:
        end = spans[1][1]
    return text[spans[0][0] : end]


def chat_instruction(title: str | None, lead: str, words: int) -> str:
    headline = f' with the headline "{title}"' if title else ""
    return (
        f"Write a news article{headline}, about {words} words long, in the style of a wire "
        f'report. Start with this opening paragraph: "{lead}" Reply with the article text only.'
    )


@dataclass(frozen=True)
class Decoding:
    """Sampling settings, recorded with every synthetic text."""

    max_new_tokens: int = 400
    temperature: float = 1.0
    top_p: float = 0.95
    seed: int = 0
    style: str = "auto"

    def check(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError("max_new_tokens must be at least 1")
        if not self.temperature > 0:
            raise ConfigError("temperature must be above 0")
        if not 0 < self.top_p <= 1:
            raise ConfigError("top_p must be in (0, 1]")
        if self.style not in STYLES:
            raise ConfigError(f"style must be one of {', '.join(STYLES)}")


def synthesize(
    articles: Sequence[HumanArticle],
    lm: CausalLM,
    decoding: Decoding,
    *,
    generator: str | None = None,
    batch_size: int = 4,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one machine-written record per human article, in input order.

    ``continue`` style (base models): the prompt is the headline and lead, the output is the lead
    followed by the model's continuation, so the pair shares its opening as in the research
    benchmarks. ``chat`` style (instruction-tuned models with a chat template): the model is asked
    to write the article from the headline and lead. Each text is cut to about the length of its
    human original (in the generator's tokens, at most ``max_new_tokens``) so length does not
    give it away.
    """
    import torch

    decoding.check()
    if batch_size < 1:
        raise ConfigError("batch size must be at least 1")
    tokenizer = lm.tokenizer
    style = decoding.style
    if style == "auto":
        style = "chat" if getattr(tokenizer, "chat_template", None) else "continue"
    if style == "chat" and not getattr(tokenizer, "chat_template", None):
        raise ConfigError(f"model {lm.name!r} has no chat template; use --style continue")
    generator = generator or lm.name
    torch.manual_seed(decoding.seed)
    done = 0
    for begin in range(0, len(articles), batch_size):
        batch = articles[begin : begin + batch_size]
        prompts, budgets, leads = [], [], []
        for article in batch:
            lead = lead_of(article.text)
            human_tokens = len(tokenizer(article.text, add_special_tokens=False)["input_ids"])
            if style == "chat":
                words = len(article.text.split())
                messages = [
                    {"role": "user", "content": chat_instruction(article.title, lead, words)}
                ]
                prompt = tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
                ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
                budget = human_tokens
            else:
                prompt = f"{article.title}\n\n{lead}" if article.title else lead
                ids = tokenizer(prompt, add_special_tokens=True)["input_ids"]
                lead_tokens = len(tokenizer(lead, add_special_tokens=False)["input_ids"])
                budget = human_tokens - lead_tokens
            prompts.append(ids)
            budgets.append(max(16, min(decoding.max_new_tokens, budget)))
            leads.append(lead)
        new_tokens = _generate(lm, prompts, max(budgets), decoding)
        for article, lead, tokens, budget in zip(batch, leads, new_tokens, budgets, strict=True):
            continuation = tokenizer.decode(tokens[:budget], skip_special_tokens=True)
            text = (lead + continuation) if style == "continue" else continuation.strip()
            yield {
                "id": f"{article.pair_id}/{_slug(generator)}",
                "text": text,
                "label": "machine",
                "generator": generator,
                "domain": article.domain,
                "pair_id": article.pair_id,
                "source_id": article.id,
                "prompt": {"style": style, "headline": article.title, "lead": lead},
                "decoding": {
                    "do_sample": True,
                    "temperature": decoding.temperature,
                    "top_p": decoding.top_p,
                    "top_k": 0,  # off: nucleus sampling only
                    "max_new_tokens": budget,
                    "seed": decoding.seed,
                    "batch_size": batch_size,
                    "dtype": lm.dtype_name,
                },
            }
        done += len(batch)
        if progress is not None:
            progress(done, len(articles))


def _generate(
    lm: CausalLM, prompts: list[list[int]], max_new: int, decoding: Decoding
) -> list[list[int]]:
    """Sample continuations of a left-padded batch; returns each row's new tokens up to its end."""
    import torch

    width = max(len(p) for p in prompts)
    pad = lm.pad_id
    ids = torch.full((len(prompts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = torch.tensor(prompt)
        mask[row, width - len(prompt) :] = 1
    limit = lm.max_positions
    if limit is not None:
        max_new = max(1, min(max_new, limit - width))
        if width >= limit:
            raise ConfigError(
                f"prompt of {width} tokens does not fit the model's {limit}-token window"
            )
    with torch.inference_mode():
        output = lm.model.generate(
            input_ids=ids.to(lm.device),
            attention_mask=mask.to(lm.device),
            do_sample=True,
            temperature=decoding.temperature,
            top_p=decoding.top_p,
            top_k=0,
            max_new_tokens=max_new,
            pad_token_id=pad,
            eos_token_id=lm.tokenizer.eos_token_id,
        )
    eos = lm.tokenizer.eos_token_id
    result = []
    for row in output[:, width:].tolist():
        if eos is not None and eos in row:
            row = row[: row.index(eos)]
        result.append(row)
    return result


def _slug(name: str) -> str:
    base = Path(name).name if os.sep in name and Path(name).exists() else name
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in base.split("/")[-1]) or "model"


def write_jsonl(records: Iterator[dict[str, Any]], out: Path, *, overwrite: bool = False) -> int:
    """Stream records to ``out`` through a ``.partial`` file renamed at the end, so an
    interrupted run never leaves a truncated file under the final name."""
    if out.exists() and not overwrite:
        raise ConfigError(f"{out} already exists; pass --overwrite to replace it")
    if out.exists() and out.is_dir():
        raise ConfigError(f"{out} is a directory")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    count = 0
    with partial.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            handle.flush()
            count += 1
    os.replace(partial, out)
    return count
