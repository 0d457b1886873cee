"""`Idempotency-Key` on POST: the same key with the same request returns the first response and
changes nothing; the same key with a different request is refused (422).

Keys are scoped to the token name and stored in PostgreSQL (`api_idempotency`) as key ->
(operation, request hash, dossier code, response). The request hash covers the operation, the
dossier code of an action, and the body after validation and NFC normalisation (so JSON
whitespace or key order, or another Unicode normalisation, is the same request).

Before the engine is called the key is *claimed* (a row without a response). A retry that
finds a claim without a response redoes the call under the same dossier code (receive: the
workflow id dedupes) or the same Temporal update id (actions: Temporal dedupes), so a crash or
a timeout between the two can never create a second dossier or a second event. A claim is
released only when the engine refused the command (nothing happened; the client may fix the
request and reuse the key). A handler runs this whole sequence with `async with attempt(...)`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from fastapi.responses import JSONResponse

from motcua.api.problems import IDEMPOTENCY_KEY_REUSED, MALFORMED_REQUEST, Problem

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
RETENTION = "7 days"


def check_key(key: str | None) -> str | None:
    """The key as given, or 400 when it is not 1-255 visible ASCII characters."""
    if key is not None and not KEY_PATTERN.match(key):
        raise Problem(MALFORMED_REQUEST, f"{HEADER} must be 1-255 visible ASCII characters",
                      field=HEADER)
    return key


def request_hash(operation: str, code: str | None, body: dict[str, Any]) -> str:
    """A fingerprint of the request: operation, dossier code and canonical body."""
    blob = json.dumps([operation, code, body], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: a stored response to replay, or the code to act on."""

    dossier_code: str
    status_code: int | None = None
    response: dict[str, Any] | None = None

    @property
    def is_replay(self) -> bool:
        return self.response is not None and self.status_code is not None


_SELECT = ("SELECT operation, request_hash, dossier_code, status_code, response "
           "FROM api_idempotency WHERE principal = $1 AND key = $2")


def _existing(row: asyncpg.Record, fingerprint: str) -> Claim:
    if row["request_hash"] != fingerprint:
        raise Problem(IDEMPOTENCY_KEY_REUSED,
                      f"this {HEADER} was already used for a different request "
                      f"({row['operation']} on {row['dossier_code']})", field=HEADER)
    response = json.loads(row["response"]) if row["response"] is not None else None
    return Claim(row["dossier_code"], row["status_code"], response)


async def claim(pool: asyncpg.Pool, *, principal: str, key: str, operation: str,
                fingerprint: str, code: Callable[[], Awaitable[str]]) -> Claim:
    """Claim `key` for this request, or find the earlier one. `code` gives the dossier code
    for a new claim (receive allocates one; an action names its dossier)."""
    row = await pool.fetchrow(_SELECT, principal, key)
    if row is not None:
        return _existing(row, fingerprint)
    dossier_code = await code()
    inserted = await pool.fetchval(
        "INSERT INTO api_idempotency (principal, key, operation, request_hash, dossier_code) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        principal, key, operation, fingerprint, dossier_code)
    if inserted:
        return Claim(dossier_code)
    row = await pool.fetchrow(_SELECT, principal, key)  # a concurrent request won the race
    assert row is not None, "an idempotency row cannot vanish while its claim is young"
    return _existing(row, fingerprint)


async def complete(pool: asyncpg.Pool, *, principal: str, key: str, status_code: int,
                   response: dict[str, Any]) -> None:
    """Store the response of a claimed request (the first one stored wins)."""
    await pool.execute(
        "UPDATE api_idempotency SET status_code = $3, response = $4, completed_at = now() "
        "WHERE principal = $1 AND key = $2 AND response IS NULL",
        principal, key, status_code, json.dumps(response, ensure_ascii=False))


async def release(pool: asyncpg.Pool, *, principal: str, key: str) -> None:
    """Forget a claim whose request the engine refused (nothing happened)."""
    await pool.execute(
        "DELETE FROM api_idempotency WHERE principal = $1 AND key = $2 AND response IS NULL",
        principal, key)


# A problem with one of these statuses means the request changed nothing: the engine refused
# the command, or there is no such dossier. Its claim is released so the key can be reused.
NOTHING_HAPPENED = frozenset({404, 409, 422})


@dataclass
class Attempt:
    """A POST under way (see `attempt`): `replay` is the stored response of an earlier request
    with the same key, else the handler runs on `dossier_code` and answers with `respond`."""

    pool: asyncpg.Pool
    principal: str
    key: str | None
    dossier_code: str
    replay: JSONResponse | None = None

    async def respond(self, response: dict[str, Any], status_code: int = 200) -> JSONResponse:
        """The answer, stored first under the key (if any) for a retry to replay."""
        if self.key is not None:
            await complete(self.pool, principal=self.principal, key=self.key,
                           status_code=status_code, response=response)
        return JSONResponse(response, status_code=status_code)


@contextlib.asynccontextmanager
async def attempt(pool: asyncpg.Pool, *, principal: str, key: str | None, operation: str,
                  body: dict[str, Any], code: str | None = None,
                  allocate: Callable[[], Awaitable[str]] | None = None,
                  ) -> AsyncIterator[Attempt]:
    """Run one POST under its `Idempotency-Key` (or none): claim the key, hand back either the
    replay or the dossier code to act on, and release the claim when the request ends in a
    problem that changed nothing. `code` names the dossier of an action; a receipt has none
    yet and gives `allocate`, called only when a new code is needed."""
    async def dossier_code() -> str:
        if code is not None:
            return code
        assert allocate is not None, "a request without a dossier code allocates one"
        return await allocate()

    if key is None:
        yield Attempt(pool, principal, None, await dossier_code())
        return
    claimed = await claim(pool, principal=principal, key=key, operation=operation,
                          fingerprint=request_hash(operation, code, body), code=dossier_code)
    if claimed.is_replay:
        yield Attempt(pool, principal, key, claimed.dossier_code, replay=JSONResponse(
            claimed.response, status_code=claimed.status_code or 200,
            headers={"Idempotent-Replayed": "true"}))
        return
    try:
        yield Attempt(pool, principal, key, claimed.dossier_code)
    except Problem as problem:
        if problem.kind.status in NOTHING_HAPPENED:
            await release(pool, principal=principal, key=key)
        raise


async def purge(pool: asyncpg.Pool) -> int:
    """Delete keys older than the retention period; returns how many."""
    status: str = await pool.execute(
        f"DELETE FROM api_idempotency WHERE created_at < now() - interval '{RETENTION}'")
    return int(status.split()[-1])
