"""A fast book of many resting orders of one symbol for one account.

``RestingBook`` gives the same fills as ``match_orders`` for good-till-canceled orders
under an uncapped fill model with unlimited cash (every order that fills, fills whole),
but touches only the orders a bar can fill: the limit orders and the stops sit in four
lists sorted by a float threshold, so a bar that reaches none of them costs four float
comparisons (the fast path), and a bar that does reaches only the orders it may fill.
Every fill price comes from the same rule functions as ``match_orders``
(``rules.fill_price``), evaluated in ``Decimal`` on ``BarPrices.from_floats``.

The float thresholds are conservative: a bar's prices become ``q8(Decimal(repr(x)))``,
within 0.5e-8 of the float, so a limit buy is a candidate when ``low <= float(limit +
0.5e-8)``; a candidate the Decimal rule does not fill simply stays.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from decimal import Decimal
from typing import Final

from quantdesk.engine.fills.orders import BarPrices, Fill, FillModel, OrderState
from quantdesk.engine.fills.rules import fill_price, make_fill

_HALF_STEP: Final = Decimal("0.000000005")
_INF: Final = float("inf")

# One list per kind of trigger, each sorted ascending by key, so that the orders a bar
# may reach are always a suffix: key >= probe.
#   buy limit  (low <= limit):  key = thr,  probe = low
#   sell limit (high >= limit): key = -thr, probe = -high
#   buy stop   (high >= stop):  key = -thr, probe = -high
#   sell stop  (low <= stop):   key = thr,  probe = low
_Entry = tuple[float, int, OrderState]


class RestingBook:
    """Resting market, limit, stop and stop-limit gtc orders of one symbol, one account.

    ``add(order)`` queues an order (eligible from the next ``on_bar``), ``on_bar(ts,
    open, high, low, close, volume)`` returns the bar's fills in time priority and
    drops the filled orders. The model must be uncapped (``max_participation`` None);
    cash is not checked (unlimited).
    """

    __slots__ = (
        "_best_buy_limit",
        "_best_buy_stop",
        "_best_sell_limit",
        "_best_sell_stop",
        "_buy_limits",
        "_buy_stops",
        "_model",
        "_pending",
        "_sell_limits",
        "_sell_stops",
        "_seq",
    )

    def __init__(self, model: FillModel) -> None:
        if model.max_participation is not None:
            raise ValueError("RestingBook needs an uncapped model (max_participation None)")
        self._model = model
        self._seq = 0
        self._buy_limits: list[_Entry] = []
        self._sell_limits: list[_Entry] = []
        self._buy_stops: list[_Entry] = []
        self._sell_stops: list[_Entry] = []
        self._pending: list[tuple[int, OrderState]] = []  # fill on the next bar
        self._best_buy_limit = -_INF  # the largest key of each list, -inf when empty
        self._best_sell_limit = -_INF
        self._best_buy_stop = -_INF
        self._best_sell_stop = -_INF

    def __len__(self) -> int:
        return (
            len(self._buy_limits)
            + len(self._sell_limits)
            + len(self._buy_stops)
            + len(self._sell_stops)
            + len(self._pending)
        )

    def add(self, order: OrderState) -> None:
        """Rest ``order`` (gtc only); it is eligible from the next bar, after the orders
        added before it (time priority)."""
        if order.tif != "gtc":
            raise ValueError("RestingBook holds gtc orders only")
        self._seq += 1
        self._insert(self._seq, order)

    def _insert(self, seq: int, order: OrderState) -> None:
        buy = order.side == "buy"
        if order.type == "market" or (order.type == "stop" and order.triggered):
            self._pending.append((seq, order))
            return
        if order.type == "limit" or order.triggered:  # a triggered stop-limit is a limit
            assert order.limit_price is not None
            if buy:
                insort(self._buy_limits, (float(order.limit_price + _HALF_STEP), seq, order))
            else:
                insort(self._sell_limits, (-float(order.limit_price - _HALF_STEP), seq, order))
        else:
            assert order.stop_price is not None
            if buy:
                insort(self._buy_stops, (-float(order.stop_price - _HALF_STEP), seq, order))
            else:
                insort(self._sell_stops, (float(order.stop_price + _HALF_STEP), seq, order))
        self._refresh()

    def _refresh(self) -> None:
        self._best_buy_limit = self._buy_limits[-1][0] if self._buy_limits else -_INF
        self._best_sell_limit = self._sell_limits[-1][0] if self._sell_limits else -_INF
        self._best_buy_stop = self._buy_stops[-1][0] if self._buy_stops else -_INF
        self._best_sell_stop = self._sell_stops[-1][0] if self._sell_stops else -_INF

    def on_bar(
        self, ts: int, open: float, high: float, low: float, close: float, volume: float
    ) -> list[Fill]:
        """The fills of one market event, in time priority."""
        if (
            low > self._best_buy_limit
            and -high > self._best_sell_limit
            and -high > self._best_buy_stop
            and low > self._best_sell_stop
            and not self._pending
        ):
            return []
        return self._match(BarPrices.from_floats(ts, open, high, low, close, volume))

    def _match(self, bar: BarPrices) -> list[Fill]:
        low, high = float(bar.low), float(bar.high)
        candidates: list[tuple[int, OrderState]] = self._pending
        self._pending = []
        for entries, probe in (
            (self._buy_limits, low),
            (self._sell_limits, -high),
            (self._buy_stops, -high),
            (self._sell_stops, low),
        ):
            if entries and entries[-1][0] >= probe:
                start = bisect_left(entries, (probe,))
                candidates.extend((seq, order) for _, seq, order in entries[start:])
                del entries[start:]
        candidates.sort(key=_by_seq)
        fills: list[Fill] = []
        stays: list[tuple[int, OrderState]] = []
        model = self._model
        for seq, order in candidates:
            price, triggered = fill_price(order, bar, model)
            if price is not None:
                fills.append(make_fill(order.order_id, order.qty, price, model))
            elif triggered and not order.triggered:  # a stop-limit became a limit
                stays.append((seq, _triggered(order)))
            else:
                stays.append((seq, order))
        for seq, order in stays:
            self._insert(seq, order)
        self._refresh()
        return fills


def _by_seq(candidate: tuple[int, OrderState]) -> int:
    return candidate[0]


def _triggered(order: OrderState) -> OrderState:
    return OrderState(
        order.order_id,
        order.side,
        order.type,
        order.tif,
        order.qty,
        order.limit_price,
        order.stop_price,
        True,
        order.session_date,
        order.hold,
    )
