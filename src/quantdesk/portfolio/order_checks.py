"""Pre-trade checks of a new order (docs/paper-trading.md, "Orders"): what the market knows
of its symbol, and whether the account can carry the order (then: how much cash it holds) or
why it is rejected.

Run inside the placement transaction, after the account's write lock, so balances, the
position and the open orders read here cannot change before the order is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.config import Settings
from quantdesk.engine.fills import INSUFFICIENT_BUYING_POWER, estimate_hold
from quantdesk.engine.fills import OrderType as EngineOrderType
from quantdesk.marketdata.quote_service import QuoteNotFound, quote_service
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models.marketdata import AssetClass
from quantdesk.models.portfolio import (
    MarketClock,
    OrderSide,
    OrderType,
    PaperAccount,
    TimeInForce,
)
from quantdesk.portfolio.fill_models import Family, family, fill_model_for, qty_decimals
from quantdesk.portfolio.money import money_str
from quantdesk.portfolio.order_repository import OrderRepository
from quantdesk.portfolio.order_schemas import OrderCreate

UNKNOWN_SYMBOL = "unknown_symbol"
QTY_PRECISION = "qty_precision"
MARKET_CLOSED = "market_closed"
NO_MARKET_PRICE = "no_market_price"
INSUFFICIENT_POSITION = "insufficient_position"
REJECT_REASONS = (
    UNKNOWN_SYMBOL,
    QTY_PRECISION,
    MARKET_CLOSED,
    NO_MARKET_PRICE,
    INSUFFICIENT_BUYING_POWER,
    INSUFFICIENT_POSITION,
)
ZERO = Decimal(0)
_ENGINE_TYPE: dict[OrderType, EngineOrderType] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP: "stop",
    OrderType.STOP_LIMIT: "stop_limit",
}


@dataclass(frozen=True, slots=True)
class MarketContext:
    """What is known of a symbol at acceptance. `asset_class` None: no such instrument.
    `seq` / `ts`: its market clock (0 / None before the desk processed any event for it)."""

    asset_class: AssetClass | None
    has_clock: bool
    seq: int
    ts: int | None
    last_price: Decimal | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Accepted with `hold` cash to hold, or rejected for `reject_reason` (`detail` says it
    in words)."""

    hold: Decimal = ZERO
    reject_reason: str | None = None
    detail: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reject_reason is None


def _price(value: float | None) -> Decimal | None:
    # A stored float price as the Decimal it displays as (docs/paper-trading.md, "Numbers").
    return None if value is None else Decimal(repr(value))


async def market_context(session: AsyncSession, symbol: str) -> MarketContext:
    """The symbol's instrument and market clock; the last price is the clock's (the latest
    market event the desk processed), else the stored quote's (the latest stored bar close)."""
    clock = await session.get(MarketClock, symbol)
    last = clock.last_price if clock is not None else None
    try:
        if last is not None:
            asset_class = (await instrument_service.get(session, symbol)).asset_class
        else:
            instrument, quote = await quote_service.get(session, symbol)
            asset_class, last = instrument.asset_class, _price(quote.price)
    except InstrumentNotFound:
        return MarketContext(None, clock is not None, 0, None, None)
    except QuoteNotFound:
        asset_class = (await instrument_service.get(session, symbol)).asset_class
    seq, ts = (clock.seq, clock.ts) if clock is not None else (0, None)
    return MarketContext(
        asset_class, clock is not None, seq, ts if ts is None or ts >= 0 else None, last
    )


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


async def pre_trade(
    session: AsyncSession,
    settings: Settings,
    account: PaperAccount,
    body: OrderCreate,
    market: MarketContext,
) -> Verdict:
    """Accept or reject `body` for `account` (locked); the first failing check wins:

    1. `unknown_symbol`: no instrument of that symbol.
    2. `qty_precision`: more quantity decimals than the asset class trades (equity 4,
       crypto 8, fx 2).
    3. `market_closed`: a `day` order of an equity-like symbol the desk has no session for
       yet (no market event processed, so no session to attach the order to).
    4. Sells: position minus the open sell orders' remaining qty must cover `qty`, else
       `insufficient_position` - unless the account allows shorting, when the part beyond the
       position holds cash like a buy of that part (its estimated notional plus fee).
    5. Buys: the hold (`estimate_hold`: limit price for limit orders, max(stop, last) for
       stops, last price for market orders, plus slippage and the fee estimate) must fit in
       free cash, else `insufficient_buying_power`; a market buy with no known price at all
       is `no_market_price`.
    """
    if market.asset_class is None:
        return Verdict(reject_reason=UNKNOWN_SYMBOL, detail=f"no instrument {body.symbol!r}")
    most = qty_decimals(market.asset_class)
    if _decimals(body.qty) > most:
        return Verdict(
            reject_reason=QTY_PRECISION,
            detail=f"{body.symbol} quantities have at most {most} decimals",
        )
    if (
        body.time_in_force is TimeInForce.DAY
        and family(market.asset_class) is Family.EQUITY
        and not market.has_clock
    ):
        return Verdict(
            reject_reason=MARKET_CLOSED,
            detail=f"no session of {body.symbol} is known yet: day orders need a market "
            "event first (use gtc)",
        )
    to_hold: Decimal | None = body.qty
    if body.side is OrderSide.SELL:
        to_hold = await _short_part(session, account, body)
        if to_hold is None:
            return Verdict(
                reject_reason=INSUFFICIENT_POSITION,
                detail=f"the position in {body.symbol}, less open sell orders, is smaller "
                f"than {money_str(body.qty)} (short selling is off for this account)",
            )
        if to_hold == 0:
            return Verdict()
    if body.type is OrderType.MARKET and market.last_price is None:
        return Verdict(
            reject_reason=NO_MARKET_PRICE,
            detail=f"no price of {body.symbol} is known yet to hold cash for a market order",
        )
    assert to_hold is not None
    model = fill_model_for(account, market.asset_class, settings)
    hold = estimate_hold(
        "buy",
        _ENGINE_TYPE[body.type],
        to_hold,
        body.limit_price,
        body.stop_price,
        market.last_price,
        model,
    )
    if hold > account.cash:
        return Verdict(
            reject_reason=INSUFFICIENT_BUYING_POWER,
            detail=f"the order holds {money_str(hold)} but only {money_str(account.cash)} is free",
        )
    return Verdict(hold=hold)


async def _short_part(
    session: AsyncSession, account: PaperAccount, body: OrderCreate
) -> Decimal | None:
    """How much of a sell goes beyond the sellable position (0: all covered); None when it
    does not fit and the account may not short."""
    orders = OrderRepository(session)
    position = await orders.position_qty(account.id, body.symbol)
    sellable = max(position - await orders.open_sell_qty(account.id, body.symbol), ZERO)
    if body.qty <= sellable:
        return ZERO
    if not account.allow_short:
        return None
    return body.qty - sellable
