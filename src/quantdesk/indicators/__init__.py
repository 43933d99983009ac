"""Indicators over stored bars (the maths lives in quantdesk.engine.indicators)."""
