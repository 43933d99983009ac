"""Store faults under load on the loopback cluster (docs/scale-out.md, "Faults"): Redis
SIGKILLed for 30 s, PostgreSQL SIGKILLed and restarted, each while tests/support/cluster_load.py
runs, judged per phase. Used by tests/cluster/test_faults.py and `benchmarks.scaleout.run
--fault`."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from quantdesk.cluster.restart import kill_service, restart_service
from quantdesk.cluster.state import ClusterState
from tests.support import cluster_invariants as invariants
from tests.support.cluster_invariants import Outcome
from tests.support.cluster_load import (
    OK,
    ORDER,
    READ,
    READY,
    SIGN_IN,
    LoadRecord,
    background_load,
    prepare_users,
)

RECOVERY_BOUND = 5.0  # seconds from the store's return to the first fully-OK second
DETECTION_GRACE = 1.0  # seconds after the kill for requests already under way
BUS_DOWN_SECONDS = 5.0  # readiness fails once the event subscription is down this long
ALLOWED = frozenset({200, 201, 503})


@dataclass
class FaultReport:
    """What happened, phase by phase, and the checks it passed or failed."""

    name: str
    phases: dict[str, dict[str, Counter[int]]]
    recovery: int | None  # first fully-OK second after the return, None: never
    ready_recovery: float | None  # seconds until every replica's /health/ready is 200 again
    failures: list[str]
    extra: str = ""
    store_outage: bool = True  # recovery figures apply (a worker's loss has none)

    @property
    def ok(self) -> bool:
        return not self.failures

    def figures(self) -> str:
        parts = []
        for phase, kinds in self.phases.items():
            counts = "; ".join(
                f"{kind} " + " ".join(f"{status}x{n}" for status, n in sorted(c.items()))
                for kind, c in kinds.items()
            )
            parts.append(f"{phase}: {counts}")
        text = " / ".join(parts)
        if self.store_outage:
            recovery = "never" if self.recovery is None else f"{self.recovery} s"
            ready = "never" if self.ready_recovery is None else f"{self.ready_recovery:.1f} s"
            text += f" / recovery {recovery}, /health/ready 200 after {ready}"
        return text + (f" / {self.extra}" if self.extra else "")

    def outcome(self) -> Outcome:
        detail = self.figures() + ("" if self.ok else " / FAILED: " + "; ".join(self.failures))
        return Outcome(self.name, self.ok, detail)


@dataclass(frozen=True)
class Timeline:
    start: float
    killed: float  # the kill was sent
    restarting: float  # the restart began: the store may answer from here on
    back: float  # the restarted store answers (PING, pg_isready)
    end: float


def _by_kind(record: LoadRecord, start: float, end: float) -> dict[str, Counter[int]]:
    return {kind: record.statuses(start, end, kind) for kind in (READ, ORDER, SIGN_IN, READY)}


def _ready_recovery(record: LoadRecord, back: float) -> float | None:
    """Seconds from `back` until every replica's readiness stays 200."""
    latest = 0.0
    for where in {s.where for s in record.samples if s.kind == READY}:
        after = [s for s in record.samples if s.kind == READY and s.where == where and s.at >= back]
        if not after or after[-1].status != 200:
            return None
        since = after[-1].at
        for sample in reversed(after):
            if sample.status != 200:
                break
            since = sample.at
        latest = max(latest, since - back)
    return latest


