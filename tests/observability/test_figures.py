"""The monitor's figures: read from a private registry, windowed by counter deltas, p95 from
histogram buckets the way Prometheus' histogram_quantile computes it."""

from __future__ import annotations

import math

import pytest

from quantdesk.observability.figures import (
    API_ERROR_RATE,
    API_LATENCY_P95,
    BREAKERS_OPEN,
    JOBS_FAILED,
    PROVIDER_FAILURE_RATE,
    QUEUE_LENGTH,
    bucket_quantile,
    format_value,
    window_figures,
)
from tests.support.metrics import Series

INF = math.inf


@pytest.mark.parametrize(
    ("buckets", "q", "expected"),
    [
        # rank 95 falls in (0.5, 1]: 90 below it, 10 inside -> halfway
        ([(0.1, 50), (0.5, 90), (1.0, 100), (INF, 100)], 0.95, 0.75),
        ([(0.1, 50), (0.5, 90), (1.0, 100), (INF, 100)], 0.5, 0.1),
        # the first bucket interpolates from zero
        ([(0.1, 100), (0.5, 100), (INF, 100)], 0.95, 0.095),
        # beyond the last finite bound nothing better than that bound is known
        ([(0.1, 10), (0.5, 10), (INF, 100)], 0.95, 0.5),
        ([(0.1, 0), (INF, 0)], 0.95, None),
        ([], 0.95, None),
    ],
)
def test_bucket_quantile_interpolates_like_histogram_quantile(
    buckets: list[tuple[float, float]], q: float, expected: float | None
) -> None:
    found = bucket_quantile(q, buckets)
    assert found == pytest.approx(expected) if expected is not None else found is None


def test_rates_and_p95_count_only_what_happened_inside_the_window() -> None:
    series = Series()
    series.serve(500, status=500, seconds=3.0)  # before the window: must not count
    then = series.snapshot()
    series.serve(90, seconds=0.005)
    series.serve(10, status=503, seconds=2.0)
    series.provider.labels("ecb", "fx_rates", "ok").inc(6)
    series.provider.labels("ecb", "fx_rates", "timeout").inc(2)
    series.provider.labels("fred", "economic_series", "rate_limited").inc(2)
    series.jobs.labels("marketdata.fetch_bars", "failed").inc()
    series.jobs.labels("marketdata.fetch_bars", "retrying").inc(3)
    series.jobs.labels("marketdata.fetch_bars", "succeeded").inc(4)

    figures = window_figures(series.snapshot(), then, min_samples=10)

    assert figures[API_ERROR_RATE].value == pytest.approx(0.10)
    assert figures[API_ERROR_RATE].details == {"samples": 100}
    # 90 fast requests, then 10 in (1.0, 2.5]: rank 95 is halfway through that bucket
    assert figures[API_LATENCY_P95].value == pytest.approx(1.75)
    assert figures[PROVIDER_FAILURE_RATE].value == pytest.approx(0.4)
    assert figures[JOBS_FAILED].value == 1


def test_too_few_samples_give_no_rate() -> None:
    series = Series()
    then = series.snapshot()
    series.serve(3, status=500)
    figures = window_figures(series.snapshot(), then, min_samples=10)
    assert figures[API_ERROR_RATE].value is None
    assert figures[API_LATENCY_P95].value is None
    assert figures[PROVIDER_FAILURE_RATE].value is None
    # without a baseline there is no window at all
    assert window_figures(series.snapshot(), None, min_samples=1)[API_ERROR_RATE].value is None


def test_a_counter_reset_starts_the_window_from_zero() -> None:
    before = Series()
    before.serve(1_000, status=500)
    after = Series()  # a restarted process: every counter is back at zero
    after.serve(40)
    after.serve(10, status=500)
    figures = window_figures(after.snapshot(), before.snapshot(), min_samples=10)
    assert figures[API_ERROR_RATE].value == pytest.approx(0.2)
    assert figures[API_LATENCY_P95].details == {"samples": 50}


def test_gauges_read_the_longest_queue_and_the_open_breakers() -> None:
    series = Series()
    series.queue.labels("inprocess").set(12)
    series.queue.labels("quantdesk").set(340)
    series.breaker.labels("ecb").set(2)  # open
    series.breaker.labels("fred").set(1)  # half-open: not counted
    series.breaker.labels("polygon").set(2)
    figures = window_figures(series.snapshot(), None, min_samples=10)
    assert figures[QUEUE_LENGTH].value == 340
    assert figures[QUEUE_LENGTH].details == {"queue": "quantdesk"}
    assert figures[BREAKERS_OPEN].value == 2
    assert figures[BREAKERS_OPEN].details == {"providers": ["ecb", "polygon"]}
    assert window_figures(Series().snapshot(), None, min_samples=1)[QUEUE_LENGTH].value is None


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        (API_ERROR_RATE, 0.125, "12.5%"),
        (API_LATENCY_P95, 0.25, "250 ms"),
        (API_LATENCY_P95, 0.0054166, "5.42 ms"),
        (API_LATENCY_P95, 2.5, "2.50 s"),
        (QUEUE_LENGTH, 340.0, "340"),
        (QUEUE_LENGTH, None, "no data"),
    ],
)
def test_values_are_shown_in_their_unit(metric: str, value: float | None, shown: str) -> None:
    assert format_value(metric, value) == shown
