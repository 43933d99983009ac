"""Paths and keys of the fake reference-data services (ECB, FRED, Polygon financials)."""

from __future__ import annotations

ECB_PATH = "/stats/eurofxref/eurofxref-daily.xml"


FRED_PATH = "/fred/series/observations"


FINANCIALS_PATH = "/vX/reference/financials"


FRED_KEY = "5c1e0a9d7b3f4e2a8c6d0b9f1e3a7c5d"


POLYGON_KEY = "pk_test_Rf7Kq2Zw9Lm4Tx"
