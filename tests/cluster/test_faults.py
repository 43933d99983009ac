"""Faults under load on a real loopback cluster (docs/scale-out.md, "Faults"): Redis killed
for 30 s, PostgreSQL killed and restarted, the Celery worker killed mid-sweep, each while
quote readers, order clients (fresh Idempotency-Keys) and a sign-in client run through
haproxy. Marker `cluster_faults`: `make test-faults` (and `.ci/run`) runs them; each report's
figures are printed."""

from __future__ import annotations

import pytest

from quantdesk.cluster.state import ClusterState
from tests.support.cluster_outages import postgres_outage, redis_outage
from tests.support.cluster_worker_fault import WORKER_FAULT_ENV, worker_killed_mid_sweep

pytestmark = pytest.mark.cluster_faults


@pytest.fixture(scope="module")
def cluster_env() -> dict[str, str]:
    return WORKER_FAULT_ENV


async def test_celery_worker_killed_mid_sweep_its_chunk_is_redelivered_and_applied_once(
    cluster: ClusterState,
) -> None:
    report = await worker_killed_mid_sweep(cluster)
    print(f"\n{report.name}: {report.figures()}")
    assert report.ok, report.outcome().detail


async def test_postgres_killed_and_restarted_is_503_then_recovers_keeping_every_order(
    cluster: ClusterState,
) -> None:
    report = await postgres_outage(cluster, down_seconds=5.0)
    print(f"\n{report.name}: {report.figures()}")
    assert report.ok, report.outcome().detail


async def test_redis_killed_for_30s_reads_serve_writes_fail_closed_then_recover(
    cluster: ClusterState,
) -> None:
    report = await redis_outage(cluster, down_seconds=30.0)
    print(f"\n{report.name}: {report.figures()}")
    assert report.ok, report.outcome().detail
