"""Response-header hooks: several middlewares add headers, one of them wraps `send`.

Every pure-ASGI middleware that adds response headers would otherwise wrap `send` in its own
closure and copy the start message, once per layer per request. Instead the outermost
middleware (RequestContextMiddleware) opens a hook list on the scope's state and applies
every hook once, at `http.response.start`; inner middlewares just register theirs. Hooks run
innermost first, in the order nested `send` wrappers would have run them.

A middleware used without that outer layer (a test app, another stack) still works:
`with_response_headers` then wraps `send` itself.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Scope, Send

Headers = list[tuple[bytes, bytes]]
# Receives the response's headers (lower-case names) and edits the list in place.
HeaderHook = Callable[[Headers], None]

STATE_HOOKS = "response_header_hooks"


def open_hooks(scope: Scope) -> list[HeaderHook]:
    """Called by the one outer middleware; the list it applies at response start."""
    hooks: list[HeaderHook] = []
    scope.setdefault("state", {})[STATE_HOOKS] = hooks
    return hooks


def apply_hooks(message: Message, hooks: list[HeaderHook]) -> Message:
    headers: Headers = list(message.get("headers", ()))
    for hook in reversed(hooks):
        hook(headers)
    return {**message, "headers": headers}


def with_response_headers(scope: Scope, send: Send, hook: HeaderHook) -> Send:
    """Register `hook`; returns the `send` to pass on (unchanged when an outer layer applies
    hooks, else a wrapper that applies this one)."""
    hooks = scope.get("state", {}).get(STATE_HOOKS)
    if isinstance(hooks, list):
        hooks.append(hook)
        return send

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = apply_hooks(message, [hook])
        await send(message)

    return send_with_headers
