"""Shared request types: every request body, id path parameter and datetime input uses these,
so bad input is a 422 naming the field instead of a 500 further down.

* `RequestModel`: the base of every request body; an unknown field is a 422 naming it (a
  misspelt option silently ignored is worse than an error).
* `IdPath` / `BigIdPath`: a database id in a path, 1 .. 2^31-1 for the tables keyed by a
  32-bit `Integer` (users, API keys, signals) and 1 .. 2^63-1 for the `BigInteger` ones (job
  runs, audit events, alerts); past that the database driver, not the API, would refuse it
  (a 500 on PostgreSQL).
* `Instant`: an ISO-8601 date-time with a timezone (`Z` or an offset), normalized to UTC; a
  date alone (`2024-01-31`) means 00:00 UTC that day. A naive date and time is ambiguous
  (whose 09:30?) and a bare number is not a date-time: both are a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


class RequestModel(BaseModel):
    """Base of request bodies: unknown fields are refused (422, `extra_forbidden`)."""

    model_config = ConfigDict(extra="forbid")


def _date_is_utc_midnight(value: object) -> object:
    if isinstance(value, str):
        if _DATE.fullmatch(value):
            return f"{value}T00:00:00Z"
        if not _DATE.match(value):
            raise ValueError("expected an ISO-8601 date-time such as 2024-01-31T09:30:00Z")
    elif not isinstance(value, datetime):
        raise ValueError("expected an ISO-8601 date-time string")
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Instant = Annotated[AwareDatetime, BeforeValidator(_date_is_utc_midnight), AfterValidator(_utc)]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="A positive id")]
BigIdPath = Annotated[int, Path(ge=1, le=MAX_BIG_ID, description="A positive id")]
# An id in a query filter: bounded the same way, a 422 naming the parameter past that.
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
