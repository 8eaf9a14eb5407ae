"""The options of a discovery run, their defaults and valid ranges."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mintext.discovery.wordmodel import ModelParameters
from mintext.errors import UsageError

DEFAULT_MAX_WORD_LENGTH = 3
DEFAULT_SAMPLE = 4_000_000


@dataclass(frozen=True)
class DiscoveryOptions:
    """Options of a discovery run (recorded in the lexicon's header).

    ``max_word_length``: longest word, 1..6. ``min_count``: threshold stage
    count threshold (``None``: derived from the corpus size). ``rounds``:
    most refinement rounds. ``gap_weight``: weight of the gap evidence during
    refinement. ``autonomy``/``free_share``: the free-form test. ``sample``:
    refinement runs on at most this many characters, spread over the corpus.
    """

    max_word_length: int = DEFAULT_MAX_WORD_LENGTH
    min_count: int | None = None
    rounds: int = 6
    gap_weight: float = 2.0
    autonomy: float = 0.5
    free_share: float = 0.5
    sample: int = DEFAULT_SAMPLE
    model: ModelParameters = field(default_factory=ModelParameters)

    def check(self) -> None:
        """Raise :class:`UsageError` for values outside their valid ranges."""
        if not 1 <= self.max_word_length <= 6:
            raise UsageError(f"max word length must be between 1 and 6, got {self.max_word_length}")
        if self.min_count is not None and self.min_count < 1:
            raise UsageError(f"min count must be at least 1, got {self.min_count}")
        if not 0 <= self.rounds <= 50:
            raise UsageError(f"rounds must be between 0 and 50, got {self.rounds}")
        for name in ("autonomy", "free_share"):
            value = getattr(self, name)
            if not 0 <= value <= 1:  # False for nan as well
                raise UsageError(f"{name.replace('_', ' ')} must be between 0 and 1, got {value}")
        if not math.isfinite(self.gap_weight):
            raise UsageError(f"gap weight must be a finite number at least 0, got {self.gap_weight}")
        if self.gap_weight < 0:
            raise UsageError(f"gap weight must be at least 0, got {self.gap_weight}")
        if self.sample < 1000:
            raise UsageError(f"sample must be at least 1000 characters, got {self.sample}")


def derived_min_count(characters: int) -> int:
    """Count threshold of the threshold stage: 2 up to a million characters, then growing as
    the cube root of the corpus size (a 10x larger corpus supports ~2x stricter evidence)."""
    return max(2, round(2 * (characters / 1e6) ** (1 / 3)))
