"""FinBERT loading and batched inference, on a tiny randomly initialised BERT saved here.

Needs the optional 'finbert' extra (transformers, torch); skipped without it.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from quantdesk.analytics.sentiment.finbert import FinBertClassifier, FinBertUnavailable
from quantdesk.config import Settings
from quantdesk.engine.sentiment import score_texts
from tests.support.problems import assert_problem
from tests.support.sentiment import SENTIMENT
from tests.support.settings import make_settings

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "profit", "rose", "loss", "widened", "the"]
LABELS = {0: "positive", 1: "negative", 2: "neutral"}


def save_tiny_bert(folder: Path, id2label: dict[int, str] = LABELS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    tokenizer = transformers.BertTokenizer(vocab_file=str(folder / "vocab.txt"))
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        num_labels=len(id2label),
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-finbert")


def test_the_model_is_loaded_from_its_folder_and_run_in_batches(tiny_bert: Path) -> None:
    classifier = FinBertClassifier(tiny_bert, batch_size=2, max_length=16)
    assert classifier.labels == ["positive", "negative", "neutral"]
    texts = ["profit rose", "loss widened", "the", "profit", "unknown words here"]
    rows = classifier(texts)
    assert classifier.batches_run == 3  # 5 texts, 2 per pass
    assert len(rows) == 5
    for row in rows:
        assert set(row) == {"positive", "negative", "neutral"}
        assert sum(row.values()) == pytest.approx(1.0, abs=1e-5)
    # Batching does not change the answer: one text per pass gives the same probabilities.
    single = FinBertClassifier(tiny_bert, batch_size=1, max_length=16)(texts)
    for a, b in zip(rows, single, strict=True):
        assert a == pytest.approx(b, abs=1e-5)
    scores = score_texts(texts, "finbert", classifier=classifier, classifier_version="v")
    assert [s.model for s in scores] == ["finbert"] * 5
    for score, row in zip(scores, rows, strict=True):
        assert score.score == pytest.approx(row["positive"] - row["negative"], abs=1e-4)
        assert score.label == max(row, key=lambda k: row[k])


def test_nothing_is_downloaded_for_a_missing_folder(tmp_path: Path) -> None:
    # A hub-style name must not be fetched: local_files_only, and the folder must exist.
    with pytest.raises(FinBertUnavailable, match="not a saved model folder"):
        FinBertClassifier(Path("ProsusAI/finbert"))
    with pytest.raises(FinBertUnavailable, match="not a saved model folder"):
        FinBertClassifier(tmp_path)


def test_a_model_without_the_three_labels_is_refused(tmp_path: Path) -> None:
    folder = save_tiny_bert(tmp_path / "two", {0: "LABEL_0", 1: "LABEL_1"})
    with pytest.raises(FinBertUnavailable, match="lack"):
        FinBertClassifier(folder)


class TestEndpoint:
    @pytest.fixture
    def settings(self, database_url: str, tiny_bert: Path) -> Settings:
        return make_settings(
            database_url, sentiment_finbert_path=tiny_bert, sentiment_finbert_batch_size=4
        )

    async def test_score_with_finbert(self, client: httpx.AsyncClient) -> None:
        texts = ["profit rose", "loss widened"] * 5
        response = await client.post(
            f"{SENTIMENT}/score", json={"texts": texts, "model": "finbert"}
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert len(data) == 10
        assert {item["model"] for item in data} == {"finbert"}
        assert data[0]["model_version"].startswith("finbert:tiny-finbert:")
        assert data[0]["hits"][0]["category"] == "model"
        # Same text, same answer wherever it sits in the batch.
        assert data[0]["score"] == data[2]["score"]


class TestBrokenPath:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return make_settings(database_url, sentiment_finbert_path=tmp_path / "missing")

    async def test_a_configured_path_that_is_no_model_is_a_503(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.post(
            f"{SENTIMENT}/score", json={"texts": ["profit rose"], "model": "finbert"}
        )
        problem = assert_problem(response, 503)
        assert "not a saved model folder" in str(problem["detail"])
