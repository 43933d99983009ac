"""Shared plumbing for the batch indicators: array types, argument checks, NaN handling.

Every batch indicator follows TA-Lib's conventions:

* inputs are 1-D float64 arrays of equal length, oldest bar first;
* outputs have the input's length, with NaN for the warm-up bars ("lookback") where
  TA-Lib has no value;
* leading NaNs in the inputs are skipped, as the TA-Lib Python wrapper does: the
  computation starts at the first bar where every input is a number, so the
  output of one indicator can be fed into another. NaNs after that bar go through
  the same arithmetic as in TA-Lib (mostly NaN outputs; RSI answers 0, a NaN close
  leaves OBV unchanged). The compiled kernels skip leading NaNs themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]

#: TA-Lib's upper bound for every period argument.
MAX_PERIOD: Final = 100_000

#: TA-Lib's TA_EPSILON: the relative dead-zone of its scale-aware zero tests.
TA_EPSILON: Final = 1e-14


def as_float_array(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a contiguous 1-D float64 array (no copy when it is one).

    Contiguous inputs keep the compiled kernels to one specialisation each.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {array.shape}")
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)
    return array


def as_float_arrays(**named: npt.ArrayLike) -> list[FloatArray]:
    """Convert several inputs at once and check that they have the same length."""
    arrays = [as_float_array(values, name) for name, values in named.items()]
    lengths = {array.size for array in arrays}
    if len(lengths) > 1:
        shapes = ", ".join(
            f"{name}={array.size}" for name, array in zip(named, arrays, strict=True)
        )
        raise ValueError(f"inputs must have the same length, got {shapes}")
    return arrays


def check_period(value: int, name: str, minimum: int = 2, maximum: int = MAX_PERIOD) -> int:
    """Validate an integer period argument against TA-Lib's accepted range."""
    # bool is an int subclass; a True period is always a caller bug.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return int(value)


def check_finite(value: float, name: str) -> float:
    """Validate a real-valued (non-period) argument such as a band width."""
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def nan_array(size: int) -> FloatArray:
    return np.full(size, np.nan, dtype=np.float64)


def place(valid: FloatArray, size: int) -> FloatArray:
    """Right-align ``valid`` in an array of ``size`` elements, NaN in front."""
    out = nan_array(size)
    if valid.size:
        out[size - valid.size :] = valid
    return out


def first_valid_index(arrays: tuple[FloatArray, ...]) -> int:
    """Index of the first bar where no input is NaN (the array length if none)."""
    size = arrays[0].size
    if size == 0:
        return 0
    bad = np.isnan(arrays[0])
    for array in arrays[1:]:
        bad = bad | np.isnan(array)
    good = np.flatnonzero(~bad)
    return int(good[0]) if good.size else size


def skip_leading_nans(
    core: Callable[..., tuple[FloatArray, ...]], *arrays: FloatArray
) -> tuple[FloatArray, ...]:
    """Run ``core`` on the bars after the leading NaNs, re-aligning its outputs.

    ``core`` receives NaN-free-at-the-start arrays and must return full-length outputs
    (NaN during warm-up); this wrapper pads them back to the caller's length.
    """
    start = first_valid_index(arrays)
    if start == 0:
        return core(*arrays)
    size = arrays[0].size
    outputs = core(*(array[start:] for array in arrays))
    return tuple(place(output, size) for output in outputs)
