"""Webhooks (docs/webhooks.md): users' endpoints, the outbox written in the transaction of each
event's cause, the dispatcher that signs (Standard Webhooks) and sends with retries, and the
connect-time SSRF guard."""
