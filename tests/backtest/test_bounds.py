"""Every backtest and sweep setting is checked at the edge: out of range is a 422 naming the
field before anything is queued, and every value in range runs to completion (never 202 and
then a failed run)."""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from quantdesk.backtest import defaults
from quantdesk.backtest.compute import RunInputs, compute_document, json_safe
from quantdesk.backtest.schemas import BacktestCreate, SweepCreate
from quantdesk.engine.backtest import Bars
from tests.support.backtests import REQUEST, SWEEP, URL, goog_frame, wait_for
from tests.support.problems import assert_problem

INF = math.inf
# (field, out-of-range values): each one alone makes the request a 422 naming the field.
OUT_OF_RANGE: list[tuple[str, list[Any]]] = [
    ("cash", [0, -1.0, 1e12 * 1.0001, 1e300, "5000", True]),
    ("commission", [-1e-9, 0.1, 1.0, "0.1"]),
    ("slippage_bps", [-0.5, 1000, 1e9]),
    ("stop_loss_pct", [0, -1, 100, 1e6]),
    ("take_profit_pct", [0, -5, 100_000.01, 1e300]),
    ("max_bars", [0, -1, 10_000_001, 1.5, "10"]),
    ("periods_per_year", [0, 0.5, -252, 31_536_000.01, 39_094_010.67, 1e8, 1e300]),
    ("start", ["0001-01-01T00:00:00+01:00", "not a date", "2013-02-30"]),
    ("end", ["9999-12-31T23:59:59-01:00", "2013-13-01"]),
    ("fill", ["vwap", None]),
    ("sizing", [{"fraction": 0}, {"fraction": 1.0001}, {"fraction": -1}, "half"]),
    ("sizing", [{"size": 0}, {"size": 1e-9}, {"size": 1e12 * 1.0001}, {"size": "1"}, "fixed"]),
    ("allow_short", ["yes", 2]),
    ("timeframe", ["2d", ""]),
    ("symbol", ["", "A" * 33, "GO OG!"]),
]


def _cases(body: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    return [({**body, field: value}, field) for field, values in OUT_OF_RANGE for value in values]


def _names(body: dict[str, Any], field: str) -> bool:
    errors: list[dict[str, Any]] = body["errors"]
    return any(error["loc"][:2] == ["body", field] for error in errors)


async def test_every_out_of_range_setting_is_422_naming_it(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str]
) -> None:
    for path, base in ((URL, REQUEST), (f"{URL}/sweep", SWEEP)):
        for request, field in _cases(base):
            response = await client.post(path, json=request, headers=premium)
            problem = assert_problem(response, 422)
            assert _names(problem, field), (path, request, problem)
    listed = (await client.get(URL, headers=premium)).json()
    assert listed["meta"]["count"] == 0  # nothing was queued


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
@pytest.mark.parametrize("field", ["cash", "commission", "periods_per_year", "take_profit_pct"])
async def test_non_finite_numbers_are_422_naming_the_field(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str], field: str, literal: str
) -> None:
    content = '{"symbol": "GOOG", "%s": %s}' % (field, literal)  # noqa: UP031 (raw JSON)
    headers = {**premium, "Content-Type": "application/json"}
    problem = assert_problem(await client.post(URL, content=content, headers=headers), 422)
    assert _names(problem, field), problem


@pytest.mark.parametrize(
    ("grid", "field"),
    [
        ({"fast": {"start": 0, "stop": 5}, "slow": [20]}, "grid"),
        ({"fast": {"start": 1, "stop": 100_001}, "slow": [20]}, "grid"),
        ({"fast": {"start": 5, "stop": 10, "step": 0}, "slow": [20]}, "grid"),
        ({"fast": [0, 5], "slow": [20]}, "grid"),
        ({"fast": list(range(1, 2_502)), "slow": [3_000]}, "grid"),
        ({"fast": [], "slow": [20]}, "grid"),
    ],
)
async def test_out_of_range_grids_are_422_naming_the_grid(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str], grid: Any, field: str
) -> None:
    response = await client.post(f"{URL}/sweep", json={**SWEEP, "grid": grid}, headers=premium)
    assert _names(assert_problem(response, 422), field)


# The extremes of every range, together where they can be: each request is accepted and runs.
AT_THE_BOUNDS: list[dict[str, Any]] = [
    {"periods_per_year": defaults.MAX_PERIODS_PER_YEAR, "allow_short": True},
    {"periods_per_year": defaults.MIN_PERIODS_PER_YEAR, "commission": 0.0999999},
    {"cash": defaults.MAX_CASH, "slippage_bps": 999.999, "take_profit_pct": 100_000},
    {"cash": 1e-9, "sizing": {"fraction": 1e-300}, "stop_loss_pct": 99.9999, "max_bars": 1},
    {"max_bars": defaults.MAX_HOLD_BARS, "fill": "close", "stop_loss_pct": 1e-9},
    {"params": {"fast": 9_999, "slow": 10_000}, "start": "0001-01-01", "end": "9999-12-31"},
    {"params": {"fast": 1, "slow": 2}, "sizing": {"fraction": 1}, "take_profit_pct": 1e-9},
    {"cash": 1e-9, "sizing": {"size": defaults.MIN_FIXED_SIZE}, "commission": 0.0999999},
    {"cash": defaults.MAX_CASH, "sizing": {"size": defaults.MAX_FIXED_SIZE}, "allow_short": True},
]


