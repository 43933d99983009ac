"""Market-data jobs that read through the provider chains (registered by import)."""
