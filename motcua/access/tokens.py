"""Bearer tokens: created with a name, one or more roles and an optional unit; stored only as
the sha256 of the secret, so a database dump reveals no usable token. The secret is shown once,
when created (`motcua token create`), and never again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

PREFIX = "mct_"
DEV_TOKEN_NAME = "dev"
# The request-state key under which `motcua.api.guard` leaves (secret, principal) once it has
# authenticated a write, so the route's dependency does not look the token up again.
AUTHENTICATED = "motcua_authenticated"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


class Role(StrEnum):
    """What a token may do (see `motcua.access.permissions.PERMISSIONS`)."""

    CLERK = "clerk"
    OFFICER = "officer"
    LEADER = "leader"
    OPS = "ops"
    # A unit's counter screen (satisfaction kiosk): it may record ratings and nothing else.
    KIOSK = "kiosk"


# Every role but the kiosk's (which only narrows what a holder may do).
STAFF_ROLES = (Role.CLERK, Role.OFFICER, Role.LEADER, Role.OPS)


@dataclass(frozen=True)
class Principal:
    """The caller behind a valid token: its name is the actor recorded in events."""

    name: str
    roles: frozenset[Role]
    unit_code: str | None = None

    def sees(self, unit_code: str) -> bool:
        """Whether this token may read or act on dossiers of `unit_code`."""
        return self.unit_code is None or self.unit_code == unit_code


class TokenError(ValueError):
    """A token cannot be created or revoked as asked; the message says why."""


def hash_token(secret: str) -> str:
    """The stored form of a token (hex sha256)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _roles(roles: list[str] | list[Role]) -> list[str]:
    try:
        parsed = sorted({Role(r).value for r in roles})
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise TokenError(f"roles must be among {allowed}, got {', '.join(roles)}") from None
    if not parsed:
        raise TokenError("a token needs at least one role")
    return parsed


async def create_token(conn: asyncpg.Connection | asyncpg.Pool, *, name: str,
                       roles: list[str] | list[Role], unit_code: str | None = None,
                       replace: bool = False, expires_at: datetime | None = None) -> str:
    """Create a token and return its secret. A revoked name may be reused; an active one only
    with `replace` (which invalidates the old secret at once). After `expires_at` (if given)
    the token is refused like a revoked one."""
    if not NAME_PATTERN.match(name):
        raise TokenError("name must be 1-64 letters, digits, '.', '_', '@' or '-'")
    secret = PREFIX + secrets.token_urlsafe(32)
    condition = "" if replace else "WHERE api_tokens.revoked_at IS NOT NULL"
    row = await conn.fetchrow(
        "INSERT INTO api_tokens (name, token_hash, roles, unit_code, expires_at) "
        "VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash, "
        "roles = excluded.roles, unit_code = excluded.unit_code, created_at = now(), "
        "expires_at = excluded.expires_at, last_used_at = NULL, "
        f"revoked_at = NULL {condition} RETURNING name",
        name, hash_token(secret), _roles(roles), unit_code, expires_at)
    if row is None:
        raise TokenError(f"a token named {name!r} already exists; revoke it first")
    return secret


async def revoke_token(conn: asyncpg.Connection | asyncpg.Pool, name: str) -> bool:
    """Revoke the active token `name`; False when there is none."""
    status: str = await conn.execute(
        "UPDATE api_tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name)
    return status.endswith(" 1")


async def list_tokens(conn: asyncpg.Connection | asyncpg.Pool) -> list[asyncpg.Record]:
    """Every token's name, roles, unit and dates (never a secret)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT name, roles, unit_code, created_at, revoked_at, expires_at, last_used_at "
        "FROM api_tokens ORDER BY name")
    return rows


async def authenticate(conn: asyncpg.Connection | asyncpg.Pool,
                       secret: str) -> Principal | None:
    """The principal for an active token, or None (unknown, malformed or revoked)."""
    if not secret.startswith(PREFIX) or len(secret) > 128:
        return None
    row = await conn.fetchrow(
        "SELECT name, roles, unit_code, last_used_at < now() - interval '1 minute' "
        "OR last_used_at IS NULL AS stale FROM api_tokens WHERE token_hash = $1 "
        "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
        hash_token(secret))
    if row is None:
        return None
    if row["stale"]:  # last use kept to the minute: one write a minute per token, not per call
        await conn.execute("UPDATE api_tokens SET last_used_at = now() WHERE name = $1",
                           row["name"])
    return Principal(name=row["name"], roles=frozenset(Role(r) for r in row["roles"]),
                     unit_code=row["unit_code"])


async def create_dev_token(dsn: str) -> str:
    """A token named `dev` with every role and no unit scope (for `motcua dev`); replaces an
    earlier dev token. The database must be migrated."""
    conn = await asyncpg.connect(dsn)
    try:
        return await create_token(conn, name=DEV_TOKEN_NAME, roles=list(STAFF_ROLES),
                                  replace=True)
    finally:
        await conn.close()
