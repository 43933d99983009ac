"""Backtest runs: accept (validated, idempotent), execute (queued -> running -> completed |
failed), and read back (owner only; another user's run is simply not found)."""

from __future__ import annotations

import secrets
from typing import Any, TypeVar

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from quantdesk.backtest import sweeps
from quantdesk.backtest.compute import (
    RunDocument,
    RunInputs,
    compute_document,
    default_periods_per_year,
    equity_view,
)
from quantdesk.backtest.events import BacktestCompleted
from quantdesk.backtest.listing import run_fields
from quantdesk.backtest.repository import BacktestRunRepository
from quantdesk.backtest.runner import run_cpu
from quantdesk.backtest.schemas import (
    BacktestCreate,
    BacktestOptions,
    BacktestRead,
    BarsInfo,
    EquityRead,
    ExampleRead,
    SweepCreate,
    TradeRead,
)
from quantdesk.backtest.sweep_plan import check_request
from quantdesk.config import Settings
from quantdesk.db import Database
from quantdesk.errors import AppError, Conflict, NotFound, Unprocessable, field_error
from quantdesk.infra.events import emit, installed_event_bus
from quantdesk.jobs.registry import Enqueue
from quantdesk.kit.pagination import decode_cursor, split_page
from quantdesk.kit.timeutil import to_epoch
from quantdesk.marketdata.service import InstrumentNotFound, bar_service, instrument_service
from quantdesk.models import AssetClass, BacktestKind, BacktestRun, BacktestStatus, utcnow
from quantdesk.observability.logging import get_logger


async def _announce(session: AsyncSession, run_id: str, status: str, error: str | None) -> None:
    """`backtest_completed` for the run's owner, in the transaction that finishes it (published
    on this process's bus after commit; a Celery worker's hooks still see it)."""
    run = await session.get(BacktestRun, run_id)
    if run is None or run.user_id is None:
        return
    kind = "sweep" if run.kind is BacktestKind.SWEEP else "backtest"
    finished = BacktestCompleted(run.user_id, run_id, kind, run.symbol, status, error)
    await emit(session, installed_event_bus(), [finished])


log = get_logger("quantdesk.backtest")
OptionsT = TypeVar("OptionsT", bound=BacktestOptions)
ERROR_MAX_CHARS = 2_000

# backtesting.py's README strategy, SmaCross(10, 20), on the demo GOOG bars; everything else
# is the one set of defaults (defaults.py), as for the CLI and POST /backtests.
EXAMPLE_REQUEST: dict[str, Any] = {
    "symbol": "GOOG",
    "strategy": "sma_cross",
    "params": {"fast": 10, "slow": 20},
}
EXAMPLE_EQUITY_POINTS = 500


class BacktestNotFound(NotFound):
    code = "backtest-not-found"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no backtest run {run_id!r}")


class BacktestNotReady(Conflict):
    code = "backtest-not-ready"


class IdempotencyKeyReused(Conflict):
    code = "idempotency-key-reused"


class DemoNotLoaded(NotFound):
    code = "demo-not-loaded"

    def __init__(self) -> None:
        super().__init__("the demo data is not loaded: run `quantdesk demo load` (or `make run`)")


