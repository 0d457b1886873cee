"""The clerk HTTP API (FastAPI): `create_app` in `motcua.api.app`.

One Temporal client and one asyncpg pool per process (`resources`), bearer tokens stored as
hashes (`tokens`, `auth`), RFC 9457 problem responses (`problems`), `Idempotency-Key` on every
POST (`idempotency`), request context and metrics (`middleware`), one router per resource.
"""
