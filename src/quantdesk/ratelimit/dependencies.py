"""`rate_limit(policy)`: the FastAPI dependency that applies the caller's tier and a policy.

    @router.post("/backtests", dependencies=[Depends(rate_limit("backtests-create"))])

The tier is counted once per request however many `rate_limit` dependencies a route has (a
router-wide `rate_limit()` plus a route's named policy). Decisions are kept on
`scope["state"]`, where the edge (quantdesk.http.edge) turns them into headers on whatever response
the endpoint returns; a refusal raises `RateLimited` (429, problem+json) with the same headers
and counts in `rate_limit_exceeded_total{policy}`: the policy's name, or `tier:<role>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from quantdesk.access.principal import Principal
from quantdesk.access.scopes import Role
from quantdesk.kit.app_state import app_state
from quantdesk.observability.metrics import RATE_LIMIT_EXCEEDED
from quantdesk.ratelimit.acceptance import would_accept
from quantdesk.ratelimit.errors import RateLimited
from quantdesk.ratelimit.limiter import Decision, RateLimiter, rate_limit_headers
from quantdesk.ratelimit.policies import KeyKind, Policy

STATE_DECISIONS = "ratelimit_decisions"
STATE_TIER_COUNTED = "ratelimit_tier_counted"
STATE_CLIENT_IP = "client_ip"  # set by the edge (ratelimit.gate), from the trusted-proxy rules
MARKER_ATTRIBUTE = "__quantdesk_rate_limit__"

# Who is calling, from the request alone: called directly, not declared as a sub-dependency,
# because every dependency node costs every request (auth caches the Principal on the
# request, so the route's scope check reuses it).
PrincipalDependency = Callable[[Request], Awaitable[Principal]]
RateLimitDependency = Callable[..., Awaitable[Principal]]


@dataclass(frozen=True)
class RateLimitMarker:
    """Attached to every `rate_limit` dependency, so docs and route checks can find it."""

    policy: str | None


def rate_limit_marker(call: object) -> RateLimitMarker | None:
    marker = getattr(call, MARKER_ATTRIBUTE, None)
    return marker if isinstance(marker, RateLimitMarker) else None


def get_rate_limiter(request: Request) -> RateLimiter:
    # getattr: a bare test app may never build one (then the error below says how).
    limiter = getattr(app_state(request.app), "rate_limiter", None)
    if not isinstance(limiter, RateLimiter):
        raise RuntimeError(
            "app.state.rate_limiter is not set: build it in the lifespan with "
            "quantdesk.ratelimit.build_rate_limiter(settings)"
        )
    return limiter


def caller_ip(request: Request, caller: Principal) -> str:
    ip = request.scope.get("state", {}).get(STATE_CLIENT_IP)
    return ip if isinstance(ip, str) else caller.client_ip


def _policy_key(policy: Policy, caller: Principal, ip: str, request: Request) -> str:
    if policy.key is KeyKind.USER:
        return f"user:{caller.user_id}" if caller.user_id is not None else f"ip:{ip}"
    if policy.key is KeyKind.ACCOUNT:
        who = f"user:{caller.user_id}" if caller.user_id is not None else f"ip:{ip}"
        return f"{who}:account:{request.path_params.get('account_id', '')}"
    if policy.key is KeyKind.IP:
        return f"ip:{ip}"
    return caller.rate_limit_key


def _refusal(decision: Decision, headers: dict[str, str]) -> RateLimited:
    return RateLimited(
        f"rate limit exceeded ({decision.label}: {decision.limit} requests per "
        f"{decision.window_seconds} s); retry in {decision.retry_after} s",
        headers=headers,
    )


# The tier's decision label and refusal-metric label per role, built once, not per request.
_TIER_LABELS = {role: f"{role.value} tier" for role in Role}
_TIER_METRIC_LABELS = {role: f"tier:{role.value}" for role in Role}


async def apply_rate_limits(request: Request, caller: Principal, policy_name: str | None) -> None:
    limiter = get_rate_limiter(request)
    if not limiter.enabled:
        return
    policy: Policy | None = None
    if policy_name is not None:
        policy = limiter.config.policies.get(policy_name)
        if policy is None:
            raise RuntimeError(f"route names unknown rate-limit policy {policy_name!r}")
    fail_closed = policy is not None and policy.fail_closed
    if fail_closed:
        # Also for callers exempt from every limit: a write that must not run on
        # per-process counts does not run while the shared store is down.
        await limiter.storage.ensure_available()

    state: dict[str, Any] = request.scope.setdefault("state", {})
    decisions: list[Decision] = state.setdefault(STATE_DECISIONS, [])
    refused: Decision | None = None
    refused_by = ""  # the metric's label: bounded (roles and configured policy names)
    if not state.get(STATE_TIER_COUNTED):
        state[STATE_TIER_COUNTED] = True
        tier = limiter.config.tiers.get(caller.role)
        if tier is not None:
            decision = await limiter.hit(
                "tier:" + caller.rate_limit_key,
                tier,
                fail_closed=fail_closed,
                label=_TIER_LABELS[caller.role],
            )
            decisions.append(decision)
            if not decision.allowed:
                refused, refused_by = decision, _TIER_METRIC_LABELS[caller.role]
    # A refused tier does not spend a slot of the (usually scarcer) endpoint policy, nor does
    # a request the route will refuse (422 parameters, missing scope): see ratelimit.acceptance.
    if (
        policy is not None
        and refused is None
        and policy.applies_to(caller.role)
        and await would_accept(request, caller)
    ):
        ip = caller_ip(request, caller)
        decision = await limiter.hit(
            f"policy:{policy.name}:{_policy_key(policy, caller, ip, request)}",
            policy.item,
            fail_closed=fail_closed,
            label=policy.name,
        )
        decisions.append(decision)
        if not decision.allowed:
            refused, refused_by = decision, policy.name
    if refused is not None:
        RATE_LIMIT_EXCEEDED.labels(refused_by).inc()
        # Only anonymous refusals count towards blocking the address: a caller with
        # credentials answers to its own limits, and must not lock out its neighbours.
        if caller.is_anonymous:
            ip = caller_ip(request, caller)
            if await limiter.abuse.record_violation(ip) and limiter.on_block is not None:
                await limiter.on_block(ip)
        raise _refusal(refused, rate_limit_headers(refused))


_made: dict[tuple[str | None, PrincipalDependency], RateLimitDependency] = {}


def rate_limit(
    policy_name: str | None = None, *, principal: PrincipalDependency
) -> RateLimitDependency:
    """A dependency applying the caller's role tier and, if named, an endpoint policy, to the
    caller `principal` resolves (routes use `quantdesk.auth.dependencies.policy(name)`, which
    passes auth's own; rate limiting sits below auth and never imports it).

    It returns the caller's Principal, so it can stand in for the auth dependency. The same
    arguments give the same function, so FastAPI runs it once per request.
    """
    principal_dependency = principal
    made = _made.get((policy_name, principal_dependency))
    if made is not None:
        return made

    async def enforce_rate_limit(request: Request) -> Principal:
        caller = await principal_dependency(request)
        await apply_rate_limits(request, caller, policy_name)
        return caller

    setattr(enforce_rate_limit, MARKER_ATTRIBUTE, RateLimitMarker(policy_name))
    _made[(policy_name, principal_dependency)] = enforce_rate_limit
    return enforce_rate_limit
