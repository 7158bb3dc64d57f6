"""Throughput of the zero-shot detectors against bare forward passes of the same models on the
same batches: tokens/s of each method and its overhead beyond the forward passes it needs.

    python benchmarks/zeroshot_throughput.py --size tiny --size 100m --threads 1

Overhead = the method's time (tokenising, windows, forward passes, statistics, passages and
token evidence) over the bare forward passes it needs, measured back to back and repeated.
Models are random-weight GPT-2s (speed does not depend on the weights): ``tiny`` (2 layers,
hidden 64, vocabulary 300) and ``100m`` (GPT-2 small: 12 layers, hidden 768, 50,257-wide output,
124M parameters). The tokenizer is trained on a few sentences; the text is a synthetic article.
``--device cuda`` measures on a GPU (bfloat16 by default, as unspun loads models there).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch

from unspun.detect.base import create_detector
from unspun.detect.zeroshot.lm import _forward, encode, plan_windows
from unspun.detect.zeroshot.random_lm import SAMPLE_SENTENCES, build_random_lm, train_tokenizer
from unspun.models.causal import load_causal_lm

SIZES = {
    "tiny": {"hidden": 64, "layers": 2, "heads": 4, "model_vocab": None},
    "100m": {"hidden": 768, "layers": 12, "heads": 12, "model_vocab": 50257},
}


def article(index: int, sentences: int) -> str:
    order = [
        SAMPLE_SENTENCES[(index * 3 + k * 5) % len(SAMPLE_SENTENCES)] for k in range(sentences)
    ]
    return " ".join(order)


def clock(device: str):
    """CPU time of this process on a CPU (with one thread it counts only our own work, so other
    jobs on a shared machine do not distort it); wall time on a GPU."""
    return time.process_time if device == "cpu" else time.perf_counter


def paired(base, method, repeats: int, now) -> tuple[float, float, float]:
    """Median times of ``base`` and ``method`` measured back to back, and the median of their
    per-repeat ratios, after one warm-up run of each."""
    base(), method()
    base_times, method_times, ratios = [], [], []
    for _ in range(repeats):
        pair = []
        for function in (base, method):
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            start = now()
            function()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            pair.append(now() - start)
        base_times.append(pair[0])
        method_times.append(pair[1])
        ratios.append(pair[1] / pair[0])
    return statistics.median(base_times), statistics.median(method_times), statistics.median(ratios)


def bare_forward(lm, texts, max_length, stride, batch_size):
    """One forward pass per window, batched and padded exactly as the detectors do."""
    encoded = encode(lm, texts)
    windows = [
        w for i, e in enumerate(encoded) for w in plan_windows(i, len(e.ids), max_length, stride)
    ]
    windows.sort(key=lambda w: (-(w.end - w.start), w.text, w.start))
    batches = []
    for begin in range(0, len(windows), batch_size):
        batch = windows[begin : begin + batch_size]
        width = max(w.end - w.start for w in batch)
        ids = torch.full((len(batch), width), lm.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for r, w in enumerate(batch):
            ids[r, : w.end - w.start] = torch.tensor(encoded[w.text].ids[w.start : w.end])
            mask[r, : w.end - w.start] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        batches.append((ids, mask, positions))
    scored = sum(w.end - w.first for w in windows)

    def run() -> None:
        with torch.inference_mode():
            for ids, mask, positions in batches:
                _forward(lm, ids, mask, positions)

    return run, scored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", choices=sorted(SIZES), help="repeatable")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None)
    parser.add_argument("--texts", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=24, help="per text (~600 tokens)")
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    # One thread means one thread: the Rust tokenizer would otherwise add its own pool.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    torch.set_num_threads(args.threads)
    sizes = args.size or ["tiny"]
    texts = [article(i, args.sentences) for i in range(args.texts)]
    where = f"{args.device}" + (f", {args.threads} thread(s)" if args.device == "cpu" else "")
    timing = "CPU time of the process" if args.device == "cpu" else "wall time"
    print(f"device: {where}; torch {torch.__version__}; {timing}, median of {args.repeats}")
    with tempfile.TemporaryDirectory() as tmp:
        tokenizer = train_tokenizer()
        for size in sizes:
            shape = SIZES[size]
            a = str(build_random_lm(Path(tmp) / f"{size}-a", seed=0, tokenizer=tokenizer, **shape))
            b = str(build_random_lm(Path(tmp) / f"{size}-b", seed=1, tokenizer=tokenizer, **shape))
            options = {
                "device": args.device,
                "dtype": args.dtype,
                "max_length": args.max_length,
                "batch_size": args.batch_size,
            }
            lm = load_causal_lm(a, device=args.device, dtype=args.dtype)
            params = sum(p.numel() for p in lm.model.parameters()) / 1e6
            stride = args.max_length // 2
            forward, tokens = bare_forward(lm, texts, args.max_length, stride, args.batch_size)
            print(
                f"\n{size}: {params:.1f}M parameters, {lm.dtype_name}, {len(texts)} texts, "
                f"{tokens} scored tokens, windows of {args.max_length} (stride {stride}), "
                f"batch {args.batch_size}"
            )
            print(
                f"  {'method':<28}{'tokens/s':>10}{'bare tokens/s':>15}"
                f"{'forwards':>10}{'overhead':>10}"
            )
            methods = [
                ("likelihood", {"model": a}, 1),
                ("log-rank", {"model": a}, 1),
                ("entropy", {"model": a}, 1),
                ("lrr", {"model": a}, 1),
                ("gltr", {"model": a}, 1),
                ("fast-detectgpt", {"scoring_model": a}, 1),
                ("fast-detectgpt", {"scoring_model": a, "sampling_model": b}, 2),
                ("binoculars", {"observer": b, "performer": a}, 2),
            ]
            now = clock(args.device)
            for name, models, passes in methods:
                detector = create_detector(name, **models, **options)

                def bare(passes=passes, forward=forward) -> None:
                    for _ in range(passes):
                        forward()

                base, elapsed, ratio = paired(
                    bare, lambda d=detector: d.score(texts), args.repeats, now
                )
                label = name + (" (2 models)" if passes == 2 and name == "fast-detectgpt" else "")
                print(
                    f"  {label:<28}{tokens / elapsed:>10.0f}{tokens * passes / base:>15.0f}"
                    f"{passes:>10}{ratio - 1:>+10.1%}"
                )


if __name__ == "__main__":
    main()
