"""/admin/replay: start, step, pause, resume, stop and watch the market replay (system:admin).

Every change is audited (`replay.started`, `replay.stepped`, `replay.paused`, `replay.resumed`,
`replay.stopped`), recorded after the replay has acted: the audit row's transaction never stays
open while a step waits for the desk (on SQLite it would hold the desk's writes back).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from quantdesk.access.principal import Principal
from quantdesk.audit.service import audit_service
from quantdesk.auth.dependencies import SystemAdmin
from quantdesk.dependencies import SessionDep
from quantdesk.kit.app_state import app_state
from quantdesk.kit.timeutil import to_epoch
from quantdesk.marketdata.replay.run import ReplayRequest
from quantdesk.marketdata.replay.schemas import (
    ReplayCreate,
    ReplayedBarRead,
    ReplayRead,
    ReplayStep,
    ReplayStepRead,
)
from quantdesk.marketdata.replay.service import ReplayManager, ReplayView

router = APIRouter(prefix="/admin/replay", tags=["admin"])


def _manager(request: Request) -> ReplayManager:
    return app_state(request.app).replay


async def _audit(
    session: SessionDep,
    request: Request,
    admin: Principal,
    action: str,
    view: ReplayView,
    **details: Any,
) -> None:
    await audit_service.record(
        session,
        action=action,
        actor=admin,
        user_agent=request.headers.get("user-agent"),
        resource_type="replay",
        resource_id=view.replay_id,
        details={"symbol": view.symbol, **details},
    )


@router.get(
    "",
    description=(
        "The replay of this process: position (market time of the last bar published), bars "
        "emitted and total, state `running`, `paused`, `finished` or `stopped`; `idle` with a "
        "hint when none has run yet."
    ),
)
async def get_replay(_: SystemAdmin, request: Request) -> ReplayRead:
    return ReplayRead.of(_manager(request).status())


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    description=(
        "Start replaying the stored bars of `symbol`/`timeframe` in [start, end] as market "
        "events (`source: replay`, each with its own time), at `speed` bars per second (0: as "
        "fast as the desk processes them), or paused. One replay at a time: 409 while one "
        "runs. While it runs, GET /quotes/{symbol} answers the replayed price with "
        "`meta.replay`. Stored bars are never changed."
    ),
)
async def start_replay(
    body: ReplayCreate, admin: SystemAdmin, request: Request, session: SessionDep
) -> ReplayRead:
    view = await _manager(request).start(
        ReplayRequest(
            symbol=body.symbol,
            timeframe=body.timeframe,
            start=to_epoch(body.start),
            end=to_epoch(body.end) if body.end is not None else None,
            speed=body.speed,
            paused=body.paused,
        )
    )
    await _audit(
        session,
        request,
        admin,
        "replay.started",
        view,
        timeframe=body.timeframe.value,
        start=view.start,
        end=view.end,
        speed=body.speed,
        paused=body.paused,
    )
    return ReplayRead.of(view)


@router.post(
    "/step",
    description=(
        "Publish the next `bars` bars of a paused replay and answer once the desk has "
        "processed them (each bar after the previous one), with their times. 409 when no "
        "replay runs or it is not paused. Fewer bars at the end of the replay."
    ),
)
async def step_replay(
    body: ReplayStep, admin: SystemAdmin, request: Request, session: SessionDep
) -> ReplayStepRead:
    bars, view = await _manager(request).step(body.bars)
    await _audit(session, request, admin, "replay.stepped", view, bars=len(bars))
    return ReplayStepRead(
        bars=[ReplayedBarRead.of(bar) for bar in bars], status=ReplayRead.of(view)
    )


@router.post("/pause", description="Pause the running replay (409 when none runs).")
async def pause_replay(admin: SystemAdmin, request: Request, session: SessionDep) -> ReplayRead:
    view = await _manager(request).pause()
    await _audit(session, request, admin, "replay.paused", view)
    return ReplayRead.of(view)


@router.post("/resume", description="Resume a paused replay (409 when none runs).")
async def resume_replay(admin: SystemAdmin, request: Request, session: SessionDep) -> ReplayRead:
    view = _manager(request).resume()
    await _audit(session, request, admin, "replay.resumed", view)
    return ReplayRead.of(view)


@router.delete(
    "",
    description=(
        "Stop the replay: it publishes `stopped` on market.replay.<SYMBOL> and quotes are "
        "live again (409 when none runs)."
    ),
)
async def stop_replay(admin: SystemAdmin, request: Request, session: SessionDep) -> ReplayRead:
    view = await _manager(request).stop()
    await _audit(session, request, admin, "replay.stopped", view, bars_emitted=view.bars_emitted)
    return ReplayRead.of(view)
