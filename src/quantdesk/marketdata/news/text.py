"""Plain, safe text and the de-duplication keys of a news item (pure functions).

`plain_text` runs nh3 with no tags allowed until the text is stable: tags, scripts, styles and
comments go, entities are decoded, and an escaped tag (`&lt;script&gt;`) that would become
markup once decoded is removed too. What is stored is plain text with no markup in it.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import nh3

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_WORD = re.compile(r"[^\w]+")
_TRACKING = ("utm_", "fbclid", "gclid", "mc_cid", "mc_eid")
_MAX_PASSES = 4


def plain_text(raw: str | None, max_length: int) -> str:
    """`raw` as plain text: no markup (nh3), entities decoded, whitespace collapsed, cut at
    `max_length` characters (on a word boundary when one is near)."""
    if not raw:
        return ""
    text = raw
    for _ in range(_MAX_PASSES):
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) <= max_length:
        return text
    cut = text[: max_length - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_length * 0.8 else cut).rstrip() + "…"


def normalized_title(title: str) -> str:
    """Case, compatibility forms, apostrophes, punctuation and spacing removed: two feeds'
    copies of one headline ("Google's shares rise" / "GOOGLE\u2019S SHARES RISE!") normalize
    alike."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    folded = folded.replace("\u2019", "").replace("'", "")
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def title_key(title: str) -> str:
    return hashlib.sha256(normalized_title(title).encode()).hexdigest()


def normalized_url(url: str) -> str | None:
    """Scheme and host lower-cased, default port, fragment and tracking parameters (utm_*,
    fbclid, ...) dropped, trailing slash removed; None for anything but http(s)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if port is not None and port != (443 if scheme == "https" else 80):
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(_TRACKING)
    ]
    path = parts.path.rstrip("/") or ""
    return urlunsplit((scheme, host, path, urlencode(sorted(query)), ""))


def url_key(url: str | None) -> str | None:
    normalized = normalized_url(url) if url else None
    return hashlib.sha256(normalized.encode()).hexdigest() if normalized else None
