"""Project-written direction words for news: a metric moved, and which way is good.

"profit rose" is positive and "loss widened" negative although neither "profit", "rose",
"loss" nor "widened" says so alone (LM counts "loss" as negative whichever way it went).
A *direction hit* is a movement verb with a metric within :data:`WINDOW` words of it;
its sign is ``metric polarity x verb direction``. A movement verb with no metric near it
reads as the company's share price moving ("Acme soars after ..."), at half weight; a few
news verbs carry their own sign ("beats", "misses", "upgraded").

These lists were written for this project (no third-party source); inflections are spelled
out so that no stemmer is needed.
"""

from __future__ import annotations

WINDOW = 3


def _forms(*stems: str) -> frozenset[str]:
    """Expand ``"climb|s|ed|ing"`` into ``{"climb", "climbs", "climbed", "climbing"}``."""
    out: set[str] = set()
    for spec in stems:
        head, *suffixes = spec.split("|")
        out.add(head)
        out.update(head + suffix for suffix in suffixes)
    return frozenset(out)


# Things that are good for the company (or the economy) when they go up.
GOOD_METRICS = _forms(
    "profit|s",
    "earnings",
    "revenue|s",
    "sales",
    "income",
    "margin|s",
    "eps",
    "dividend|s",
    "payout|s",
    "guidance",
    "outlook",
    "forecast|s",
    "growth",
    "demand",
    "order|s",
    "bookings",
    "shipments",
    "deliveries",
    "share|s",
    "stock|s",
    "valuation",
    "subscribers",
    "users",
    "traffic",
    "output",
    "buyback|s",
    "rating|s",
    "target|s",
    "estimate|s",
    "job|s",
    "hiring",
    "payrolls",
    "gdp",
    "exports",
    "confidence",
    "sentiment",
    "spending",
    "investment|s",
    "backlog",
    "ebitda",
    "cash",
    "productivity",
    "bookings",
    "volume|s",
    "price",
    "wages",
    "surplus",
)

# Things that are bad when they go up.
BAD_METRICS = _forms(
    "loss|es",
    "cost|s",
    "expense|s",
    "debt|s",
    "deficit|s",
    "unemployment",
    "jobless",
    "claims",
    "inflation",
    "delinquencies",
    "default|s",
    "writedown|s",
    "write-down|s",
    "charge|s",
    "impairment|s",
    "layoffs",
    "churn",
    "provisions",
    "liabilities",
    "outflows",
    "losses",
    "headwinds",
    "borrowing",
    "burn",
    "shortfall",
)

UP_VERBS = _forms(
    "rise|s",
    "rose",
    "risen",
    "rising",
    "climb|s|ed|ing",
    "jump|s|ed|ing",
    "surge|s|d",
    "surging",
    "soar|s|ed|ing",
    "gain|s|ed",
    "increase|s|d",
    "grow|s|ing",
    "grew",
    "grown",
    "widen|s|ed|ing",
    "raise|s|d",
    "raising",
    "lift|s|ed",
    "boost|s|ed",
    "double|s|d",
    "triple|s|d",
    "expand|s|ed",
    "exceed|s|ed",
    "rebound|s|ed",
    "rally",
    "rallies",
    "rallied",
    "spike|s|d",
    "accelerate|s|d",
    "up",
    "higher",
    "high|s",
    "highest",
    "hike|s|d",
    "swell|s|ed",
    "balloon|s|ed",
    "record",
)

DOWN_VERBS = _forms(
    "fall|s|ing",
    "fell",
    "fallen",
    "drop|s|ped",
    "decline|s|d",
    "slip|s|ped",
    "slide|s",
    "slid",
    "slump|s|ed",
    "plunge|s|d",
    "plunging",
    "plummet|s|ed",
    "tumble|s|d",
    "sink|s",
    "sank",
    "sunk",
    "shrink|s",
    "shrank",
    "narrow|s|ed",
    "cut|s|ting",
    "lower|s|ed",
    "low|s",
    "lowest",
    "reduce|s|d",
    "slash|es|ed",
    "halve|s|d",
    "trim|s|med",
    "decrease|s|d",
    "contract|s|ed",
    "dip|s|ped",
    "down",
    "crash|es|ed",
    "tank|s|ed",
    "sag|s|ged",
    "retreat|s|ed",
    "slow|s|ed",
    "decelerate|s|d",
    "shed|s",
)

# Verbs whose sign holds without a metric (scored at full weight when alone).
SELF_SIGNED: dict[str, float] = {
    **dict.fromkeys(_forms("beat|s", "top|s|ped", "upgrade|s|d", "outperform|s|ed"), 1.0),
    **dict.fromkeys(_forms("miss|es|ed", "downgrade|s|d", "underperform|s|ed"), -1.0),
    # News events LM has no word for (regulatory decisions, contracts, stoppages).
    **dict.fromkeys(
        _forms("approval|s", "approve|s|d", "clearance", "win|s", "won", "secure|s|d", "land|s|ed"),
        1.0,
    ),
    **dict.fromkeys(
        _forms("clearance", "block|s|ed", "halt|s|ed", "scrap|s|ped", "grounded", "probe|s"), -1.0
    ),
}

# Strong movement verbs: alone, they read as the share price moving ("Acme soars").
PRICE_VERBS = _forms(
    "soar|s|ed|ing",
    "surge|s|d",
    "surging",
    "jump|s|ed",
    "rally",
    "rallies",
    "rallied",
    "plunge|s|d",
    "plunging",
    "plummet|s|ed",
    "tumble|s|d",
    "slump|s|ed",
    "sink|s",
    "sank",
    "crash|es|ed",
    "tank|s|ed",
    "climb|s|ed",
    "slide|s",
    "slid",
    "gain|s|ed",
    "fall|s",
    "fell",
    "rise|s",
    "rose",
    "drop|s|ped",
    "spike|s|d",
)

# Weight of a price verb alone.
IMPLIED_PRICE_WEIGHT = 0.5
# A verb paired with a metric.
DIRECTION_WEIGHT = 1.5


def metric_polarity(token: str) -> int:
    """+1 for a good metric, -1 for a bad one, 0 otherwise."""
    if token in BAD_METRICS:
        return -1
    if token in GOOD_METRICS:
        return 1
    return 0


def verb_direction(token: str) -> int:
    """+1 for an upward movement verb, -1 for a downward one, 0 otherwise."""
    if token in UP_VERBS:
        return 1
    if token in DOWN_VERBS:
        return -1
    return 0
