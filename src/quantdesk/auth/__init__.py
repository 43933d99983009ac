"""Identity and access: users, sessions (JWT + rotating refresh tokens), API keys, roles, scopes."""