class BacktestService:
    # --- accepting ---------------------------------------------------------------------
    async def create(
        self,
        session: AsyncSession,
        settings: Settings,
        *,
        user_id: int,
        body: BacktestCreate | SweepCreate,
        idempotency_key: str | None = None,
    ) -> tuple[BacktestRun, bool]:
        """Validate ``body`` against the stored data and queue a run: (run, created).

        A repeated ``idempotency_key`` of the same user answers the run it created first
        (created False); the same key with a different request is a 409.
        """
        kind = BacktestKind.SWEEP if isinstance(body, SweepCreate) else BacktestKind.SINGLE
        resolved = await self.resolve(session, settings, body)
        request = resolved.model_dump(mode="json")
        repository = BacktestRunRepository(session)
        if idempotency_key is not None:
            existing = await repository.by_idempotency_key(user_id, idempotency_key)
            if existing is not None:
                if existing.kind != kind or existing.request != request:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used for a different request; use a new key"
                    )
                return existing, False
        run = BacktestRun(
            id=secrets.token_hex(16),
            user_id=user_id,
            kind=kind,
            status=BacktestStatus.QUEUED,
            symbol=resolved.symbol,
            timeframe=resolved.timeframe.value,
            strategy=resolved.strategy,
            request=request,
            idempotency_key=idempotency_key,
            progress=0.0,
        )
        try:
            await repository.add(run)
        except IntegrityError as exc:  # the same key, in a request running right now
            raise IdempotencyKeyReused(
                "a request with this Idempotency-Key is in progress; retry it shortly"
            ) from exc
        return run, True

    async def resolve(self, session: AsyncSession, settings: Settings, body: OptionsT) -> OptionsT:
        """``body`` with ``periods_per_year`` filled in, once the symbol exists (else 404),
        its bars build the timeframe and the range holds at least two of them (else 422).
        A sweep of several symbols checks each; ``periods_per_year`` is then filled in per
        symbol when it runs (each symbol's own default)."""
        symbol, asset_class = await _probe(session, body, body.symbol)
        update: dict[str, Any] = {"symbol": symbol}
        if isinstance(body, SweepCreate):
            check_request(
                body, settings.backtest_max_sweep_combinations, settings.backtest_max_sweep_cells
            )
            others = [(await _probe(session, body, other))[0] for other in body.symbols[1:]]
            update["symbols"] = [symbol, *others]
            if others:
                return body.model_copy(update=update)
        update["periods_per_year"] = body.periods_per_year or default_periods_per_year(
            body.timeframe, asset_class
        )
        return body.model_copy(update=update)

    async def inputs(
        self, session: AsyncSession, settings: Settings, request: BacktestCreate | SweepCreate
    ) -> RunInputs:
        """The resolved request and every bar it covers (at most ``backtest_max_bars``)."""
        resolved = await self.resolve(session, settings, request)
        start, end = _bounds(resolved)
        most = settings.backtest_max_bars
        series = await bar_service.get_bars(
            session,
            symbol=resolved.symbol,
            timeframe=resolved.timeframe,
            start=start,
            end=end,
            limit=most + 1,
        )
        if len(series.bars) > most:
            raise Unprocessable(
                f"{series.symbol} has more than {most:,} {resolved.timeframe.value} bars in the "
                "range asked: narrow start/end (or raise QUANTDESK_BACKTEST_MAX_BARS)"
            )
        return RunInputs(resolved, series.bars, series.source_timeframe.value)

    # --- executing (the `backtest.run` job, backtest/tasks.py) ---------------------------
    async def execute(
        self, db: Database, settings: Settings, run_id: str, fan_out: Enqueue | None = None
    ) -> None:
        """Run a queued run to completion or failure; each step commits so pollers see
        progress. A run that is not queued (already started elsewhere) is left alone, except
        a running sweep given ``fan_out`` (a redelivered Celery job): its chunks not yet
        applied are handed out again (backtest/sweeps.py)."""
        try:
            async with db.session() as session:
                started = await BacktestRunRepository(session).set_values(
                    run_id,
                    only_from=BacktestStatus.QUEUED,
                    status=BacktestStatus.RUNNING,
                    started_at=utcnow(),
                    progress=0.05,
                )
                kind, status, request = await BacktestRunRepository(session).request_of(run_id)
            if kind is BacktestKind.SWEEP:
                if started or (fan_out is not None and status is BacktestStatus.RUNNING):
                    await sweeps.run(
                        db,
                        settings,
                        run_id,
                        SweepCreate.model_validate(request),
                        inputs=self.inputs,
                        announce=_announce,
                        fan_out=fan_out,
                    )
                return
            if not started:
                return
            async with db.session() as session:
                body = BacktestCreate.model_validate(request)
                inputs = await self.inputs(session, settings, body)
                await BacktestRunRepository(session).set_values(run_id, progress=0.25)
            document = await run_cpu(
                compute_document, inputs, limit=settings.backtest_max_concurrent_runs
            )
            async with db.session() as session:
                await self._complete(session, run_id, document)
        except Exception as error:
            await self._fail(db, run_id, _describe(error, run_id))
        except BaseException:
            # Cancelled (shutdown): record it, so the run does not look alive forever.
            with anyio.CancelScope(shield=True):
                await self._fail(db, run_id, "interrupted: the server stopped during the run")
            raise

    async def _complete(self, session: AsyncSession, run_id: str, document: RunDocument) -> None:
        meta: dict[str, Any] = {"bars": document["bars"]}
        values: dict[str, Any] = {}
        if "sweep" in document:
            values["sweep"] = document["sweep"]
        else:
            meta |= {"engine": document["meta"], "open_position": document["open_position"]}
            values |= {
                "stats": document["stats"],
                "compat": document["compat"],
                "trades": document["trades"],
                "equity": document["equity"],
            }
        await BacktestRunRepository(session).set_values(
            run_id,
            status=BacktestStatus.COMPLETED,
            progress=1.0,
            finished_at=utcnow(),
            meta=meta,
            **values,
        )
        await _announce(session, run_id, "completed", None)

    async def _fail(self, db: Database, run_id: str, message: str) -> None:
        try:
            async with db.session() as session:
                await BacktestRunRepository(session).set_values(
                    run_id,
                    status=BacktestStatus.FAILED,
                    finished_at=utcnow(),
                    error=message[:ERROR_MAX_CHARS],
                )
                await _announce(session, run_id, "failed", message[:ERROR_MAX_CHARS])
        except Exception:  # the database itself is failing: the log is all that is left
            log.exception("could not record a failed backtest", run_id=run_id, error=message)

    # --- reading --------------------------------------------------------------------------
    async def get(self, session: AsyncSession, *, user_id: int, run_id: str) -> BacktestRead:
        run = await BacktestRunRepository(session).owned(run_id, user_id)
        if run is None:
            raise BacktestNotFound(run_id)
        return present(run)

    async def trades(
        self,
        session: AsyncSession,
        *,
        user_id: int,
        run_id: str,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[TradeRead], str | None]:
        """A page of closed trades in the order they closed; the cursor is the index of the
        last trade served."""
        trades: list[dict[str, Any]] = await self._document(session, user_id, run_id, "trades")
        offset = 0
        if cursor is not None:
            key = decode_cursor(cursor)
            if not isinstance(key, int) or key < 0:
                raise Unprocessable(errors=[field_error(["query", "cursor"], "malformed cursor")])
            offset = key + 1
        rows = list(enumerate(trades[offset : offset + limit + 1], start=offset))
        page, next_cursor = split_page(rows, limit, key=lambda row: row[0])
        return [TradeRead.model_validate(row) for _, row in page], next_cursor

    async def equity(
        self, session: AsyncSession, *, user_id: int, run_id: str, points: int | None
    ) -> EquityRead:
        curve: dict[str, Any] = await self._document(session, user_id, run_id, "equity")
        return EquityRead(**equity_view(curve["t"], curve["equity"], points))

    async def _document(self, session: AsyncSession, user_id: int, run_id: str, name: str) -> Any:
        found = await BacktestRunRepository(session).owned_document(run_id, user_id, name)
        if found is None:
            raise BacktestNotFound(run_id)
        kind, status, document = found
        if kind is BacktestKind.SWEEP:
            raise BacktestNotReady(
                f"run {run_id} is a sweep: it has no {name}; its ranked pairs are in "
                f"GET /api/v1/backtests/{run_id}"
            )
        if status is not BacktestStatus.COMPLETED:
            raise BacktestNotReady(
                f"run {run_id} is {status.value}: {name} exist once it has completed "
                f"(poll GET /api/v1/backtests/{run_id})"
            )
        return document

    # --- the ready example ----------------------------------------------------------------
    async def example(self, session: AsyncSession, settings: Settings) -> ExampleRead:
        """backtesting.py's SmaCross example on the demo GOOG bars, computed now."""
        try:
            inputs = await self.inputs(
                session, settings, BacktestCreate.model_validate(EXAMPLE_REQUEST)
            )
        except InstrumentNotFound as exc:
            raise DemoNotLoaded() from exc
        document = await run_cpu(
            compute_document, inputs, limit=settings.backtest_max_concurrent_runs
        )
        curve = document["equity"]
        return ExampleRead(
            request=inputs.request.model_dump(mode="json"),
            bars=BarsInfo.model_validate(document["bars"]),
            stats=document["stats"],
            meta=document["meta"],
            compat=document["compat"],
            open_position=document["open_position"],
            trades=[TradeRead.model_validate(row) for row in document["trades"]],
            equity=EquityRead(**equity_view(curve["t"], curve["equity"], EXAMPLE_EQUITY_POINTS)),
        )


