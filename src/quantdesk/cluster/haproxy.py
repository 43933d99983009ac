"""haproxy.cfg for the loopback cluster: deploy/haproxy.cfg's shape (roundrobin, /health/ready
checks, forwardfor, WebSocket tunnel timeout) with servers on 127.0.0.1 ports.

When no replica is ready (a store every replica shares is down: Redis, PostgreSQL), traffic
goes to the replicas that are alive (/health/live) instead of haproxy's own 503: they serve
what does not need the missing store (quotes during a Redis outage) and answer the rest with
the application's 503 problem+json (docs/scale-out.md, "Faults")."""

from __future__ import annotations

from quantdesk.cluster.state import HOST


def _backend(name: str, probe: str, server: str, replica_ports: list[int]) -> str:
    """A roundrobin backend over every replica, each checked every second at `probe`."""
    servers = "\n".join(
        f"    server {server}{index} {HOST}:{port}" for index, port in enumerate(replica_ports, 1)
    )
    return f"""backend {name}
    balance roundrobin
    option httpchk
    http-check send meth GET uri {probe} ver HTTP/1.1 hdr Host localhost
    http-check expect status 200
    default-server check inter 1s fall 2 rise 1
{servers}"""


def render_haproxy(port: int, stats_port: int, replica_ports: list[int]) -> str:
    ready = _backend("quantdesk", "/health/ready", "api", replica_ports)
    alive = _backend("quantdesk_alive", "/health/live", "live", replica_ports)
    return f"""# Written by `quantdesk cluster up` (quantdesk/cluster/haproxy.py).
global
    maxconn 4096

defaults
    mode http
    option forwardfor
    option dontlognull
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout tunnel 1h
    timeout client-fin 30s
    timeout server-fin 30s

frontend http
    bind {HOST}:{port}
    use_backend quantdesk_alive if {{ nbsrv(quantdesk) eq 0 }}
    default_backend quantdesk

frontend stats
    bind {HOST}:{stats_port}
    stats enable
    stats uri /stats

{ready}

# No replica ready: the live ones, so the app answers (200 or its own 503) instead of haproxy.
{alive}
"""
