"""/backtests: queue runs and sweeps (202 + id to poll), list the caller's runs, read results;
/backtest/example."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Scope
from quantdesk.auth.dependencies import ReadTickers, owner_id, policy, require
from quantdesk.backtest.listing import list_runs
from quantdesk.backtest.schemas import (
    BacktestAccepted,
    BacktestCreate,
    BacktestRead,
    BacktestSummary,
    EquityRead,
    ExampleRead,
    StrategyRead,
    SweepCreate,
    TradeRead,
)
from quantdesk.backtest.service import backtest_service
from quantdesk.backtest.strategies import STRATEGIES
from quantdesk.backtest.tasks import RUN_JOB
from quantdesk.dependencies import SessionDep, SettingsDep
from quantdesk.jobs.dependencies import JobRuntimeDep
from quantdesk.kit.pagination import ListMeta, Page
from quantdesk.models import BacktestRun, BacktestStatus

router = APIRouter(tags=["backtests"])

RunBacktest = Annotated[Principal, Depends(require(Scope.RUN_BACKTEST))]
RunId = Annotated[str, Path(min_length=1, max_length=64, description="Run id from the POST")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        description="Repeat a POST safely: the same key answers the run it first created",
    ),
]
# Every run creation (single or sweep) pays the `backtests-create` policy (premium exempt).
CREATE_LIMIT = [Depends(policy("backtests-create"))]


def _accepted(
    run: BacktestRun,
    created: bool,
    session: AsyncSession,
    jobs: JobRuntimeDep,
    response: Response,
) -> BacktestAccepted:
    # The job is handed to the runner once this request's unit of work has committed the run.
    # A replayed key whose run is still queued is enqueued again: harmless (only one job can
    # move it out of `queued`) and it revives a run whose process stopped before it began.
    if created or run.status is BacktestStatus.QUEUED:
        jobs.runner.enqueue_after_commit(session, RUN_JOB, run_id=run.id)
    response.headers["Location"] = f"/api/v1/backtests/{run.id}"
    return BacktestAccepted(id=run.id, status=run.status)


@router.post(
    "/backtests",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=CREATE_LIMIT,
    description=(
        "Queue a backtest of `strategy` (see GET /backtests/strategies) on stored bars. "
        "Answers 202 with the run id at once; poll GET /backtests/{id} until `completed`."
    ),
)
async def create_backtest(
    body: BacktestCreate,
    principal: RunBacktest,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobRuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BacktestAccepted:
    run, created = await backtest_service.create(
        session, settings, user_id=owner_id(principal), body=body, idempotency_key=idempotency_key
    )
    return _accepted(run, created, session, jobs, response)


@router.post(
    "/backtests/sweep",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=CREATE_LIMIT,
    description=(
        "Queue an SMA-crossover sweep over a `grid` of fast and slow periods (lists or "
        "`{start, stop, step}` ranges). The completed run holds every fast < slow pair ranked "
        "by `rank_by` and a heatmap `{x, y, z}` of that metric."
    ),
)
async def create_sweep(
    body: SweepCreate,
    principal: RunBacktest,
    session: SessionDep,
    settings: SettingsDep,
    jobs: JobRuntimeDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BacktestAccepted:
    run, created = await backtest_service.create(
        session, settings, user_id=owner_id(principal), body=body, idempotency_key=idempotency_key
    )
    return _accepted(run, created, session, jobs, response)


@router.get(
    "/backtests",
    description=(
        "The caller's own runs and sweeps, newest first: status, what was run and, for "
        "completed single runs, the final equity. Cursor pages (`meta.next_cursor`)."
    ),
)
async def list_backtests(
    principal: RunBacktest,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[BacktestSummary]:
    runs, next_cursor = await list_runs(
        session, user_id=owner_id(principal), cursor=cursor, limit=limit
    )
    return Page[BacktestSummary](data=runs, meta=ListMeta(count=len(runs), next_cursor=next_cursor))


@router.get("/backtests/strategies", dependencies=[Depends(require(Scope.RUN_BACKTEST))])
async def list_strategies() -> Page[StrategyRead]:
    data = [
        StrategyRead(
            name=entry.name,
            description=entry.description,
            sweepable=entry.sweepable,
            params=entry.schema(),
        )
        for entry in STRATEGIES.values()
    ]
    return Page[StrategyRead](data=data, meta=ListMeta(count=len(data)))


@router.get("/backtests/{run_id}")
async def get_backtest(run_id: RunId, principal: RunBacktest, session: SessionDep) -> BacktestRead:
    return await backtest_service.get(session, user_id=owner_id(principal), run_id=run_id)


@router.get("/backtests/{run_id}/trades")
async def list_trades(
    run_id: RunId,
    principal: RunBacktest,
    session: SessionDep,
    cursor: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[TradeRead]:
    trades, next_cursor = await backtest_service.trades(
        session, user_id=owner_id(principal), run_id=run_id, cursor=cursor, limit=limit
    )
    return Page[TradeRead](data=trades, meta=ListMeta(count=len(trades), next_cursor=next_cursor))


@router.get("/backtests/{run_id}/equity")
async def get_equity(
    run_id: RunId,
    principal: RunBacktest,
    session: SessionDep,
    points: Annotated[
        int | None,
        Query(ge=2, le=1_000_000, description="At most this many points (default: every bar)"),
    ] = None,
) -> EquityRead:
    return await backtest_service.equity(
        session, user_id=owner_id(principal), run_id=run_id, points=points
    )


@router.get(
    "/backtest/example",
    description=(
        "SmaCross(10, 20) on the demo's daily GOOG bars with the default settings (those of "
        "POST /backtests and `quantdesk backtest`: 10,000 cash, 0.2 % commission per side, "
        "long-only, every stored bar), computed on request."
    ),
)
async def get_example(
    _principal: ReadTickers, session: SessionDep, settings: SettingsDep
) -> ExampleRead:
    return await backtest_service.example(session, settings)
