"""The application state: what the app builds once and every request reads, typed in one place.

`create_app` installs an `AppState` as `app.state` and the lifespan fills it. Reading it
(`app_state(request).db`) rather than resolving a dependency chain is one of the deliberate
fast paths (ARCHITECTURE.md): on a cached read each dependency node costs more than the hit.
Starlette's `State` keeps attributes in a dict, so a test may still swap one in place.

The annotations name types from higher layers for the type checker only; at run time this
module imports nothing above `kit`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from starlette.datastructures import State

if TYPE_CHECKING:
    from quantdesk.auth.throttle import LoginThrottle
    from quantdesk.config import Settings
    from quantdesk.db import Database
    from quantdesk.infra.cache import Cache
    from quantdesk.infra.events import EventBus, MarketProgress
    from quantdesk.infra.kernel_warmup import KernelWarmup
    from quantdesk.infra.mail import MailBackend
    from quantdesk.jobs.lifecycle import JobRuntime
    from quantdesk.marketdata.providers.registry import ProviderRuntime
    from quantdesk.marketdata.replay.service import ReplayManager
    from quantdesk.ops.monitor import PerformanceMonitor
    from quantdesk.portfolio.desk import Desk
    from quantdesk.portfolio.order_batch import PlacementBatcher
    from quantdesk.ratelimit import RateLimitConfig, RateLimiter
    from quantdesk.realtime.hub import Hub
    from quantdesk.webhooks.dispatcher import Dispatcher


class AppState(State):
    # Set by create_app.
    settings: Settings
    rate_limit_config: RateLimitConfig
    # Set by the lifespan; None until it runs (an app used without its lifespan, in tests).
    db: Database
    rate_limiter: RateLimiter | None
    login_throttle: LoginThrottle
    mail: MailBackend
    cache: Cache
    events: EventBus
    market_progress: MarketProgress  # consumers' progress in market time (infra/events)
    replay: ReplayManager  # the market replay of this process (marketdata/replay)
    desk: Desk | None  # the paper-trading desk (portfolio/desk.py); None when disabled
    placements: PlacementBatcher  # group commit of order placements (portfolio/order_batch.py)
    realtime: Hub  # WebSocket streams' hub (quantdesk.realtime)
    webhooks: Dispatcher | None  # the webhook delivery worker (quantdesk.webhooks); None when off
    providers: ProviderRuntime | None
    jobs: JobRuntime | None
    monitor: PerformanceMonitor
    kernel_warmup: KernelWarmup | None  # None when warm_kernels_at_startup is off

    def __init__(self, settings: Settings, rate_limit_config: RateLimitConfig) -> None:
        super().__init__()
        self.settings = settings
        self.rate_limit_config = rate_limit_config
        self.rate_limiter = None
        self.providers = None
        self.jobs = None
        self.kernel_warmup = None
        self.desk = None
        self.webhooks = None


def app_state(app: Any) -> AppState:
    """The state of `app` (a Starlette app; `request.app` and `scope["app"]` are typed Any)."""
    return cast(AppState, app.state)
