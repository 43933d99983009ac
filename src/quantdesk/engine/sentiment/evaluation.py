"""Accuracy and macro-F1 of predicted labels against gold labels (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LABELS = ("positive", "negative", "neutral")


@dataclass(frozen=True, slots=True)
class Evaluation:
    n: int
    accuracy: float
    macro_f1: float
    f1: dict[str, float]
    confusion: dict[tuple[str, str], int]  # (gold, predicted) -> count


def evaluate(gold: Sequence[str], predicted: Sequence[str]) -> Evaluation:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    confusion: dict[tuple[str, str], int] = {}
    for g, p in zip(gold, predicted, strict=True):
        confusion[(g, p)] = confusion.get((g, p), 0) + 1
    f1: dict[str, float] = {}
    for label in LABELS:
        tp = confusion.get((label, label), 0)
        fp = sum(n for (g, p), n in confusion.items() if p == label and g != label)
        fn = sum(n for (g, p), n in confusion.items() if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    correct = sum(confusion.get((label, label), 0) for label in LABELS)
    n = len(gold)
    return Evaluation(
        n=n,
        accuracy=correct / n if n else 0.0,
        macro_f1=sum(f1.values()) / len(LABELS),
        f1=f1,
        confusion=confusion,
    )
