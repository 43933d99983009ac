"""The scale-out invariants on a real loopback cluster: PostgreSQL, Redis, haproxy, two API
replicas, a Celery worker and beat (docs/scale-out.md)."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from quantdesk.cluster.state import ClusterState
from tests.support import cluster_invariants as invariants
from tests.support.cluster import new_trader, place_order
from tests.support.cluster_faults import replica_killed
from tests.support.cluster_webhooks import WebhookReceiver, subscribe, webhooks_delivered

pytestmark = pytest.mark.cluster


async def test_every_replica_is_ready_behind_haproxy(cluster: ClusterState) -> None:
    assert len(cluster.replica_urls()) == 2
    async with httpx.AsyncClient(timeout=10) as client:
        for url in [cluster.url, *cluster.replica_urls()]:
            assert (await client.get(f"{url}/health/ready")).status_code == 200


async def test_duplicate_idempotent_posts_across_replicas_make_one_order(
    cluster: ClusterState,
) -> None:
    outcome = await invariants.duplicate_orders(cluster, posts=50)
    assert outcome.ok, outcome.detail


async def test_rate_limit_is_exact_across_replicas(cluster: ClusterState) -> None:
    outcome = await invariants.rate_limit_exact(cluster, limit=10)
    assert outcome.ok, outcome.detail


async def test_event_on_one_replica_reaches_clients_on_every_replica_without_gaps(
    cluster: ClusterState,
) -> None:
    outcome = await invariants.ws_fan_out(cluster, orders=10)
    assert outcome.ok, outcome.detail


async def test_webhooks_delivered_and_acknowledged_orders_kept_after_load(
    cluster: ClusterState,
) -> None:
    """A short burst of orders over both replicas from a webhook subscriber: every 201 is
    readable afterwards, every order reached the receiver, ledger and audit chain verify."""
    replicas = cluster.replica_urls()
    async with (
        WebhookReceiver(cluster.webhook_receiver_port) as receiver,
        httpx.AsyncClient(timeout=30) as client,
    ):
        trader = await new_trader(client, cluster.url)
        await subscribe(client, cluster.url, trader, receiver.url)
        answers = await asyncio.gather(
            *(
                place_order(client, replicas[n % len(replicas)], trader, secrets.token_hex(8))
                for n in range(40)
            )
        )
        assert {answer.status_code for answer in answers} == {201}
        acknowledged = [(trader, str(answer.json()["id"])) for answer in answers]
        delivered = await webhooks_delivered(receiver, [order for _, order in acknowledged])
    kept = await invariants.acknowledged_orders_kept(cluster, acknowledged)
    assert kept.ok, kept.detail
    assert delivered.ok, delivered.detail
    for check in (invariants.ledger_verifies, invariants.audit_chain_verifies):
        outcome = await check(cluster)
        assert outcome.ok, outcome.detail


async def test_zz_replica_killed_ws_clients_resume_through_haproxy(cluster: ClusterState) -> None:
    """Last in the module (zz): it kills api1, which the earlier tests need."""
    outcome = await replica_killed(cluster, victim="api1", orders=5)
    assert outcome.ok, outcome.detail
