"""The desk benchmark's order-placement helpers (benchmarks/_desk_orders.py) and loadgen's
per-request `{n}` placeholder they rely on, end to end on a tiny load (no timing checked)."""

from __future__ import annotations

from pathlib import Path

from benchmarks._desk_orders import placement_run
from benchmarks._rounds import LoadShape
from benchmarks.loadgen import Target, _Numbers


def test_loadgen_post_with_a_unique_value_per_request() -> None:
    target = Target(
        "127.0.0.1", 8000, "/x", (("Idempotency-Key", "k-{n}"),), "POST", b'{"a":"{n}"}'
    )
    assert target.templated
    numbers = _Numbers()
    first, second = numbers.next(), numbers.next()
    assert first != second and first.endswith("-1") and second.endswith("-2")
    request = target.request_bytes(first)
    head, _, body = request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /x HTTP/1.1\r\n")
    assert f"Idempotency-Key: k-{first}".encode() in head
    assert body == f'{{"a":"{first}"}}'.encode()
    assert f"Content-Length: {len(body)}".encode() in head
    assert _Numbers().prefix != numbers.prefix  # another client process, other values


def test_loadgen_plain_get_is_unchanged() -> None:
    target = Target("127.0.0.1", 8000, "/health", (("X-API-Key", "secret"),))
    assert not target.templated
    assert target.request_bytes() == (
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nX-API-Key: secret\r\n\r\n"
    )


def test_order_placement_run_places_one_order_per_request(tmp_path: Path) -> None:
    shape = LoadShape(connections=2, processes=1, rounds=1, round_seconds=0.5, warmup_seconds=0.3)
    run = placement_run(tmp_path, shape, (1, 2))
    assert [level.connections for level in run.levels] == [1, 2]
    for side in run.sides():
        assert side.requests() > 0
        assert run.all_created(side), side.status_text()
    # Every 201 of quantdesk stored its own order with its hold; the ledger still verifies.
    assert run.orders_stored == run.answered_created == run.holds_stored
    assert run.ledger.ok, run.ledger.violations[:3]
    assert run.consistent
