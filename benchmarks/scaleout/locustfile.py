"""Realistic mixed traffic for the loopback cluster (`python -m benchmarks.scaleout.run` starts
locust on this file; docs/scale-out.md). Each simulated user is one of the signed-in users with
a funded paper account the runner prepared; it reads quotes, bars and indicators, places
orders with idempotency keys, queues backtests and (as the cluster's analyst) bar exports.
Each user starts tasks at a fixed rate ($QUANTDESK_SCALEOUT_USER_RATE per second, locust's
constant_throughput; the runner sets it to --rate / --users), so the load's rate is known.
Requests are named by endpoint class (the report's rows). Every order answered 201 is
appended to $QUANTDESK_SCALEOUT_ACKS (one JSON line) so the runner can check afterwards that
no acknowledged write was lost."""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
from pathlib import Path
from typing import Any

from locust import HttpUser, constant_throughput, task

API = "/api/v1"
SYMBOLS = ("GOOG", "EURUSD", "BTCUSD")
TIMEFRAMES = {"GOOG": "1d", "EURUSD": "1h", "BTCUSD": "1M"}
ACKS = os.environ.get("QUANTDESK_SCALEOUT_ACKS", "")
# Signed-in users with funded paper accounts, prepared by the runner before the load (argon2
# sign-ins would otherwise take the first seconds of a short run), and the cluster's analyst
# token: exports need the export:data scope.
PREPARED: dict[str, Any] = json.loads(
    Path(os.environ["QUANTDESK_SCALEOUT_USERS"]).read_text()
    if os.environ.get("QUANTDESK_SCALEOUT_USERS")
    else '{"users": [], "analyst": ""}'
)
_next_user = itertools.count()
USER_RATE = float(os.environ.get("QUANTDESK_SCALEOUT_USER_RATE") or 3.0)  # tasks/s per user


class Trader(HttpUser):
    wait_time = constant_throughput(USER_RATE)

    def on_start(self) -> None:
        users = PREPARED["users"]
        user = users[next(_next_user) % len(users)]
        self.token = user["token"]
        self.account_id = user["account_id"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.analyst_headers = {"Authorization": f"Bearer {PREPARED['analyst']}"}

    @task(10)
    def quote(self) -> None:
        self.client.get(f"{API}/quotes/{random.choice(SYMBOLS)}", name="quotes")

    @task(6)
    def bars(self) -> None:
        symbol = random.choice(SYMBOLS)
        params = {"timeframe": TIMEFRAMES[symbol], "limit": random.choice((50, 200, 500))}
        self.client.get(f"{API}/bars/{symbol}", params=params, name="bars")

    @task(4)
    def indicators(self) -> None:
        symbol = random.choice(SYMBOLS)
        params = {"timeframe": TIMEFRAMES[symbol], "set": "rsi:14,macd:12:26:9,bbands:20:2"}
        self.client.get(f"{API}/indicators/{symbol}", params=params, name="indicators")

    @task(5)
    def order(self) -> None:
        key = secrets.token_hex(12)
        body = {"symbol": "GOOG", "side": "buy", "type": "limit", "qty": "1", "limit_price": "1"}
        headers = {**self.headers, "Idempotency-Key": key}
        path = f"{API}/accounts/{self.account_id}/orders"
        answer = self.client.post(path, json=body, headers=headers, name="orders")
        if answer.status_code == 201 and random.random() < 0.2:
            # A client retrying: the same key answers the same order (Idempotent-Replayed).
            self.client.post(path, json=body, headers=headers, name="orders (retry)")
        if answer.status_code == 201 and ACKS:
            record: dict[str, Any] = {
                "token": self.token,
                "account_id": self.account_id,
                "order_id": answer.json()["id"],
            }
            with open(ACKS, "a") as out:
                out.write(json.dumps(record) + "\n")

    @task(1)
    def backtest(self) -> None:
        fast = random.randint(5, 15)
        body = {"symbol": "GOOG", "strategy": "sma_cross", "params": {"fast": fast, "slow": 40}}
        self.client.post(f"{API}/backtests", json=body, headers=self.headers, name="backtests")

    @task(1)
    def export(self) -> None:
        body = {"kind": "bars", "format": "csv", "params": {"symbol": "GOOG", "timeframe": "1d"}}
        self.client.post(f"{API}/exports", json=body, headers=self.analyst_headers, name="exports")
