"""The overview relations derived from `market_snapshot`: their columns (for typed reads) and,
for SQLite, the SELECTs that rebuild them. On PostgreSQL the same SELECTs are materialized
views (migration a6d7f4e83c15 holds its own copy; tests compare both databases' answers).

Only instruments that `qualify` are counted: their session is their asset class's latest, the
close is at least `market_min_price`, the volume at least `market_min_volume`, and a change
exists (a session before it). Gainers rank by change_pct descending, losers ascending, active
by volume descending; ties by symbol. Movers keep the first 100 of each kind, overall and per
asset class.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Double, Integer, MetaData, String, Table

MOVERS_DEPTH = 100
_metadata = MetaData()  # not Base.metadata: views on PostgreSQL, no models


def _counts() -> list[Column[float]]:
    return [
        Column("instruments", Integer),
        Column("gainers", Integer),
        Column("losers", Integer),
        Column("unchanged", Integer),
        Column("volume", Double),
        Column("turnover", Double),
        Column("average_change_pct", Double),
    ]


summary_table = Table(
    "market_summary",
    _metadata,
    Column("asset_class", String),
    Column("session", Date),
    *_counts(),
)
sectors_table = Table(
    "market_sectors",
    _metadata,
    Column("asset_class", String),
    Column("sector", String),
    Column("session", Date),
    *_counts(),
    Column("market_cap", Double),
)
MOVER_COLUMNS = (
    "instrument_id",
    "symbol",
    "name",
    "asset_class",
    "sector",
    "session",
    "price",
    "change",
    "change_pct",
    "volume",
    "turnover",
)
movers_table = Table(
    "market_movers",
    _metadata,
    Column("kind", String),
    Column("instrument_id", Integer),
    Column("symbol", String),
    Column("name", String),
    Column("asset_class", String),
    Column("sector", String),
    Column("session", Date),
    Column("price", Double),
    Column("change", Double),
    Column("change_pct", Double),
    Column("volume", Double),
    Column("turnover", Double),
    Column("rank_all", Integer),
    Column("rank_class", Integer),
)

_COUNTS = """
    COUNT(*) AS instruments,
    SUM(CASE WHEN change > 0 THEN 1 ELSE 0 END) AS gainers,
    SUM(CASE WHEN change < 0 THEN 1 ELSE 0 END) AS losers,
    SUM(CASE WHEN change = 0 THEN 1 ELSE 0 END) AS unchanged,
    SUM(volume) AS volume,
    SUM(turnover) AS turnover,
    AVG(change_pct) AS average_change_pct"""
SUMMARY = f"""
SELECT asset_class, MAX(session) AS session,{_COUNTS}
FROM market_snapshot WHERE qualifies GROUP BY asset_class"""  # noqa: S608 (constants)
SECTORS = f"""
SELECT asset_class, COALESCE(sector, 'Unclassified') AS sector, MAX(session) AS session,{_COUNTS},
    SUM(market_cap) AS market_cap
FROM market_snapshot WHERE qualifies GROUP BY asset_class, COALESCE(sector, 'Unclassified')"""  # noqa: S608
_MOVERS_SELECT = ", ".join(MOVER_COLUMNS)


def _ranked(kind: str, where: str, order: str) -> str:
    return f"""
    SELECT '{kind}' AS kind, {_MOVERS_SELECT},
        ROW_NUMBER() OVER (ORDER BY {order}, symbol) AS rank_all,
        ROW_NUMBER() OVER (PARTITION BY asset_class ORDER BY {order}, symbol) AS rank_class
    FROM market_snapshot WHERE qualifies AND {where}"""  # noqa: S608


MOVERS = f"""
SELECT kind, {_MOVERS_SELECT}, rank_all, rank_class FROM ({
    _ranked("gainers", "change_pct > 0", "change_pct DESC")
} UNION ALL {_ranked("losers", "change_pct < 0", "change_pct ASC")} UNION ALL {
    _ranked("active", "volume > 0", "volume DESC")
}) AS ranked WHERE rank_all <= {MOVERS_DEPTH} OR rank_class <= {MOVERS_DEPTH}"""  # noqa: S608

# Rebuild order and SELECT of each relation.
DERIVED: dict[str, tuple[Table, str]] = {
    "market_summary": (summary_table, SUMMARY),
    "market_sectors": (sectors_table, SECTORS),
    "market_movers": (movers_table, MOVERS),
}
