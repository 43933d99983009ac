"""Tasks are registered once by name, with arguments that survive JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from quantdesk.jobs import registry
from quantdesk.jobs.registry import InvalidJobArgs, JobContext, UnknownJob, checked_args
from quantdesk.tasks import load_tasks
from tests.support.jobs import register


def test_the_built_in_jobs_are_registered_by_name() -> None:
    load_tasks()
    names = registry.registered()
    assert {"maintenance.cleanup", "marketdata.fetch_bars"} <= set(names)
    assert registry.get_task("maintenance.cleanup").fn.__name__ == "cleanup"


def test_a_task_is_looked_up_by_the_name_it_was_registered_under(
    throwaway_tasks: list[str],
) -> None:
    async def echo(ctx: JobContext, *, value: int) -> int:
        return value

    register(throwaway_tasks, "tests.echo", echo, max_retries=5)
    spec = registry.get_task("tests.echo")
    assert spec.fn is echo
    assert spec.max_retries == 5


def test_an_unknown_name_is_a_404_problem() -> None:
    with pytest.raises(UnknownJob) as raised:
        registry.get_task("nothing.here")
    assert raised.value.status == 404


@pytest.mark.parametrize("name", ["cleanup", "Maintenance.Cleanup", "a..b", "x.y-z", ""])
def test_names_must_look_like_domain_event(name: str) -> None:
    with pytest.raises(ValueError, match=r"domain\.event"):
        registry.task(name)


def test_only_async_functions_can_be_tasks() -> None:
    def blocking(ctx: JobContext) -> None:
        return None

    with pytest.raises(TypeError, match="async"):
        registry.task("tests.blocking")(blocking)  # type: ignore[arg-type]


def test_a_name_cannot_be_taken_twice(throwaway_tasks: list[str]) -> None:
    async def first(ctx: JobContext) -> None:
        return None

    async def second(ctx: JobContext) -> None:
        return None

    register(throwaway_tasks, "tests.twice", first)
    with pytest.raises(ValueError, match="already registered"):
        registry.task("tests.twice")(second)


def test_arguments_come_back_as_a_worker_would_see_them(throwaway_tasks: list[str]) -> None:
    async def job(ctx: JobContext, *, symbols: list[str], since: int = 0) -> None:
        return None

    register(throwaway_tasks, "tests.args", job)
    assert checked_args("tests.args", {"symbols": ("A", "B")}) == {"symbols": ["A", "B"]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"symbols": ["A"], "since": datetime(2024, 1, 1, tzinfo=UTC)}, "JSON-serializable"),
        ({"symbols": ["A"], "since": float("nan")}, "JSON-serializable"),
        ({"symbols": ["A"], "until": 3}, "do not fit"),
        ({}, "do not fit"),
    ],
)
def test_arguments_that_a_worker_could_not_take_are_refused(
    throwaway_tasks: list[str], args: dict[str, Any], message: str
) -> None:
    async def job(ctx: JobContext, *, symbols: list[str], since: int = 0) -> None:
        return None

    register(throwaway_tasks, "tests.refused", job)
    with pytest.raises(InvalidJobArgs, match=message) as raised:
        checked_args("tests.refused", args)
    assert raised.value.status == 422


def test_backoff_doubles_per_attempt_up_to_the_cap() -> None:
    from tests.support.settings import make_settings

    settings = make_settings(
        "sqlite+aiosqlite:///:memory:",
        jobs_retry_backoff_seconds=2.0,
        jobs_retry_backoff_max_seconds=10.0,
    )
    assert [registry.backoff_seconds(settings, n) for n in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 10.0]
