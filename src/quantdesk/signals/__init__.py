"""Trading signals: strategy runs stored as signals, their lifecycle, API and CLI."""
