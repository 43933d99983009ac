"""Market data: instruments, bars, quotes; ingest and the read API."""
