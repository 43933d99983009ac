"""Job schedules: cron expressions in one time zone, from settings.

One parser (croniter) drives both the in-process scheduler and Celery beat (celery_app.py wraps
the same `Cron` in a beat schedule), so an expression means exactly the same thing in either
mode: standard cron semantics (day-of-month OR day-of-week), evaluated in `jobs_timezone`
across DST changes, with an optional sixth field for seconds.

Bars and quotes are fetched every `jobs_bars_interval_minutes` within `jobs_market_hours` on
`jobs_market_days`;
signals are not on a clock: `marketdata.fetch_bars` starts `signals.generate` when it wrote new
bars.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from quantdesk.config import ConfigError, Settings

OFF = "off"
DEFAULT_SCHEDULE: dict[str, str] = {
    "fx.fetch_rates": "0 6 * * *",  # daily 06:00
    "fx.fetch_bam": "0 12 * * 1-5",  # weekdays 12:00 UTC: BAM publishes at 12:30 Casablanca
    "economy.fetch_series": "0 7 * * 1",  # Mondays 07:00
    "reports.fetch_financials": "0 5 1 * *",  # monthly, the 1st at 05:00
    "maintenance.cleanup": "0 3 * * 0",  # Sundays 03:00
    "exports.purge": "30 3 * * *",  # daily 03:30: exports past exports_retention_days
    "signals.evaluate": "*/15 * * * *",  # expire / settle open signals
    "news.fetch": "*/30 * * * *",  # every news provider's latest items
    "market.refresh": "*/15 * * * *",  # market snapshot, summary, movers, sectors
}


@dataclass(frozen=True)
class Cron:
    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.expression):
            raise ValueError(f"not a cron expression: {self.expression!r}")
        _zone(self.timezone)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`, in UTC (aware)."""
        if moment.tzinfo is None:
            raise ValueError("naive datetime: attach a time zone")
        local = moment.astimezone(_zone(self.timezone))
        fire: datetime = croniter(self.expression, local).get_next(datetime)
        return fire.astimezone(UTC)


@dataclass(frozen=True)
class ScheduleEntry:
    name: str
    cron: Cron


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def bars_cron(settings: Settings) -> str:
    minutes, hours = settings.jobs_bars_interval_minutes, settings.jobs_market_hours
    return f"*/{minutes} {hours} * * {settings.jobs_market_days}"


def configured_crons(settings: Settings) -> dict[str, str]:
    """Job name -> cron expression after overrides ("off" entries removed)."""
    market = bars_cron(settings)
    crons = {**DEFAULT_SCHEDULE, "marketdata.fetch_bars": market, "marketdata.fetch_quotes": market}
    crons.update({name: value.strip() for name, value in settings.jobs_schedule.items()})
    return {name: value for name, value in crons.items() if value.lower() != OFF}


def schedule_from_settings(
    settings: Settings, *, registered: Collection[str] | None = None
) -> list[ScheduleEntry]:
    """The schedule to run; a bad expression or time zone is a ConfigError naming the setting.

    With `registered`, jobs no task is registered for yet (e.g. providers not installed) are
    left out."""
    entries: list[ScheduleEntry] = []
    problems: list[str] = []
    for name, expression in sorted(configured_crons(settings).items()):
        try:
            cron = Cron(expression, settings.jobs_timezone)
        except ValueError as error:
            setting = (
                "QUANTDESK_JOBS_TIMEZONE"
                if "time zone" in str(error)
                else f"QUANTDESK_JOBS_SCHEDULE[{name}]"
            )
            problems.append(f"{setting}: {error}")
            continue
        if registered is None or name in registered:
            entries.append(ScheduleEntry(name, cron))
    if problems:
        raise ConfigError("invalid job schedule:\n" + "\n".join(f"  - {p}" for p in problems))
    return entries