@pytest.mark.parametrize("change", AT_THE_BOUNDS)
async def test_settings_at_the_bounds_are_accepted_and_complete(
    client: httpx.AsyncClient, goog: Bars, premium: dict[str, str], change: dict[str, Any]
) -> None:
    response = await client.post(URL, json={**REQUEST, **change}, headers=premium)
    assert response.status_code == 202, response.text
    run = await wait_for(client, response.json()["id"], premium)
    assert run["status"] == "completed", run["error"]
    sweep = {**SWEEP, **{k: v for k, v in change.items() if k != "params"}}
    response = await client.post(f"{URL}/sweep", json=sweep, headers=premium)
    assert response.status_code == 202, response.text
    run = await wait_for(client, response.json()["id"], premium)
    assert run["status"] == "completed", run["error"]


# --- the same property over generated values, at the schema and engine level --------------

FRAME = goog_frame()
# field: (low, high, low accepted, high accepted)
RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "cash": (0.0, defaults.MAX_CASH, False, True),
    "commission": (0.0, defaults.MAX_COMMISSION, True, False),
    "slippage_bps": (0.0, defaults.MAX_SLIPPAGE_BPS, True, False),
    "stop_loss_pct": (0.0, 100.0, False, False),
    "take_profit_pct": (0.0, defaults.MAX_TAKE_PROFIT_PCT, False, True),
    "periods_per_year": (defaults.MIN_PERIODS_PER_YEAR, defaults.MAX_PERIODS_PER_YEAR, True, True),
}


@st.composite
def outside(draw: st.DrawFn) -> tuple[str, float]:
    field = draw(st.sampled_from(sorted(RANGES)))
    low, high, low_ok, high_ok = RANGES[field]
    below = st.floats(max_value=low, exclude_max=low_ok)
    above = st.floats(min_value=high, exclude_min=high_ok)
    value = draw(st.one_of(below, above, st.sampled_from([math.nan, INF, -INF])))
    return field, value


@settings(max_examples=300, deadline=None)
@given(outside())
def test_generated_out_of_range_values_are_refused_naming_the_field(
    case: tuple[str, float],
) -> None:
    field, value = case
    for model, base in ((BacktestCreate, REQUEST), (SweepCreate, SWEEP)):
        with pytest.raises(ValidationError) as raised:
            model.model_validate({**base, field: value})
        assert any(error["loc"][0] == field for error in raised.value.errors()), raised.value


def _inside(field: str) -> st.SearchStrategy[float]:
    low, high, low_ok, high_ok = RANGES[field]
    return st.floats(low, high, exclude_min=not low_ok, exclude_max=not high_ok)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.fixed_dictionaries({field: _inside(field) for field in RANGES}),
    short=st.booleans(),
    fill=st.sampled_from(["next_open", "close"]),
    sizing=st.one_of(
        st.just("all_in"),
        st.builds(lambda f: {"fraction": f}, st.floats(0, 1, exclude_min=True)),
        st.builds(
            lambda n: {"size": n}, st.floats(defaults.MIN_FIXED_SIZE, defaults.MAX_FIXED_SIZE)
        ),
    ),
    max_bars=st.one_of(st.none(), st.integers(1, defaults.MAX_HOLD_BARS)),
    periods=st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)).filter(lambda p: p[0] < p[1]),
)
@example(  # the largest periods_per_year on daily bars: annualizing overflows
    values={"cash": 10_000.0, "commission": 0.002, "slippage_bps": 0.0, "stop_loss_pct": 50.0,
            "take_profit_pct": 1_000.0, "periods_per_year": defaults.MAX_PERIODS_PER_YEAR},
    short=False, fill="next_open", sizing="all_in", max_bars=None, periods=(10, 20),
)  # fmt: skip
def test_generated_in_range_settings_always_run(
    values: dict[str, float],
    short: bool,
    fill: str,
    sizing: Any,
    max_bars: int | None,
    periods: tuple[int, int],
) -> None:
    request = {
        **values,
        "symbol": "GOOG",
        "allow_short": short,
        "fill": fill,
        "sizing": sizing,
        "max_bars": max_bars,
    }
    single = BacktestCreate.model_validate(
        {**request, "params": dict(zip(("fast", "slow"), periods, strict=True))}
    )
    document = compute_document(RunInputs(single, FRAME, "1d"))
    assert json_safe(document) == document and document["bars"]["count"] == len(FRAME)
    sweep = SweepCreate.model_validate(
        {**request, "grid": {"fast": [periods[0]], "slow": [periods[1]]}}
    )
    assert compute_document(RunInputs(sweep, FRAME, "1d"))["sweep"]["count"] == 1
