"""Properties of match_orders over random bars and orders (issue 12): every fill lies
within the bar's [low, high], never beyond a limit, within the participation cap and
within the cash the account has."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.engine.fills import (
    AccountBook,
    BarPrices,
    FillModel,
    OrderState,
    estimate_hold,
    match_orders,
    q8,
    utc_date,
)

D = Decimal


@st.composite
def bars(draw: st.DrawFn) -> BarPrices:
    open_ = draw(st.floats(0.5, 2000, allow_nan=False))
    close = open_ * (1 + draw(st.floats(-0.1, 0.1)))
    high = max(open_, close) * (1 + draw(st.floats(0, 0.05)))
    low = min(open_, close) * (1 - draw(st.floats(0, 0.05)))
    volume = draw(st.sampled_from([0.0, 1.0, 37.5, 1000.0, 123456.0]))
    ts = draw(st.integers(1_600_000_000, 1_800_000_000))
    return BarPrices.from_floats(ts, open_, high, low, close, volume)


@st.composite
def orders(draw: st.DrawFn, bar: BarPrices, model: FillModel) -> OrderState:
    def near() -> Decimal:
        return q8(bar.open * D(1 + draw(st.floats(-0.12, 0.12))))

    side = draw(st.sampled_from(["buy", "sell"]))
    type_ = draw(st.sampled_from(["market", "limit", "stop", "stop_limit"]))
    tif = draw(st.sampled_from(["day", "gtc", "ioc", "fok"]))
    raw = draw(st.decimals("0.00000001", "500", places=8))  # in the model's precision:
    qty = max(raw.quantize(model.qty_step, rounding="ROUND_DOWN"), model.qty_step)
    limit = near() if type_ in ("limit", "stop_limit") else None
    stop = near() if type_ in ("stop", "stop_limit") else None
    last = near()
    hold = estimate_hold(side, type_, qty, limit, stop, last, model)  # type: ignore[arg-type]
    session = None
    if tif == "day" and draw(st.booleans()):
        session = utc_date(bar.ts) - timedelta(days=draw(st.integers(0, 1)))
    triggered = type_ in ("stop", "stop_limit") and draw(st.booleans())
    return OrderState(
        f"o{draw(st.integers(0, 10**9))}", side, type_, tif, qty, limit, stop,  # type: ignore[arg-type]
        triggered, session, hold,
    )  # fmt: skip


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BarPrices, list[OrderState], AccountBook]:
    bar = draw(bars())
    cap = draw(st.sampled_from([None, D("0.01"), D("0.1"), D("1")]))
    model = FillModel(
        D(draw(st.integers(0, 500))),
        D(draw(st.integers(0, 100))),
        D(draw(st.sampled_from(["0", "0.5", "5"]))),
        cap,
        draw(st.sampled_from([0, 2, 4, 8])),
    )
    book = AccountBook(D(draw(st.integers(0, 200_000))), model)
    return bar, draw(st.lists(orders(bar, model), min_size=1, max_size=6)), book


@settings(max_examples=400, deadline=None)
@given(scenarios())
def test_every_fill_lies_within_the_bar_and_the_account_means(
    scenario: tuple[BarPrices, list[OrderState], AccountBook],
) -> None:
    bar, resting, book = scenario
    model = book.model
    outcomes = match_orders(resting, bar, book)
    assert [o.order_id for o in outcomes] == [o.order_id for o in resting]
    free = book.free_cash
    filled_total = D(0)
    for order, outcome in zip(resting, outcomes, strict=True):
        fill = outcome.fill
        assert 0 <= outcome.hold_release <= order.hold
        if outcome.status != "open":
            assert outcome.hold_release == order.hold
        if order.tif in ("ioc", "fok"):
            assert outcome.status != "open"
        if order.tif == "day" and order.session_date and utc_date(bar.ts) > order.session_date:
            assert (outcome.status, fill) == ("expired", None)
        free += outcome.hold_release
        if fill is None:
            continue
        assert bar.low <= fill.price <= bar.high
        as_limit = order.type == "limit" or (order.type == "stop_limit" and order.triggered)
        if as_limit and order.limit_price is not None:
            beyond = (
                fill.price > order.limit_price
                if order.side == "buy"
                else (fill.price < order.limit_price)
            )
            assert not beyond
        assert order.type != "stop_limit" or order.triggered  # no fill on the trigger bar
        assert 0 < fill.qty <= order.qty
        assert fill.qty == fill.qty.quantize(model.qty_step)
        if order.tif == "fok":
            assert fill.qty == order.qty
        assert fill.notional == q8(fill.qty * fill.price)
        assert fill.fee == q8(max(model.fee_min, fill.notional * model.fee_bps / 10_000))
        free += (-fill.notional if order.side == "buy" else fill.notional) - fill.fee
        assert free >= 0  # never overdrawn, whatever the order
        filled_total += fill.qty
    if model.max_participation is not None and bar.volume > 0:
        assert filled_total <= model.max_participation * bar.volume
