"""Research jobs (registered by import, `quantdesk.tasks`).

`reports.generate` writes the research report of every symbol of a watchlist (or of the
given symbols) into `research_reports_dir` as `{SYMBOL}.{format}`; a symbol without stored
bars is skipped with the reason (no report is invented), the others are still written.
"""

from __future__ import annotations

from pathlib import Path

from quantdesk.jobs.registry import JobContext, PermanentJobError, task
from quantdesk.jobs.result import JobResult, SkippedSubject
from quantdesk.marketdata.service import InstrumentNotFound
from quantdesk.research.errors import MissingResearchData
from quantdesk.research.render import ReportFormat
from quantdesk.research.repository import watchlist_symbols
from quantdesk.research.service import research_service

GENERATE_JOB = "reports.generate"


@task(GENERATE_JOB)
async def generate_reports(
    ctx: JobContext,
    *,
    watchlist_id: str | None = None,
    symbols: list[str] | None = None,
    formats: list[str] | None = None,
) -> JobResult:
    try:
        wanted_formats = [ReportFormat(f) for f in (formats or ["md"])]
    except ValueError:
        raise PermanentJobError(
            f"formats must be among {[f.value for f in ReportFormat]}"
        ) from None
    wanted = [s.upper() for s in symbols or []]
    if watchlist_id is not None:
        async with ctx.db.session() as session:
            listed = await watchlist_symbols(session, watchlist_id)
        if listed is None:
            raise PermanentJobError(f"no watchlist {watchlist_id!r}")
        wanted += [s for s in listed if s not in wanted]
    if not wanted:
        return JobResult.nothing_to_do("no symbols: give watchlist_id or symbols")
    folder = Path(ctx.settings.research_reports_dir)
    await ctx.to_thread(folder.mkdir, parents=True, exist_ok=True)
    result = JobResult()
    for symbol in wanted:
        for fmt in wanted_formats:
            try:
                async with ctx.db.session() as session:
                    report = await research_service.report(session, ctx.settings, symbol, fmt)
            except (MissingResearchData, InstrumentNotFound) as missing:
                result.skipped.append(SkippedSubject(subject=symbol, reason=missing.detail))
                break
            target = folder / f"{report.symbol}.{fmt.value}"
            await ctx.to_thread(target.write_bytes, report.body)
            result.written[f"{report.symbol}.{fmt.value}"] = 1
            result.rows_written += 1
    return result
