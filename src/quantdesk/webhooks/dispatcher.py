"""The delivery worker: claims due outbox rows, sends them, records every attempt.

A pass (`run_once`) claims up to `webhooks_batch_size` due rows in one short transaction,
leasing them (`locked_until` = now + `webhooks_lease_seconds`; on PostgreSQL the claim also
skips rows another worker is claiming, `FOR UPDATE SKIP LOCKED`), sends them concurrently, and
records the outcomes in a second transaction. A worker that dies mid-batch leaves its rows
leased: once the lease runs out, the next pass of any worker sends them again (at least once;
receivers dedupe on `webhook-id`). Nothing lives only in memory or in Redis.

`Dispatcher` runs passes in a loop inside a serving process: at once when this process commits
new rows (outbox.on_new_deliveries), otherwise every `webhooks_sweep_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import insert, or_, select, update

from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.mail import MailBackend
from quantdesk.models import utcnow
from quantdesk.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookStatus,
)
from quantdesk.observability.logging import get_logger
from quantdesk.webhooks import outbox
from quantdesk.webhooks.disable import disable_endpoints
from quantdesk.webhooks.secrets import secrets_in_force
from quantdesk.webhooks.sender import AttemptResult, attempt, retry_delay
from quantdesk.webhooks.ssrf import guarded_client

log = get_logger("quantdesk.webhooks")

REPLAY_MARK = "replay requested"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: str
    endpoint_id: str
    body: str
    attempts: int
    manual: bool


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    active: bool
    secrets: list[str]
    failing_since: datetime | None


class Dispatcher:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        mail: MailBackend | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.mail = mail
        self._client = client or guarded_client(
            settings, max_connections=settings.webhooks_concurrency
        )
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: object = None
        self.sent = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        remove = outbox.on_new_deliveries(self._wake.set)
        self._unlisten = remove
        self._task = asyncio.create_task(self._run(), name="webhooks-dispatcher")

    async def stop(self) -> None:
        if callable(self._unlisten):
            self._unlisten()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._client.aclose()

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a database outage must not end the worker
                log.error("webhook dispatch pass failed", error=str(error)[:300])
                sent = 0
            if sent:
                continue  # more may be due
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.webhooks_sweep_seconds)

    # ------------------------------------------------------------------ one pass
    async def run_once(self) -> int:
        """Claim, send and record one batch; answers how many rows it attempted."""
        claimed = await self.claim()
        if not claimed:
            return 0
        targets = await self._targets({row.endpoint_id for row in claimed})
        limit = asyncio.Semaphore(self.settings.webhooks_concurrency)

        async def send(row: Claimed) -> AttemptResult | None:
            target = targets.get(row.endpoint_id)
            if target is None or not target.active:
                return None
            async with limit:
                return await attempt(
                    self._client,
                    target.url,
                    row.id,
                    row.body.encode(),
                    target.secrets,
                    self.settings.webhooks_response_max_bytes,
                )

        results = await asyncio.gather(*(send(row) for row in claimed))
        await self.record(claimed, results, targets)
        self.sent += len(claimed)
        return len(claimed)

    async def claim(self) -> list[Claimed]:
        now = utcnow()
        lease = now + timedelta(seconds=self.settings.webhooks_lease_seconds)
        delivery = WebhookDelivery
        due = (
            select(delivery.id)
            .where(
                delivery.status == DeliveryStatus.PENDING,
                delivery.next_attempt_at <= now,
                or_(delivery.locked_until.is_(None), delivery.locked_until < now),
            )
            .order_by(delivery.next_attempt_at)
            .limit(self.settings.webhooks_batch_size)
        )
        if self.db.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(delivery)
            .where(delivery.id.in_(due.scalar_subquery()))
            .values(locked_until=lease)
            .returning(
                delivery.id,
                delivery.endpoint_id,
                delivery.body,
                delivery.attempts,
                delivery.last_error,
            )
            .execution_options(synchronize_session=False)
        )
        async with self.db.serialized_writes(), self.db.session() as session:
            rows = (await session.execute(statement)).all()
        return [Claimed(r[0], r[1], r[2], r[3], r[4] == REPLAY_MARK) for r in rows]

    async def _targets(self, endpoint_ids: set[str]) -> dict[str, Target]:
        async with self.db.session() as session:
            endpoints = (
                await session.scalars(
                    select(WebhookEndpoint).where(WebhookEndpoint.id.in_(endpoint_ids))
                )
            ).all()
        return {
            e.id: Target(
                e.url,
                e.status is WebhookStatus.ACTIVE,
                secrets_in_force(e, self.settings),
                e.failing_since,
            )
            for e in endpoints
        }

    async def record(
        self,
        claimed: list[Claimed],
        results: list[AttemptResult | None],
        targets: dict[str, Target],
    ) -> None:
        now = utcnow()
        schedule = self.settings.webhooks_retry_schedule
        updates: list[dict[str, object]] = []
        attempts: list[dict[str, object]] = []
        healthy: set[str] = set()
        failing: set[str] = set()
        gone: set[str] = set()
        for row, result in zip(claimed, results, strict=True):
            if result is None:  # endpoint disabled or deleted meanwhile
                updates.append(
                    {
                        "id": row.id,
                        "status": DeliveryStatus.FAILED,
                        "locked_until": None,
                        "next_attempt_at": None,
                        "last_error": "endpoint disabled",
                    }
                )
                continue
            made = row.attempts + 1
            attempts.append(
                {
                    "delivery_id": row.id,
                    "number": made,
                    "trigger": "manual" if row.manual else "scheduled",
                    "started_at": result.started_at,
                    "latency_ms": result.latency_ms,
                    "status_code": result.status_code,
                    "response": result.response,
                    "response_headers": result.headers,
                    "error": result.error,
                }
            )
            change: dict[str, object] = {
                "id": row.id,
                "attempts": made,
                "locked_until": None,
                "last_attempt_at": result.started_at,
                "last_status_code": result.status_code,
                "last_error": result.error or (None if result.ok else f"HTTP {result.status_code}"),
            }
            if result.ok:
                change |= {
                    "status": DeliveryStatus.SUCCEEDED,
                    "next_attempt_at": None,
                    "delivered_at": now,
                }
                healthy.add(row.endpoint_id)
            else:
                failing.add(row.endpoint_id)
                if result.gone:
                    gone.add(row.endpoint_id)
                delay = (
                    None
                    if (result.gone or row.manual)
                    else retry_delay(made, schedule, result.retry_after)
                )
                if delay is None:
                    change |= {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
                else:
                    change |= {"next_attempt_at": now + timedelta(seconds=delay)}
            updates.append(change)
        failing -= healthy
        limit = timedelta(hours=self.settings.webhooks_disable_after_hours)
        stale = {
            endpoint_id
            for endpoint_id in failing
            if (since := targets[endpoint_id].failing_since) is not None and now - since >= limit
        }
        async with self.db.serialized_writes(), self.db.session() as session:
            if updates:
                await session.execute(update(WebhookDelivery), updates)
            if attempts:
                await session.execute(insert(WebhookAttempt), attempts)
            if healthy:
                await session.execute(
                    update(WebhookEndpoint)
                    .where(
                        WebhookEndpoint.id.in_(healthy), WebhookEndpoint.failing_since.is_not(None)
                    )
                    .values(failing_since=None)
                    .execution_options(synchronize_session=False)
                )
            if failing:
                await session.execute(
                    update(WebhookEndpoint)
                    .where(WebhookEndpoint.id.in_(failing), WebhookEndpoint.failing_since.is_(None))
                    .values(failing_since=now)
                    .execution_options(synchronize_session=False)
                )
            reasons = dict.fromkeys(gone, "the endpoint answered 410 Gone")
            hours = self.settings.webhooks_disable_after_hours
            reasons |= dict.fromkeys(stale - gone, f"every attempt failed for {hours:g} hours")
            disabled = await disable_endpoints(session, reasons) if reasons else []
        for notice in disabled:
            log.warning("webhook disabled", webhook_id=notice.endpoint_id, reason=notice.reason)
            if self.mail is not None:
                try:
                    await self.mail.send(notice.message(self.settings))
                except Exception as error:
                    log.error("webhook disable notice not sent", error=str(error)[:200])
