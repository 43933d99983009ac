"""The numeric guard: generated prose may only state numbers that are in its data context.

Every number in a sentence (with its scale word or `%`) must match a number of the context
within a relative tolerance (0.5 %, `TOLERANCE`), sign ignored ("fell 3.2%" states the
context's -3.2). A sentence with a number that matches nothing is dropped and reported with
the offending numbers. Context numbers are every numeric leaf of the context document and
every number written inside its strings (dates give their years, months and days).

How a stated number is read: "1,234.5" -> 1234.5; "$50.2 billion", "50.2bn" -> 50.2e9 (and
50.2 itself, for tables kept in billions); "21.4%" -> 21.4 and 0.214 (a ratio kept as a
fraction); numbers inside words or identifiers ("RSI14", "H1") are not numbers; a plain
integer between 1800 and 2200 is read as a year and must match exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TOLERANCE = 0.005

SCALES = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
}
NUMBER = re.compile(
    r"(?<![\w.])[-+\u2212]?[$€£]?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?P<pct>\s?(?:%|percent\b|per cent\b|pct\b))?"
    r"(?:\s?(?P<scale>thousand|million|billion|trillion|mn|bn|tn|k|m|b)\b)?"
    r"(?![\w])",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[*-])|\n{1,}")
CONTEXT_NUMBER = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class DroppedSentence:
    sentence: str
    unsupported: tuple[str, ...]  # the numbers as written


@dataclass(frozen=True, slots=True)
class GuardResult:
    text: str  # the kept sentences
    kept: tuple[str, ...]
    dropped: tuple[DroppedSentence, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.dropped)


def context_numbers(context: object) -> list[float]:
    """Every number of a JSON-like document (numbers, and numbers written in strings)."""
    found: list[float] = []

    def walk(value: object) -> None:
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            if math.isfinite(value):
                found.append(float(value))
        elif isinstance(value, str):
            found.extend(float(m.group()) for m in CONTEXT_NUMBER.finditer(value))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str):
                    walk(key)
                walk(item)
        elif isinstance(value, Iterable):
            for item in value:
                walk(item)

    walk(context)
    return found


@dataclass(frozen=True, slots=True)
class Stated:
    written: str
    candidates: tuple[float, ...]
    exact: bool  # a year: only the same year matches


def stated_numbers(sentence: str) -> list[Stated]:
    """Each number of a sentence as written, with the values it may stand for."""
    out: list[Stated] = []
    for match in NUMBER.finditer(sentence):
        digits = match.group("num")
        base = float(digits.replace(",", ""))
        plain = not match.group("pct") and not match.group("scale") and digits.isdigit()
        candidates = [base]
        if match.group("pct"):
            candidates.append(base / 100.0)
        scale = match.group("scale")
        if scale:
            candidates.append(base * SCALES[scale.lower()])
        year = plain and 1800 <= base <= 2200
        out.append(Stated(match.group().strip(), tuple(candidates), year))
    return out


def _supported(stated: Stated, allowed: list[float], tolerance: float) -> bool:
    slack = 0.0 if stated.exact else tolerance
    for value in stated.candidates:
        magnitude = abs(value)
        for known in allowed:
            ref = abs(known)
            if magnitude == ref or abs(magnitude - ref) <= slack * ref:
                return True
    return False


def split_sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part and part.strip()]


def guard(text: str, context: object, tolerance: float = TOLERANCE) -> GuardResult:
    """Keep the sentences of `text` whose every number is in `context`; drop the others."""
    allowed = context_numbers(context)
    kept: list[str] = []
    dropped: list[DroppedSentence] = []
    for sentence in split_sentences(text):
        bad = tuple(
            stated.written
            for stated in stated_numbers(sentence)
            if not _supported(stated, allowed, tolerance)
        )
        if bad:
            dropped.append(DroppedSentence(sentence, bad))
        else:
            kept.append(sentence)
    return GuardResult(text=" ".join(kept), kept=tuple(kept), dropped=tuple(dropped))
