"""Paper desk benchmark (issue 12): fill engine, order placement, ledger verify, with references.

`python -m benchmarks.bench_desk [--no-docs]` from the repository root. Prints a table and
rewrites the "Paper desk" section of docs/benchmarks.md; always exits 0, a missed bar is
printed as FAIL. Each measurement is one function taking the parsed arguments and a
``Report`` to append rows, notes and its method paragraph to (``SECTIONS`` lists them in
order): the fill engine (``measure_fill_engine``, `benchmarks/_desk_engine.py`), order
placement over HTTP (``measure_order_placement``, `benchmarks/_desk_orders.py`) and `ledger
verify` (``measure_ledger_verify``, `benchmarks/_desk_ledger.py`). `--only orders` (repeatable)
runs chosen sections and leaves docs/benchmarks.md alone.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchmarks._desk_engine import (
    Grid,
    GridRun,
    make_replay,
    naive_replay,
    reference_loop,
)
from benchmarks._docs import (
    DOCS_PATH,
    markdown_table,
    platform_parts,
    render_section,
    text_table,
    write_section,
)

SECTION_START = "<!-- bench:desk:start -->"
SECTION_END = "<!-- bench:desk:end -->"
HEADER = ("measurement", "quantdesk", "reference", "ratio", "bar", "result")

REPEATS = 3
SEED = 20241204
ENGINE_BARS = 1_000_000
ENGINE_ORDERS = 1_000
ENGINE_STEPS = (Decimal("0.0025"), Decimal("0.001"))  # grid spacing: usual, then heavy
NAIVE_BARS = 1_000
ORDER_CONNECTIONS = (4, 16, 32)  # closed-loop clients; each server's peak is compared
ORDER_SECONDS = 3.0  # per round; 1 s warm-up + repeats x this per server
BAR_EVENTS_PER_S = 50_000  # issue 12: the fill engine processes >= 50,000 bar-events/s


@dataclass(frozen=True)
class Row:
    measurement: str
    quantdesk: str
    reference: str
    ratio: str
    bar: str
    passed: bool | None  # None: information, no bar

    @property
    def cells(self) -> tuple[str, ...]:
        verdict = "info" if self.passed is None else ("PASS" if self.passed else "FAIL")
        return (self.measurement, self.quantdesk, self.reference, self.ratio, self.bar, verdict)


@dataclass
class Report:
    """What the measurements produce, in order: table rows, notes, method paragraphs."""

    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


def per_s(count: float, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s"


# --------------------------------------------------------------------------- fill engine


def best_of(runs: Sequence[GridRun]) -> GridRun:
    return min(runs, key=lambda run: run.cpu_seconds)


def measure_fill_engine(args: argparse.Namespace, report: Report) -> None:
    """RestingBook on a replay of ``ENGINE_BARS`` bars with ``ENGINE_ORDERS`` resting
    limit orders, against the same loop doing a plain comparison per bar."""
    bars = args.engine_bars
    print(f"Fill engine: generating {bars:,} bars ...", flush=True)
    columns = make_replay(bars, SEED)
    gc.collect()
    for step in ENGINE_STEPS:
        runs: list[GridRun] = []
        references: list[tuple[float, float]] = []
        for round_ in range(args.repeats):
            print(f"  grid step {step:%}: round {round_ + 1}/{args.repeats} ...", flush=True)
            grid = Grid(ENGINE_ORDERS, step)
            best_buy, best_sell = grid.best_prices()
            runs.append(grid.replay(columns))
            references.append(reference_loop(columns, best_buy, best_sell))
        run = best_of(runs)
        ref_seconds = min(cpu for _, cpu in references)
        rate = run.bars / run.cpu_seconds
        assert run.resting == ENGINE_ORDERS
        report.rows.append(
            Row(
                f"RestingBook, {bars:,}-bar replay, {ENGINE_ORDERS:,} resting limit orders "
                f"(grid step {step:%}): bar-events/s; {run.fills:,} fills",
                per_s(run.bars, run.cpu_seconds),
                f"{per_s(run.bars, ref_seconds)} (same loop, plain comparison per bar)",
                f"{run.cpu_seconds / ref_seconds:,.0f}x the loop's time",
                f">= {BAR_EVENTS_PER_S:,}/s",
                rate >= BAR_EVENTS_PER_S,
            )
        )
        report.rows.append(
            Row(
                f"RestingBook, same replay (grid step {step:%}): fills/s",
                per_s(run.fills, run.cpu_seconds),
                "-",
                "-",
                "-",
                None,
            )
        )
        report.notes.append(
            f"Grid step {step:%}: {run.fills:,} fills over {run.bars:,} bars "
            f"({run.fills / run.bars:.2f} per bar) in {run.cpu_seconds:.2f} s thread CPU, "
            f"{run.seconds:.2f} s wall clock ({per_s(run.bars, run.seconds)} bar-events by "
            f"the wall clock; best of {args.repeats} by CPU, all rounds CPU/wall "
            f"{', '.join(f'{r.cpu_seconds:.2f}/{r.seconds:.2f}' for r in runs)} s); "
            f"reference loop {ref_seconds * 1e3:,.0f} ms CPU."
        )
    step = ENGINE_STEPS[0]
    print(f"  match_orders over every order, first {NAIVE_BARS:,} bars ...", flush=True)
    naive = naive_replay(columns, ENGINE_ORDERS, step, NAIVE_BARS)
    fast = best_of([Grid(ENGINE_ORDERS, step).replay(tuple(c[:NAIVE_BARS] for c in columns))])  # type: ignore[arg-type]
    report.rows.append(
        Row(
            f"RestingBook vs match_orders over all {ENGINE_ORDERS:,} orders every bar, "
            f"first {NAIVE_BARS:,} bars (grid step {step:%}): bar-events/s",
            per_s(fast.bars, fast.cpu_seconds),
            f"{per_s(naive.bars, naive.cpu_seconds)} (match_orders, every order each bar)",
            f"{naive.cpu_seconds / fast.cpu_seconds:,.0f}x faster",
            "-",
            None if naive.fills == fast.fills else False,
        )
    )
    report.notes.append(
        f"On the first {NAIVE_BARS:,} bars both give {fast.fills:,} fills "
        f"(RestingBook) and {naive.fills:,} (match_orders): "
        f"{'identical count' if naive.fills == fast.fills else 'MISMATCH'}."
    )
    report.methods.append(ENGINE_METHOD.format(bars=bars, orders=ENGINE_ORDERS,
                                               repeats=args.repeats, naive=NAIVE_BARS))  # fmt: skip


ENGINE_METHOD = (
    "Fill engine: {bars:,} synthetic hourly bars (geometric random walk, 0.2 % per bar, "
    "opens near the previous close, wicks up to 0.1 %, fixed seed, Python lists generated "
    "before timing). `RestingBook` (an uncapped equity model: 5 bps slippage, no fees) "
    "holds {orders:,} one-unit limit orders: a geometric grid, half buys below the start "
    "price and half sells above, one step apart; each fill is replaced at once by an "
    "order of the other side one step from it, so {orders:,} orders rest on every bar "
    "(placement is inside the timed loop). The loop calls `on_bar(ts, open, high, low, "
    "close, volume)` for every bar: a bar that reaches no order costs four float "
    "comparisons; otherwise the reachable orders come off sorted lists and their fill "
    "prices are computed in `Decimal` by the same rule functions as `match_orders`. "
    "Two spacings: 0.25 % (a fill on about half the bars) and 0.1 % (more fills than "
    "bars). Reference: the same `for` loop over the same bars doing only one plain "
    "comparison per bar against the best buy and sell (the floor of any per-bar Python "
    "loop); the ratio is RestingBook time / reference time. Rates are bars (or fills) "
    "per second of CPU time of the calling thread (`time.thread_time`), best of "
    "{repeats} rounds: the machine is shared with other jobs and waiting for its CPUs "
    "does not inflate CPU time; the wall-clock figures are in the notes. The last row runs "
    "the same grid on the first {naive:,} bars through `match_orders` with every resting "
    "order on every bar, as a desk without a price index would."
)


# --------------------------------------------------------------------------- ledger verify

LEDGER_ENTRIES = 1_000_000
LEDGER_SECONDS = 2.0  # issue 12: `ledger verify` on 1,000,000 entries under 2 s


def measure_ledger_verify(args: argparse.Namespace, report: Report) -> None:
    """`verify_ledger` on a SQLite file of ``LEDGER_ENTRIES`` entries (benchmarks/
    _desk_ledger.py), against a plain COUNT/SUM over the same legs."""
    from benchmarks._desk_ledger import ACCOUNTS, measure

    entries = args.ledger_entries
    print(f"Ledger verify: loading {entries:,} entries ...", flush=True)
    run = measure(entries, args.repeats, SEED)
    assert run.report.ok, run.report.violations[:5]  # consistent data: a clean report
    cpu, wall, ref = min(run.verify_cpu), min(run.verify_seconds), min(run.reference_cpu)
    rounds = zip(run.verify_cpu, run.verify_seconds, strict=True)
    report.rows.append(
        Row(
            f"`ledger verify`, {run.entries:,} entries / {run.legs:,} legs, "
            f"{len(run.report.checks)} checks (SQLite): seconds (CPU)",
            f"{cpu:.2f} s",
            f"{ref:.2f} s (SELECT COUNT(*), SUM(amount) FROM ledger_legs)",
            f"{cpu / ref:,.1f}x",
            f"< {LEDGER_SECONDS:g} s",
            cpu < LEDGER_SECONDS,
        )
    )
    report.notes.append(
        f"Ledger verify: {run.entries:,} entries, {run.legs:,} legs, {ACCOUNTS:,} accounts, "
        f"no violation found; CPU/wall per round "
        f"{', '.join(f'{c:.2f}/{w:.2f}' for c, w in rounds)} s "
        f"(best wall {wall:.2f} s); reference CPU per round "
        f"{', '.join(f'{r:.2f}' for r in run.reference_cpu)} s; load "
        f"{run.load_seconds:.0f} s."
    )
    report.methods.append(
        LEDGER_METHOD.format(entries=entries, accounts=ACCOUNTS, repeats=args.repeats)
    )


LEDGER_METHOD = (
    "Ledger verify: a migrated SQLite file gets {entries:,} ledger entries for {accounts:,} "
    "accounts, bulk-inserted with stdlib `sqlite3` `executemany` (not through the API): per "
    "account a deposit, cycles of hold, release, buy fill, fee, sell fill closing the lot "
    "(three legs) and fee, then an open order's hold and an open position (fill, lot, "
    "position row, market-clock price); every balance consistent, so the report must be "
    "clean. `verify_ledger` runs every check of `quantdesk ledger verify` through the app's "
    "own driver (aiosqlite) after one warm-up run; figure: CPU time of the process "
    "(`time.process_time`, the driver thread included), best of {repeats} rounds, wall clock "
    "in the notes. Reference: `SELECT COUNT(*), SUM(amount) FROM ledger_legs` on the same "
    "session, measured in the same rounds the same way (one pass over every leg, the "
    "floor of any check that reads them all)."
)


# --------------------------------------------------------------------------- order placement

PLACEMENT_RATIO = 0.5  # issue 12: POST /orders at least 0.5x the bare endpoint's requests/s


def measure_order_placement(args: argparse.Namespace, report: Report) -> None:
    """`POST /accounts/{id}/orders` on one uvicorn worker against a bare FastAPI endpoint
    inserting the same row (benchmarks/_desk_orders.py), at several concurrencies; the bar
    compares each server's peak sustained throughput."""
    from benchmarks._desk_orders import ORDERS_METHOD, placement_notes, placement_run
    from benchmarks._rounds import LoadShape

    levels = args.order_connections
    shape = LoadShape(levels[0], 1, args.repeats, args.order_seconds, 1.0)
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-orders-") as tmp:
        run = placement_run(Path(tmp), shape, levels)
    created = all(run.all_created(side) for side in run.sides())
    what = "`POST /accounts/{id}/orders`, market buy"
    for level in run.levels:
        a, b = level.quantdesk, level.bare
        report.rows.append(
            Row(
                f"{what}, {level.connections} connections: requests/s, p99 (best round)",
                f"{a.best_rps():,.0f}/s, p99 {a.best_p99():,.1f} ms",
                f"{b.best_rps():,.0f}/s, p99 {b.best_p99():,.1f} ms (bare endpoint)",
                f"{a.best_rps() / b.best_rps():.2f}x",
                "-",
                None,
            )
        )
    a_level, a = run.peak(lambda level: level.quantdesk)
    b_level, b = run.peak(lambda level: level.bare)
    ratio = a.best_rps() / b.best_rps()
    report.rows.append(
        Row(
            f"{what}: peak sustained requests/s (each server at its best of "
            f"{', '.join(str(level) for level in levels)} connections)",
            f"{a.best_rps():,.0f}/s at {a_level.connections}, p99 {a.best_p99():,.1f} ms",
            f"{b.best_rps():,.0f}/s at {b_level.connections}, p99 {b.best_p99():,.1f} ms "
            "(bare FastAPI endpoint, same row inserted)",
            f"{ratio:.2f}x",
            f">= {PLACEMENT_RATIO:g}x",
            created and ratio >= PLACEMENT_RATIO,
        )
    )
    statuses = "; ".join(
        f"{level.connections}: A {level.quantdesk.status_text()}, B {level.bare.status_text()}"
        for level in run.levels
    )
    report.rows.append(
        Row(
            "Order placement: every answer 201, one stored order and one hold entry per "
            "answer, `ledger verify` clean afterwards",
            f"{run.orders_stored:,} orders, {run.holds_stored:,} holds",
            statuses,
            "-",
            "all 201, consistent",
            created and run.consistent,
        )
    )
    report.notes.extend(placement_notes(run))
    report.methods.append(ORDERS_METHOD.format(shape=shape, levels=levels))


