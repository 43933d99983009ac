"""Price alerts: create, list, read, delete (owner only: someone else's alert is not found),
their firings, and `evaluate`, which the desk calls for each market event it processes.

Conditions, on the event's price p (the bar's close, or the quote) and the level L, with q the
previous price the alert saw (`last_price`):

- above: p >= L; below: p <= L (reaching the level counts).
- crossing_up: q < L <= p; crossing_down: q > L >= p. Without a previous sample (the alert's
  first event) a crossing cannot be seen, so it does not fire (TradingView's semantics).

`once` alerts fire once and end `triggered`; `every_bar` alerts fire on every event where the
condition holds (crossings: on every crossing) and stay active. An alert whose `expires_at` is
before the event's market time ends `expired` without being evaluated. Each firing is one
`price_alert_triggers` row, UNIQUE (alert_id, bar_ts): an event delivered twice fires nothing
twice. Every evaluated alert's `last_price` becomes the event's price.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.errors import Conflict, NotFound, Unprocessable, field_error
from quantdesk.kit.pagination import decode_cursor, decode_int_cursor, encode_cursor
from quantdesk.kit.timeutil import from_epoch
from quantdesk.marketdata.service import InstrumentNotFound, instrument_service
from quantdesk.models.base import utcnow
from quantdesk.models.portfolio import fixed8
from quantdesk.models.watch import (
    AlertCondition,
    PriceAlert,
    PriceAlertStatus,
    PriceAlertTrigger,
)
from quantdesk.portfolio.events import AlertTriggered
from quantdesk.portfolio.money import money_str
from quantdesk.portfolio.watch_repository import PriceAlertRepository
from quantdesk.portfolio.watch_schemas import MAX_ACTIVE_ALERTS_PER_USER, PriceAlertCreate

_SEPARATOR = "|"


class PriceAlertNotFound(NotFound):
    code = "price-alert-not-found"

    def __init__(self, alert_id: str) -> None:
        super().__init__(f"no price alert {alert_id!r}")


class AlertLimitReached(Conflict):
    code = "price-alert-limit-reached"


def fires(
    condition: AlertCondition, level: Decimal, previous: Decimal | None, price: Decimal
) -> bool:
    """Whether `condition` on `level` holds for `price`, `previous` being the sample before."""
    if condition is AlertCondition.ABOVE:
        return price >= level
    if condition is AlertCondition.BELOW:
        return price <= level
    if previous is None:
        return False
    if condition is AlertCondition.CROSSING_UP:
        return previous < level <= price
    return previous > level >= price


@dataclass(frozen=True, slots=True)
class TriggerPage:
    triggers: list[PriceAlertTrigger]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class AlertPage:
    alerts: list[PriceAlert]
    next_cursor: str | None


def _bad_cursor() -> Unprocessable:
    message = "malformed cursor: pass meta.next_cursor of a page of this list unchanged"
    return Unprocessable(message, errors=[field_error(["query", "cursor"], message)])


def _decode_alert_cursor(cursor: str) -> tuple[datetime, str]:
    created, sep, alert_id = str(decode_cursor(cursor)).partition(_SEPARATOR)
    try:
        if not sep or not alert_id:
            raise ValueError(cursor)
        return datetime.fromisoformat(created), alert_id
    except ValueError as exc:
        raise _bad_cursor() from exc


class PriceAlertService:
    async def create(
        self, session: AsyncSession, *, user_id: int, body: PriceAlertCreate
    ) -> PriceAlert:
        try:
            instrument = await instrument_service.get(session, body.symbol)
        except InstrumentNotFound:
            raise Unprocessable(
                f"unknown symbol {body.symbol!r}",
                errors=[field_error(["body", "symbol"], f"unknown symbol {body.symbol!r}")],
            ) from None
        repository = PriceAlertRepository(session)
        if await repository.count_active(user_id) >= MAX_ACTIVE_ALERTS_PER_USER:
            raise AlertLimitReached(
                f"at most {MAX_ACTIVE_ALERTS_PER_USER} active price alerts per user: "
                "delete some first"
            )
        alert = PriceAlert(
            id=secrets.token_hex(16),
            user_id=user_id,
            symbol=instrument.symbol,
            condition=body.condition,
            level=fixed8(body.level),
            frequency=body.frequency,
            status=PriceAlertStatus.ACTIVE,
            note=body.note,
            last_price=None,
            expires_at=body.expires_at,
            trigger_count=0,
            created_at=utcnow(),
        )
        return await repository.add(alert)

    async def get(self, session: AsyncSession, *, user_id: int, alert_id: str) -> PriceAlert:
        alert = await PriceAlertRepository(session).owned(user_id, alert_id)
        if alert is None:
            raise PriceAlertNotFound(alert_id)
        return alert

    async def delete(self, session: AsyncSession, *, user_id: int, alert_id: str) -> None:
        alert = await self.get(session, user_id=user_id, alert_id=alert_id)
        await session.delete(alert)
        await session.flush()

    async def search(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        status: PriceAlertStatus | None = None,
        symbol: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> AlertPage:
        """The user's alerts, newest first."""
        after = _decode_alert_cursor(cursor) if cursor is not None else None
        rows = await PriceAlertRepository(session).page(
            user_id, status=status, symbol=symbol, after=after, limit=limit + 1
        )
        page = rows[:limit]
        next_cursor = None
        if len(rows) > limit:
            last = page[-1]
            next_cursor = encode_cursor(f"{last.created_at.isoformat()}{_SEPARATOR}{last.id}")
        return AlertPage(page, next_cursor)

    async def triggers(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        alert_id: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> TriggerPage:
        """Firings, newest first: of one alert (404 unless the user's) or of all of theirs."""
        if alert_id is not None:
            await self.get(session, user_id=user_id, alert_id=alert_id)
        before = decode_int_cursor(cursor) if cursor is not None else None
        rows = await PriceAlertRepository(session).triggers(
            user_id, alert_id=alert_id, before_id=before, limit=limit + 1
        )
        page = rows[:limit]
        next_cursor = encode_cursor(page[-1].id) if len(rows) > limit else None
        return TriggerPage(page, next_cursor)

    async def evaluate(
        self, session: AsyncSession, *, symbol: str, ts: int, price: Decimal
    ) -> list[AlertTriggered]:
        """Evaluate the symbol's active alerts on the market event at `ts` (Unix seconds,
        market time) with `price`; record the firings and return their payloads, for the
        caller to publish after its commit. Flushes, never commits."""
        repository = PriceAlertRepository(session)
        alerts = await repository.active_for_symbol(symbol.upper())
        if not alerts:
            return []
        price = fixed8(price)
        market_time = from_epoch(ts)
        expired = [a for a in alerts if a.expires_at is not None and a.expires_at < market_time]
        live = [a for a in alerts if a.expires_at is None or a.expires_at >= market_time]
        candidates = [a for a in live if fires(a.condition, a.level, a.last_price, price)]
        recorded_at = utcnow()
        inserted = await repository.insert_triggers(
            [
                {
                    "alert_id": alert.id,
                    "user_id": alert.user_id,
                    "symbol": alert.symbol,
                    "bar_ts": ts,
                    "price": price,
                    "condition": alert.condition,
                    "level": alert.level,
                    "triggered_at": recorded_at,
                }
                for alert in candidates
            ]
        )
        fired = [alert for alert in candidates if alert.id in inserted]
        await repository.set_status([a.id for a in expired], PriceAlertStatus.EXPIRED)
        await repository.set_last_price([a.id for a in live], price)
        await repository.record_firings(fired, market_time)
        return [
            AlertTriggered(
                user_id=alert.user_id,
                alert_id=alert.id,
                symbol=alert.symbol,
                condition=alert.condition.value,
                level=money_str(alert.level),
                price=money_str(price),
                bar_ts=ts,
            )
            for alert in fired
        ]


price_alert_service = PriceAlertService()
