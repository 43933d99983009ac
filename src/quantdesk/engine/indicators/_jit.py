"""Plumbing for the compiled (numba) indicator kernels.

Every kernel is a single pass over the bars in the order TA-Lib walks them, with
TA-Lib's arithmetic in TA-Lib's order, so the results agree with TA-Lib to the last
bit wherever the tests pin it. Rules the kernels follow:

* ``@jit`` compiles in nopython mode with ``cache=True`` (machine code is stored
  in ``__pycache__`` and reloaded by later processes), ``nogil=True`` (callers may
  run indicators from worker threads in parallel) and ``fastmath=False``: fastmath
  would let LLVM reassociate sums and contract products into fused multiply-adds
  on its own, which changes the last bits.
* Where TA-Lib itself uses a fused multiply-add (its 0.8 EMA step, hence MACD, its
  ATR step and its upper band for unequal widths), the kernels say so explicitly
  with :func:`fma`, a single correctly rounded operation on every CPU (a hardware
  instruction where there is one).
* Outputs are allocated by the caller with ``numpy.empty`` (numpy asks the kernel
  for transparent huge pages on large arrays, as TA-Lib's wrapper gets them; an
  array allocated inside numba page-faults 4 KiB at a time, which at a million
  bars costs more than the indicator). Each kernel sets the warm-up bars to NaN
  and writes every other element exactly once; no full-length temporaries (a few
  scratch arrays of ``period`` elements at most).
* Hot loops run over views that start at the loop's first bar, indexed from 0:
  numba guards every subscript it cannot prove non-negative with a wraparound
  test, which costs up to a quarter of the time of the tightest loops.
* Leading NaNs are skipped as the TA-Lib Python wrapper skips them: the
  computation starts at the first bar where no input is NaN (``first_valid*``).

Numba's cache is invalidated when the file of a kernel changes, not when a helper
it inlines from this module does: after editing a helper here, delete the
``__pycache__/*.nbi``/``*.nbc`` files of this package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba.core import types
from numba.extending import intrinsic

from quantdesk.engine.indicators._core import FloatArray

_Function = TypeVar("_Function", bound=Callable[..., Any])


def jit(function: _Function) -> _Function:
    """Compile ``function`` with the package's numba settings (see the module doc)."""
    return cast(_Function, numba.njit(cache=True, nogil=True, fastmath=False)(function))


@intrinsic
def _fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """Typing and code generation of :func:`fma`: LLVM's ``llvm.fma.f64``."""
    del typingctx
    signature = types.float64(a, b, c)

    def codegen(context: Any, builder: Any, sig: Any, args: Any) -> Any:
        double = ir.DoubleType()
        function_type = ir.FunctionType(double, [double, double, double])
        function = builder.module.declare_intrinsic("llvm.fma", [double], function_type)
        operands = [
            context.cast(builder, value, value_type, types.float64)
            for value, value_type in zip(args, sig.args, strict=True)
        ]
        return builder.call(function, operands)

    return signature, codegen


#: ``a * b + c`` rounded once (C's ``fma``); callable inside kernels only.
fma = cast(Callable[[float, float, float], float], _fma)


@jit
def first_valid(x: FloatArray) -> int:
    """Index of the first non-NaN element (``x.size`` if there is none)."""
    for index in range(x.size):
        if not np.isnan(x[index]):
            return index
    return x.size


@jit
def first_valid2(a: FloatArray, b: FloatArray) -> int:
    """Index of the first bar where neither input is NaN."""
    for index in range(a.size):
        if not (np.isnan(a[index]) or np.isnan(b[index])):
            return index
    return a.size


@jit
def first_valid3(a: FloatArray, b: FloatArray, c: FloatArray) -> int:
    """Index of the first bar where no input is NaN."""
    for index in range(a.size):
        if not (np.isnan(a[index]) or np.isnan(b[index]) or np.isnan(c[index])):
            return index
    return a.size


@jit
def nan_fill(out: FloatArray, warmup: int) -> bool:
    """Set the first ``warmup`` elements of ``out`` (at most all) to NaN.

    Returns whether any element is left to compute.
    """
    out[: min(warmup, out.size)] = np.nan
    return warmup < out.size


@jit
def is_zero_scaled(value: float, scale: float) -> bool:
    """TA-Lib's ``TA_IS_ZERO_SCALED``: ``|value| <= 1e-14 * scale``."""
    return abs(value) <= 1e-14 * scale
