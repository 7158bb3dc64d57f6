"""Random-weight causal LMs with a freshly trained byte-level BPE tokenizer, saved like any hub
model: for tests (no network) and throughput benchmarks (the weights do not change the speed)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

SAMPLE_SENTENCES = (
    "The council approved the new budget on Tuesday after a long debate.",
    "Officials said the bridge would reopen next month, weeks ahead of schedule.",
    "Researchers reported that the vaccine trial had enrolled more than 3,000 people.",
    "Shares in the company fell 4% after it warned that profits would be lower than expected.",
    'The minister told reporters: "We will not raise taxes this year."',
    "Heavy rain caused flooding in several towns, and emergency crews worked through the night.",
    "A spokesperson for the police said an investigation was under way.",
    "Naïve café owners in Zürich welcomed the decision — prices rose 2.5%.",
)


def train_tokenizer(
    texts: Iterable[str] = SAMPLE_SENTENCES, *, vocab_size: int = 300, bos: bool = False
):
    """A byte-level BPE tokenizer trained on ``texts`` (any string encodes: unknown bytes fall
    back to the 256 byte tokens). ``bos``: prepend a ``<s>`` token as Llama-style models do."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<s>"] if bos else ["<|endoftext|>"]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer)
    post = [processors.ByteLevel(trim_offsets=False)]
    if bos:
        bos_id = tokenizer.token_to_id("<s>")
        post.append(
            processors.TemplateProcessing(
                single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos_id)]
            )
        )
    tokenizer.post_processor = processors.Sequence(post)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|endoftext|>",
        bos_token="<s>" if bos else "<|endoftext|>",
        unk_token=None,
    )


def build_random_lm(
    directory: str | Path,
    *,
    arch: str = "gpt2",
    hidden: int = 32,
    layers: int = 2,
    heads: int = 4,
    max_positions: int = 1024,
    vocab_size: int = 300,
    seed: int = 0,
    model_vocab: int | None = None,
    tokenizer=None,
    texts: Iterable[str] = SAMPLE_SENTENCES,
) -> Path:
    """Save a random-weight GPT-2 or Llama model (and tokenizer) to ``directory``; returns it.

    Llama models get a BOS-prepending tokenizer, GPT-2 models one without, as in the real
    families. Pass ``tokenizer`` to give several models the same one. ``model_vocab`` widens the
    output layer beyond the tokenizer (e.g. 50257 for GPT-2's cost per token in benchmarks).
    """
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig

    directory = Path(directory)
    if tokenizer is None:
        tokenizer = train_tokenizer(texts, vocab_size=vocab_size, bos=arch == "llama")
    vocab = max(len(tokenizer), model_vocab or 0)
    if arch == "gpt2":
        config = GPT2Config(
            vocab_size=vocab,
            n_positions=max_positions,
            n_embd=hidden,
            n_layer=layers,
            n_head=heads,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
    elif arch == "llama":
        config = LlamaConfig(
            vocab_size=vocab,
            hidden_size=hidden,
            intermediate_size=hidden * 2 if hidden < 256 else hidden * 8 // 3,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=max(1, heads // 2),
            max_position_embeddings=max_positions,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            tie_word_embeddings=False,
        )
    else:
        raise ValueError(f"unknown architecture {arch!r}: gpt2 or llama")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    if hidden < 256:
        # Random init gives nearly uniform next-token distributions; wider logits make ranks,
        # entropies and the methods' differences more pronounced in tests.
        with torch.no_grad():
            model.get_output_embeddings().weight.mul_(8.0)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
