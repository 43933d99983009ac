"""The outbox: delivery rows written inside the transaction of the event's cause.

`write_deliveries` is registered with `on_emit` (infra/events/emit.py) when this module is
imported, so every `emit(session, ...)` (order transitions and fills, alerts, backtests,
exports, signals, failed jobs) runs it before its transaction commits: a committed event has
its delivery rows, a rolled-back one has none. Once committed, the rows wake this process's
dispatcher (`on_new_deliveries`); a dispatcher elsewhere finds them on its next sweep.

Cheap when nobody listens. Whether any webhook is active is remembered per database for
`webhooks_subscriptions_cache_seconds`, and a change made in this process forgets it at once.
A "yes" is always remembered: a stale one costs one query that finds no endpoint. A "no" is
remembered only by a process that is the only one changing webhooks (the in-process event bus
and job runner, not a `serve --workers` child): elsewhere a remembered "no" would drop the
events of a webhook just created on another replica (the cluster test placing orders on every
replica right after subscribing found that), so there a server without webhooks runs one
`EXISTS` per emitting transaction (an order batch, a desk event). With webhooks, it is one
query for the subscribed endpoints of the events' owners (plus one resolving paper accounts to
their owners when the batch has order updates) and one multi-row insert.
"""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections.abc import Callable, Sequence

from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.scopes import Role
from quantdesk.config import Settings
from quantdesk.db import after_commit
from quantdesk.infra.events import Event, on_emit
from quantdesk.models import PaperAccount, User, utcnow
from quantdesk.models.webhooks import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
)
from quantdesk.webhooks.events import ACCOUNT_OWNED, ADMIN_ONLY, USER_OWNED, Outgoing, outgoing

_cache_seconds = 1.0
_remember_none = False  # this process alone changes webhooks: a "no" may be remembered too
_any_active: dict[str, tuple[float, bool]] = {}  # database URL -> (valid until, answer)
_listeners: set[Callable[[], None]] = set()


def configure(settings: Settings) -> None:
    """Set the cache at app (or job) start-up, and start with nothing remembered: an answer
    cached by an earlier app of this process (tests, a reload) is not this app's to trust."""
    global _cache_seconds, _remember_none
    _cache_seconds = settings.webhooks_subscriptions_cache_seconds
    _remember_none = (
        settings.events_backend == "memory"
        and settings.jobs_backend == "inprocess"
        and multiprocessing.parent_process() is None  # `serve --workers N` children have one
    )
    forget_subscriptions()


def forget_subscriptions() -> None:
    """Called by every change to webhooks in this process."""
    _any_active.clear()


def on_new_deliveries(listener: Callable[[], None]) -> Callable[[], None]:
    """`listener()` runs after each commit that wrote delivery rows (the dispatcher's wake-up);
    returns a function that removes it."""
    _listeners.add(listener)
    return lambda: _listeners.discard(listener)


def new_delivery_id() -> str:
    return "msg_" + secrets.token_hex(12)


def wake() -> None:
    """Wake this process's dispatcher (rows were committed)."""
    for listener in list(_listeners):
        listener()


async def _anything_active(session: AsyncSession) -> bool:
    key = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _any_active.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    query = select(exists().where(WebhookEndpoint.status == WebhookStatus.ACTIVE))
    answer = bool(await session.scalar(query))
    if _cache_seconds > 0 and (answer or _remember_none):
        _any_active[key] = (now + _cache_seconds, answer)
    return answer


async def _account_owners(session: AsyncSession, items: list[Outgoing]) -> dict[str, int]:
    ids = {item.owner_account_id for item in items if item.owner_account_id}
    if not ids:
        return {}
    rows = await session.execute(
        select(PaperAccount.id, PaperAccount.user_id).where(PaperAccount.id.in_(ids))
    )
    return dict(rows.all())


async def write_deliveries(session: AsyncSession, events: Sequence[Event]) -> None:
    """One delivery row per (event, active endpoint subscribed to it and allowed to see it)."""
    items = [item for item in map(outgoing, events) if item is not None]
    if not items or not await _anything_active(session):
        return
    accounts = await _account_owners(session, items)
    owners = {item.owner_user_id for item in items if item.owner_user_id is not None}
    owners |= set(accounts.values())
    names = {item.name for item in items}
    query = (
        select(WebhookEndpoint.id, WebhookEndpoint.user_id, WebhookEndpoint.events, User.role)
        .join(User, User.id == WebhookEndpoint.user_id)
        .where(WebhookEndpoint.status == WebhookStatus.ACTIVE)
    )
    if names <= (ACCOUNT_OWNED | USER_OWNED):  # only owned events: only the owners' endpoints
        if not owners:
            return
        query = query.where(WebhookEndpoint.user_id.in_(owners))
    endpoints = (await session.execute(query)).all()
    now = utcnow()
    rows: list[dict[str, object]] = []
    for item in items:
        owner = item.owner_user_id
        if item.owner_account_id is not None:
            owner = accounts.get(item.owner_account_id)
            if owner is None:
                continue
        for endpoint_id, user_id, subscribed, role in endpoints:
            if item.name not in subscribed:
                continue
            if (item.name in ACCOUNT_OWNED or item.name in USER_OWNED) and user_id != owner:
                continue
            if item.name in ADMIN_ONLY and role is not Role.ADMIN:
                continue
            rows.append(delivery_row(endpoint_id, item.name, item.body, now))
    if rows:
        await session.execute(insert(WebhookDelivery), rows)
        after_commit(session, wake)


def delivery_row(endpoint_id: str, name: str, body: str, now: object) -> dict[str, object]:
    return {
        "id": new_delivery_id(),
        "endpoint_id": endpoint_id,
        "event_type": name,
        "body": body,
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


on_emit(write_deliveries)
