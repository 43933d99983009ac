"""FinBERT (optional): a local sequence classifier, batched, behind the engine's classifier type.

Installed with the ``finbert`` extra (``pip install 'quantdesk[finbert]'``: transformers and
torch). The model is read from ``QUANTDESK_SENTIMENT_FINBERT_PATH`` with
``local_files_only=True``: nothing is ever downloaded. Any BERT-style sequence classifier whose
``id2label`` names positive, negative and neutral works (ProsusAI/finbert does). Loaded once
per (path, batch size, max length) and kept for the process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from quantdesk.engine.sentiment import ClassProbabilities

REQUIRED_LABELS = frozenset({"positive", "negative", "neutral"})


class FinBertUnavailable(RuntimeError):
    """The model cannot be used: the extra is not installed, or the folder is not a model."""


class FinBertClassifier:
    """Texts in, one ``{label: probability}`` per text out, ``batch_size`` texts per pass."""

    def __init__(self, path: Path, *, batch_size: int = 16, max_length: int = 128) -> None:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise FinBertUnavailable(
                "FinBERT needs the optional 'finbert' extra: pip install 'quantdesk[finbert]'"
            ) from exc
        if not (path / "config.json").is_file():
            raise FinBertUnavailable(f"{path} is not a saved model folder (no config.json)")
        try:
            self._tokenizer: Any = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model: Any = AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True
            )
        except (OSError, ValueError) as exc:
            raise FinBertUnavailable(f"cannot load the model in {path}: {exc}") from exc
        model.eval()
        self._model = model
        self._torch: Any = torch
        self.labels: list[str] = [
            str(model.config.id2label[i]).lower() for i in range(model.config.num_labels)
        ]
        missing = REQUIRED_LABELS - set(self.labels)
        if missing:
            raise FinBertUnavailable(
                f"the model's labels {self.labels} lack {sorted(missing)} (id2label in config.json)"
            )
        self.batch_size = batch_size
        self.max_length = max_length
        digest = hashlib.sha256((path / "config.json").read_bytes()).hexdigest()[:8]
        self.version = f"finbert:{path.name[:14]}:{digest}"  # <= 31 characters
        self.batches_run = 0

    def __call__(self, texts: Sequence[str]) -> list[ClassProbabilities]:
        out: list[ClassProbabilities] = []
        torch = self._torch
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            encoded = self._tokenizer(
                batch,
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            with torch.inference_mode():
                logits = self._model(**encoded).logits
            probabilities = torch.softmax(logits, dim=-1).tolist()
            self.batches_run += 1
            for row in probabilities:
                out.append(dict(zip(self.labels, (float(p) for p in row), strict=True)))
        return out


@lru_cache(maxsize=2)
def load_finbert(path: str, batch_size: int, max_length: int) -> FinBertClassifier:
    """The classifier for ``path``, loaded on first use and kept for the process."""
    return FinBertClassifier(Path(path), batch_size=batch_size, max_length=max_length)
