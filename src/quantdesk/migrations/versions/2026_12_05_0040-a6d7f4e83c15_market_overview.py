"""instrument fields, market summary and screener snapshot

Instruments gain industry and country. `market_snapshot` (one row per instrument, rewritten by
the `market.refresh` job) feeds the screener and three derived relations: `market_summary`,
`market_sectors` and `market_movers`, materialized views on PostgreSQL (each with the unique
index REFRESH ... CONCURRENTLY needs; created WITH NO DATA, so the job's first refresh is a plain
one), tables the same job rebuilds on SQLite.

Revision ID: a6d7f4e83c15
Revises: 9c5e3a72b0d4
Create Date: 2026-12-05 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quantdesk.models.base

revision: str = "a6d7f4e83c15"
down_revision: str | None = "9c5e3a72b0d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same SELECTs the job runs on SQLite (quantdesk.analytics.market.derived); a test compares
# both databases' answers.
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
_MOVER_COLUMNS = (
    "instrument_id, symbol, name, asset_class, sector, session, price, change, change_pct, "
    "volume, turnover"
)


def _ranked(kind: str, where: str, order: str) -> str:
    return f"""
    SELECT '{kind}' AS kind, {_MOVER_COLUMNS},
        ROW_NUMBER() OVER (ORDER BY {order}, symbol) AS rank_all,
        ROW_NUMBER() OVER (PARTITION BY asset_class ORDER BY {order}, symbol) AS rank_class
    FROM market_snapshot WHERE qualifies AND {where}"""  # noqa: S608


MOVERS_DEPTH = 100
MOVERS = f"""
SELECT kind, {_MOVER_COLUMNS}, rank_all, rank_class FROM ({
    _ranked("gainers", "change_pct > 0", "change_pct DESC")
} UNION ALL {_ranked("losers", "change_pct < 0", "change_pct ASC")} UNION ALL {
    _ranked("active", "volume > 0", "volume DESC")
}) AS ranked WHERE rank_all <= {MOVERS_DEPTH} OR rank_class <= {MOVERS_DEPTH}"""  # noqa: S608

# name -> (SELECT, unique index columns, other indexes)
DERIVED = {
    "market_summary": (SUMMARY, ["asset_class"], []),
    "market_sectors": (SECTORS, ["asset_class", "sector"], []),
    "market_movers": (
        MOVERS,
        ["kind", "instrument_id"],
        [["kind", "rank_all"], ["kind", "asset_class", "rank_class"]],
    ),
}


def _counts() -> list[sa.Column[float]]:
    return [
        sa.Column("instruments", sa.Integer(), nullable=False),
        sa.Column("gainers", sa.Integer(), nullable=False),
        sa.Column("losers", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=True),
        sa.Column("turnover", sa.Double(), nullable=True),
        sa.Column("average_change_pct", sa.Double(), nullable=True),
    ]


def _sqlite_tables() -> None:
    op.create_table(
        "market_summary",
        sa.Column("asset_class", sa.String(16), primary_key=True),
        sa.Column("session", sa.Date(), nullable=False),
        *_counts(),
    )
    op.create_table(
        "market_sectors",
        sa.Column("asset_class", sa.String(16), primary_key=True),
        sa.Column("sector", sa.String(64), primary_key=True),
        sa.Column("session", sa.Date(), nullable=False),
        *_counts(),
        sa.Column("market_cap", sa.Double(), nullable=True),
    )
    op.create_table(
        "market_movers",
        sa.Column("kind", sa.String(8), primary_key=True),
        sa.Column("instrument_id", sa.Integer(), primary_key=True),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("asset_class", sa.String(16), nullable=False),
        sa.Column("sector", sa.String(64), nullable=True),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("change", sa.Double(), nullable=True),
        sa.Column("change_pct", sa.Double(), nullable=True),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.Column("turnover", sa.Double(), nullable=False),
        sa.Column("rank_all", sa.Integer(), nullable=False),
        sa.Column("rank_class", sa.Integer(), nullable=False),
    )
    for name, (_, _, indexes) in DERIVED.items():
        for columns in indexes:
            op.create_index(f"ix_{name}_{'_'.join(columns)}", name, columns)


def _postgres_views() -> None:
    for name, (select, unique, indexes) in DERIVED.items():
        op.execute(f"CREATE MATERIALIZED VIEW {name} AS {select} WITH NO DATA")
        op.execute(f"CREATE UNIQUE INDEX ux_{name} ON {name} ({', '.join(unique)})")
        for columns in indexes:
            op.execute(
                f"CREATE INDEX ix_{name}_{'_'.join(columns)} ON {name} ({', '.join(columns)})"
            )


def upgrade() -> None:
    utc = quantdesk.models.base.UTCDateTime(timezone=True)
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("industry", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
    op.create_table(
        "market_snapshot",
        sa.Column("instrument_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("asset_class", sa.String(length=16), nullable=False),
        sa.Column("exchange", sa.String(length=32), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sector", sa.String(length=64), nullable=True),
        sa.Column("industry", sa.String(length=128), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("timeframe", sa.String(length=3), nullable=False),
        sa.Column("session", sa.Date(), nullable=False),
        sa.Column("price", sa.Double(), nullable=False),
        sa.Column("previous_close", sa.Double(), nullable=True),
        sa.Column("change", sa.Double(), nullable=True),
        sa.Column("change_pct", sa.Double(), nullable=True),
        sa.Column("open", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("volume", sa.Double(), nullable=False),
        sa.Column("turnover", sa.Double(), nullable=False),
        sa.Column("market_cap", sa.Double(), nullable=True),
        sa.Column("pe", sa.Double(), nullable=True),
        sa.Column("rsi_14", sa.Double(), nullable=True),
        sa.Column("sma_50", sa.Double(), nullable=True),
        sa.Column("sma_200", sa.Double(), nullable=True),
        sa.Column("sma_50_distance_pct", sa.Double(), nullable=True),
        sa.Column("sma_200_distance_pct", sa.Double(), nullable=True),
        sa.Column("sentiment", sa.Double(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("qualifies", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instrument_id"],
            ["instruments.id"],
            name=op.f("fk_market_snapshot_instrument_id_instruments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instrument_id", name=op.f("pk_market_snapshot")),
    )
    with op.batch_alter_table("market_snapshot", schema=None) as batch_op:
        for column in ("change_pct", "volume", "market_cap", "sector"):
            batch_op.create_index(f"ix_market_snapshot_{column}", [column], unique=False)
    op.create_table(
        "market_refresh",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", utc, nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=False),
        sa.Column("instruments", sa.Integer(), nullable=False),
        sa.Column("snapshot_rows", sa.Integer(), nullable=False),
        sa.Column("qualifying", sa.Integer(), nullable=False),
        sa.Column("min_price", sa.Double(), nullable=False),
        sa.Column("min_volume", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_refresh")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_views()
    else:
        _sqlite_tables()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in reversed(DERIVED):
        if postgres:
            op.execute(f"DROP MATERIALIZED VIEW IF EXISTS {name}")
        else:
            op.drop_table(name)
    op.drop_table("market_refresh")
    with op.batch_alter_table("market_snapshot", schema=None) as batch_op:
        for column in ("change_pct", "volume", "market_cap", "sector"):
            batch_op.drop_index(f"ix_market_snapshot_{column}")
    op.drop_table("market_snapshot")
    with op.batch_alter_table("instruments", schema=None) as batch_op:
        batch_op.drop_column("country")
        batch_op.drop_column("industry")
