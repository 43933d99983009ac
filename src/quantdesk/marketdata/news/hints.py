"""What an empty news answer says: how to get news (settings, the job, the demo)."""

from __future__ import annotations

HOW_TO_FETCH = (
    "set QUANTDESK_PROVIDERS_NEWS (rss with QUANTDESK_RSS_FEEDS, newsfile for RSS/Atom files "
    "under <files dir>/news/, polygon with QUANTDESK_POLYGON_API_KEY); the news.fetch job "
    "stores them every 30 minutes"
)


def empty_hint(stored: int, *, symbol: str | None) -> str:
    if stored == 0:
        return (
            "No news stored yet: `quantdesk demo load` stores the shipped sample (GOOG, EURUSD, "
            f"BTCUSD); for live news {HOW_TO_FETCH}."
        )
    if symbol:
        return (
            f"No stored news matches (symbol {symbol.upper()} is tagged when a provider tags it "
            "or the text names its ticker or company, as a stored instrument); "
            f"add it to QUANTDESK_NEWS_SYMBOLS for per-ticker fetches (polygon), or {HOW_TO_FETCH}."
        )
    return "No stored news matches these filters."