def present(run: BacktestRun) -> BacktestRead:
    stored: dict[str, Any] = run.meta or {}
    return BacktestRead(
        **run_fields(run),
        request=run.request,
        bars=stored.get("bars"),
        stats=run.stats,
        meta=stored.get("engine"),
        compat=run.compat,
        open_position=stored.get("open_position"),
        sweep=run.sweep,
        chunks_total=run.chunks_total,
        chunks_done=run.chunks_done if run.chunks_total is not None else None,
    )


def _bounds(body: BacktestOptions) -> tuple[int | None, int | None]:
    return (
        to_epoch(body.start) if body.start else None,
        to_epoch(body.end) if body.end else None,
    )


async def _probe(
    session: AsyncSession, body: BacktestOptions, symbol: str
) -> tuple[str, AssetClass]:
    """``symbol`` as stored and its asset class, once it has 2 bars of the range (else 422)."""
    instrument = await instrument_service.get(session, symbol)
    start, end = _bounds(body)
    probe = await bar_service.get_bars(
        session, symbol=symbol, timeframe=body.timeframe, start=start, end=end, limit=2
    )
    if len(probe.bars) < 2:
        raise Unprocessable(
            f"{probe.symbol} has fewer than 2 {body.timeframe.value} bars in the range asked",
            errors=[field_error(["body", "start"], "the range holds fewer than 2 bars")],
        )
    return probe.symbol, instrument.asset_class


def _describe(error: Exception, run_id: str) -> str:
    """What a failed run tells its owner: our own messages, never a traceback."""
    if isinstance(error, AppError):
        return error.detail
    if isinstance(error, ValueError):  # the engine's input checks say what is wrong
        return f"the backtest could not run: {error}"
    log.error("backtest failed", run_id=run_id, exc_info=error)
    return f"internal error while running the backtest (logged as run {run_id})"


backtest_service = BacktestService()
