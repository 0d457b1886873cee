"""The citizen's lookup: a dossier code is not enough, it takes the secret printed on the
receipt.

Codes are sequential per unit and day, so anyone could walk through them and learn who
registered a death or a paternity on which day. Each printed receipt therefore carries a
random secret (about 60 bits, 12 characters of Crockford base32, grouped `XXXX-XXXX-XXXX`),
also in its QR code, in the URL *fragment* (`/tra-cuu#<code>.<secret>`), which browsers send
neither to the server nor in Referer headers. Only its sha256 is kept, in PostgreSQL
(`dossier_lookup`), never in events or Temporal history.

The secret is issued once, when the dossier is received (or its online submission accepted),
and answered to whoever received it (`lookup_secret` in the 201; the console prints it on the
receipt it shows right after intake). Viewing a receipt later changes nothing and shows no
secret (issue 24 point 7: before, every view issued a new secret and voided the citizen's
printed one). A new secret (the citizen lost the receipt) is an explicit act with a reason,
`reissue`, recorded in `lookup_reissues`; it voids the earlier one. Dossiers received before
secrets existed get one the same way.

A lookup compares in constant time, and an unknown code, a wrong secret and a dossier without a
secret all answer the same (None -> 404). `motcua.access.limiter.RateLimiter` bounds guesses per
client in-process; in production set the same limit at the ingress too (see docs/operations.md,
"Public lookup").
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, tzinfo

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from domain import events as ev
from domain.catalog import Catalog
from domain.codes import CODE_PATTERN
from domain.dossier import folded
from motcua.eventstore.store import read_stream
from motcua.services.views import PublicDossierView, public_view

_Conn = asyncpg.Connection | asyncpg.Pool | PoolConnectionProxy
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
LENGTH = 12
PUBLIC_PAGE = "/tra-cuu"
# Compared against when the code has no secret, so an unknown code costs the same time.
_DUMMY = hashlib.sha256(b"motcua-no-such-dossier").hexdigest()
_CONFUSABLE = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_secret() -> str:
    """A fresh secret, as printed: `XXXX-XXXX-XXXX`."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, LENGTH, 4))


def normalise(secret: str) -> str:
    """The secret as typed by a person (any case, spaces or dashes, O for 0) in canonical
    form; unrecognisable input becomes "" (which matches nothing)."""
    cleaned = "".join(c for c in secret.upper() if c not in " -\t").translate(_CONFUSABLE)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return ""
    return cleaned


def secret_hash(secret: str) -> str:
    """The stored form of a secret (sha256 of its canonical form, hex)."""
    return hashlib.sha256(normalise(secret).encode("ascii")).hexdigest()


def lookup_url(code: str, secret: str, base: str = "") -> str:
    """The URL printed in the receipt's QR code; the secret rides in the fragment."""
    return f"{base}{PUBLIC_PAGE}#{code}.{normalise(secret)}"


async def store(conn: _Conn, code: str, secret: str, *,
                issued_by: str) -> None:
    """Make `secret` the one that opens dossier `code` (voiding any earlier one)."""
    await conn.execute(
        "INSERT INTO dossier_lookup (dossier_code, secret_hash, issued_by) VALUES ($1, $2, $3) "
        "ON CONFLICT (dossier_code) DO UPDATE SET secret_hash = excluded.secret_hash, "
        "issued_at = now(), issued_by = excluded.issued_by",
        code, secret_hash(secret), issued_by)


async def issue(conn: _Conn, code: str, *, issued_by: str) -> str:
    """A new secret for dossier `code` (voiding any earlier one); returns it, to print."""
    secret = new_secret()
    await store(conn, code, secret, issued_by=issued_by)
    return secret


async def reissue(pool: asyncpg.Pool, code: str, *, issued_by: str, reason: str,
                  correlation_id: str | None = None) -> str:
    """A new secret for dossier `code` with the reason recorded (`lookup_reissues`, append-
    only), in one transaction; returns it. The earlier secret stops working."""
    async with pool.acquire() as conn, conn.transaction():
        secret = await issue(conn, code, issued_by=issued_by)
        await conn.execute(
            "INSERT INTO lookup_reissues (dossier_code, issued_by, reason, correlation_id) "
            "VALUES ($1, $2, $3, $4)", code, issued_by, reason, correlation_id)
    return secret


async def verify(conn: _Conn, code: str, secret: str) -> bool:
    """Whether `secret` opens dossier `code`, compared in constant time; False for an unknown
    code or a dossier without a secret, after the same work."""
    stored = await conn.fetchval(
        "SELECT secret_hash FROM dossier_lookup WHERE dossier_code = $1", code)
    given = secret_hash(secret) if normalise(secret) else hashlib.sha256(b"").hexdigest()
    matches = hmac.compare_digest(given, stored if isinstance(stored, str) else _DUMMY)
    return matches and stored is not None


async def find(pool: asyncpg.Pool, code: str, secret: str, catalog: Catalog, tz: tzinfo,
               now: datetime | None = None) -> PublicDossierView | None:
    """The citizen's view of dossier `code` when `secret` opens it, else None (unknown code
    and wrong secret alike). For the public API and the citizen's page (`/tra-cuu`); the
    caller applies a `RateLimiter` first; `tz` is the office time zone (`calendar.tz`)."""
    opened = await verify(pool, code, secret)
    if not opened or CODE_PATTERN.match(code) is None:
        return None
    events = await read_stream(pool, code)
    if not events:
        return None
    # The download is offered only when a signed result is on file (the office day of issue
    # 23 found the button on a paper-only result, leading to an error page).
    return public_view(folded(events), catalog, now, tz, electronic_result=any(
        isinstance(e.event, ev.FileAttached) and e.event.purpose == "result" for e in events))
