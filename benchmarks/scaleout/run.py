"""`python -m benchmarks.scaleout.run [--seconds 20 --users 20 --rate 60]`: load the loopback
cluster with locust (headless, bounded in time, --rate tasks/s in all), then check the
invariants and write docs/scale-out.md (p99 per endpoint class against the 250 ms bar).

Uses the cluster running in --dir when there is one, else brings one up there (and down after,
unless --keep)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import httpx
from tests.support import cluster_invariants as invariants
from tests.support.cluster import Trader, new_trader, sign_in
from tests.support.cluster_faults import replica_killed
from tests.support.cluster_worker_fault import WORKER_FAULT_ENV

from benchmarks.scaleout.faults import FAULTS, run_faults
from benchmarks.scaleout.report import read_failures, read_stats, render, write_doc
from benchmarks.scaleout.side import SideTraffic
from quantdesk.cluster import procs
from quantdesk.cluster.control import down
from quantdesk.cluster.launch import up
from quantdesk.cluster.state import ClusterState

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="load duration (default 20)")
    parser.add_argument("--users", type=int, default=20, help="locust users (default 20)")
    parser.add_argument(
        "--rate", type=float, default=60.0, help="tasks started per second, all users (60)"
    )
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=Path("var/cluster"))
    parser.add_argument("--keep", action="store_true", help="leave a cluster it started running")
    parser.add_argument(
        "--kill-replica",
        action="store_true",
        help="after the invariants, SIGKILL api1 and check WebSocket clients resume (fault)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        choices=FAULTS,
        default=[],
        help="after the invariants, kill Redis (30 s), PostgreSQL or a Celery worker mid-sweep "
        "under load (repeatable)",
    )
    return parser.parse_args()


async def _prepare_users(state: ClusterState, users: int, out: Path) -> Path:
    """`users` fresh traders (registered, signed in, funded account) and the analyst's token,
    for the locust users to take one each."""
    async with httpx.AsyncClient(timeout=120) as client:
        traders = []
        for _ in range(0, users, 5):  # a few at a time: each sign-in is an argon2 hash
            traders += await asyncio.gather(*(new_trader(client, state.url) for _ in range(5)))
        analyst = await sign_in(client, state.url, state.analyst.email, state.analyst.password)
    path = out / "users.json"
    entries = [{"token": t.token, "account_id": t.account_id} for t in traders[:users]]
    path.write_text(json.dumps({"users": entries, "analyst": analyst}))
    path.chmod(0o600)
    return path


async def _locust(state: ClusterState, seconds: int, users: int, rate: float, out: Path) -> Path:
    prefix = out / "locust"
    prepared = await _prepare_users(state, users, out)
    acks = out / "acks.jsonl"
    acks.unlink(missing_ok=True)
    locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
    argv = [locust, "-f", str(LOCUSTFILE), "--headless", "--host", state.url]
    argv += ["-u", str(users), "-r", str(max(1, users // 2)), "--run-time", f"{seconds}s"]
    argv += ["--stop-timeout", "5", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    env = {
        **os.environ,
        "QUANTDESK_SCALEOUT_ACKS": str(acks),
        "QUANTDESK_SCALEOUT_USERS": str(prepared),
        "QUANTDESK_SCALEOUT_USER_RATE": str(rate / users),
    }
    with (out / "locust.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(*argv, stdout=log, stderr=log, env=env)
        await asyncio.wait_for(process.wait(), seconds + 120)
    return prefix


def _acknowledged(path: Path) -> list[tuple[Trader, str]]:
    if not path.exists():
        return []
    pairs = []
    for line in path.read_text().splitlines():
        item = json.loads(line)
        pairs.append((Trader("", item["token"], item["account_id"]), str(item["order_id"])))
    return pairs


async def measure(
    state: ClusterState,
    seconds: int,
    users: int,
    rate: float,
    kill_replica: bool,
    faults: list[str],
) -> None:
    out = Path(state.dir) / "scaleout"
    out.mkdir(exist_ok=True)
    side = SideTraffic(state)
    await side.start()
    prefix = await _locust(state, seconds, users, rate, out)
    outcomes = await side.finish()
    acknowledged = _acknowledged(out / "acks.jsonl")
    outcomes.append(await invariants.acknowledged_orders_kept(state, acknowledged))
    outcomes.append(await invariants.duplicate_orders(state))
    outcomes.append(await invariants.rate_limit_exact(state))
    outcomes.append(await invariants.ledger_verifies(state))
    outcomes.append(await invariants.audit_chain_verifies(state))
    outcomes += await run_faults(state, faults)
    if kill_replica:  # last: the faults' load asks every replica's /health/ready
        outcomes.append(await replica_killed(state, victim="api1"))
    rows = read_stats(prefix)
    section = render(
        rows,
        outcomes,
        read_failures(prefix),
        seconds=seconds,
        users=users,
        rate=rate,
        replicas=state.replicas,
        workers=state.workers,
    )
    write_doc(section)
    print(section)
    if not all(outcome.ok for outcome in outcomes):
        raise SystemExit(1)


def main() -> None:
    args = _arguments()
    started = not procs.any_alive(args.dir)
    if started and "worker" in args.fault:
        os.environ.update(WORKER_FAULT_ENV)  # small, slow sweep chunks: the kill lands in one
    state = up(args.dir, args.replicas, args.workers) if started else ClusterState.load(args.dir)
    try:
        asyncio.run(
            measure(state, args.seconds, args.users, args.rate, args.kill_replica, args.fault)
        )
    finally:
        if started and not args.keep:
            down(args.dir)


if __name__ == "__main__":
    main()
