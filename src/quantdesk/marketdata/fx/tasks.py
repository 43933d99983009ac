"""`fx.fetch_bam`: Bank Al-Maghrib's MAD board of the day (transfer mid, banknote buy/sell)
into fx_rates (source `bam`, base the foreign currency, quote MAD, MAD per one unit).

No key: skipped, saying which setting enables it. A 204 (holiday, 25-26 December): skipped,
saying no fixing was published; not a failure. Timeouts and 5xx: retried by the runner.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.jobs.registry import JobContext, PermanentJobError, task
from quantdesk.jobs.result import JobResult
from quantdesk.marketdata.job_runtime import ProvidersUnavailable
from quantdesk.marketdata.providers.bam import KEY_SETTING, BamBoard, BamProvider, BamRate
from quantdesk.marketdata.providers.errors import PermanentProviderError, TemporaryProviderError
from quantdesk.marketdata.providers.http import HttpClient
from quantdesk.marketdata.reference.repository import upsert_rows
from quantdesk.models import FxRate, FxRateKind, utcnow
from quantdesk.observability.logging import get_logger

log = get_logger("quantdesk.jobs")
SOURCE = "bam"


async def store_board(
    session: AsyncSession, board: BamBoard, *, fetched_at: datetime | None = None
) -> int:
    """Upsert every rate of the board (a re-fetch of the same day replaces, never adds)."""
    fetched_at = fetched_at or utcnow()
    groups: tuple[tuple[FxRateKind, list[BamRate]], ...] = (
        (FxRateKind.MID, board.mid),
        (FxRateKind.BUY, board.buy),
        (FxRateKind.SELL, board.sell),
    )
    rows: list[dict[str, Any]] = [
        {
            "base": rate.currency,
            "quote": "MAD",
            "day": rate.day,
            "kind": kind,
            "source": SOURCE,
            "rate": rate.rate,
            "provider": SOURCE,
            "fetched_at": fetched_at,
        }
        for kind, rates in groups
        for rate in rates
        if rate.currency != "MAD"
    ]
    return await upsert_rows(session, FxRate, rows)


@task("fx.fetch_bam")
async def fetch_bam(ctx: JobContext, *, day: str | None = None) -> JobResult:
    """The board of `day` (YYYY-MM-DD; today when omitted)."""
    settings = ctx.settings
    key = settings.bam_api_key
    if key is None or not key.get_secret_value():
        return JobResult.nothing_to_do(f"no Bank Al-Maghrib key ({KEY_SETTING} is not set)")
    wanted = date.fromisoformat(day) if day else None
    http = HttpClient(timeout_seconds=settings.providers_timeout_seconds)
    provider = BamProvider(http, api_key=key, base_url=settings.bam_base_url)
    try:
        board = await provider.fetch_board(wanted)
    except TemporaryProviderError as error:
        raise ProvidersUnavailable(f"bam: {error}") from error
    except PermanentProviderError as error:
        raise PermanentJobError(f"bam: {error}") from error
    finally:
        await http.aclose()
    when = (board.day or wanted or datetime.now(UTC).date()).isoformat()
    if board.empty:
        return JobResult.nothing_to_do(f"BAM published no rates for {when} (holiday)")
    result = JobResult()
    async with ctx.db.session() as session:
        result.wrote(f"MAD {when}", await store_board(session, board), provider=SOURCE)
    log.info("bam rates fetched", day=when, rows=result.rows_written, duplicates=board.duplicates)
    return result
