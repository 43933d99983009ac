"""Pure parts of news ingest: sanitized plain text, de-duplication keys, symbol tagging."""

from __future__ import annotations

from quantdesk.marketdata.news.tagging import Known, SymbolTagger
from quantdesk.marketdata.news.text import normalized_url, plain_text, title_key, url_key

DEMO = [
    Known("GOOG", "Alphabet Inc. (Google) Class C", "equity"),
    Known("EURUSD", "Euro / US Dollar", "fx"),
    Known("BTCUSD", "Bitcoin / US Dollar", "crypto"),
    Known("F", "Ford Motor Company", "equity"),
    Known("AAPL", "Apple Inc.", "equity"),
]


def test_plain_text_leaves_no_markup_even_once_entities_are_decoded() -> None:
    assert plain_text("AT&amp;T <b>rises</b> 5%", 100) == "AT&T rises 5%"
    assert plain_text("<script>alert(1)</script>Shares <img src=x onerror=alert(1)>up", 100) == (
        "Shares up"
    )
    # An escaped tag would become markup once decoded: it goes too.
    assert plain_text("&lt;script&gt;alert(1)&lt;/script&gt; Rally", 100) == "Rally"
    assert plain_text("a < b & c", 100) == "a < b & c"  # text, not markup: kept
    assert plain_text("  many\n\tspaces here ", 100) == "many spaces here"
    assert "\x00" not in plain_text("nul\x00byte", 100)
    cut = plain_text("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("…")
    assert plain_text(None, 10) == ""


def test_title_key_ignores_case_punctuation_and_apostrophes() -> None:
    key = title_key("Google's shares rise")
    assert title_key("GOOGLE\u2019S SHARES RISE!") == key
    assert title_key("  Googles   shares, rise ") == key
    assert title_key("Google shares fall") != key


def test_url_key_ignores_tracking_fragment_and_host_case() -> None:
    plain = "https://news.example.com/a/b"
    assert normalized_url("HTTPS://News.Example.com:443/a/b/?utm_source=x&fbclid=1#top") == plain
    assert url_key("https://news.example.com/a/b?utm_medium=rss") == url_key(plain)
    assert url_key("https://news.example.com/a/b?id=2") != url_key(plain)
    assert url_key("javascript:alert(1)") is None and url_key(None) is None


def test_tagging_by_ticker_company_name_pair_and_crypto_name() -> None:
    tagger = SymbolTagger(DEMO)
    text = "Google's profit beats; EUR/USD slips while bitcoin rallies and AAPL. gains"
    assert tagger.tag(text) == ("GOOG", "EURUSD", "BTCUSD", "AAPL")
    assert tagger.tag("Alphabet to buy a startup") == ("GOOG",)
    assert tagger.tag("NASDAQ:GOOG and $F") == ("GOOG", "F")
    assert tagger.tag("Ford (F) recalls cars") == ("F",)


def test_tagging_avoids_common_words_and_keeps_provider_tags_first() -> None:
    tagger = SymbolTagger(DEMO)
    # "F" alone, lower-case "apple" and "google" (a company name is case-sensitive) and
    # "Euro" (FX names are not matched) are not tags.
    assert tagger.tag("an apple a day; F grade; google it; the Euro area") == ()
    assert tagger.tag("Google news", ["msft", "GOOG"]) == ("MSFT", "GOOG")
