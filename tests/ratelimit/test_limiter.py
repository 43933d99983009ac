"""The limiter's hot-path shortcuts give what the slower general forms give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from limits import parse

from quantdesk.ratelimit.limiter import (
    RATE_LIMIT_HEADER_NAMES,
    Decision,
    encoded_rate_limit_headers,
    rate_limit_headers,
    storage_key,
)


@given(
    amount=st.integers(min_value=1, max_value=10**6),
    multiples=st.integers(min_value=1, max_value=90),
    unit=st.sampled_from(["second", "minute", "hour", "day"]),
    key=st.text(min_size=1, max_size=40),
)
def test_storage_key_is_the_key_limits_builds(
    amount: int, multiples: int, unit: str, key: str
) -> None:
    item = parse(f"{amount} per {multiples} {unit}")
    assert storage_key(item, key) == item.key_for(key)


def test_rate_limit_headers_are_the_ones_the_edge_owns() -> None:
    allowed = Decision(True, 100, 99, 1_700_000_060.2, 0, 60)
    refused = Decision(False, 5, 0, 1_700_000_300.0, 17, 300)
    now = 1_700_000_000.0
    for decision in (allowed, refused):
        encoded = encoded_rate_limit_headers(decision, now)
        assert {name for name, _ in encoded} <= RATE_LIMIT_HEADER_NAMES
        assert rate_limit_headers(decision, now) == {
            name.decode(): value.decode() for name, value in encoded
        }
    assert dict(encoded_rate_limit_headers(allowed, now)) == {
        b"ratelimit-limit": b"100",
        b"ratelimit-remaining": b"99",
        b"ratelimit-reset": b"61",
        b"ratelimit-policy": b"100;w=60",
        b"x-ratelimit-limit": b"100",
        b"x-ratelimit-remaining": b"99",
        b"x-ratelimit-reset": b"1700000061",
    }
    assert dict(encoded_rate_limit_headers(refused, now))[b"retry-after"] == b"17"
