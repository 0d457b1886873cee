"""The clerk HTTP API (FastAPI): `create_api` in `motcua.api.app`, an adapter over the services
(`motcua.services`): bearer tokens (`auth`), RFC 9457 problem responses (`problems`), the
`Idempotency-Key` header (`context`), request context and metrics (`middleware`), one router
per resource. The process's resources (one Temporal client, one asyncpg pool) are
`motcua.services.resources`; the request dependencies on them are `resources`.
"""
