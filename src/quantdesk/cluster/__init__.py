"""A loopback cluster on 127.0.0.1 (`quantdesk cluster up|status|down`, docs/scale-out.md).

PostgreSQL, Redis, haproxy, N API replicas, Celery workers and beat, each a process of its own
recorded in a state directory (pid files, ports, logs, `cluster.json`), so `down` stops all of
them, also after a crash of `up` or of the processes.
"""
