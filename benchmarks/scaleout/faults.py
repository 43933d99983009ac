"""Faults for `python -m benchmarks.scaleout.run --fault redis|postgres|worker` (repeatable):
each runs after the invariants, under its own short load (tests/support/cluster_outages.py,
cluster_worker_fault.py), and its figures (status counts per phase, recovery) become a row of
docs/scale-out.md. The worker fault needs the cluster started with WORKER_FAULT_ENV (run.py
does that when it starts the cluster)."""

from __future__ import annotations

from tests.support.cluster_invariants import Outcome
from tests.support.cluster_outages import FaultReport, postgres_outage, redis_outage
from tests.support.cluster_worker_fault import worker_killed_mid_sweep

from quantdesk.cluster.state import ClusterState

FAULTS = ("redis", "postgres", "worker")


async def _fault(state: ClusterState, fault: str) -> FaultReport:
    if fault == "redis":
        return await redis_outage(state)
    if fault == "postgres":
        return await postgres_outage(state)
    return await worker_killed_mid_sweep(state)


async def run_faults(state: ClusterState, faults: list[str]) -> list[Outcome]:
    outcomes = []
    for fault in faults:
        report = await _fault(state, fault)
        print(f"{report.name}: {report.figures()}", flush=True)
        outcomes.append(report.outcome())
    return outcomes
