"""Domain-agnostic helpers: pagination, time, serialization."""
