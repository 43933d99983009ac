"""Request body limits as pure ASGI middleware: size (413), media type (415), JSON shape (422).

Order of checks, cheapest first: more than one `Content-Type` is refused (400: this layer
and the framework's parser must judge the same one); a declared `Content-Length` over the
limit is refused before a byte is read; a body whose media type is not accepted is refused
unread; a JSON body is buffered (it must be, to check its shape) with the byte count enforced
as it arrives, scanned, and replayed unchanged to the app; any other body streams through a
`receive` that counts bytes and stops the app with 413 the moment the limit is passed.

Malformed JSON is not judged here: the framework's own parser answers it with 422.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from quantdesk.errors import field_error
from quantdesk.http.problems import scope_problem

DEFAULT_MAX_BODY_BYTES = 1_048_576
DEFAULT_MAX_JSON_DEPTH = 32
DEFAULT_MAX_JSON_ARRAY_LENGTH = 10_000
# JSON APIs, the OAuth2 password form (/auth/login) and uploads; `type/*+suffix` and `type/*`
# patterns are allowed.
DEFAULT_ACCEPTED_MEDIA_TYPES = (
    "application/json",
    "application/*+json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# A JSON string, escapes included. The closing quote is optional so an unterminated string is
# consumed to the end in one match instead of being retried from every later quote (quadratic).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b"[]{},")
_OPEN_ARRAY, _OPEN_OBJECT, _CLOSE_ARRAY, _CLOSE_OBJECT, _COMMA = b"[{]},"


@dataclass(frozen=True, slots=True)
class JsonShapeViolation:
    rule: str
    message: str


def json_shape_violation(
    body: bytes, *, max_depth: int, max_array_length: int
) -> JsonShapeViolation | None:
    """The first limit a JSON document breaks, or None (also for malformed JSON).

    Performance contract: linear in the body, no Python-level loop per byte or per token, no
    recursion (a 1 MB body takes about as long as `json.loads`). Strings are cut out with one
    regex, everything but brackets and commas is deleted, and on that skeleton the nesting depth
    is a cumulative sum. An array's length is its commas at its own depth plus one: each comma
    belongs to the last container opened at the comma's depth, found by binary search over the
    openers sorted by (depth, position).
    """
    skeleton = _JSON_STRING.sub(b"", body).translate(None, _NOT_STRUCTURAL)
    if not skeleton:
        return None
    chars = np.frombuffer(skeleton, dtype=np.uint8)
    opens = (chars == _OPEN_ARRAY) | (chars == _OPEN_OBJECT)
    closes = (chars == _CLOSE_ARRAY) | (chars == _CLOSE_OBJECT)
    # depth after each character: an opener's own level, a comma's container level.
    depth = np.cumsum(opens.view(np.int8) - closes.view(np.int8), dtype=np.int32)
    if int(depth.max()) > max_depth:
        return JsonShapeViolation(
            "max_json_depth", f"JSON is nested deeper than {max_depth} levels"
        )
    commas = np.flatnonzero(chars == _COMMA)
    if len(commas) < max_array_length or int(depth.min()) < 0:
        return None  # too few commas for a long array, or unbalanced (malformed) JSON
    openers = np.flatnonzero(opens)
    # Stable sort by depth (<= max_depth) keeps positions ascending within a depth.
    openers = openers[np.argsort(depth[openers].astype(np.uint8), kind="stable")]
    stride = np.int64(len(chars) + 1)
    opener_keys = depth[openers].astype(np.int64) * stride + openers
    comma_keys = depth[commas].astype(np.int64) * stride + commas
    owner = np.searchsorted(opener_keys, comma_keys) - 1
    owned = owner >= 0
    owner, commas = owner[owned], commas[owned]
    owner = owner[depth[openers[owner]] == depth[commas]]
    per_container = np.bincount(owner, minlength=len(openers))
    if bool((per_container[chars[openers] == _OPEN_ARRAY] >= max_array_length).any()):
        return JsonShapeViolation(
            "max_json_array_length",
            f"a JSON array has more than {max_array_length} elements",
        )
    return None


def media_type(content_type: bytes | str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    value = content_type.decode("latin-1") if isinstance(content_type, bytes) else content_type
    return value.split(";", 1)[0].strip().lower()


def is_json_media_type(value: str) -> bool:
    # The rule FastAPI uses to decide whether it parses a body as JSON.
    main, _, sub = value.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class MediaTypeMatcher:
    """Matches media types against `type/subtype`, `type/*+suffix` and `type/*` patterns."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.suffixes: list[tuple[str, str]] = []
        self.wildcards: set[str] = set()
        for pattern in patterns:
            main, _, sub = media_type(pattern).partition("/")
            if sub == "*":
                self.wildcards.add(main)
            elif sub.startswith("*+"):
                self.suffixes.append((main, sub[1:]))
            else:
                self.exact.add(f"{main}/{sub}")

    def __call__(self, value: str) -> bool:
        if value in self.exact:
            return True
        main, slash, sub = value.partition("/")
        if not slash or not sub:
            return False
        return main in self.wildcards or any(
            main == want and sub.endswith(suffix) for want, suffix in self.suffixes
        )


