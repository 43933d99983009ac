"""The method text of the realtime section of docs/benchmarks.md (bench_realtime.py)."""

METHOD = """\
Method. One process: a uvicorn subprocess (one worker, memory event bus) serves quantdesk; a
separate client process opens 500 WebSocket connections to `/api/v1/ws`, each subscribed to
BENCH quotes, and counts frames (a JSON array counts each element). `POST /bench/publish`
(a route the benchmark adds to the app) then publishes 1,000 quote events on the app's own bus,
yielding to the event loop after every 50; deliveries/s is 500,000 frames over the time from the
first frame received to the last. The reference is a bare Starlette WebSocket app in the same
kind of uvicorn subprocess that broadcasts the same events, each encoded once with orjson and
sent to every connection with `send_text` (one message per event per client: no hub, no queue,
no batching, no auth or limits), measured the same way in the same run. Latency is the time
from an event's publish (its `ts`, microseconds) to a client receiving it, sampled on every 7th
message; in the one-process rounds it mostly measures the burst's queueing, and is shown for
information. Two replicas: two uvicorn subprocesses of `quantdesk.main:app` with
`QUANTDESK_EVENTS_BACKEND=redis` on one throwaway Redis, 50 clients on each, and a publisher
in the benchmark process (a `RedisEventBus`, like a Celery worker) sending 120 events/s, one
every 8.3 ms, for 10 s (12,000 deliveries/s offered): deliveries/s, the p99 of
publish-to-receive and the frames lost (expected minus received) are reported. Servers,
clients, Redis and the publisher share the machine's cores, and other work may have been
running (see the load average)."""