# --------------------------------------------------------------------------- report

SECTIONS: tuple[Callable[[argparse.Namespace, Report], None], ...] = (
    measure_fill_engine,
    measure_order_placement,
    measure_ledger_verify,
)
SECTION_NAMES = {"engine": measure_fill_engine, "orders": measure_order_placement,
                 "ledger": measure_ledger_verify}  # fmt: skip


def table(rows: Sequence[Row], markdown: bool) -> list[str]:
    body = [row.cells for row in rows]
    return markdown_table(HEADER, body) if markdown else text_table(HEADER, body)


def machine() -> str:
    return ", ".join([*platform_parts(), f"numpy {np.__version__}"])


def section(report: Report, info: str) -> str:
    return render_section(
        SECTION_START,
        SECTION_END,
        title="Paper desk",
        command="`python -m benchmarks.bench_desk`",
        info=info,
        table=table(report.rows, markdown=True),
        notes=report.notes,
        method="\n\n".join(report.methods),
    )


def _levels(text: str) -> tuple[int, ...]:
    levels = tuple(int(part) for part in text.split(",") if part.strip())
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("expected positive integers, e.g. 4,16,32")
    return levels


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--engine-bars", type=int, default=ENGINE_BARS)
    parser.add_argument("--ledger-entries", type=int, default=LEDGER_ENTRIES)
    parser.add_argument(
        "--order-connections",
        type=_levels,
        default=ORDER_CONNECTIONS,
        help="comma-separated concurrencies, e.g. 4,16,32",
    )
    parser.add_argument("--order-seconds", type=float, default=ORDER_SECONDS, help="per round")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SECTION_NAMES),
        help="run only these sections (repeatable); docs/benchmarks.md is then left alone",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args(argv)
    begun = time.perf_counter()
    report = Report()
    chosen = {SECTION_NAMES[name] for name in args.only or SECTION_NAMES}
    for measure in SECTIONS:
        if measure in chosen:
            measure(args, report)
    print("", *table(report.rows, markdown=False), "", *(f"- {n}" for n in report.notes), sep="\n")
    info = machine()
    print(f"\n{info}\nTotal {time.perf_counter() - begun:.0f} s")
    failed = [row.measurement for row in report.rows if row.passed is False]
    if failed:
        print("FAIL: " + "; ".join(failed))
    if args.only:
        print("--only: docs/benchmarks.md left as it was (it holds every section)")
    elif not args.no_docs:
        write_section(section(report, info), SECTION_START, SECTION_END)
        print(f"Wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
