"""The labelled headline set (tests/data/sentiment_headlines.csv, CC0) and the lexicon's score.

The scorer's rules were tuned on the even rows (development half); the odd rows are the
held-out half. Both are reported by ``make bench`` (benchmarks/bench_research_sentiment.py).
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from quantdesk.engine.sentiment import score_texts
from quantdesk.engine.sentiment.evaluation import evaluate

HEADLINES = Path(__file__).parents[2] / "data" / "sentiment_headlines.csv"


def load() -> list[tuple[str, str]]:
    with HEADLINES.open(newline="", encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh)]


def test_the_set_has_at_least_300_distinct_balanced_headlines() -> None:
    rows = load()
    assert len(rows) >= 300
    assert len({text for text, _ in rows}) == len(rows)
    counts = Counter(label for _, label in rows)
    assert set(counts) == {"positive", "negative", "neutral"}
    assert max(counts.values()) - min(counts.values()) <= len(rows) // 20


@pytest.mark.parametrize("part", ["all", "held_out"])
def test_the_lexicon_model_reaches_70_percent_accuracy(part: str) -> None:
    rows = load()
    if part == "held_out":
        rows = rows[1::2]
    scores = score_texts([text for text, _ in rows])
    result = evaluate([label for _, label in rows], [s.label for s in scores])
    assert result.accuracy >= 0.70, result
    assert result.macro_f1 >= 0.65, result


def test_evaluate_counts_accuracy_and_macro_f1() -> None:
    result = evaluate(
        ["positive", "positive", "negative", "neutral"],
        ["positive", "neutral", "negative", "neutral"],
    )
    assert result.accuracy == pytest.approx(0.75)
    # F1: positive 2/3 (p=1, r=.5), negative 1, neutral 2/3 (p=.5, r=1).
    assert result.macro_f1 == pytest.approx((2 / 3 + 1 + 2 / 3) / 3)
    assert result.confusion[("positive", "neutral")] == 1