class _BodyTooLarge(Exception):
    """Raised from the counting `receive` to stop the app reading any further."""


class _CountingReceive:
    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.received = 0
        self.exceeded = False

    async def __call__(self) -> Message:
        if self.exceeded:
            raise _BodyTooLarge
        message = await self.receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.exceeded = True
                raise _BodyTooLarge
        return message


class RequestLimitsMiddleware:
    """413 / 415 / 422 problem+json for request bodies this API will not process.

    Whether a request has a body is read from its headers (`Content-Length` > 0, or
    `Transfer-Encoding`), as HTTP/1.1 defines it; the byte limit is enforced on every request.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        max_json_array_length: int = DEFAULT_MAX_JSON_ARRAY_LENGTH,
        accepted_media_types: Iterable[str] = DEFAULT_ACCEPTED_MEDIA_TYPES,
    ) -> None:
        if max_body_bytes < 0 or max_json_depth < 1 or max_json_array_length < 1:
            raise ValueError("body limits must be positive")
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_json_depth = max_json_depth
        self.max_json_array_length = max_json_array_length
        self.accepted_media_types = tuple(accepted_media_types)
        self.accepts = MediaTypeMatcher(self.accepted_media_types)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_length: int | None = None
        content_type: bytes | None = None
        content_types = 0
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                content_length = int(value) if value.isdigit() else None
            elif name == b"content-type":
                content_type = value
                content_types += 1
            elif name == b"transfer-encoding":
                chunked = True
        has_body = bool(content_length) or (content_length is None and chunked)
        kind = media_type(content_type) if content_type is not None else ""

        if content_types > 1:
            # This layer and the framework's parser would read different ones (the last and
            # the first): the shape limits could be skipped for the body actually parsed.
            await _duplicate_content_type(scope, content_types)(scope, receive, send)
        elif content_length is not None and content_length > self.max_body_bytes:
            await self._too_large(scope, receive, send)
        elif has_body and scope["method"] in _BODY_METHODS and not self.accepts(kind):
            await self._unsupported(scope, kind)(scope, receive, send)
        elif has_body and is_json_media_type(kind):
            await self._buffered_json(scope, receive, send)
        elif has_body:
            await self._streamed(scope, receive, send)
        else:  # no Content-Length and not chunked: HTTP/1.1 says there is no body to guard
            await self.app(scope, receive, send)

    async def _buffered_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away; there is no one to answer
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        violation = json_shape_violation(
            body, max_depth=self.max_json_depth, max_array_length=self.max_json_array_length
        )
        if violation is not None:
            response = scope_problem(
                scope,
                status=422,
                code="validation-error",
                title="Unprocessable Content",
                detail=f"body: {violation.message}",
                errors=[field_error(["body"], violation.message, kind=violation.rule)],
            )
            await response(scope, receive, send)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send) -> None:
        counting = _CountingReceive(receive, self.max_body_bytes)
        app_started = False  # the app's own response went out before the limit was passed
        answered = False  # our 413 went out instead of whatever the app makes of the error

        async def guarded_send(message: Message) -> None:
            nonlocal app_started, answered
            if counting.exceeded and not app_started:
                # FastAPI turns a failed body read into a 400, a bare Starlette app into a 500:
                # either way the client is told what actually happened.
                if not answered:
                    answered = True
                    await self._too_large(scope, receive, send)
                return
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        try:
            await self.app(scope, counting, guarded_send)
        except Exception:
            if not counting.exceeded or app_started:
                raise
            if not answered:
                await self._too_large(scope, receive, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = scope_problem(
            scope,
            status=413,
            code="content-too-large",
            title="Content Too Large",
            detail=f"the request body is larger than {self.max_body_bytes} bytes",
            # The unread rest of the body is not worth draining: end the connection.
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)

    def _unsupported(self, scope: Scope, kind: str) -> Response:
        accepted = ", ".join(self.accepted_media_types)
        sent = f"Content-Type {kind}" if kind else "a body without a Content-Type"
        return scope_problem(
            scope,
            status=415,
            code="unsupported-media-type",
            title="Unsupported Media Type",
            detail=f"{sent} is not accepted; send one of: {accepted}",
        )


def _duplicate_content_type(scope: Scope, count: int) -> Response:
    detail = f"Content-Type is sent {count} times; send it once"
    return scope_problem(
        scope,
        status=400,
        code="duplicate-content-type",
        title="Bad Request",
        detail=detail,
        errors=[field_error(["header", "content-type"], detail, kind="duplicate_header")],
    )
