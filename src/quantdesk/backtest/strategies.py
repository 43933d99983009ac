"""The strategies a backtest may name: name -> (parameter schema, factory).

A request's ``params`` are validated against the strategy's own schema, so an unknown or
out-of-range parameter is a 422 naming ``params.<name>`` before any run is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, model_validator

from quantdesk.engine.backtest import SmaCross, Strategy
from quantdesk.engine.backtest.ema import EmaCross
from quantdesk.errors import Unprocessable, field_error

# Longer averages than this are not a trading strategy but a typo; it also bounds the
# warm-up a run can ask for.
MAX_PERIOD = 10_000


class CrossParams(BaseModel):
    """Two moving-average periods, fast strictly shorter than slow."""

    model_config = ConfigDict(extra="forbid")

    fast: StrictInt = Field(10, ge=1, le=MAX_PERIOD, description="Fast average period (bars)")
    slow: StrictInt = Field(20, ge=2, le=MAX_PERIOD, description="Slow average period (bars)")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> CrossParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class EmaCrossParams(CrossParams):
    fast: StrictInt = Field(12, ge=1, le=MAX_PERIOD, description="Fast EMA period (bars)")
    slow: StrictInt = Field(26, ge=2, le=MAX_PERIOD, description="Slow EMA period (bars)")


@dataclass(frozen=True)
class StrategyEntry:
    name: str
    description: str
    params: type[BaseModel]
    factory: Callable[[BaseModel], Strategy]
    # Parameter sweeps run through a compiled kernel that exists for this strategy only.
    sweepable: bool = False

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()


def _sma_cross(params: BaseModel) -> Strategy:
    assert isinstance(params, CrossParams)
    return SmaCross(params.fast, params.slow)


def _ema_cross(params: BaseModel) -> Strategy:
    assert isinstance(params, CrossParams)
    return EmaCross(params.fast, params.slow)


STRATEGIES: Mapping[str, StrategyEntry] = {
    entry.name: entry
    for entry in (
        StrategyEntry(
            "sma_cross",
            "Long when SMA(fast) crosses above SMA(slow), flat (or short) when it crosses "
            "below: backtesting.py's SmaCross.",
            CrossParams,
            _sma_cross,
            sweepable=True,
        ),
        StrategyEntry(
            "ema_cross",
            "Long when EMA(fast) crosses above EMA(slow), flat (or short) when it crosses "
            "below (TA-Lib EMA, SMA-seeded).",
            EmaCrossParams,
            _ema_cross,
        ),
    )
}


class UnknownStrategy(Unprocessable):
    code = "unknown-strategy"

    def __init__(self, name: str, loc: list[str | int]) -> None:
        known = ", ".join(STRATEGIES)
        message = f"unknown strategy {name!r}; known: {known}"
        super().__init__(message, errors=[field_error(loc, message)])


def get_strategy(name: str, *, loc: list[str | int] | None = None) -> StrategyEntry:
    entry = STRATEGIES.get(name)
    if entry is None:
        raise UnknownStrategy(name, loc or ["body", "strategy"])
    return entry


def validate_params(
    name: str, params: Mapping[str, Any], *, loc: list[str | int] | None = None
) -> dict[str, Any]:
    """The strategy's parameters with defaults filled in, or a 422 naming each bad one."""
    entry = get_strategy(name)
    where = loc or ["body", "params"]
    try:
        model = entry.params.model_validate(dict(params))
    except ValidationError as exc:
        errors = [
            field_error(
                [*where, *error["loc"]],
                str(error["msg"]).removeprefix("Value error, "),
                kind=error["type"],
            )
            for error in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['msg']}" for e in errors[:5])
        raise Unprocessable(f"invalid parameters for {name}: {detail}", errors=errors) from exc
    return model.model_dump()


def build_strategy(name: str, params: Mapping[str, Any]) -> Strategy:
    """A strategy instance from already validated parameters."""
    entry = get_strategy(name)
    return entry.factory(entry.params.model_validate(dict(params)))


def describe(name: str, params: Mapping[str, Any]) -> str:
    """``sma_cross(fast=10, slow=20)``, for titles and file names."""
    args = ", ".join(f"{key}={value}" for key, value in params.items())
    return f"{name}({args})"
