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
request and reuse the key). A service runs this whole sequence with `async with attempt(...)`
and answers an `Answer` (the first response, or its replay), which each interface renders.

A receipt's number is allocated inside the claim's transaction (`motcua.reports.register`), so a
duplicate never spends one; if the engine then refuses that receipt, its number is void and the
refusal is kept as the key's answer (a retry replays it rather than spend another number).
Races never assert: a claim that vanishes under a concurrent request (refused, released) is
retried a few times, then answered 409 `request-in-progress` with `Retry-After`. Stored
responses hold personal data, so with `MOTCUA_PAYLOAD_KEYS` they are sealed (AES-GCM, bound to
principal and key; `motcua.payload_codec`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

from motcua.eventstore.store import Conn
from motcua.payload_codec import Keyring
from motcua.problems import (
    IDEMPOTENCY_KEY_REUSED,
    MALFORMED_REQUEST,
    REQUEST_IN_PROGRESS,
    Problem,
    problem_body,
)

HEADER = "Idempotency-Key"
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
RETENTION = "7 days"
SEALED = "sealed"


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


_SELECT = ("SELECT principal, key, operation, request_hash, dossier_code, status_code, response "
           "FROM api_idempotency WHERE principal = $1 AND key = $2")


def _seal(keyring: Keyring | None, principal: str, key: str,
          response: dict[str, Any]) -> dict[str, Any]:
    """The response as stored: sealed with the payload key when there is one, since it holds
    personal data (bound to its principal and key, so it cannot be replayed elsewhere)."""
    if keyring is None:
        return response
    plain = json.dumps(response, ensure_ascii=False).encode()
    key_id, sealed = keyring.seal(plain, f"{principal}\n{key}".encode())
    return {SEALED: base64.b64encode(sealed).decode(), "key_id": key_id}


def _open(keyring: Keyring | None, principal: str, key: str,
          stored: dict[str, Any]) -> dict[str, Any]:
    if SEALED not in stored:
        return stored
    if keyring is None:
        raise RuntimeError("an idempotency response is sealed but MOTCUA_PAYLOAD_KEYS is unset")
    plain = keyring.open(stored["key_id"], base64.b64decode(stored[SEALED]),
                         f"{principal}\n{key}".encode())
    opened: dict[str, Any] = json.loads(plain)
    return opened


def _existing(row: asyncpg.Record, fingerprint: str, keyring: Keyring | None = None) -> Claim:
    if row["request_hash"] != fingerprint:
        raise Problem(IDEMPOTENCY_KEY_REUSED,
                      f"this {HEADER} was already used for a different request "
                      f"({row['operation']} on {row['dossier_code']})", field=HEADER)
    response = None
    if row["response"] is not None:
        response = _open(keyring, row["principal"], row["key"], json.loads(row["response"]))
    return Claim(row["dossier_code"], row["status_code"], response)


# A claim can vanish between our INSERT losing and our SELECT: its request was refused and
# released it. Try again a few times, then tell the client to retry (never assert on a race).
CLAIM_ATTEMPTS = 5
IN_PROGRESS_RETRY_AFTER = 1


async def claim(pool: asyncpg.Pool, *, principal: str, key: str, operation: str,
                fingerprint: str, code: Callable[[Conn], Awaitable[str]],
                keyring: Keyring | None = None) -> Claim:
    """Claim `key` for this request, or find the earlier one. `code` gives the dossier code
    for a new claim (receive allocates one; an action names its dossier); it runs in the
    claim's transaction, so a receipt number is spent only by the request that holds the key
    (a duplicate waits for that transaction and then finds its row)."""
    for _ in range(CLAIM_ATTEMPTS):
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(_SELECT, principal, key)
            if row is not None:
                return _existing(row, fingerprint, keyring)
            # ON CONFLICT waits for a concurrent claim of the key to commit or roll back.
            inserted = await conn.fetchval(
                "INSERT INTO api_idempotency (principal, key, operation, request_hash, "
                "dossier_code) VALUES ($1, $2, $3, $4, '') ON CONFLICT DO NOTHING "
                "RETURNING true", principal, key, operation, fingerprint)
            if inserted:
                dossier_code = await code(conn)
                await conn.execute("UPDATE api_idempotency SET dossier_code = $3 "
                                   "WHERE principal = $1 AND key = $2",
                                   principal, key, dossier_code)
                return Claim(dossier_code)
    raise Problem(REQUEST_IN_PROGRESS, f"a request with this {HEADER} is in progress; retry "
                  f"in {IN_PROGRESS_RETRY_AFTER} s", field=HEADER,
                  headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)})


# An action's claim when its dossier code is known: one statement, so one round trip (no
# transaction block). The INSERT waits for a concurrent claim of the key to commit or roll back;
# a row committed meanwhile is not in the statement's snapshot, so neither branch answers and
# `claim_known` tries again with a new one.
_CLAIM_KNOWN = f"""
WITH ins AS (
    INSERT INTO api_idempotency (principal, key, operation, request_hash, dossier_code)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true AS claimed)
SELECT true AS claimed, NULL AS principal, NULL AS key, NULL AS operation,
       NULL AS request_hash, NULL AS dossier_code, NULL::integer AS status_code,
       NULL::jsonb AS response
FROM ins
UNION ALL
SELECT false, e.* FROM ({_SELECT}) e WHERE NOT EXISTS (SELECT FROM ins)
"""


