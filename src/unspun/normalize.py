"""Unicode canonicalisation before every detector, with evasion signals and an offset map back to
the user's text. (Placeholder: identity mapping until the normalisation issue lands.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from unspun.article.model import Signal


@dataclass
class Normalized:
    """``text`` is what detectors read; ``origin[i]`` is the offset in the original text of
    canonical character ``i`` (one extra entry at the end for the end-of-text offset)."""

    text: str
    origin: list[int]
    signals: list[Signal] = field(default_factory=list)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a canonical span to the span of the original text it came from."""
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        if end == start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


def normalize(text: str) -> Normalized:
    return Normalized(text=text, origin=list(range(len(text) + 1)))
