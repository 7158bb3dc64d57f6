"""Optional NLI cross-encoder (any Hugging Face sequence-classification model with entailment,
neutral and contradiction labels) that judges (source sentence, claim) pairs for the claims."""

from __future__ import annotations

from unspun.errors import ModelUnavailable

LABELS = ("entailment", "neutral", "contradiction")


class NLIJudge:
    """Loads the model once (local path, HF cache, or the hub unless offline)."""

    def __init__(self, model_id: str, device: str = "cpu") -> None:
        from unspun.models.hub import resolve

        def load(name: str, local_only: bool):  # noqa: ANN202
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=local_only)
            model = AutoModelForSequenceClassification.from_pretrained(
                name, local_files_only=local_only
            )
            return tokenizer, model

        self.model_id = model_id
        self.tokenizer, self.model = resolve(model_id, load)
        self.model.eval().to(device)
        self.device = device
        self.labels = self._label_map()

    def _label_map(self) -> dict[int, str]:
        id2label = getattr(self.model.config, "id2label", None) or {}
        mapping = {}
        for index, name in id2label.items():
            low = str(name).lower()
            for label in LABELS:
                if low.startswith(label[:6]):
                    mapping[int(index)] = label
        if set(mapping.values()) != set(LABELS):
            raise ModelUnavailable(
                f"NLI model {self.model_id!r} must label its outputs entailment, neutral and "
                f"contradiction (it has {sorted(map(str, id2label.values()))})"
            )
        return mapping

    def judge(self, premise: str, hypothesis: str) -> str:
        return self.judge_many([(premise, hypothesis)])[0]

    def judge_many(self, pairs: list[tuple[str, str]]) -> list[str]:
        import torch

        if not pairs:
            return []
        batch = self.tokenizer(
            [p for p, _ in pairs],
            [h for _, h in pairs],
            truncation=True,
            max_length=256,
            padding=True,
            return_tensors="pt",
        ).to(self.device)
        if "token_type_ids" not in self.tokenizer.model_input_names:
            batch.pop("token_type_ids", None)  # models such as RoBERTa take no segment ids
        with torch.inference_mode():
            logits = self.model(**batch).logits
        return [self.labels[int(i)] for i in logits.argmax(dim=-1).tolist()]
