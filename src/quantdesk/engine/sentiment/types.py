"""Result types of the sentiment scorers (frozen, hashable, JSON-friendly)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Label = Literal["positive", "negative", "neutral"]
ModelName = Literal["lexicon", "finbert"]
HitCategory = Literal["positive", "negative", "negated", "direction", "model"]


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of evidence: the word (or phrase) matched, why, and what it added.

    ``weight`` is signed: positive evidence > 0, negative < 0. ``category`` names the rule:
    ``positive``/``negative`` (Loughran-McDonald word), ``negated`` (an LM positive word with
    a negation in the three words before it, so it counts as negative), ``direction`` (a
    metric with a movement verb, e.g. "profit rose", or a news verb alone, e.g. "beats"),
    ``model`` (a classifier's winning class and its probability).
    """

    word: str
    category: HitCategory
    weight: float


@dataclass(frozen=True, slots=True)
class SentimentScore:
    """A text's score in [-1, 1], its label, the model that made it and the evidence."""

    score: float
    label: Label
    model: ModelName
    model_version: str
    hits: tuple[Hit, ...] = ()
