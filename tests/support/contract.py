"""Schemathesis against the real app, in process (ASGI): an app over a fresh SQLite database,
an ordinary user and an admin with bearer tokens, and one bounded engine run per caller.

Rate limits stay on, with tiers raised far above what one run sends: the limiter still runs
on every request (its headers and code paths are exercised), it just never says no.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for

from quantdesk.access.scopes import Role
from quantdesk.app import create_app
from quantdesk.auth.service import ClientInfo, auth_service
from quantdesk.config import Settings
from tests.support.secrets_watch import remember

HIGH = "100000/minute"
POLICY_NAMES = (
    "api-keys-create",
    "auth-login",
    "auth-register",
    "backtests-create",
    "signals-historic",
    "signals-refresh",
)


def contract_settings(database: Path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{database}",
        gc_freeze_at_startup=False,
        warm_kernels_at_startup=False,
        rate_limit_guest=HIGH,
        rate_limit_user=HIGH,
        rate_limit_premium=HIGH,
        rate_limit_analyst=HIGH,
        rate_limit_policies=dict.fromkeys(POLICY_NAMES, HIGH),
        abuse_429_threshold=1_000_000,
        login_failures_per_account_ip=1_000_000,
        login_failures_per_ip=1_000_000,
        login_failures_per_account=1_000_000,
    )


@dataclass
class Callers:
    """Authorization headers per caller: anonymous, an ordinary user, an admin."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)


async def _accounts(app: FastAPI) -> Callers:
    callers = Callers(headers={"anonymous": {}})
    async with LifespanManager(app):
        db = app.state.db
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for name, role in (("user", Role.USER), ("admin", Role.ADMIN)):
                password = f"Qd-contract-{role.value[::-1]}-2c9f0e71"
                remember(password)
                async with db.session() as session:
                    await auth_service.register(
                        session,
                        email=f"caller-{name}@contract.example.com",
                        password=password,
                        role=role,
                        client=ClientInfo("127.0.0.1", "tests"),
                    )
                login = await http.post(
                    "/api/v1/auth/login",
                    json={"email": f"caller-{name}@contract.example.com", "password": password},
                )
                assert login.status_code == 200, login.text
                token = login.json()["access_token"]
                remember(token, login.json()["refresh_token"])
                callers.headers[name] = {"Authorization": f"Bearer {token}"}
    return callers


def contract_app(template: Path, workdir: Path) -> tuple[FastAPI, Callers]:
    """A migrated copy of `template`, the app over it and its callers' headers."""
    database = workdir / "contract.db"
    shutil.copyfile(template, database)
    app = create_app(contract_settings(database))
    return app, asyncio.run(_accounts(app))


@dataclass
class Failure:
    operation: str
    check: str
    title: str
    request: str


# Schema-valid requests the app rightly refuses with 422, because what makes them valid
# cannot be said in JSON Schema: a cursor must be one the API signed, an indicator set must
# follow its grammar with known names and argument counts, a quote `provider` must be one of
# the configured chain, a new password must pass the strength policy, sentiment model
# "finbert" needs its model path configured and a window's `end` must leave room for the
# window after 1970, a screener filter's value must suit its field and operator (and its
# cursor, in the body, be one the API signed), and wherever a query has both `start` and
# `end`, start must not be after end. For these operations (and only these)
# `positive_data_acceptance` also accepts 422; every other check, and every other operation,
# runs unchanged.
SEMANTIC_422 = (
    "/api/v1/indicators/",
    "/api/v1/quotes/",
    "/api/v1/auth/register",
    "/api/v1/sentiment/",
    "/api/v1/screener",
)


def semantic_422_operations(app: FastAPI) -> list[str]:
    """Paths of the operations above, plus every operation taking a `cursor` or a window."""
    paths = []
    for path, operations in app.openapi()["paths"].items():
        names = {
            parameter["name"]
            for operation in operations.values()
            for parameter in operation.get("parameters", [])
        }
        window = {"start", "end"} <= names
        if "cursor" in names or window or path.startswith(SEMANTIC_422):
            paths.append(path)
    return paths


def run_schemathesis(
    app: FastAPI, headers: dict[str, str], *, max_examples: int, seed: int = 1
) -> tuple[list[Failure], list[str], int]:
    """(failures, errors, operations tested) of one engine run with every check."""
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx", "422"]
    config = SchemathesisConfig.from_dict(
        {
            "seed": seed,
            "headers": headers,
            "generation": {"max-examples": max_examples, "deterministic": True},
            "checks": {"enabled": True},
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                {
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": accepted}},
                }
                for path in semantic_422_operations(app)
            ],
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    failures: list[Failure] = []
    errors: list[str] = []
    tested: set[str] = set()
    for event in engine_for(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            tested.add(event.recorder.label)
            _collect(event.recorder, failures)
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return failures, errors, len(tested)


def _collect(recorder: Any, failures: list[Failure]) -> None:
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.failure_info is None:
                continue
            case = recorder.cases[case_id].value
            failure = check.failure_info.failure
            request = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
            failures.append(Failure(recorder.label, check.name, str(failure.title), request[:300]))
