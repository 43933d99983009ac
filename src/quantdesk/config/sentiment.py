"""Sentiment settings (quantdesk.analytics.sentiment), mixed into `Settings`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class SentimentSettings(BaseModel):
    # A local FinBERT (or any BERT sequence classifier with positive/negative/neutral labels)
    # saved with `save_pretrained`: a folder with config.json, the weights and the tokenizer.
    # Loaded with local_files_only=True (never downloaded); unset: model "finbert" is a 422.
    sentiment_finbert_path: Path | None = None
    # Texts per forward pass (batched inference), and the longest input in tokens.
    sentiment_finbert_batch_size: int = Field(default=16, ge=1, le=256)
    sentiment_finbert_max_length: int = Field(default=128, ge=8, le=512)
