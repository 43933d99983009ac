"""Ticker symbols: one strict pattern for every path, query and body that names an instrument."""

from __future__ import annotations

import re

SYMBOL_PATTERN = r"^[A-Za-z0-9^][A-Za-z0-9._=^-]{0,31}$"
_SYMBOL_RE = re.compile(SYMBOL_PATTERN)


def normalize_symbol(raw: str) -> str:
    """Upper-cased symbol, or ValueError saying what a symbol may contain."""
    symbol = raw.strip()
    if not _SYMBOL_RE.fullmatch(symbol):
        raise ValueError(
            "a symbol is 1-32 characters: letters, digits and . _ = ^ - (starting with a letter, "
            "digit or ^)"
        )
    return symbol.upper()
