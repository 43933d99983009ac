"""Sentiment: texts scored on request (lexicon or a local FinBERT), a symbol's news sentiment
over a window with its trend and strongest items, and users' daily votes (docs/research.md)."""
