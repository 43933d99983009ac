"""Webhooks benchmark (issue 13): first-attempt latency after the causing commit, deliveries/s
of one worker against a bare httpx loop posting the same bodies, and the outbox hook's cost.

`python -m benchmarks.bench_webhooks` from the repository root. Prints a table (figures are
copied into docs/benchmarks.md, "Webhooks"); always exits 0, a missed bar is printed as FAIL.
The receiver is an aiohttp server in a subprocess on 127.0.0.1 answering 200 at once; the
database a migrated SQLite file.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import delete, func, select

from quantdesk import migrate
from quantdesk.access.scopes import Role
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.infra.events import emit
from quantdesk.models.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from quantdesk.portfolio.events import AlertTriggered
from quantdesk.webhooks import outbox
from quantdesk.webhooks.dispatcher import Dispatcher
from quantdesk.webhooks.secrets import secret_box
from quantdesk.webhooks.signing import new_secret

RECEIVER = """
import sys, time
from aiohttp import web
log = open(sys.argv[2], "a", buffering=1)
async def hook(request):
    await request.read()
    log.write(f"{request.headers.get('webhook-id', '-')} {time.time()}\\n")
    return web.Response(text="ok")
app = web.Application()
app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""
PORT = 18931
LATENCY_EVENTS = 200
THROUGHPUT_EVENTS = 3000


def _alert(user_id: int, n: int) -> AlertTriggered:
    return AlertTriggered(user_id, f"al_{n}", "GOOG", "above", "100", "101", n)


async def _wait_port() -> None:
    for _ in range(100):
        try:
            async with httpx.AsyncClient() as client:
                await client.post(f"http://127.0.0.1:{PORT}/hook", content=b"{}")
            return
        except httpx.HTTPError:
            await asyncio.sleep(0.1)
    raise RuntimeError("receiver did not start")


async def main(folder: Path) -> None:
    url = f"sqlite+aiosqlite:///{folder / 'q.db'}"
    migrate.upgrade(url)
    settings = Settings(
        _env_file=None,
        database_url=url,
        webhooks_allow_hosts=[f"127.0.0.1:{PORT}"],
        webhooks_sweep_seconds=1.0,
    )
    log_path = folder / "received.log"
    db = Database(settings)
    rows: list[tuple[str, str, str, str]] = []
    try:
        await _wait_port()
        async with db.session() as session:
            user = await auth_service.register(
                session,
                email="wh-runner@example.com",
                password="Qx-7hLk2-pZ9w-Rt4v-Mn8s",
                role=Role.USER,
                client=ClientInfo("127.0.0.1", "bench"),
            )
            session.add(
                WebhookEndpoint(
                    id="wh_bench",
                    user_id=user.id,
                    url=f"http://127.0.0.1:{PORT}/hook",
                    events=["alert_triggered"],
                    secret=secret_box(settings).seal(new_secret()),
                )
            )
        outbox.configure(settings)

        # 1. first attempt after the causing commit (one event per transaction, paced)
        dispatcher = Dispatcher(db, settings)
        await dispatcher.start()
        committed: dict[str, float] = {}
        for n in range(LATENCY_EVENTS):
            async with db.session() as session:
                await emit(session, None, [_alert(user.id, n)])
                ids = (
                    await session.scalars(
                        select(WebhookDelivery.id)
                        .order_by(WebhookDelivery.created_at.desc())
                        .limit(1)
                    )
                ).all()
            committed[ids[0]] = time.time()
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.5)
        await dispatcher.stop()
        arrived: dict[str, float] = {}
        for line in log_path.read_text().split("\n"):
            if line.strip():
                msg, at = line.split()
                arrived.setdefault(msg, float(at))
        lat = sorted((arrived[m] - t) * 1000 for m, t in committed.items() if m in arrived)
        p50 = statistics.median(lat)
        p99 = lat[int(len(lat) * 0.99) - 1]
        rows.append(
            (
                "first attempt after commit, p50 / p99",
                f"{p50:.1f} / {p99:.1f} ms",
                "bar p99 <= 1000 ms",
                "ok" if p99 <= 1000 and len(lat) == LATENCY_EVENTS else "FAIL",
            )
        )

        # 2. throughput of one worker over a backlog
        async with db.session() as session:
            await emit(session, None, [_alert(user.id, n) for n in range(THROUGHPUT_EVENTS)])
        worker = Dispatcher(db, settings)
        clock = time.perf_counter()
        while await worker.run_once():
            pass
        took = time.perf_counter() - clock
        await worker.stop()
        async with db.session() as session:
            done = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == DeliveryStatus.SUCCEEDED)
            )
        ours = THROUGHPUT_EVENTS / took
        bodies = [
            f'{{"type":"alert_triggered","n":{n}}}'.encode() for n in range(THROUGHPUT_EVENTS)
        ]
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=32)) as client:
            sem = asyncio.Semaphore(32)

            async def post(body: bytes) -> None:
                async with sem:
                    await client.post(f"http://127.0.0.1:{PORT}/hook", content=body)

            clock = time.perf_counter()
            await asyncio.gather(*(post(b) for b in bodies))
            bare = THROUGHPUT_EVENTS / (time.perf_counter() - clock)
        rows.append(
            (
                "deliveries/s, one worker (bare httpx loop)",
                f"{ours:,.0f} ({bare:,.0f})",
                "bar >= 200/s",
                "ok" if ours >= 200 and done == LATENCY_EVENTS + THROUGHPUT_EVENTS else "FAIL",
            )
        )
        rows.append(("  ratio to the bare loop", f"{ours / bare:.2f}x", "", ""))

        # 3. the outbox hook inside a transaction: no webhook at all (cached) vs one webhook
        async def hook_cost(n: int) -> float:
            async with db.session() as session:
                await session.execute(select(1))
                clock = time.perf_counter()
                for i in range(n):
                    await outbox.write_deliveries(session, [])
                    await emit(session, None, [_alert(user.id + 1000, i)])
                took = time.perf_counter() - clock
                await session.rollback()
            return took / n * 1e6

        with_hook = await hook_cost(500)
        async with db.session() as session:
            await session.execute(delete(WebhookEndpoint))
        outbox.forget_subscriptions()
        without = await hook_cost(500)
        rows.append(
            (
                "emit() outbox hook, no webhooks / webhooks of other users",
                f"{without:.0f} / {with_hook:.0f} us per event",
                "",
                "",
            )
        )
    finally:
        await db.dispose()
    width = max(len(r[0]) for r in rows)
    for name, value, bar, verdict in rows:
        print(f"{name:<{width}}  {value:<28} {bar:<20} {verdict}")


def run() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    log = folder / "received.log"
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(PORT), str(log)])
    try:
        asyncio.run(main(folder))
    finally:
        receiver.terminate()
        receiver.wait()


if __name__ == "__main__":
    run()
