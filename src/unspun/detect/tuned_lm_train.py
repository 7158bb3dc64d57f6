"""Training the tuned scorer: LoRA on the top layers of a causal LM with a paired objective, made
cheap enough for a CPU, then calibrated on human texts of pairs held out from tuning.

Where the cost goes, and the cuts (each measured, see docs/detectors.md):

- the frozen lower layers run once per text: their output at the first tuned layer is cached on
  disk (``$UNSPUN_CACHE/tuned-lm/<settings>/<text sha1>.npy``), and every step starts from it;
- only the first ``train_tokens`` tokens of a text are read while tuning (the detector itself
  reads up to 1024);
- the criterion's normaliser runs over a reduced vocabulary while tuning: the ``vocab_size``
  token ids most frequent in the tuned texts, plus each position's own target, instead of all
  262k (scoring is exact, over the whole vocabulary).

Objectives (both from the Fast-DetectGPT family of tuned detectors), for a machine text m and its
human original h, with crit the analytic discrepancy of the tuned model sampling for itself and
ll the text's log-likelihood:

- DDL (DetectAnyLLM): ``|crit(h)| + |gamma - crit(m)|``; no reference model;
- SPO (ImBD): ``-log sigmoid(beta * ((ll(m) - ll_ref(m)) - (ll(h) - ll_ref(h))))``, the reference
  being the same model with the adapter switched off (its values are computed once per text).

A run is seeded and resumable: the adapter, the optimiser and the random state are checkpointed
every few minutes beside the output, and a rerun with the same data and settings continues from
the checkpoint; the activation cache and the calibration scores survive a kill as well.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from unspun.detect.calibration import Calibration
from unspun.detect.data import LabelledText, pair_key
from unspun.detect.tuned_lm import (
    DEFAULT_MAX_TOKENS,
    KIND,
    LICENCE_NOTE,
    Adapter,
    TunedLMDetector,
    decoder_layers,
    linear_shape,
    shared_copy,
    tunable_modules,
)
from unspun.errors import ConfigError
from unspun.models.causal import CausalLM, load_causal_lm
from unspun.models.packaged import PACKAGED_LM

Progress = Callable[[str, int, int], None]

LAYERS_TUNED = 4
TRAIN_TOKENS = 256
EPOCHS = 2
VOCAB_SIZE = 16384
RANK = 8
ALPHA = 32.0
DROPOUT = 0.1
LEARNING_RATE = 1e-4
OBJECTIVES = ("ddl", "spo")
OBJECTIVE = "ddl"
# DDL's target criterion for machine text (DetectAnyLLM's value): far above what any text reaches,
# so the loss keeps pushing machine text up while holding human text at 0.
DDL_GAMMA = 100.0
SPO_BETA = 0.05
CALIBRATION_SHARE = 0.25
CHECKPOINT_SECONDS = 300.0
CHECKPOINT_FILE = ".tuned-lm-checkpoint.pt"
CACHE_FORMAT = "unspun.tuned-lm-activations/1"
# A logit no real one comes near: a reduced-vocabulary row's extra column gets it when the
# position's target is already in the subset (probability exactly 0, finite gradients).
_ABSENT = -1.0e4


# ---- which texts are tuned on, which calibrate --------------------------------------------------


@dataclass
class Split:
    """Record indices: ``pairs`` (human, machine) tuned on; ``calibration`` human texts of pairs
    held out from tuning (and humans without a machine partner); ``unpaired`` machine texts
    without a human partner (not used)."""

    pairs: list[tuple[int, int]]
    calibration: list[int]
    unpaired: int

    @property
    def tuned(self) -> list[int]:
        return sorted({i for pair in self.pairs for i in pair})


def split_records(records: Sequence[LabelledText], share: float, seed: int) -> Split:
    """Group texts by pair (``pair_id``), hold out ``share`` of the groups that have both a human
    and a machine text (chosen by a seeded hash), and pair every machine text of the other groups
    with a human text of its group. A text that also appears among the tuned texts is never used
    for calibration."""
    if not 0 <= share < 1:
        raise ConfigError(f"the calibration share must be at least 0 and below 1, got {share}")
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for index, record in enumerate(records):
        humans, machines = groups.setdefault(pair_key(record), ([], []))
        (machines if record.is_machine else humans).append(index)
    paired = [key for key, (humans, machines) in groups.items() if humans and machines]
    order = sorted(paired, key=lambda key: hashlib.sha1(f"{seed}:{key}".encode()).hexdigest())
    held = set(order[: round(share * len(order))])
    pairs = [
        (groups[key][0][j % len(groups[key][0])], machine)
        for key in sorted(set(paired) - held)
        for j, machine in enumerate(groups[key][1])
    ]
    if not pairs:
        raise ConfigError(
            "tuning needs pairs: a machine text and a human text with the same pair_id"
        )
    tuned_texts = {records[i].text for pair in pairs for i in pair}
    calibration = [
        i
        for key, (humans, machines) in sorted(groups.items())
        if key in held or not machines
        for i in humans
        if records[i].text not in tuned_texts
    ]
    unpaired = sum(len(m) for h, m in groups.values() if not h)
    return Split(pairs=pairs, calibration=calibration, unpaired=unpaired)


# ---- the frozen layers' activations, cached ----------------------------------------------------


@dataclass
class Tokens:
    """The first ``train_tokens + 1`` token ids of a text; ``scored`` marks the targets (ids
    after the first) that count, i.e. that are not special tokens."""

    sha1: str
    ids: np.ndarray
    scored: np.ndarray


def tokenize(lm: CausalLM, texts: Sequence[str], train_tokens: int) -> list[Tokens]:
    encoded = lm.tokenizer(
        list(texts),
        add_special_tokens=True,
        return_special_tokens_mask=True,
        return_attention_mask=False,
        verbose=False,
    )
    result = []
    for text, ids, special in zip(
        texts, encoded["input_ids"], encoded["special_tokens_mask"], strict=True
    ):
        ids = np.asarray(ids[: train_tokens + 1], dtype=np.int64)
        special = np.asarray(special[: train_tokens + 1], dtype=bool)
        sha1 = hashlib.sha1(text.encode("utf-8")).hexdigest()
        result.append(Tokens(sha1, ids, ~special[1:]))
    return result


class _Reached(Exception):
    """Raised by the hook on the last frozen layer: the rest of the model is not needed."""


class ActivationCache:
    """The output of the last frozen layer for each text's first tokens, float32 [tokens,
    hidden], one .npy file per text under unspun's cache (a temporary directory when the cache
    is off). Files are written whole (rename), so a killed run leaves only finished ones."""

    def __init__(self, lm: CausalLM, first_tuned: int, train_tokens: int) -> None:
        import tempfile

        import torch
        import transformers

        from unspun.models.traced import cache_root

        self.lm = lm
        self.first_tuned = first_tuned
        described = json.dumps(
            {
                "format": CACHE_FORMAT,
                "model": lm.name,
                "dtype": lm.dtype_name,
                "device": lm.device.type,
                "layer": first_tuned,
                "tokens": train_tokens,
                "torch": torch.__version__,
                "transformers": transformers.__version__,
            },
            sort_keys=True,
        )
        key = hashlib.sha1(described.encode()).hexdigest()[:20]
        root = cache_root()
        if root is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="unspun-tuned-lm-")
            self.folder = Path(self._temporary.name)
        else:
            self.folder = root / "tuned-lm" / key
        self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, tokens: Tokens) -> Path:
        return self.folder / f"{tokens.sha1}.npy"

    def get(self, tokens: Tokens) -> np.ndarray | None:
        try:
            values = np.load(self.path(tokens))
        except (OSError, ValueError):
            return None
        return values if values.shape[0] == len(tokens.ids) else None

    def fill(self, items: Sequence[Tokens], progress: Progress | None = None) -> None:
        """Compute what is missing (one text at a time, unpadded, as the detector reads it)."""
        for done, tokens in enumerate(items):
            if not self.path(tokens).is_file() or self.get(tokens) is None:
                values = frozen_output(self.lm, tokens.ids, self.first_tuned)[0]
                staging = self.path(tokens).with_suffix(f".{os.getpid()}.tmp")
                with staging.open("wb") as handle:
                    np.save(handle, values)
                os.replace(staging, self.path(tokens))
            if progress:
                progress("caching the frozen layers' activations", done + 1, len(items))


def frozen_output(lm: CausalLM, ids: np.ndarray, first_tuned: int) -> tuple[np.ndarray, bool]:
    """The output of decoder layer ``first_tuned - 1`` for ``ids`` (float32 [n, hidden]), and
    whether the model's layers return tuples (older transformers) rather than tensors."""
    import torch

    _, layers = decoder_layers(lm.model)
    captured: dict[str, Any] = {}

    def capture(_module, _inputs, output) -> None:  # noqa: ANN001
        captured["tuple"] = isinstance(output, tuple)
        captured["value"] = output[0] if isinstance(output, tuple) else output
        raise _Reached

    handle = layers[first_tuned - 1].register_forward_hook(capture)
    try:
        with torch.inference_mode():
            row = torch.from_numpy(ids).unsqueeze(0).to(lm.device)
            with contextlib.suppress(_Reached):
                lm.model.base_model(input_ids=row, use_cache=False)
    finally:
        handle.remove()
    return captured["value"][0].float().cpu().numpy(), captured["tuple"]


