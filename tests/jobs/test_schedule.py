"""Cron schedules in a time zone, from settings; the same `Cron` drives Celery beat."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import pytest

from quantdesk.config import ConfigError
from quantdesk.jobs.schedule import Cron, configured_crons, schedule_from_settings
from tests.support.settings import make_settings

MEMORY = "sqlite+aiosqlite:///:memory:"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # Daily 06:00 in Berlin: 05:00Z in winter, 04:00Z once DST starts (Sunday 2026-03-29).
        ("0 6 * * *", "Europe/Berlin", utc(2026, 3, 27, 12), utc(2026, 3, 28, 5)),
        ("0 6 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 29, 4)),
        # Mondays 07:00 New York (EST, UTC-5), asked on a Monday after the hour: next week.
        ("0 7 * * 1", "America/New_York", utc(2026, 1, 5, 13), utc(2026, 1, 12, 12)),
        # Monthly, the 1st at 05:00 UTC, from the last day of a month.
        ("0 5 1 * *", "UTC", utc(2026, 1, 31, 23), utc(2026, 2, 1, 5)),
        # Sundays 03:00 Tokyo is Saturday 18:00 UTC.
        ("0 3 * * 0", "Asia/Tokyo", utc(2026, 6, 1), utc(2026, 6, 6, 18)),
        # Every 15 minutes on weekdays: Friday evening rolls over to Monday 00:00.
        ("*/15 * * * 1-5", "UTC", utc(2026, 6, 5, 23, 50), utc(2026, 6, 8, 0, 0)),
        ("*/15 * * * 1-5", "UTC", utc(2026, 6, 3, 10, 15), utc(2026, 6, 3, 10, 30)),
        # A sixth field counts seconds.
        ("* * * * * */5", "UTC", utc(2026, 6, 3, 10, 0, 7), utc(2026, 6, 3, 10, 0, 10)),
        # 02:30 does not exist on the night clocks go forward; that day it fires at 03:00.
        ("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
    ],
)
def test_next_fire_time(expression: str, zone: str, after: datetime, expected: datetime) -> None:
    fire = Cron(expression, zone).next_after(after)
    assert fire == expected
    assert fire.tzinfo is not None and fire.utcoffset() == timedelta(0)


def test_next_fire_is_strictly_after_the_moment_given() -> None:
    cron = Cron("0 6 * * *", "UTC")
    assert cron.next_after(utc(2026, 1, 1, 6)) == utc(2026, 1, 2, 6)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Cron("0 6 * * *").next_after(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("expression", "zone", "message"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("every day", "UTC", "cron"),
        ("0 6 * * *", "Mars/Base", "zone"),
    ],
)
def test_bad_expressions_and_zones_are_refused(expression: str, zone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Cron(expression, zone)


def test_a_cron_pickles_for_the_beat_schedule_file() -> None:
    cron = Cron("0 7 * * 1", "Europe/London")
    assert pickle.loads(pickle.dumps(cron)) == cron


def test_the_default_schedule() -> None:
    crons = configured_crons(make_settings(MEMORY))
    assert crons["fx.fetch_rates"] == "0 6 * * *"
    assert crons["economy.fetch_series"] == "0 7 * * 1"
    assert crons["reports.fetch_financials"] == "0 5 1 * *"
    assert crons["maintenance.cleanup"] == "0 3 * * 0"
    assert crons["marketdata.fetch_bars"] == "*/15 * * * *"  # crypto trades at weekends too
    assert crons["marketdata.fetch_quotes"] == "*/15 * * * *"
    assert "signals.generate" not in crons  # it follows new bars, not the clock


def test_bars_and_quotes_follow_the_interval_and_market_hours_settings() -> None:
    settings = make_settings(
        MEMORY, jobs_bars_interval_minutes=5, jobs_market_hours="14-21", jobs_market_days="1-5"
    )
    crons = configured_crons(settings)
    assert crons["marketdata.fetch_bars"] == "*/5 14-21 * * 1-5"
    assert crons["marketdata.fetch_quotes"] == "*/5 14-21 * * 1-5"


def test_overrides_replace_and_off_removes() -> None:
    settings = make_settings(
        MEMORY,
        jobs_timezone="Europe/Berlin",
        jobs_schedule={"fx.fetch_rates": "30 5 * * *", "maintenance.cleanup": "off"},
    )
    entries = {e.name: e.cron for e in schedule_from_settings(settings)}
    assert entries["fx.fetch_rates"] == Cron("30 5 * * *", "Europe/Berlin")
    assert "maintenance.cleanup" not in entries


def test_only_registered_jobs_are_scheduled_when_asked() -> None:
    settings = make_settings(MEMORY)
    entries = schedule_from_settings(settings, registered={"maintenance.cleanup"})
    assert [e.name for e in entries] == ["maintenance.cleanup"]


def test_a_bad_schedule_setting_is_a_config_error_naming_it() -> None:
    settings = make_settings(MEMORY, jobs_schedule={"fx.fetch_rates": "0 25 * * *"})
    with pytest.raises(ConfigError, match=r"QUANTDESK_JOBS_SCHEDULE\[fx.fetch_rates\]"):
        schedule_from_settings(settings)
    with pytest.raises(ConfigError, match="QUANTDESK_JOBS_TIMEZONE"):
        schedule_from_settings(make_settings(MEMORY, jobs_timezone="Nowhere/City"))
