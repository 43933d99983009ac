"""The access benchmark's verdicts: what A's answer shows, the table against the bars, and
its section of docs/benchmarks.md.

`check_answers` looks once, before the load, at A's answer (request id and security headers,
the rate limiter's RateLimit-Limit) and at whether B answers the same bytes; `rows` compares
the interleaved rounds of A (quantdesk) and B (bare FastAPI) against the issue's bars;
`section` renders all of it, with the method, for docs/benchmarks.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from limits import parse as parse_limit

from benchmarks._access_db import ROLE
from benchmarks._docs import DOCS_PATH, markdown_table, render_section, write_section
from benchmarks._rounds import LoadShape, Round, Side, bottleneck, round_ratios

RPS_BAR = 0.6  # requests/s of A >= 0.6 x requests/s of B
P99_BAR = 2.0  # p99 of A <= 2 x p99 of B
REDIS_RPS_BAR = 0.5  # the same with the limiter's counters in Redis (one round trip more)

# What A must show on every answer, per the issue: request id, security headers, rate limit.
REQUIRED_HEADERS = ("x-request-id", "x-content-type-options", "content-security-policy")
RATE_LIMIT_HEADER = "ratelimit-limit"

SECTION_START = "<!-- bench:access:start -->"
SECTION_END = "<!-- bench:access:end -->"
REDIS_SECTION_START = "<!-- bench:access-redis:start -->"
REDIS_SECTION_END = "<!-- bench:access-redis:end -->"


# --------------------------------------------------------------------------- checks


@dataclass
class Checks:
    """What A's answer shows, checked once before the load."""

    missing_headers: list[str]
    rate_limit: str | None  # the RateLimit-Limit A reported; None: the limiter is not wired
    same_body: bool
    body_bytes: int
    notes: list[str] = field(default_factory=list)

    @property
    def rate_limited(self) -> bool:
        return self.rate_limit is not None


def check_answers(
    a_headers: Mapping[str, str], a_body: bytes, b_body: bytes, tier_limit: str
) -> Checks:
    missing = [name for name in REQUIRED_HEADERS if name not in a_headers]
    checks = Checks(
        missing_headers=missing,
        rate_limit=a_headers.get(RATE_LIMIT_HEADER),
        same_body=a_body == b_body,
        body_bytes=len(a_body),
    )
    if missing:
        checks.notes.append("A's answer lacks " + ", ".join(missing))
    if not checks.rate_limited:
        checks.notes.append(
            "rate limiter not yet wired: A's answer has no RateLimit-Limit header, so A was "
            "measured without rate limiting"
        )
    elif checks.rate_limit != str(parse_limit(tier_limit).amount):
        checks.notes.append(
            f"A reports RateLimit-Limit {checks.rate_limit}, not the {tier_limit} asked for: "
            f"QUANTDESK_RATE_LIMIT_{ROLE.value.upper()} was not applied (expect 429s)"
        )
    if not checks.same_body:
        checks.notes.append("B's body differs from A's (same document, different bytes)")
    return checks


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    measurement: str
    quantdesk: str
    bare: str
    ratio: str
    bar: str
    result: str


HEADER = ("measurement", "quantdesk (A)", "bare FastAPI (B)", "ratio A/B", "bar", "result")


def verdict(passed: bool | None) -> str:
    if passed is None:
        return "info"
    return "PASS" if passed else "FAIL"


