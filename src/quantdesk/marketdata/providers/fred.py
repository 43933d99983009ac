"""Economic series from FRED (Federal Reserve Bank of St. Louis), JSON API with a key.

`GET {base}/series/observations?series_id=CPIAUCSL&api_key=...&file_type=json` answers
`{"observations": [{"date": "2024-01-01", "value": "308.417"}, ...]}`; FRED writes "." for a
missing observation, which the quality checks quarantine. FRED only takes the key as a query
parameter: error messages never include the query string, and the log redaction masks
`api_key=` anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
from pydantic import SecretStr

from quantdesk.marketdata.providers.base import DataKind, Series, SeriesQuery
from quantdesk.marketdata.providers.errors import (
    MalformedResponse,
    PermanentProviderError,
    ProviderDataNotFound,
    ProviderNotConfigured,
)
from quantdesk.marketdata.providers.http import HttpClient

FRED_BASE_URL = "https://api.stlouisfed.org/fred"


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def parse_observations(series_id: str, body: Any) -> Series:
    observations = body.get("observations") if isinstance(body, dict) else None
    if not isinstance(observations, list):
        raise MalformedResponse("FRED: no 'observations' list in the response")
    ts = np.empty(len(observations), dtype=np.int64)
    values = np.empty(len(observations), dtype=np.float64)
    for index, item in enumerate(observations):
        try:
            day = datetime.strptime(str(item["date"]), "%Y-%m-%d").replace(tzinfo=UTC)
        except (KeyError, TypeError, ValueError):
            raise MalformedResponse(f"FRED: observation {index} has no valid date") from None
        ts[index] = int(day.timestamp())
        raw = item.get("value")
        try:
            values[index] = float(raw) if raw not in (None, ".") else np.nan
        except (TypeError, ValueError):
            values[index] = np.nan
    return Series(series_id, ts, values)


class FredProvider:
    def __init__(
        self,
        http: HttpClient,
        *,
        api_key: SecretStr | None,
        base_url: str = FRED_BASE_URL,
        name: str = "fred",
    ) -> None:
        self.name = name
        self.kinds = frozenset({DataKind.ECONOMIC_SERIES})
        self.http = http
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")

    async def fetch_series(self, query: SeriesQuery) -> Series:
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ProviderNotConfigured("fred: set QUANTDESK_FRED_API_KEY")
        params: dict[str, str] = {
            "series_id": query.series_id,
            "api_key": self.api_key.get_secret_value(),
            "file_type": "json",
        }
        if query.start is not None:
            params["observation_start"] = _day(query.start)
        if query.end is not None:
            params["observation_end"] = _day(query.end)
        try:
            body = await self.http.get_json(f"{self.base_url}/series/observations", params=params)
        except PermanentProviderError as error:
            # FRED answers an unknown series with 400 "The series does not exist."
            if "does not exist" in error.message:
                raise ProviderDataNotFound(f"fred: no series {query.series_id!r}") from None
            raise
        return parse_observations(query.series_id, body)

    async def aclose(self) -> None:
        return None
