"""`quantdesk stream SYMBOL...`: follow a running server's WebSocket stream in the terminal
(registered as a top-level command in cli.py; docs/realtime.md).

Subscribes to quotes, bars and signals of the symbols and, given an API key or token
(`--token`, or QUANTDESK_STREAM_TOKEN), to the caller's order updates and alerts; the
credential goes in the first message, never in the URL. On a terminal it shows a live table
(the latest frame of each stream, and the last events); piped, or with `--plain`, it prints
one line per event. Ctrl-C (or `--count N` events) ends it.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from quantdesk.infra.events.catalog import PUBLIC_EVENTS

out = Console()
err = Console(stderr=True)
EVENT_TYPES = frozenset(PUBLIC_EVENTS)  # frames of events (acks, gaps and errors are not)


def summary(frame: dict[str, Any]) -> str:
    """One line of what an event says."""
    data = frame.get("data") or {}
    kind = frame.get("type")
    if kind == "price_update":
        return f"{data.get('symbol')} {data.get('close')}"
    if kind == "bar":
        return (
            f"{data.get('symbol')} {data.get('timeframe')} o={data.get('open')} "
            f"h={data.get('high')} l={data.get('low')} c={data.get('close')}"
        )
    if kind == "new_signal":
        return (
            f"{data.get('symbol')} {data.get('strategy')} {data.get('direction')} "
            f"entry={data.get('entry')} target={data.get('target')} stop={data.get('stop')}"
        )
    if kind == "signal_closed":
        return f"{data.get('symbol')} {data.get('strategy')} {data.get('status')}"
    if kind == "order_update":
        fill = f" {data.get('fill_qty')}@{data.get('fill_price')}" if data.get("fill_qty") else ""
        return (
            f"{data.get('symbol')} {data.get('side')} {data.get('qty')} {data.get('event')}"
            f" -> {data.get('status')}{fill}"
        )
    return orjson.dumps(data).decode()[:100]


def frames_of(raw: str | bytes) -> list[dict[str, Any]]:
    data = orjson.loads(raw)
    return data if isinstance(data, list) else [data]


def render(latest: dict[str, dict[str, Any]], recent: deque[dict[str, Any]]) -> Table:
    table = Table(title="quantdesk stream", expand=True)
    for column in ("stream", "type", "seq", "event", "at"):
        table.add_column(column, no_wrap=column != "event")
    for name in sorted(latest):
        frame = latest[name]
        table.add_row(
            name, frame["type"], str(frame["seq"]), summary(frame), frame.get("timestamp", "")
        )
    if recent:
        table.add_section()
        for frame in reversed(recent):
            table.add_row(
                frame.get("channel", ""),
                frame["type"],
                str(frame.get("seq", "")),
                summary(frame),
                frame.get("timestamp", ""),
            )
    return table


async def follow(
    url: str, symbols: list[str], token: str | None, count: int | None, plain: bool
) -> int:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    latest: dict[str, dict[str, Any]] = {}
    recent: deque[dict[str, Any]] = deque(maxlen=15)
    seen = 0
    live = None if plain else Live(render(latest, recent), console=out, auto_refresh=False)
    try:
        async with connect(url, max_size=2**24) as ws:
            if token:
                await ws.send(orjson.dumps({"action": "auth", "token": token}).decode())
            commands: list[dict[str, Any]] = [
                {"action": "subscribe", "channel": channel, "symbols": symbols}
                for channel in ("quotes", "bars", "signals")
            ]
            if token:
                commands += [{"action": "subscribe", "channel": c} for c in ("orders", "alerts")]
            for command in commands:
                await ws.send(orjson.dumps(command).decode())
            if live is not None:
                live.start()
            async for raw in ws:
                for frame in frames_of(raw):
                    kind = frame.get("type")
                    if kind == "ping":
                        await ws.send('{"action":"pong"}')
                    elif kind == "error":
                        err.print(f"[red]error:[/red] {frame.get('detail')}")
                    elif kind == "gap":
                        err.print(f"[yellow]gap[/yellow] in {frame.get('channel')}")
                    elif kind in EVENT_TYPES:
                        seen += 1
                        if live is None:
                            out.print(
                                f"{frame.get('timestamp')} {frame.get('channel')} "
                                f"#{frame.get('seq')} {kind} {summary(frame)}",
                                highlight=False,
                                soft_wrap=True,
                            )
                        else:
                            latest[frame["channel"]] = frame
                            recent.append(frame)
                            live.update(render(latest, recent), refresh=True)
                if count is not None and seen >= count:
                    return 0
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd is not None else None
        reason = exc.rcvd.reason if exc.rcvd is not None else ""
        err.print(f"the server closed the stream ({code} {reason})")
        return 1
    except OSError as exc:
        err.print(f"cannot connect to {url}: {exc}")
        return 1
    finally:
        if live is not None:
            live.stop()
    return 0


def stream_command(
    symbols: Annotated[list[str], typer.Argument(help="Symbols to follow (GOOG, BTC/USDT).")],
    url: Annotated[
        str, typer.Option(help="The server's WebSocket endpoint.")
    ] = "ws://127.0.0.1:8000/api/v1/ws",
    token: Annotated[
        str | None,
        typer.Option(
            envvar="QUANTDESK_STREAM_TOKEN",
            help="API key or access token: adds your order updates and alerts.",
        ),
    ] = None,
    count: Annotated[int | None, typer.Option(min=1, help="Exit after this many events.")] = None,
    plain: Annotated[
        bool, typer.Option("--plain", help="One line per event instead of the live table.")
    ] = False,
) -> None:
    """Follow prices, bars, signals (and your orders) live from a running server."""
    wanted = [symbol.strip().upper() for symbol in symbols if symbol.strip()]
    try:
        code = asyncio.run(follow(url, wanted, token, count, plain or not sys.stdout.isatty()))
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
