"""Scale-out load test of the loopback cluster (locust) and its report (docs/scale-out.md)."""