async def claim_known(pool: asyncpg.Pool, *, principal: str, key: str, operation: str,
                      fingerprint: str, dossier_code: str,
                      keyring: Keyring | None = None) -> Claim:
    """`claim` for a request that already names its dossier (an action), in one round trip."""
    for _ in range(CLAIM_ATTEMPTS):
        row = await pool.fetchrow(_CLAIM_KNOWN, principal, key, operation, fingerprint,
                                  dossier_code)
        if row is None:
            continue  # the key's claim committed or vanished under us: look again
        if row["claimed"]:
            return Claim(dossier_code)
        return _existing(row, fingerprint, keyring)
    raise Problem(REQUEST_IN_PROGRESS, f"a request with this {HEADER} is in progress; retry "
                  f"in {IN_PROGRESS_RETRY_AFTER} s", field=HEADER,
                  headers={"Retry-After": str(IN_PROGRESS_RETRY_AFTER)})


async def complete(pool: asyncpg.Pool, *, principal: str, key: str, status_code: int,
                   response: dict[str, Any], keyring: Keyring | None = None) -> None:
    """Store the response of a claimed request (the first one stored wins), sealed with
    `keyring` when given."""
    await pool.execute(
        "UPDATE api_idempotency SET status_code = $3, response = $4, completed_at = now() "
        "WHERE principal = $1 AND key = $2 AND response IS NULL",
        principal, key, status_code,
        json.dumps(_seal(keyring, principal, key, response), ensure_ascii=False))


async def release(pool: asyncpg.Pool, *, principal: str, key: str) -> None:
    """Forget a claim whose request the engine refused (nothing happened)."""
    await pool.execute(
        "DELETE FROM api_idempotency WHERE principal = $1 AND key = $2 AND response IS NULL",
        principal, key)


# A problem with one of these statuses means the request changed nothing: the engine refused
# the command, or there is no such dossier. Its claim is released so the key can be reused.
NOTHING_HAPPENED = frozenset({404, 409, 422})


@dataclass(frozen=True)
class Answer:
    """What a command answers: its status (200; 201 for a new dossier) and its JSON document,
    the dossier as the caller may see it. A `replayed` answer is the one stored for an earlier
    request with the same key; it may be a refusal (a 4xx status and a problem document)."""

    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class Attempt:
    """A command under way (see `attempt`): `replay` is the stored answer of an earlier
    request with the same key, else the service runs on `dossier_code` and answers with
    `respond`."""

    pool: asyncpg.Pool
    principal: str
    key: str | None
    dossier_code: str
    replay: Answer | None = None
    keyring: Keyring | None = None

    async def respond(self, response: dict[str, Any], status_code: int = 200) -> Answer:
        """The answer, stored first under the key (if any) for a retry to replay."""
        if self.key is not None:
            await complete(self.pool, principal=self.principal, key=self.key,
                           status_code=status_code, response=response, keyring=self.keyring)
        return Answer(status_code, response)

    async def refused(self, problem: Problem) -> None:
        """Keep a refusal as the answer under the key, for a request that spent something
        even so (a receipt number, now void): a retry replays the refusal instead of
        spending another number. (Other refusals release the key for a corrected request.)"""
        if self.key is not None:
            await complete(self.pool, principal=self.principal, key=self.key,
                           status_code=problem.kind.status, response=problem_body(problem),
                           keyring=self.keyring)


@contextlib.asynccontextmanager
async def attempt(pool: asyncpg.Pool, *, principal: str, key: str | None, operation: str,
                  body: dict[str, Any], code: str | None = None,
                  allocate: Callable[[Conn], Awaitable[str]] | None = None,
                  keyring: Keyring | None = None) -> AsyncIterator[Attempt]:
    """Run one command under its `Idempotency-Key` (or none): claim the key, hand back either the
    replay or the dossier code to act on, and release the claim when the request ends in a
    problem that changed nothing. `code` names the dossier of an action; a receipt has none
    yet and gives `allocate`, called only when a new code is needed, inside the transaction
    that claims the key (or, without a key, in a transaction of its own). With `keyring`
    the stored response is sealed (`MOTCUA_PAYLOAD_KEYS`: it holds personal data)."""
    async def dossier_code(conn: Conn) -> str:
        if code is not None:
            return code
        assert allocate is not None, "a request without a dossier code allocates one"
        return await allocate(conn)

    if key is None:
        if code is not None:
            yield Attempt(pool, principal, None, code)
        else:
            async with pool.acquire() as conn, conn.transaction():
                allocated = await dossier_code(conn)
            yield Attempt(pool, principal, None, allocated)
        return
    fingerprint = request_hash(operation, code, body)
    claimed = await (
        claim_known(pool, principal=principal, key=key, operation=operation,
                    fingerprint=fingerprint, dossier_code=code, keyring=keyring)
        if code is not None else
        claim(pool, principal=principal, key=key, operation=operation, fingerprint=fingerprint,
              code=dossier_code, keyring=keyring))
    if claimed.is_replay:
        assert claimed.response is not None
        yield Attempt(pool, principal, key, claimed.dossier_code, replay=Answer(
            claimed.status_code or 200, claimed.response, replayed=True))
        return
    try:
        yield Attempt(pool, principal, key, claimed.dossier_code, keyring=keyring)
    except Problem as problem:
        if problem.kind.status in NOTHING_HAPPENED:
            await release(pool, principal=principal, key=key)
        raise


async def purge(pool: asyncpg.Pool) -> int:
    """Delete keys older than the retention period; returns how many."""
    status: str = await pool.execute(
        f"DELETE FROM api_idempotency WHERE created_at < now() - interval '{RETENTION}'")
    return int(status.split()[-1])
