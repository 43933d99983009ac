"""UTC time at the API edge: ISO-8601 with `Z` out, anything ISO-ish (naive means UTC) in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np


def to_epoch(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epochs_to_iso(seconds: Sequence[int] | np.ndarray) -> list[str]:
    """Vectorized epoch -> '2024-01-02T03:04:05Z' (numpy formats 100k stamps in a few ms)."""
    stamps = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    return [s + "Z" for s in np.datetime_as_string(stamps, unit="s").tolist()]
