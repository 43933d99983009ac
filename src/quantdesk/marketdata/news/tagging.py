"""Which stored instruments a news item is about, from its text (pure).

Matched against the stored instruments:

* tickers, case-sensitive as whole words (`GOOG`, `$GOOG`, `NASDAQ:GOOG`); a ticker of one or
  two letters only as `$X`, `(X)` or `EXCHANGE:X` (plain "A" or "ON" are words);
* FX and crypto pairs also written with a slash (`EUR/USD`, `BTC/USD`);
* equity and fund names without their legal suffix and share class, case-sensitive
  ("Alphabet Inc. (Google) Class C" is found as "Alphabet" or "Google");
* crypto names in any case ("Bitcoin / US Dollar" is found as "bitcoin").

FX names ("Euro") are not matched: too many stories mention a currency without being about
the pair.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TOKEN = re.compile(r"\$?[A-Za-z0-9](?:[A-Za-z0-9.&/=^-]*[A-Za-z0-9])?")
_PARENS = re.compile(r"\(([^)]*)\)")
_CLASS = re.compile(r"\bclass\s+[a-z]\b", re.IGNORECASE)
_SUFFIXES = {
    "inc", "inc.", "corp", "corp.", "corporation", "co", "co.", "company", "ltd", "ltd.",
    "limited", "plc", "n.v.", "nv", "s.a.", "sa", "ag", "se", "holdings", "holding", "group",
    "the", "llc", "l.p.", "lp", "&",
}  # fmt: skip
MAX_SYMBOLS = 20
MAX_WORDS = 4


@dataclass(frozen=True)
class Known:
    """A stored instrument as the tagger sees it."""

    symbol: str
    name: str
    asset_class: str  # AssetClass value: equity, fx, crypto, index, fund


def _words(text: str) -> list[str]:
    return [match.group(0).lstrip("$") for match in _TOKEN.finditer(text)]


def _name_aliases(name: str) -> list[str]:
    inner = [part.strip() for part in _PARENS.findall(name)]
    outer = _CLASS.sub(" ", _PARENS.sub(" ", name))
    aliases: list[str] = []
    for candidate in (outer, *inner):
        words = candidate.replace(",", " ").split()
        while words and words[-1].lower() in _SUFFIXES:
            words.pop()
        while words and words[0].lower() in _SUFFIXES:
            words.pop(0)
        alias = " ".join(_words(" ".join(words)))
        if len(alias) >= 3:
            aliases.append(alias)
    return aliases


class SymbolTagger:
    def __init__(self, instruments: Iterable[Known]) -> None:
        self.exact: dict[str, str] = {}  # case-sensitive phrase -> symbol
        self.folded: dict[str, str] = {}  # lower-cased phrase -> symbol
        self.short: dict[str, str] = {}  # 1-2 letter tickers, only in marked forms
        for known in instruments:
            symbol = known.symbol.upper()
            (self.short if len(symbol) <= 2 else self.exact).setdefault(symbol, symbol)
            if known.asset_class in ("fx", "crypto") and len(symbol) == 6 and symbol.isalpha():
                self.exact.setdefault(f"{symbol[:3]}/{symbol[3:]}", symbol)
            if known.asset_class == "crypto":
                base = known.name.split("/")[0].strip()
                if len(base) >= 3:
                    self.folded.setdefault(" ".join(_words(base)).lower(), symbol)
            elif known.asset_class in ("equity", "fund", "index"):
                for alias in _name_aliases(known.name):
                    self.exact.setdefault(alias, symbol)

    def _marked_short(self, text: str) -> list[str]:
        found: list[str] = []
        for match in re.finditer(r"(?:\$|\(|\b[A-Z]{2,10}:)([A-Z]{1,2})\b(\))?", text):
            symbol = match.group(1)
            opened_paren = match.group(0).startswith("(")
            if symbol in self.short and (not opened_paren or match.group(2)):
                found.append(self.short[symbol])
        return found

    def tag(self, text: str, provider_symbols: Iterable[str] = ()) -> tuple[str, ...]:
        """Provider tags first, then symbols in the order the text mentions them."""
        found = [symbol.upper() for symbol in provider_symbols]
        words = _words(text)
        for start in range(len(words)):
            for length in range(MAX_WORDS, 0, -1):
                if start + length > len(words):
                    continue
                phrase = " ".join(words[start : start + length])
                symbol = self.exact.get(phrase) or self.folded.get(phrase.lower())
                if symbol is not None:
                    found.append(symbol)
                    break
        found.extend(self._marked_short(text))
        return tuple(dict.fromkeys(found))[:MAX_SYMBOLS]