def rows(
    a: Side, b: Side, all_ok: bool, rps_bar: float = RPS_BAR, p99_bar: float | None = P99_BAR
) -> list[Row]:
    """A against B; `p99_bar` None: the p99 ratio is shown, not judged (Redis mode)."""
    rps_ratio = a.best_rps() / b.best_rps()
    p99_ratio = a.best_p99() / b.best_p99()
    n = len(a.rounds)

    def med(side: Side, pick: Callable[[Round], float]) -> float:
        return side.median(pick)

    def rps(r: Round) -> float:
        return r.load.rps

    def p50(r: Round) -> float:
        return r.load.p50_ms

    def p99(r: Round) -> float:
        return r.load.p99_ms

    def cpu_per_request(r: Round) -> float:
        return r.server_cpu_s * 1e6 / max(1, r.load.requests)

    return [
        Row(
            f"requests/s, best of {n}",
            f"{a.best_rps():,.0f}",
            f"{b.best_rps():,.0f}",
            f"{rps_ratio:.2f}x",
            f">= {rps_bar:.2f}x",
            verdict(rps_ratio >= rps_bar and all_ok),
        ),
        Row(
            f"p99 latency, best of {n}",
            f"{a.best_p99():.2f} ms",
            f"{b.best_p99():.2f} ms",
            f"{p99_ratio:.2f}x",
            "-" if p99_bar is None else f"<= {p99_bar:.2f}x",
            verdict(None if p99_bar is None else p99_ratio <= p99_bar and all_ok),
        ),
        Row(
            f"requests/s, median of {n}",
            f"{med(a, rps):,.0f}",
            f"{med(b, rps):,.0f}",
            f"{med(a, rps) / med(b, rps):.2f}x",
            "-",
            "info",
        ),
        Row(
            f"p99 latency, median of {n}",
            f"{med(a, p99):.2f} ms",
            f"{med(b, p99):.2f} ms",
            f"{med(a, p99) / med(b, p99):.2f}x",
            "-",
            "info",
        ),
        Row(
            f"p50 latency, median of {n}",
            f"{med(a, p50):.2f} ms",
            f"{med(b, p50):.2f} ms",
            f"{med(a, p50) / med(b, p50):.2f}x",
            "-",
            "info",
        ),
        Row(
            "server CPU per request, median",
            f"{med(a, cpu_per_request):.0f} us",
            f"{med(b, cpu_per_request):.0f} us",
            f"{med(a, cpu_per_request) / med(b, cpu_per_request):.2f}x",
            "-",
            "info",
        ),
        Row(
            "server CPU while loaded, median",
            f"{med(a, lambda r: r.server_cpu):.0%}",
            f"{med(b, lambda r: r.server_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
        Row(
            "client CPU while loaded, median",
            f"{med(a, lambda r: r.client_cpu):.0%}",
            f"{med(b, lambda r: r.client_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
        Row(
            "other CPU on the machine, median",
            f"{med(a, lambda r: r.other_cpu):.0%}",
            f"{med(b, lambda r: r.other_cpu):.0%}",
            "-",
            "-",
            "info",
        ),
    ]


def cells(found: Sequence[Row]) -> list[tuple[str, ...]]:
    return [(r.measurement, r.quantdesk, r.bare, r.ratio, r.bar, r.result) for r in found]


METHOD = (
    "**A** = `uvicorn quantdesk.main:app`, the real app with its default settings (the edge: "
    "request id, trusted hosts, CORS, IP blocks, body limits, security and rate-limit headers, "
    "access log and request metrics; API-key authentication and the rate limiter in the "
    "route's policy dependency; the quote served from the cache) on a temporary SQLite "
    "database with the demo data, "
    "`QUANTDESK_LOG_LEVEL=WARNING`, one {role} user and one API key sent as `X-API-Key`; "
    "the {role} tier is raised to `{tier}` (`QUANTDESK_RATE_LIMIT_{ROLE}`) so no request of "
    "the run is refused while each one is still counted. **B** = `uvicorn "
    "benchmarks._bare_app:app`, a bare FastAPI app with the same route answering the "
    "document A answered ({bare_mode}; no middleware, dependencies or database). Both: "
    "`--host 127.0.0.1 --workers 1 --no-access-log --log-level warning` (uvicorn picks uvloop "
    "and httptools). Load: `benchmarks/loadgen.py` in {processes} separate client "
    "process(es), {connections} keep-alive HTTP/1.1 connections sending requests back to back "
    "(closed loop), latency from the request's write to its last body byte. Each server gets "
    "a {warmup:g} s warm-up, then {rounds} rounds of {seconds:g} s, A and B interleaved and "
    "alternating who goes first: {total:g} s of load per server (the issue allows 15 s). The "
    "table compares the best round of each side (highest requests/s, lowest p99); server CPU "
    "per request is the uvicorn process's CPU time over the requests it answered (the "
    "figure least moved by other jobs on the machine); server CPU while loaded "
    "is the uvicorn process's user + system time (all threads) over the round's wall time "
    "(~100%: the server was the bottleneck), client CPU the load generator's, and other CPU "
    "the rest of the machine's busy time (`/proc/stat`) in the same interval: other jobs "
    "and kernel work, the measure of how shared the machine was. In a closed loop a "
    "saturated server's latency is about connections / throughput, so the p99 ratio tracks "
    "the inverse of the requests/s ratio."
)


@dataclass(frozen=True)
class ModeReport:
    """What a storage mode other than the embedded one adds to the section (Redis)."""

    flag: str  # the command-line flag selecting it
    name: str  # in the title
    start: str
    end: str
    table: list[str]  # markdown lines, after A vs B
    notes: list[str]
    method: str  # appended to METHOD


def section(
    table: Sequence[Row],
    a: Side,
    b: Side,
    checks: Checks,
    shape: LoadShape,
    tier_limit: str,
    bare_mode: str,
    info: str,
    quote_path: str,
    mode: ModeReport | None = None,
) -> str:
    method = METHOD.format(
        role=ROLE.value,
        ROLE=ROLE.value.upper(),
        tier=tier_limit,
        bare_mode=(
            "returned as a dict, encoded by FastAPI"
            if bare_mode == "dict"
            else "returned as the stored bytes"
        ),
        processes=shape.processes,
        connections=shape.connections,
        warmup=shape.warmup_seconds,
        rounds=shape.rounds,
        seconds=shape.round_seconds,
        total=shape.warmup_seconds + shape.rounds * shape.round_seconds,
    )
    if checks.rate_limited:
        limiting = f"active (A reports RateLimit-Limit {checks.rate_limit})"
    else:
        limiting = "NOT active: the rate limiter is not yet wired into the app"
    headers = (
        "present" if not checks.missing_headers else "MISSING " + ", ".join(checks.missing_headers)
    )
    identical = "byte-identical" if checks.same_body else "NOT byte-identical"
    features = [
        f"Rate limiting: {limiting}.",
        f"Request id and security headers on A's answers: {headers}.",
        f"Body: {checks.body_bytes} bytes, {identical} from A and B.",
        f"Statuses, A: {a.status_text()}; B: {b.status_text()}.",
    ]
    title = f"Access: authenticated, rate-limited `GET {quote_path}`"
    command = "`python -m benchmarks.bench_access`"
    lines = markdown_table(HEADER, cells(table))
    if mode is not None:
        title = f"Access, {mode.name}: authenticated, rate-limited `GET {quote_path}`"
        command = f"`python -m benchmarks.bench_access {mode.flag}`"
        lines = [*lines, "", *mode.table]
        features.extend(mode.notes)
        method = f"{method} {mode.method}"
    return render_section(
        SECTION_START if mode is None else mode.start,
        SECTION_END if mode is None else mode.end,
        title=title,
        command=command,
        info=info,
        table=lines,
        notes=[
            *features,
            *round_ratios(a, b),
            *(f"Bottleneck, {bottleneck(side)}." for side in (a, b)),
        ],
        method=method,
    )


def write_docs(text: str, mode: ModeReport | None = None) -> None:
    if mode is None:
        write_section(text, SECTION_START, SECTION_END)
        return
    if DOCS_PATH.exists():  # a new mode's section goes right after the embedded one
        docs = DOCS_PATH.read_text()
        if mode.start not in docs and SECTION_END in docs:
            docs = docs.replace(SECTION_END, f"{SECTION_END}\n\n{mode.start}\n{mode.end}", 1)
            DOCS_PATH.write_text(docs)
    write_section(text, mode.start, mode.end)
