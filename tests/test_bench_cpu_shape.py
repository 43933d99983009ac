"""benchmarks.scaleout.cpu_shape's pieces that need no cluster: the load generator process
(exact request counts, the paths cycled, statuses and X-Cache counted, nothing before "go"
inside the window), the CPU reading (children included) and the sides' figures and verdict."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from argparse import Namespace
from collections import Counter

from benchmarks.scaleout.cpu_load import Generator, LoadOutcome
from benchmarks.scaleout.cpu_report import BAR_RATIO, Side, ratio, render
from benchmarks.scaleout.cpu_shape import Window, _cpu_seconds
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.thread_server import serving_in_thread


def _counting_app(seen: Counter[str]) -> Starlette:
    async def quote(request: Request) -> Response:
        symbol = request.path_params["symbol"]
        seen[symbol] += 1
        status = 404 if symbol == "NOPE" else 200
        return Response("{}", status, headers={"X-Cache": "miss" if status != 200 else "hit"})

    return Starlette(routes=[Route("/api/v1/quotes/{symbol}", quote)])


def test_generator_sends_the_warmup_then_exactly_the_window_cycling_over_paths() -> None:
    seen: Counter[str] = Counter()
    paths = [f"/api/v1/quotes/{s}" for s in ("A", "B", "NOPE")]
    with serving_in_thread(_counting_app(seen)) as url:
        generator = Generator(url, paths, connections=4, warmup=30, requests=300)
        try:
            warm = generator.ready()
            time.sleep(0.3)
            assert sum(seen.values()) == 30  # nothing of the window before "go"
            outcome = generator.run(timeout=60)
        finally:
            generator.close()
    assert warm.requests == 30
    assert outcome.requests == 300 and len(outcome.latencies_ns) == 300
    assert seen == {"A": 110, "B": 110, "NOPE": 110}
    assert outcome.statuses == {200: 200, 404: 100} and outcome.ok == 200
    assert outcome.cache == {"hit": 200, "miss": 100}
    assert outcome.errors == {} and outcome.elapsed_s > 0


def test_cpu_seconds_count_the_children_of_a_process() -> None:
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
    child = subprocess.Popen([sys.executable, "-c", burn + "time.sleep(30)"])
    try:
        before = _cpu_seconds([os.getpid()])
        time.sleep(1.5)  # the child burns 0.4 s of CPU (start-up included before)
        assert _cpu_seconds([os.getpid()]) - before >= 0.2
    finally:
        child.kill()
        child.wait()


def _window(replicas: int, requests: int, cpu_s: float) -> Window:
    load = LoadOutcome(requests, 2.0, [1_000_000] * requests, {200: requests}, {"hit": requests})
    return Window(replicas, load, cpu_s, cpu_s / 10, cpu_s / 5, requests * 4, 2.5)


def test_sides_pool_their_windows_and_the_ratio_meets_or_misses_the_bar() -> None:
    one = Side.of(1, [_window(1, 1000, 2.0), _window(1, 3000, 4.0)], 0.01)
    assert one.requests == 4000 and one.replica_cpu_s == 6.0
    assert one.per_1000(one.replica_cpu_s) == 1.5  # pooled: 6 s / 4,000, not a mean of means
    assert one.windows == 2 and one.rps == 1000.0 and one.p99_ms == 1.0
    within = Side.of(2, [_window(2, 4000, 6.0 * BAR_RATIO - 0.01)], 0.02)
    beyond = Side.of(2, [_window(2, 4000, 6.0 * BAR_RATIO + 0.1)], 0.02)
    assert ratio([one, within]) <= BAR_RATIO < ratio([one, beyond])
    assert one.redis_commands == 16_000  # 4 per request, pooled like the CPU
    args = Namespace(requests=4000, connections=8, rate=500.0)
    passed = render([("bar", [one, within])], args, ("GOOG",))
    assert "**PASS**" in passed and "Diagnostic" not in passed
    assert "| 4.00 |" in passed  # Redis commands per request
    failed = render([("bar", [one, beyond]), ("same-total", [one, within])], args, ("GOOG",))
    assert "**FAIL**" in failed and f"ratio **{ratio([one, within]):.2f}x**" in failed
    assert "same total rate (500/s)" in failed
