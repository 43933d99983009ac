"""FIFO lots, realized P&L and position figures of the paper desk (issue 12)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.engine.fills import Lot, apply_fill_to_lots, position_figures, q8

D = Decimal


def lots(*rows: tuple[str, str, str]) -> tuple[Lot, ...]:
    return tuple(Lot(fill_id, D(qty), D(price)) for fill_id, qty, price in rows)


def test_long_sell_closes_the_oldest_lot_first_then_the_next() -> None:
    held = lots(("f1", "10", "100"), ("f2", "5", "110"))
    update = apply_fill_to_lots(held, "f3", "sell", D(12), D(120))
    assert update.lots == lots(("f2", "3", "110"))
    assert update.realized_pnl == D(220)  # (120 - 100) x 10 + (120 - 110) x 2
    assert update.cost_closed == D(1220)  # 1000 + (550 - 330)
    assert update.cost_opened == 0


def test_buy_adds_a_lot_at_the_end() -> None:
    update = apply_fill_to_lots(lots(("f1", "10", "100")), "f2", "buy", D(5), D("110.5"))
    assert update.lots == lots(("f1", "10", "100"), ("f2", "5", "110.5"))
    assert (update.realized_pnl, update.cost_closed, update.cost_opened) == (D(0), D(0), D("552.5"))


def test_short_cover_realizes_entry_minus_exit() -> None:
    short = apply_fill_to_lots((), "s1", "sell", D(10), D(100))
    assert short.lots == lots(("s1", "-10", "100"))
    assert short.cost_opened == D(-1000)
    cover = apply_fill_to_lots(short.lots, "b1", "buy", D(4), D(90))
    assert cover.lots == lots(("s1", "-6", "100"))
    assert cover.realized_pnl == D(40)  # (100 - 90) x 4
    assert cover.cost_closed == D(-400)


def test_flip_closes_every_long_lot_and_opens_a_short_with_the_rest() -> None:
    held = lots(("f1", "10", "100"))
    update = apply_fill_to_lots(held, "f2", "sell", D(15), D(90))
    assert update.lots == lots(("f2", "-5", "90"))
    assert update.realized_pnl == D(-100)
    assert (update.cost_closed, update.cost_opened) == (D(1000), D(-450))


def test_position_figures_long_and_short() -> None:
    long = position_figures(lots(("f1", "10", "100"), ("f2", "5", "110")), D(120), D(115))
    assert long.qty == 15
    assert long.cost_basis == D(1550)
    assert long.avg_entry_price == D("103.33333333")
    assert long.market_value == D(1800)
    assert long.unrealized_pnl == D(250)
    assert long.day_change == D(75)
    short = position_figures(lots(("s1", "-6", "100")), D(90), D(95))
    assert (short.qty, short.avg_entry_price, short.cost_basis) == (D(-6), D(100), D(-600))
    assert (short.market_value, short.unrealized_pnl, short.day_change) == (D(-540), D(60), D(30))


def test_flat_position_and_no_previous_close() -> None:
    flat = position_figures((), D(120), None)
    assert (flat.qty, flat.avg_entry_price, flat.cost_basis, flat.day_change) == (D(0),) * 4


fills = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell"]),
        st.decimals("0.0001", "50", places=4),
        st.decimals("0.01", "500", places=2),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(fills)
def test_fifo_lots_keep_the_books_balanced(sequence: list[tuple[str, Decimal, Decimal]]) -> None:
    """Over any fill sequence: one sign of lot at a time, qty = sum of signed fills, the
    securities book (sum of cost_opened - cost_closed) = sum of lot costs, and each
    fill's cash + securities - realized legs sum to zero."""
    held: tuple[Lot, ...] = ()
    book = D(0)
    position = D(0)
    for index, (side, qty, price) in enumerate(sequence):
        update = apply_fill_to_lots(held, f"f{index}", side, qty, price)  # type: ignore[arg-type]
        held = update.lots
        position += qty if side == "buy" else -qty
        book += update.cost_opened - update.cost_closed
        cash = q8(qty * price) * (1 if side == "sell" else -1)
        assert cash + (update.cost_opened - update.cost_closed) - update.realized_pnl == 0
        assert len({lot.qty > 0 for lot in held}) <= 1
        assert all(lot.qty != 0 for lot in held)
        assert sum((lot.qty for lot in held), D(0)) == position
        assert sum((lot.cost for lot in held), D(0)) == book
