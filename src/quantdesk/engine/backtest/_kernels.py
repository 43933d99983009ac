"""Numba kernels: the bar loop, SMA and crossover targets.

Compiled lazily on first call and cached on disk (``cache=True``), so a later
process loads machine code instead of compiling. Callers always pass the same
argument types (float64 / int8 arrays, Python floats, ints and bools), so each
kernel has exactly one cached signature. Untyped to mypy: the typed wrappers live
in ``simulator.py``, ``strategies.py`` and ``sweep.py``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: backtesting.py's default order size, "all equity": ``1 - sys.float_info.epsilon``.
FULL_EQUITY = 1.0 - 2.220446049250313e-16

#: Sizing modes (``BacktestConfig.sizing``) as the kernels take them; ``amount`` is the
#: fraction of equity (``SIZE_FRACTION``) or the units per entry (``SIZE_FIXED``).
SIZE_FRACTION, SIZE_ALL_IN, SIZE_FIXED = 0, 1, 2

#: Exit reasons stored in the trade table (index into ``EXIT_REASONS``).
SIGNAL, STOP_LOSS, TAKE_PROFIT, EXPIRY, LIQUIDATION = 0, 1, 2, 3, 4
EXIT_REASONS = ("signal", "stop_loss", "take_profit", "expiry", "liquidation")

#: Recompute a running window sum from scratch this often, so rounding cannot drift.
_RESUM_EVERY = 4096

#: ``simulate_into`` with ``mark_flat`` False writes every bar of a stretch out of the
#: market up to this long, only the ends of a longer one (the sweep's summary adds runs
#: out of the market longer than this in closed form, and reads the shorter ones).
FLAT_FILL = 128


@njit(cache=True, nogil=True)
def rolling_mean(x, period):  # type: ignore[no-untyped-def]
    """Mean of ``x[i - period + 1 : i + 1]``; NaN for the first ``period - 1`` bars."""
    n = x.size
    out = np.empty(n)
    out[: min(period - 1, n)] = np.nan
    total = 0.0
    for i in range(n):
        if i >= period and (i % _RESUM_EVERY) == 0:
            total = 0.0
            for j in range(i - period + 1, i + 1):
                total += x[j]
        else:
            total += x[i]
            if i >= period:
                total -= x[i - period]
        if i >= period - 1:
            out[i] = total / period
    return out


@njit(cache=True, nogil=True)
def cross_target(fast, slow, out):  # type: ignore[no-untyped-def]
    """Target position after the latest strict crossover of ``fast`` and ``slow``.

    ``+1`` from the bar where ``fast[i-1] < slow[i-1] and fast[i] > slow[i]``, ``-1``
    from the bar where the opposite holds, ``0`` before the first cross: exactly
    backtesting.py's ``crossover``. NaNs compare False, so warm-up bars never cross.
    """
    n = out.size
    # Pass 1 (vectorized): the side of each bar, +1 above, -1 below, 0 equal or NaN.
    for i in range(n):
        out[i] = (fast[i] > slow[i]) - (fast[i] < slow[i])
    # Pass 2: a cross is -1 -> +1 (or +1 -> -1) on consecutive bars; hold the last one.
    state = 0
    side = out[0] if n else 0
    for i in range(n):
        now = out[i]
        if i and now != side:
            if side == -1 and now == 1:
                state = 1
            elif side == 1 and now == -1:
                state = -1
        side = now
        out[i] = state
    return out


@njit(cache=True, nogil=True, inline="always")
def _units(cash, price, commission, sizing, amount, whole):  # type: ignore[no-untyped-def]
    """Units of an entry at ``price`` (the fill, after slippage); 0 = no entry."""
    if cash <= 0.0:
        return 0.0
    if sizing == SIZE_FIXED:
        # backtesting.py, _Broker._process_orders, for ``buy(size=amount)``: the cost per
        # unit is ``price + commission(size, price) / abs(size)``, and an order costing more
        # than ``margin_available * leverage`` (flat, margin 1: the cash) is canceled.
        per_unit = price + (amount * price * commission) / amount
        return amount if amount * per_unit <= cash else 0.0
    if sizing == SIZE_ALL_IN:
        # backtesting.py, _Broker._process_orders: the commission per unit is
        # ``commission(size, price) / abs(size)`` with the fractional size FULL_EQUITY,
        # and the units are ``margin_available * FULL_EQUITY // that_price``.
        per_unit = price + (FULL_EQUITY * price * commission) / FULL_EQUITY
        budget = cash * FULL_EQUITY
    else:
        per_unit = price * (1.0 + commission)
        budget = cash * amount
    if whole:
        return budget // per_unit
    return budget / per_unit


@njit(cache=True, nogil=True)
def _mark(equity, close, cash, units, entry_price):  # type: ignore[no-untyped-def]
    """Equity marked to each close (backtesting.py's expression) over equal-length
    slices; returns how many values are <= 0 (ruin). Written over 0-based slices so
    numba vectorizes it."""
    cost = units * entry_price
    ruined = 0
    for j in range(equity.size):
        value = cash + (close[j] * units - cost)
        equity[j] = value
        ruined += value <= 0.0
    return ruined


@njit(cache=True, nogil=True, inline="always")
def _record_exit(  # type: ignore[no-untyped-def]
    tf, ti, k, entry_bar, i, reason, units, entry_price, entry_comm, price, commission, slippage
):
    """Write closed trade ``k`` (exit at ``price`` before slippage) and return the cash
    it adds: ``units * (exit - entry) - exit commission``, backtesting.py's order."""
    long = units > 0.0
    if reason != TAKE_PROFIT:  # limit orders fill at their price; the rest are market
        price = price * (1.0 - slippage) if long else price * (1.0 + slippage)
    size = abs(units)
    exit_comm = size * price * commission
    total_comm = exit_comm + entry_comm
    ti[k, 0] = entry_bar
    ti[k, 1] = i
    ti[k, 2] = reason
    tf[k, 0] = units
    tf[k, 1] = entry_price
    tf[k, 2] = price
    tf[k, 3] = total_comm
    tf[k, 4] = units * (price - entry_price) - total_comm
    sign = 1.0 if long else -1.0
    tf[k, 5] = sign * (price / entry_price - 1.0) - total_comm / (size * entry_price)
    return units * (price - entry_price) - exit_comm


@njit(cache=True, nogil=True, inline="always")
def _level_exit(units, stop, target, o, h, lo):  # type: ignore[no-untyped-def]
    """Stop-loss, then take-profit, inside a bar: ``(price, reason)``, price NaN if
    neither is touched. A bar opening beyond a level fills at the open. NaN levels
    (off) compare False."""
    if units > 0.0:
        if lo <= stop:
            return min(o, stop), STOP_LOSS
        if h >= target:
            return max(o, target), TAKE_PROFIT
    else:
        if h >= stop:
            return max(o, stop), STOP_LOSS
        if lo <= target:
            return min(o, target), TAKE_PROFIT
    return np.nan, SIGNAL


@njit(cache=True, nogil=True, inline="always")
def _act(  # type: ignore[no-untyped-def]
    tf, ti, k, i, side, price, cash, units, entry_price, entry_comm, entry_bar, stop_px,
    tp_px, commission, slippage, sizing, amount, whole, stop_loss, take_profit,
):  # fmt: skip
    """Move to target ``side`` at ``price`` on bar ``i``: close an opposite (or, for
    side 0, any) position, then open ``side`` if flat. Returns the new state."""
    if units != 0.0 and (side == 0 or (side > 0) != (units > 0.0)):
        cash += _record_exit(
            tf, ti, k, entry_bar, i, SIGNAL, units, entry_price, entry_comm, price,
            commission, slippage,
        )  # fmt: skip
        k += 1
        units = 0.0
    if side != 0 and units == 0.0:
        fill = price * (1.0 + slippage) if side > 0 else price * (1.0 - slippage)
        size = _units(cash, fill, commission, sizing, amount, whole)
        if size > 0.0:
            units = size if side > 0 else -size
            entry_price = fill
            entry_bar = i
            entry_comm = size * fill * commission
            cash -= entry_comm
            stop_px = fill * (1.0 - side * stop_loss)
            tp_px = fill * (1.0 + side * take_profit)
    return k, cash, units, entry_price, entry_comm, entry_bar, stop_px, tp_px


@njit(cache=True, nogil=True)
def simulate_into(  # type: ignore[no-untyped-def]
    open_,
    high,
    low,
    close,
    target,
    cash,
    commission,
    slippage,
    fill_close,
    sizing,
    amount,
    whole,
    allow_short,
    stop_loss,
    take_profit,
    max_bars,
    changes,
    mark_flat,
    equity,
    tf,
    ti,
):
    """The bar loop, writing into caller-owned buffers (``simulate`` allocates them;
    the sweep reuses one set per thread). ``changes`` is ``change_bars(target)`` (the
    sweep gets it from the crossover pass for free); ``tf``/``ti`` need
    ``changes.size + 1`` rows. With ``mark_flat`` False, a stretch out of the market
    between target changes longer than ``FLAT_FILL`` bars has only its first and last
    bar written (every bar of it equals the cash; the sweep's summary reads no other).

    Writes ``equity[i]`` for every bar and closed trade ``k`` as ``ti[k] = (entry_bar,
    exit_bar, exit_reason)``, ``tf[k] = (units, entry_price, exit_price, commission,
    pnl, return)``. Returns ``(trades, units, entry_price, entry_commission,
    entry_bar)``, the last four describing the position still open after the last bar
    (units 0 when flat).

    Order within bar ``i`` - next_open: fill the order placed at the previous close,
    expire at the open, stop/target; close: stop/target, expire at the close, act on
    this bar's target change. Then equity is marked to the close.
    """
    n = close.size
    k = 0
    units = 0.0  # signed: > 0 long, < 0 short
    entry_price = 0.0
    entry_comm = 0.0
    entry_bar = 0
    stop_px = np.nan
    tp_px = np.nan
    previous = 0  # target as of the previous close
    pending = False  # next_open: the target changed at the previous close
    use_levels = not (np.isnan(stop_loss) and np.isnan(take_profit))
    use_exits = use_levels or max_bars > 0
    ruin = -1
    expiry_price = close if fill_close else open_
    cursor = 0

    i = 0
    while i < n:
        wanted = target[i] if allow_short or target[i] > 0 else 0
        if pending:
            pending = False
            k, cash, units, entry_price, entry_comm, entry_bar, stop_px, tp_px = _act(
                tf, ti, k, i, previous, open_[i], cash, units, entry_price, entry_comm,
                entry_bar, stop_px, tp_px, commission, slippage, sizing, amount, whole,
                stop_loss, take_profit,
            )  # fmt: skip
        for step in range(2 if use_exits else 0):
            # next_open expires at the open, before the levels; close at the close, after.
            if units == 0.0:
                break
            if (step == 0) == fill_close:
                if use_levels:
                    price, reason = _level_exit(units, stop_px, tp_px, open_[i], high[i], low[i])
                    if not np.isnan(price):
                        cash += _record_exit(
                            tf, ti, k, entry_bar, i, reason, units, entry_price, entry_comm,
                            price, commission, slippage,
                        )  # fmt: skip
                        k += 1
                        units = 0.0
            elif max_bars > 0 and i - entry_bar >= max_bars:
                cash += _record_exit(
                    tf, ti, k, entry_bar, i, EXPIRY, units, entry_price, entry_comm,
                    expiry_price[i], commission, slippage,
                )  # fmt: skip
                k += 1
                units = 0.0
        if wanted != previous:
            if fill_close:
                k, cash, units, entry_price, entry_comm, entry_bar, stop_px, tp_px = _act(
                    tf, ti, k, i, wanted, close[i], cash, units, entry_price, entry_comm,
                    entry_bar, stop_px, tp_px, commission, slippage, sizing, amount,
                    whole, stop_loss, take_profit,
                )  # fmt: skip
            elif i + 1 < n:
                pending = True  # filled at the next open; a change on the last bar never is
        previous = wanted

        value = cash + (close[i] * units - units * entry_price)
        equity[i] = value
        if value <= 0.0:
            ruin = i
            break
        i += 1
        if pending or (units != 0.0 and use_exits):
            continue
        # Fast path: up to the next target change nothing can happen but marking equity.
        while cursor < changes.size and changes[cursor] < i:
            cursor += 1
        stop = changes[cursor] if cursor < changes.size else n
        if stop > i:
            if units == 0.0 and not mark_flat and cash > 0.0:
                if stop - i <= FLAT_FILL:
                    equity[i:stop] = cash
                else:
                    equity[i] = cash
                    equity[stop - 1] = cash
            elif _mark(equity[i:stop], close[i:stop], cash, units, entry_price):
                ruin = i
                while equity[ruin] > 0.0:
                    ruin += 1
                break
            i = stop

    if ruin >= 0:
        # backtesting.py's _OutOfMoneyError: liquidate at that close and stop trading.
        if units != 0.0:
            _record_exit(
                tf, ti, k, entry_bar, ruin, LIQUIDATION, units, entry_price, entry_comm,
                close[ruin], commission, slippage,
            )  # fmt: skip
            k += 1
            units = 0.0
        equity[ruin:] = 0.0

    return k, units, entry_price, entry_comm, entry_bar


@njit(cache=True, nogil=True)
def capacity(target):  # type: ignore[no-untyped-def]
    """Rows a trade table needs: every entry needs a target change."""
    count = 1
    for i in range(1, target.size):
        count += target[i] != target[i - 1]
    return count


@njit(cache=True, nogil=True)
def change_bars(target):  # type: ignore[no-untyped-def]
    """The bars ``i >= 1`` where ``target[i] != target[i - 1]``, ascending."""
    out = np.empty(capacity(target) - 1, dtype=np.int64)
    k = 0
    for i in range(1, target.size):
        if target[i] != target[i - 1]:
            out[k] = i
            k += 1
    return out


@njit(cache=True, nogil=True)
def simulate(  # type: ignore[no-untyped-def]
    open_,
    high,
    low,
    close,
    target,
    cash,
    commission,
    slippage,
    fill_close,
    sizing,
    amount,
    whole,
    allow_short,
    stop_loss,
    take_profit,
    max_bars,
):
    """Run the bar loop; ``simulator.simulate`` states the contract.

    ``sizing`` is a ``SIZE_*`` mode and ``amount`` its fraction or units; ``stop_loss`` /
    ``take_profit`` are fractions (NaN = off), ``max_bars`` 0 = off.
    Returns ``(equity, trades_float, trades_int, open_state)`` with the trade rows of
    ``simulate_into`` and ``open_state = (units, entry_price, entry_commission,
    entry_bar)``.
    """
    changes = change_bars(target)
    rows = changes.size + 1
    equity = np.empty(close.size)
    tf = np.empty((rows, 6))
    ti = np.empty((rows, 3), dtype=np.int64)
    k, units, entry_price, entry_comm, entry_bar = simulate_into(
        open_, high, low, close, target, cash, commission, slippage, fill_close, sizing,
        amount, whole, allow_short, stop_loss, take_profit, max_bars, changes, True,
        equity, tf, ti,
    )  # fmt: skip
    open_state = np.array([units, entry_price, entry_comm, float(entry_bar)])
    return equity, tf[:k].copy(), ti[:k].copy(), open_state