# ---- the model being tuned ----------------------------------------------------------------------


def _modules():  # noqa: ANN202
    """The torch modules this file defines, built on first use (torch is imported lazily)."""
    import torch

    class Stub(torch.nn.Module):
        """Stands in for a frozen lower layer: passes its input on, or (the last one) returns
        the cached activations set in ``value``."""

        def __init__(self, as_tuple: bool) -> None:
            super().__init__()
            self.as_tuple = as_tuple
            self.value: Any = None

        def forward(self, hidden_states, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN202
            out = hidden_states if self.value is None else self.value
            return (out,) if self.as_tuple else out

    class LoRA(torch.nn.Module):
        """``base(x) + scale * dropout(x) A^T B^T``; B starts at zero, so the tuned model starts
        as the base model. ``enabled = False`` gives the base model (SPO's reference)."""

        def __init__(
            self, base: Any, rank: int, alpha: float, dropout: float, generator: Any
        ) -> None:
            super().__init__()
            fan_in, fan_out = linear_shape(base)
            self.base = base
            bound = 1.0 / math.sqrt(fan_in)  # nn.Linear's default (Kaiming uniform, a=sqrt(5))
            start = (torch.rand(rank, fan_in, generator=generator) * 2 - 1) * bound
            self.lora_A = torch.nn.Parameter(start.to(base.weight.device))
            self.lora_B = torch.nn.Parameter(torch.zeros(fan_out, rank, device=base.weight.device))
            self.dropout = torch.nn.Dropout(dropout)
            self.scale = alpha / rank
            self.enabled = True

        def forward(self, x):  # noqa: ANN001, ANN202
            y = self.base(x)
            if not self.enabled:
                return y
            return y + (self.dropout(x) @ self.lora_A.T @ self.lora_B.T) * self.scale

    return Stub, LoRA


class TuningModel:
    """A copy of ``lm`` (sharing its frozen weights) whose lower layers are stand-ins fed from
    the activation cache and whose top layers carry LoRA adapters, with the criterion over a
    reduced vocabulary. ``vocabulary``: sorted token ids of the normaliser (None: all)."""

    def __init__(
        self,
        lm: CausalLM,
        first_tuned: int,
        *,
        rank: int,
        alpha: float,
        dropout: float,
        seed: int,
        vocabulary: np.ndarray | None,
        attention_only: bool = False,
    ) -> None:
        import torch

        from unspun.detect.zeroshot.lm import output_layer

        if not output_layer(lm).fused:
            raise ConfigError(
                f"cannot tune {lm.name}: its logits are not its last hidden states times its "
                "output embedding"
            )
        stub_class, lora_class = _modules()
        self.lm = lm
        self.rank, self.alpha = rank, alpha
        probe = np.asarray(lm.tokenizer("A probe.")["input_ids"][:4], dtype=np.int64)
        _, as_tuple = frozen_output(lm, probe, first_tuned)
        self.names = tunable_modules(lm.model, first_tuned, attention_only=attention_only)
        self.model = shared_copy(lm.model)
        self.model.eval()
        path, layers = decoder_layers(self.model)
        for index in range(first_tuned):
            layers[index] = stub_class(as_tuple)
        self.inject = layers[first_tuned - 1]
        generator = torch.Generator().manual_seed(seed)
        self.lora: dict[str, Any] = {}
        for name in self.names:
            parent_name, _, child = name.rpartition(".")
            parent = self.model.get_submodule(parent_name)
            wrapped = lora_class(getattr(parent, child), rank, alpha, dropout, generator)
            setattr(parent, child, wrapped)
            self.lora[name] = wrapped
        head = self.model.get_output_embeddings()
        self.weight = head.weight
        self.bias = getattr(head, "bias", None)
        self.softcap = getattr(self.model.config, "final_logit_softcapping", None)
        self.vocab = int(self.weight.shape[0])
        if vocabulary is not None and len(vocabulary) >= self.vocab:
            vocabulary = None
        self.vocabulary = vocabulary
        if vocabulary is not None:
            index = torch.from_numpy(vocabulary).to(self.weight.device)
            self.subset_weight = self.weight.detach()[index].float()
            self.subset_bias = self.bias.detach()[index].float() if self.bias is not None else None
            inside = torch.zeros(self.vocab, dtype=torch.bool)
            inside[torch.from_numpy(vocabulary)] = True
            self.inside = inside

    def parameters(self) -> list[Any]:
        return [p for name in self.names for p in (self.lora[name].lora_A, self.lora[name].lora_B)]

    def set_mode(self, *, training: bool, enabled: bool = True) -> None:
        for module in self.lora.values():
            module.enabled = enabled
            module.dropout.train(training)

    def adapter(self) -> Adapter:
        modules = {
            name: (self.lora[name].lora_A.detach().cpu(), self.lora[name].lora_B.detach().cpu())
            for name in self.names
        }
        return Adapter(rank=self.rank, alpha=self.alpha, modules=modules)

    def criterion(self, tokens: Tokens, activations: np.ndarray) -> tuple[Any, Any]:
        """(discrepancy, log-likelihood) of the text's scored targets, as differentiable scalars:
        Fast-DetectGPT's analytic discrepancy with the model sampling for itself, normalised over
        the reduced vocabulary (exact when it is the whole vocabulary)."""
        import torch

        device = self.weight.device
        ids = torch.from_numpy(tokens.ids).unsqueeze(0).to(device)
        self.inject.value = torch.from_numpy(activations).unsqueeze(0).to(device)
        try:
            hidden = self.model.base_model(input_ids=ids, use_cache=False).last_hidden_state[0]
        finally:
            self.inject.value = None
        keep = torch.from_numpy(np.flatnonzero(tokens.scored)).to(device)
        hidden = hidden[:-1].float()[keep]
        targets = ids[0, 1:][keep]
        target_logit = (hidden * self.weight[targets].float()).sum(-1)
        if self.bias is not None:
            target_logit = target_logit + self.bias[targets].float()
        if self.vocabulary is None:
            logits = hidden @ self.weight.float().T
            if self.bias is not None:
                logits = logits + self.bias.float()
        else:
            logits = hidden @ self.subset_weight.T
            if self.subset_bias is not None:
                logits = logits + self.subset_bias
            # The target's own logit as an extra column, unless the subset holds it already.
            extra = torch.where(
                self.inside[targets.cpu()].to(device),
                torch.full_like(target_logit, _ABSENT),
                target_logit,
            )
            logits = torch.cat([logits, extra[:, None]], dim=1)
        if self.softcap:
            cap = float(self.softcap)
            logits = torch.tanh(logits / cap) * cap
            target_logit = torch.tanh(target_logit / cap) * cap
        return discrepancy(logits, target_logit)


def discrepancy(logits: Any, target_logit: Any) -> tuple[Any, Any]:
    """Fast-DetectGPT's analytic discrepancy (sampling = scoring model) and the log-likelihood
    from [positions x vocabulary] logits and each position's target logit. Moments are taken of
    log p centred on the target's (detached) log p, which keeps float32 digits."""
    import torch

    log_total = torch.logsumexp(logits, dim=-1)
    target_logp = target_logit - log_total
    logp = logits - log_total[:, None]
    centred = logp - target_logp.detach()[:, None]
    p = logp.exp()
    first = (p * centred).sum(-1)
    variance = ((p * centred.square()).sum(-1) - first.square()).clamp(min=0.0)
    expected = first + target_logp.detach()
    log_likelihood = target_logp.sum()
    total_variance = variance.sum()
    crit = (log_likelihood - expected.sum()) / total_variance.clamp(min=1e-12).sqrt()
    return crit, log_likelihood


def reduced_vocabulary(items: Sequence[Tokens], size: int) -> np.ndarray:
    """The ``size`` token ids that occur most often among the targets (ties: lower id first)."""
    counts: dict[int, int] = {}
    for tokens in items:
        for token in tokens.ids[1:].tolist():
            counts[token] = counts.get(token, 0) + 1
    ranked = sorted(counts, key=lambda token: (-counts[token], token))
    return np.asarray(sorted(ranked[:size]), dtype=np.int64)


# ---- training -----------------------------------------------------------------------------------


def train_tuned_lm(
    records: list[LabelledText],
    out_dir: Path,
    *,
    model: str = PACKAGED_LM,
    layers_tuned: int = LAYERS_TUNED,
    train_tokens: int = TRAIN_TOKENS,
    epochs: int = EPOCHS,
    seed: int = 0,
    objective: str = OBJECTIVE,
    vocab_size: int = VOCAB_SIZE,
    rank: int = RANK,
    alpha: float = ALPHA,
    dropout: float = DROPOUT,
    learning_rate: float = LEARNING_RATE,
    gamma: float = DDL_GAMMA,
    beta: float = SPO_BETA,
    attention_only: bool = False,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    calibration_share: float = CALIBRATION_SHARE,
    target_fpr: float = 0.01,
    device: str | None = None,
    sources: Sequence[str] = (),
    checkpoint_seconds: float = CHECKPOINT_SECONDS,
    stop_after_steps: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Tune, calibrate and save a tuned-lm detector in ``out_dir``; return a summary.

    ``stop_after_steps`` (for tests): stop after that many steps in all, as a kill would, leaving
    the checkpoint; the summary then says so and nothing else is written.
    """
    import torch

    objective = objective.lower()
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}: choose {' or '.join(OBJECTIVES)}")
    for label, value, lowest in (
        ("layers tuned", layers_tuned, 1),
        ("training tokens", train_tokens, 2),
        ("epochs", epochs, 1),
        ("vocabulary size", vocab_size, 1),
        ("rank", rank, 1),
        ("max tokens", max_tokens, 2),
    ):
        if value < lowest:
            raise ConfigError(f"{label} must be at least {lowest}, got {value}")
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir}: exists and is not a directory")
    split = split_records(records, calibration_share, seed)
    # Tuning computes in float32 whatever the CPU offers (bfloat16 gradients are too coarse).
    lm = load_causal_lm(model, device=device, dtype="float32")
    total_layers = len(decoder_layers(lm.model)[1])
    if layers_tuned >= total_layers:
        raise ConfigError(
            f"{lm.name} has {total_layers} layers: tune at most {total_layers - 1} of them"
        )
    first_tuned = total_layers - layers_tuned
    tuned = split.tuned
    items = dict(
        zip(tuned, tokenize(lm, [records[i].text for i in tuned], train_tokens), strict=True)
    )
    pairs = [p for p in split.pairs if items[p[0]].scored.any() and items[p[1]].scored.any()]
    if not pairs:
        raise ConfigError("no pair has a text long enough to tune on")
    cache = ActivationCache(lm, first_tuned, train_tokens)
    cache.fill([items[i] for i in tuned], progress)
    vocabulary = reduced_vocabulary(list(items.values()), vocab_size)
    settings = {
        "model": lm.name,
        "objective": objective,
        "layers_tuned": layers_tuned,
        "train_tokens": train_tokens,
        "epochs": epochs,
        "seed": seed,
        "vocab_size": vocab_size,
        "rank": rank,
        "alpha": alpha,
        "dropout": dropout,
        "learning_rate": learning_rate,
        "attention_only": attention_only,
        **({"gamma": gamma} if objective == "ddl" else {"beta": beta}),
    }
    data_key = hashlib.sha1(
        json.dumps([[items[h].sha1, items[m].sha1] for h, m in pairs]).encode()
    ).hexdigest()
    fingerprint = hashlib.sha1(
        json.dumps({**settings, "pairs": data_key}, sort_keys=True).encode()
    ).hexdigest()
    torch.manual_seed(seed)
    tuning = TuningModel(
        lm,
        first_tuned,
        rank=rank,
        alpha=alpha,
        dropout=dropout,
        seed=seed,
        vocabulary=vocabulary,
        attention_only=attention_only,
    )
    parameters = tuning.parameters()
    optimizer = torch.optim.AdamW(parameters, lr=learning_rate, weight_decay=0.0)
    total = epochs * len(pairs)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = out_dir / CHECKPOINT_FILE
    start, history = _resume(checkpoint, fingerprint, parameters, optimizer)
    reference: dict[str, float] = {}

    def reference_loglik(tokens: Tokens) -> float:
        if tokens.sha1 not in reference:
            tuning.set_mode(training=False, enabled=False)
            with torch.no_grad():
                reference[tokens.sha1] = float(tuning.criterion(tokens, cache.get(tokens))[1])
        return reference[tokens.sha1]

    stage = f"tuning the top {layers_tuned} layers ({objective.upper()})"
    last_save = time.monotonic()
    began = time.monotonic()
    steps_run = 0
    step = start
    while step < total:
        epoch, position = divmod(step, len(pairs))
        order = np.random.default_rng([seed, epoch]).permutation(len(pairs))
        human, machine = (items[i] for i in pairs[int(order[position])])
        if objective == "spo":
            ref_h, ref_m = reference_loglik(human), reference_loglik(machine)
        tuning.set_mode(training=True)
        crit_h, ll_h = tuning.criterion(human, cache.get(human))
        crit_m, ll_m = tuning.criterion(machine, cache.get(machine))
        if objective == "ddl":
            loss = crit_h.abs() + (gamma - crit_m).abs()
        else:
            margin = (ll_m - ref_m) - (ll_h - ref_h)
            loss = -torch.nn.functional.logsigmoid(beta * margin)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate * 0.5 * (1 + math.cos(math.pi * step / total))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        history.append([float(x.detach()) for x in (loss, crit_h, crit_m)])
        step += 1
        steps_run += 1
        if progress:
            progress(stage, step, total)
        stopping = stop_after_steps is not None and step >= stop_after_steps and step < total
        if stopping or time.monotonic() - last_save >= checkpoint_seconds or step == total:
            _save_checkpoint(checkpoint, fingerprint, step, parameters, optimizer, history)
            last_save = time.monotonic()
        if stopping:
            return {"out": str(out_dir), "stopped_after_steps": step, "steps": total}
    seconds_per_step = (time.monotonic() - began) / steps_run if steps_run else None

    adapter = tuning.adapter()
    trained = datetime.now(UTC).strftime("%Y-%m-%d")
    config: dict[str, Any] = {
        "kind": KIND,
        "name": KIND,
        "model": model,
        "max_tokens": max_tokens,
        # One window holds the whole scored part: the first token (BOS) and max_tokens targets.
        "max_length": max_tokens + 1,
        "trained": trained,
        "training": {
            **settings,
            "steps": total,
            "pairs": len(pairs),
            "first_tuned_layer": first_tuned,
            "modules": len(tuning.names),
            "vocabulary_ids": len(vocabulary),
        },
        "training_data": _describe([records[i] for i in sorted({i for p in pairs for i in p})]),
        "training_data_note": _data_note(records, pairs, split, sources),
        "licence": LICENCE_NOTE,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    sha1 = adapter.save(out_dir / "adapter.safetensors")
    config["adapter_sha1"] = sha1
    config["version"] = f"{Path(model).name}-{trained}-{sha1[:8]}"
    detector = TunedLMDetector(out_dir, config, adapter, device=device)
    detector.calibration = None
    summary: dict[str, Any] = {
        "out": str(out_dir),
        "version": config["version"],
        "objective": objective,
        "pairs_tuned_on": len(pairs),
        "texts_tuned_on": len({i for p in pairs for i in p}),
        "steps": total,
        "seconds_per_step": round(seconds_per_step, 3) if seconds_per_step else None,
        "first_epoch_loss": round(float(np.mean([h[0] for h in history[: len(pairs)]])), 4),
        "last_epoch_loss": round(float(np.mean([h[0] for h in history[-len(pairs) :]])), 4),
    }
    calibration = _calibrate(
        detector, [records[i] for i in split.calibration], target_fpr, progress
    )
    if calibration is not None:
        detector.calibration = calibration
        config["calibration_note"] = (
            f"{calibration.n} human texts of pairs held out from tuning, scored by the tuned model"
        )
        summary["calibration_human_texts"] = calibration.n
        if target_fpr * calibration.n >= 1:
            summary["threshold"] = calibration.threshold(target_fpr)
        else:
            summary["warning"] = (
                f"{calibration.n} held-out human texts cannot show a false-positive rate of "
                f"{target_fpr:g}: raise --calibration-share or train on more human text"
            )
    else:
        summary["warning"] = "no human text was held out: the detector is not calibrated"
    detector.config = config
    detector.save(out_dir)
    checkpoint.unlink(missing_ok=True)
    return summary


def _calibrate(
    detector: TunedLMDetector,
    humans: Sequence[LabelledText],
    target_fpr: float,
    progress: Progress | None,
) -> Calibration | None:
    """Score the held-out human texts as ``unspun check`` would (normalised), with the scores
    kept in unspun's cache so a killed run does not score them again."""
    from unspun.detect.language_model_train import FeatureCache
    from unspun.normalize import normalize

    if not humans:
        return None
    cache = FeatureCache(
        {"detector": KIND, **detector.settings, "dtype": detector.primary.dtype_name}
    )
    scores = []
    for done, record in enumerate(humans):
        text = normalize(record.text).text
        cached = cache.get(text)
        if cached is None:
            cached = [detector.score([text], passages=False)[0].document]
            cache.put(text, np.asarray(cached))
        scores.append(float(cached[0]))
        if progress:
            progress("scoring held-out human texts", done + 1, len(humans))
    kept = [i for i, score in enumerate(scores) if math.isfinite(score)]
    if not kept:
        return None
    return Calibration(
        detector=KIND,
        settings=detector.settings,
        human_scores=[scores[i] for i in kept],
        reference=f"human texts of pairs held out from tuning ({len(kept)})",
        human_domains=[humans[i].domain for i in kept],
        meta={
            "target_fpr": target_fpr,
            "source": "human texts of pairs held out from tuning, never tuned on",
            "skipped_non_finite": len(scores) - len(kept),
            "version": detector.version,
        },
    )


def _resume(checkpoint: Path, fingerprint: str, parameters: list[Any], optimizer: Any):  # noqa: ANN202
    """Load the checkpoint of a run with the same fingerprint: (steps done, loss history)."""
    import torch

    if not checkpoint.is_file():
        return 0, []
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if state.get("fingerprint") != fingerprint:
            return 0, []
        with torch.no_grad():
            for parameter, saved in zip(parameters, state["parameters"], strict=True):
                parameter.copy_(saved)
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        return int(state["step"]), [list(row) for row in state["history"]]
    except Exception:  # noqa: BLE001 - an unreadable checkpoint means starting again
        return 0, []


def _save_checkpoint(
    checkpoint: Path,
    fingerprint: str,
    step: int,
    parameters: list[Any],
    optimizer: Any,
    history: list[list[float]],
) -> None:
    import torch

    state = {
        "fingerprint": fingerprint,
        "step": step,
        "parameters": [p.detach().cpu().clone() for p in parameters],
        "optimizer": optimizer.state_dict(),
        "rng": torch.get_rng_state(),
        "history": history,
    }
    staging = checkpoint.with_suffix(f".{os.getpid()}.tmp")
    torch.save(state, staging)
    os.replace(staging, checkpoint)


def _describe(records: Sequence[LabelledText]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        key = f"{record.domain}/{record.generator if record.is_machine else 'human'}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def _data_note(
    records: Sequence[LabelledText],
    pairs: Sequence[tuple[int, int]],
    split: Split,
    sources: Sequence[str],
) -> str:
    humans = len({h for h, _ in pairs})
    where = f" from {', '.join(sources)}" if sources else ""
    return (
        f"{len(pairs)} pairs (a machine text and its human original, by pair_id: {humans} human "
        f"and {len(pairs)} machine texts) of {len(records)} labelled texts{where}; "
        f"{len(split.calibration)} human texts of the pairs held out from tuning calibrate it"
        + (
            f"; {split.unpaired} machine texts without a human original were not used"
            if split.unpaired
            else ""
        )
        + "."
    )
