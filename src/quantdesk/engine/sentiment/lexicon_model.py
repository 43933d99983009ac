"""The lexicon model: Loughran-McDonald words, LM negation and news direction words.

For each text (lower-cased, split into words; no stemming: LM lists every inflection):

1. Direction hits (:mod:`.direction`): a movement verb with a metric within three words
   (nearest metric, the one before the verb on a tie) adds ``1.5 x polarity x direction``;
   a self-signed news verb alone adds its sign; any other movement verb alone adds
   ``0.5 x direction`` (read as the share price moving). Words used by a direction hit are
   not counted again below.
2. LM hits: an LM positive word adds +1, or -1 when one of no/not/none/neither/never/nobody
   (or a word ending in n't) is among the three words before it (the LM negation rule);
   an LM negative word adds -1. (LM's litigious list is not used: words such as
   "contract" and "regulator" are legal vocabulary, not tone; on the development half of
   the headline set weighting them lowered accuracy.)
3. ``score = (P - N) / (P + N + 1)`` where P and N are the summed positive and negative
   weights: in (-1, 1), 0 without evidence, and more evidence moves it further from 0.
   ``label`` is positive above +0.1, negative below -0.1, neutral otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from quantdesk.engine.sentiment import direction as dw
from quantdesk.engine.sentiment.lexicon import Lexicon
from quantdesk.engine.sentiment.types import Hit, Label, SentimentScore

MODEL_VERSION = "lm-dir-1"
NEGATIONS = frozenset({"no", "not", "none", "neither", "never", "nobody"})
NEGATION_WINDOW = 3
LITIGIOUS_WEIGHT = -0.5
LABEL_THRESHOLD = 0.1

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case words; apostrophes kept inside words ("isn't"), digits and marks dropped."""
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def _negated(tokens: Sequence[str], i: int) -> bool:
    for tok in tokens[max(0, i - NEGATION_WINDOW) : i]:
        if tok in NEGATIONS or tok.endswith("n't"):
            return True
    return False


def _nearest_metric(tokens: Sequence[str], i: int, used: set[int]) -> int | None:
    for distance in range(1, dw.WINDOW + 1):
        for j in (i - distance, i + distance):
            if 0 <= j < len(tokens) and j not in used and dw.metric_polarity(tokens[j]):
                return j
    return None


def _direction_hits(tokens: Sequence[str], used: set[int]) -> list[Hit]:
    hits: list[Hit] = []
    for i, tok in enumerate(tokens):
        sign = dw.verb_direction(tok)
        if not sign and tok not in dw.SELF_SIGNED:
            continue
        j = _nearest_metric(tokens, i, used) if sign else None
        if j is None and sign and tok not in dw.PRICE_VERBS:
            continue
        if j is not None:
            metric = tokens[j]
            weight = dw.DIRECTION_WEIGHT * dw.metric_polarity(metric) * sign
            phrase = f"{metric} {tok}" if j < i else f"{tok} {metric}"
            used.update((i, j))
        elif tok in dw.SELF_SIGNED:
            weight, phrase = dw.SELF_SIGNED[tok], tok
            used.add(i)
        else:
            weight, phrase = dw.IMPLIED_PRICE_WEIGHT * sign, tok
            used.add(i)
        if _negated(tokens, i):
            weight = -weight
        hits.append(Hit(phrase, "direction", weight))
    return hits


def _lm_hits(tokens: Sequence[str], used: set[int], lexicon: Lexicon) -> list[Hit]:
    hits: list[Hit] = []
    for i, tok in enumerate(tokens):
        if i in used:
            continue
        if tok in lexicon.positive:
            if _negated(tokens, i):
                hits.append(Hit(tok, "negated", -1.0))
            else:
                hits.append(Hit(tok, "positive", 1.0))
        elif tok in lexicon.negative:
            hits.append(Hit(tok, "negative", -1.0))
    return hits


def label_for(score: float, threshold: float = LABEL_THRESHOLD) -> Label:
    if score > threshold:
        return "positive"
    if score < -threshold:
        return "negative"
    return "neutral"


def score_text(text: str, lexicon: Lexicon) -> SentimentScore:
    """Score one text with the lexicon model."""
    tokens = tokenize(text)
    used: set[int] = set()
    hits = _direction_hits(tokens, used) + _lm_hits(tokens, used, lexicon)
    pos = sum(h.weight for h in hits if h.weight > 0)
    neg = -sum(h.weight for h in hits if h.weight < 0)
    score = round((pos - neg) / (pos + neg + 1.0), 4)
    return SentimentScore(
        score=score,
        label=label_for(score),
        model="lexicon",
        model_version=f"{MODEL_VERSION}+{lexicon.version}",
        hits=tuple(hits),
    )
