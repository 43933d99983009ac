"""The access vocabulary every layer shares: roles, the scopes they grant, and the Principal
(who is calling). Pure definitions with no imports from the rest of quantdesk, so models,
rate limiting, the audit log and auth can all name a role or a caller without importing auth.
"""
