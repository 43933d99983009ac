"""Reference data: FX rates, economic series and company fundamentals from the provider chains."""
