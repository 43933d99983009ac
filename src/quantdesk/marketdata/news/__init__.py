"""News: items from the news providers (RSS/Atom feeds, news files, Polygon) stored once each,
sanitized, tagged with the symbols they are about and scored for sentiment at ingest; read
through GET /api/v1/news and announced on the event bus (`news` events). docs/research.md."""
