"""Tamper-evident audit log: every security-relevant action, hash-chained."""