def _judge(name: str, record: LoadRecord, t: Timeline, fail_from: float) -> FaultReport:
    """The checks both faults share; `fail_from`: when readiness must be 503."""
    phases = {
        "before": _by_kind(record, t.start, t.killed),
        "during": _by_kind(record, t.killed, t.back),  # until it answers again
        "after": _by_kind(record, t.back, t.end),
    }
    recovery = record.first_ok_second(t.back, t.end)
    ready_recovery = _ready_recovery(record, t.back)
    failures = []
    unexpected = {s.status for s in record.samples} - ALLOWED
    if unexpected:
        failures.append(f"statuses outside {sorted(ALLOWED)}: {sorted(unexpected)}")
    for kind, counts in phases["before"].items():
        if set(counts) != {OK[kind]}:
            failures.append(f"{kind} before the fault: {dict(counts)}")
    writes = record.statuses(t.killed + DETECTION_GRACE, t.restarting, ORDER, SIGN_IN)
    if set(writes) != {503}:
        failures.append(f"orders and sign-ins during the outage not all 503: {dict(writes)}")
    ready = record.statuses(fail_from, t.restarting, READY)
    if set(ready) != {503}:
        failures.append(f"/health/ready during the outage not all 503: {dict(ready)}")
    if recovery is None or recovery > RECOVERY_BOUND:
        failures.append(f"recovery {recovery} s, bound {RECOVERY_BOUND:.0f} s")
    if ready_recovery is None or ready_recovery > RECOVERY_BOUND:
        failures.append(f"/health/ready back after {ready_recovery} s")
    return FaultReport(name, phases, recovery, ready_recovery, failures)


async def _fault(
    state: ClusterState, service: str, down_seconds: float, before: float, after: float
) -> tuple[LoadRecord, Timeline]:
    directory = Path(state.dir)
    users = await prepare_users(state)
    async with background_load(state, users) as record:
        start = time.monotonic()
        await asyncio.sleep(before)
        killed = time.monotonic()
        await asyncio.to_thread(kill_service, directory, service)
        await asyncio.sleep(max(0.0, killed + down_seconds - time.monotonic()))
        restarting = time.monotonic()
        await asyncio.to_thread(restart_service, directory, service)
        back = time.monotonic()
        await asyncio.sleep(after)
        end = time.monotonic()
    return record, Timeline(start, killed, restarting, back, end)


async def redis_outage(
    state: ClusterState, down_seconds: float = 30.0, before: float = 3.0, after: float = 12.0
) -> FaultReport:
    """Redis SIGKILLed for `down_seconds`, then started again (empty). Reads keep 200 all
    along; orders and sign-ins (fail-closed limits) are 503; readiness says "degraded" (200)
    from the kill and is 503 once the event subscription has been down BUS_DOWN_SECONDS; all
    back within RECOVERY_BOUND."""
    record, t = await _fault(state, "redis", down_seconds, before, after)
    name = f"Redis killed for {down_seconds:.0f} s under load"
    report = _judge(name, record, t, t.killed + BUS_DOWN_SECONDS + 1.5)
    # Truthful from the first probe after the kill: within the grace a 200 says "degraded".
    said_ok = [
        s
        for s in record.between(t.killed + DETECTION_GRACE, t.restarting, READY)
        if s.status == 200 and s.state != "degraded"
    ]
    if said_ok:
        report.failures.append(f"/health/ready said ok {len(said_ok)} times with Redis down")
    reads = record.statuses(t.start, t.end, READ)
    if set(reads) != {200}:
        report.failures.append(f"quote reads not all 200: {dict(reads)}")
    return report


async def postgres_outage(
    state: ClusterState, down_seconds: float = 5.0, before: float = 3.0, after: float = 12.0
) -> FaultReport:
    """PostgreSQL SIGKILLed (postmaster and backends), restarted after `down_seconds` (crash
    recovery first): no 500, orders and sign-ins 503, readiness 503, back within
    RECOVERY_BOUND, and every order acknowledged with 201 readable afterwards."""
    record, t = await _fault(state, "postgres", down_seconds, before, after)
    name = "PostgreSQL killed and restarted under load"
    report = _judge(name, record, t, t.killed + 2 * DETECTION_GRACE)
    kept = await invariants.acknowledged_orders_kept(state, record.acknowledged)
    report.extra = kept.detail
    if not kept.ok:
        report.failures.append(kept.detail)
    return report
