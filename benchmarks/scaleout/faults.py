"""Store faults for `python -m benchmarks.scaleout.run --fault redis|postgres` (repeatable):
each runs after the invariants, under its own short load (tests/support/cluster_outages.py),
and its figures (status counts per phase, recovery) become a row of docs/scale-out.md."""

from __future__ import annotations

from tests.support.cluster_invariants import Outcome
from tests.support.cluster_outages import postgres_outage, redis_outage

from quantdesk.cluster.state import ClusterState

FAULTS = ("redis", "postgres")


async def run_faults(state: ClusterState, faults: list[str]) -> list[Outcome]:
    outcomes = []
    for fault in faults:
        report = await (redis_outage(state) if fault == "redis" else postgres_outage(state))
        print(f"{report.name}: {report.figures()}", flush=True)
        outcomes.append(report.outcome())
    return outcomes
