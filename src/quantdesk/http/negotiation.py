"""Content negotiation (RFC 9110 section 12.5.1): which of the media types a route offers the
client's `Accept` header prefers.

Each offered type takes the quality of the most specific range that matches it (`text/csv`
over `text/*` over `*/*`); the highest quality wins, ties go to the route's own order of
preference, and `q=0` means "not acceptable". No `Accept` header accepts anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from quantdesk.errors import AppError

_MAX_RANGES = 32  # a longer header is someone's experiment; the first ranges decide


class NotAcceptable(AppError):
    status, code, title = 406, "not-acceptable", "Not Acceptable"


def _ranges(accept: str) -> list[tuple[str, str, float]]:
    """`(type, subtype, q)` for each well-formed range; malformed ones are skipped."""
    found = []
    for item in accept.split(",")[:_MAX_RANGES]:
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, subtype = media.lower().partition("/")
        if not slash or not kind or not subtype:
            continue
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value.strip())
                except ValueError:
                    quality = -1.0
        if 0.0 <= quality <= 1.0:
            found.append((kind, subtype, quality))
    return found


def _quality(offered: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, subtype = offered.partition("/")
    best, specificity = 0.0, -1
    for range_kind, range_subtype, quality in ranges:
        if range_kind == kind and range_subtype == subtype:
            rank = 2
        elif range_kind == kind and range_subtype == "*":
            rank = 1
        elif range_kind == "*" and range_subtype == "*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = quality, rank
    return best


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the client prefers, or None when it accepts none of them."""
    if accept is None or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    if not ranges:
        return offered[0]  # nothing parseable: as if no preference was stated
    best, best_quality = None, 0.0
    for media in offered:
        quality = _quality(media, ranges)
        if quality > best_quality:
            best, best_quality = media, quality
    return best


def negotiate_or_406(accept: str | None, offered: Sequence[str]) -> str:
    chosen = negotiate(accept, offered)
    if chosen is None:
        raise NotAcceptable(
            f"this resource is available as {', '.join(offered)}; the Accept header "
            f"({accept}) allows none of them"
        )
    return chosen
