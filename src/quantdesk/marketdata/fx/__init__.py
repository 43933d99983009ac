"""FX across sources: the ECB history shipped offline, Bank Al-Maghrib (MAD), comparison
and conversion (/fx/compare, /fx/convert)."""
