"""warm_kernels: every indicator, backtest path and signal strategy, compiled for float64."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np

from quantdesk.engine.indicators.registry import INDICATORS
from quantdesk.engine.signals import STRATEGIES
from quantdesk.engine.warmup import (
    BACKTEST,
    INDICATOR,
    SIGNAL,
    WARMUP_BARS,
    synthetic_bars,
    warm_kernels,
)


def _names(warmed: list[str], prefix: str) -> set[str]:
    return {name.removeprefix(prefix) for name in warmed if name.startswith(prefix)}


def test_warm_kernels_names_every_registered_indicator_and_signal_strategy() -> None:
    warmed = warm_kernels()

    assert len(warmed) == len(set(warmed))
    assert _names(warmed, INDICATOR) == set(INDICATORS)
    assert _names(warmed, SIGNAL) == set(STRATEGIES)
    assert _names(warmed, BACKTEST) == {"sma_cross", "ema_cross", "signal", "sweep_sma_cross"}
    assert all(name.startswith((INDICATOR, SIGNAL, BACKTEST)) for name in warmed)


def test_synthetic_bars_are_the_dtypes_the_api_passes() -> None:
    bars = synthetic_bars()

    for column in (bars.open, bars.high, bars.low, bars.close, bars.volume):
        assert column.dtype == np.float64
        assert column.flags.c_contiguous and column.flags.writeable
        assert column.shape == (WARMUP_BARS,)
    assert (bars.low <= np.minimum(bars.open, bars.close)).all()
    assert (bars.high >= np.maximum(bars.open, bars.close)).all()


# Run in a fresh interpreter: in this one, earlier tests may already have compiled the
# kernels. Lists every numba kernel of the engine that plain Python code calls (a name the
# function reads from its module globals, directly or as `module.kernel`) and whether it has
# a compiled signature taking a float64 array after warm_kernels(). Kernels only called from
# other kernels are linked into their callers and need no signature of their own.
_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, types

    from numba.core import types as nb
    from numba.core.dispatcher import Dispatcher

    import quantdesk.engine
    from quantdesk.engine.warmup import warm_kernels

    def codes(code):
        yield code
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                yield from codes(const)

    def functions(module):
        for value in vars(module).values():
            if getattr(value, "__module__", None) != module.__name__:
                continue
            members = vars(value).values() if isinstance(value, type) else [value]
            for member in members:
                if isinstance(member, property):
                    member = member.fget
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, types.FunctionType):
                    yield member

    called = {}
    for info in pkgutil.walk_packages(quantdesk.engine.__path__, "quantdesk.engine."):
        for function in functions(importlib.import_module(info.name)):
            for code in codes(function.__code__):
                for name in code.co_names:
                    value = function.__globals__.get(name)
                    found = [value]
                    if isinstance(value, types.ModuleType):
                        found += [getattr(value, other, None) for other in code.co_names]
                    for kernel in found:
                        if isinstance(kernel, Dispatcher):
                            called[f"{kernel.py_func.__module__}.{kernel.__name__}"] = kernel

    warm_kernels()

    def takes_float64_array(signature):
        return any(
            isinstance(arg, nb.Array) and arg.dtype == nb.float64 for arg in signature
        )

    print(json.dumps({
        name: any(takes_float64_array(s) for s in kernel.signatures)
        for name, kernel in called.items()
    }))
    """
)


def test_after_warm_kernels_every_kernel_python_calls_is_compiled_for_float64() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False, timeout=900
    )
    assert probe.returncode == 0, probe.stderr
    compiled: dict[str, bool] = json.loads(probe.stdout.strip().splitlines()[-1])

    # The discovery finds the kernels behind every family of work.
    assert {
        "quantdesk.engine.indicators._jit_oscillators.rsi_kernel",
        "quantdesk.engine.indicators._jit_averages.macd_kernel",
        "quantdesk.engine.backtest._kernels.simulate",
        "quantdesk.engine.backtest._sweep_kernel.sweep_sma",
    } <= set(compiled)
    assert [name for name, ok in compiled.items() if not ok] == []
