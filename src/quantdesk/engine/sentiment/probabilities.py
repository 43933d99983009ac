"""Scores from a classifier's class probabilities (FinBERT and the like).

``score = p(positive) - p(negative)`` (in [-1, 1]); ``label`` is the most probable class.
The one hit names the winning class with its probability, so the label stays explainable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from quantdesk.engine.sentiment.types import Hit, Label, ModelName, SentimentScore

ClassProbabilities = Mapping[str, float]
_LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")


def scores_from_probabilities(
    rows: Sequence[ClassProbabilities], *, model: ModelName, version: str
) -> list[SentimentScore]:
    out: list[SentimentScore] = []
    for row in rows:
        probs = {label: float(row.get(label, 0.0)) for label in _LABELS}
        label = max(_LABELS, key=lambda name: probs[name])
        score = round(probs["positive"] - probs["negative"], 4)
        hit = Hit(f"p({label})={probs[label]:.3f}", "model", round(probs[label], 4))
        out.append(
            SentimentScore(
                score=score, label=label, model=model, model_version=version, hits=(hit,)
            )
        )
    return out
