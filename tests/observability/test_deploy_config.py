"""deploy/: the Prometheus scrape config and the Grafana dashboard query only series that
quantdesk defines (observability/metrics.py), so a renamed metric cannot leave a blank panel."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.metrics import MetricWrapperBase

from quantdesk.observability import metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
SELECTOR = re.compile(r"\b([a-z_][a-z0-9_]*)\{")


def defined_series() -> set[str]:
    found: set[str] = set()
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            found |= {value._name + suffix for suffix in SUFFIXES[str(value._type)]}
    return found


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DEPLOY / "grafana" / "quantdesk.json").read_text())
    return loaded


def expressions() -> list[str]:
    return [t["expr"] for p in dashboard()["panels"] for t in p.get("targets", [])]


def test_dashboard_queries_only_series_quantdesk_exports() -> None:
    used = {name for expr in expressions() for name in SELECTOR.findall(expr)}
    assert used, "no metric selectors found"
    assert used <= defined_series(), used - defined_series()


def test_dashboard_shows_what_operators_need() -> None:
    text = "\n".join(expressions())
    for series in (
        "api_requests_total",
        "api_request_duration_seconds_bucket",
        "provider_requests_total",
        "cache_operations_total",
        "jobs_total",
        "signals_generated_total",
        "signals_active",
    ):
        assert series + "{" in text, series
    assert "histogram_quantile(0.5," in text and "histogram_quantile(0.95," in text
    ids = [panel["id"] for panel in dashboard()["panels"]]
    assert len(ids) == len(set(ids))


def test_prometheus_scrapes_the_metrics_route() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"]
    # the bearer token for QUANTDESK_METRICS_TOKEN is documented, commented out
    assert "credentials_file" in (DEPLOY / "prometheus.yml").read_text()
