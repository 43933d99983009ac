"""The demo portfolio `quantdesk demo load` (and so `make run`) leaves behind, so a newcomer
signs in and sees a portfolio, not an empty list.

The user `demo@example.com` (password from `QUANTDESK_DEMO_PASSWORD`, otherwise generated and
shown once by the command) gets the account "Demo portfolio": 100,000.00 USD, then the last
`HISTORY_BARS` daily GOOG bars of the demo set replayed through the real desk with a few
orders placed along the way (filled, partially closed, one limit still resting), a watchlist
of the demo symbols and a price alert. Everything goes through the same services as the API,
so the ledger, positions and equity history are the desk's own. Loading again changes nothing.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.auth.passwords import WeakPassword
from quantdesk.auth.repository import UserRepository
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import Unprocessable
from quantdesk.infra.events import MarketEvent, ReplayStatus
from quantdesk.kit.timeframes import Timeframe
from quantdesk.marketdata.service import InstrumentNotFound, bar_service
from quantdesk.models import (
    AlertCondition,
    AlertFrequency,
    OrderSide,
    OrderType,
    PaperAccount,
    TimeInForce,
    Watchlist,
    WatchlistItem,
)
from quantdesk.portfolio.account_schemas import AccountCreate
from quantdesk.portfolio.accounts import account_service
from quantdesk.portfolio.alerts import price_alert_service
from quantdesk.portfolio.desk import Desk
from quantdesk.portfolio.order_schemas import OrderCreate
from quantdesk.portfolio.orders import order_service
from quantdesk.portfolio.watch_schemas import PriceAlertCreate

DEMO_EMAIL = "demo@example.com"
DEMO_ACCOUNT = "Demo portfolio"
SYMBOL = "GOOG"
HISTORY_BARS = 120
STARTING_CASH = Decimal("100000.00")
# (bar index, side, type, qty, limit as a fraction of that bar's close): placed after the bar,
# so each fills (or rests) from the next one, as a client's would.
PLAN: tuple[tuple[int, OrderSide, OrderType, str, str | None], ...] = (
    (5, OrderSide.BUY, OrderType.MARKET, "60", None),
    (30, OrderSide.BUY, OrderType.LIMIT, "40", "0.99"),
    (70, OrderSide.SELL, OrderType.MARKET, "50", None),
    (95, OrderSide.BUY, OrderType.MARKET, "25", None),
    (HISTORY_BARS - 1, OrderSide.BUY, OrderType.LIMIT, "20", "0.90"),
)


@dataclass(frozen=True, slots=True)
class DemoPortfolio:
    email: str
    password: str | None  # set only when the user was created now (shown once)
    account_id: str
    created: bool
    orders: int = 0
    fills: int = 0


async def load_demo_portfolio(db: Database, settings: Settings) -> DemoPortfolio | str:
    """Create the demo user, account and history (once); a sentence when there is no demo
    data to trade on."""
    missing = f"no demo portfolio: {SYMBOL} 1d bars are not loaded (`quantdesk demo load`)"
    async with db.session() as session:
        try:
            series = await bar_service.get_bars(
                session,
                symbol=SYMBOL,
                timeframe=Timeframe("1d"),
                start=None,
                end=None,
                limit=HISTORY_BARS,
            )
        except (InstrumentNotFound, Unprocessable):
            return missing
        if len(series.bars.ts) < HISTORY_BARS:
            return missing
        user = await UserRepository(session).by_email(DEMO_EMAIL)
        password: str | None = None
        if user is None:
            password = os.environ.get("QUANTDESK_DEMO_PASSWORD") or secrets.token_urlsafe(12)
            try:
                user = await auth_service.register(
                    session,
                    email=DEMO_EMAIL,
                    password=password,
                    client=ClientInfo(ip="127.0.0.1", user_agent="quantdesk demo load"),
                )
            except WeakPassword as weak:
                return (
                    f"no demo portfolio: QUANTDESK_DEMO_PASSWORD is refused ({weak.detail}); "
                    "choose another (at least 12 characters, not containing 'demo') or unset "
                    "it for a generated one, then run `quantdesk demo load` again"
                )
        existing = await session.scalar(
            select(PaperAccount.id).where(
                PaperAccount.user_id == user.id, PaperAccount.name == DEMO_ACCOUNT
            )
        )
        if existing is not None:
            return DemoPortfolio(DEMO_EMAIL, password, existing, created=False)
        account = await account_service.create(
            session, user.id, AccountCreate(name=DEMO_ACCOUNT, starting_cash=STARTING_CASH)
        )
        user_id, account_id = user.id, account.id
        await _watch(session, user_id, float(series.bars.close[-1]))
    bars = series.bars
    desk = Desk(db, settings)
    replay_id = secrets.token_hex(8)
    start = int(bars.ts[0])
    await desk.process(ReplayStatus(SYMBOL, replay_id, "started", "1d", start))
    plan = {step[0]: step[1:] for step in PLAN}
    orders = fills = 0
    for index in range(len(bars.ts)):
        applied = await desk.process(
            MarketEvent(
                kind="bar",
                symbol=SYMBOL,
                timeframe="1d",
                ts=int(bars.ts[index]),
                open=float(bars.open[index]),
                high=float(bars.high[index]),
                low=float(bars.low[index]),
                close=float(bars.close[index]),
                volume=float(bars.volume[index]),
                source="replay",
            )
        )
        fills += applied.fills
        if index in plan:
            side, kind, qty, limit = plan[index]
            close = Decimal(repr(float(bars.close[index])))
            body = OrderCreate(
                symbol=SYMBOL,
                side=side,
                type=kind,
                qty=Decimal(qty),
                limit_price=(close * Decimal(limit)).quantize(Decimal("0.01"))
                if limit is not None
                else None,
                time_in_force=TimeInForce.GTC,
            )
            async with db.session() as session:
                locked = await account_service.lock_owned(session, user_id, account_id)
                await order_service.place(session, settings, account=locked, body=body)
            orders += 1
    await desk.process(ReplayStatus(SYMBOL, replay_id, "stopped", "1d", start))
    return DemoPortfolio(DEMO_EMAIL, password, account_id, True, orders, fills)


async def _watch(session: AsyncSession, user_id: int, last_close: float) -> None:
    """A watchlist of the demo symbols and an alert 5 % above GOOG's last close."""
    watchlist = Watchlist(id=secrets.token_hex(16), user_id=user_id, name="Demo")
    session.add(watchlist)
    await session.flush()
    for symbol, note in (
        (SYMBOL, "the demo portfolio trades it"),
        ("EURUSD", "hourly FX"),
        ("BTCUSD", "monthly crypto"),
    ):
        session.add(WatchlistItem(watchlist_id=watchlist.id, symbol=symbol, note=note))
    level = (Decimal(repr(last_close)) * Decimal("1.05")).quantize(Decimal("0.01"))
    await price_alert_service.create(
        session,
        user_id=user_id,
        body=PriceAlertCreate(
            symbol=SYMBOL,
            condition=AlertCondition.CROSSING_UP,
            level=level,
            frequency=AlertFrequency.ONCE,
            note="5 % above the demo's last close",
        ),
    )
