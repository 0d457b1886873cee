"""The one-time slot that carries a new lookup secret from the intake (a POST) to the receipt it
prints right after (a GET, behind a redirect), for one browser session (issue 24 point 7).

The secret cannot ride in the redirect (it would land in the URL, the history and the logs),
and it is not kept anywhere in clear: the slot (`receipt_slots`) holds it under AES-256-GCM with
a key derived (HKDF-SHA256) from the session's cookie secret, which the database never holds
(only its sha256, `console_sessions.id_hash`), and the dossier code as associated data. The
first view of the receipt takes the slot (deleted as it is read); a slot not taken within
`LIFETIME` expires, and it goes with its session (logout, disabled user).
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LIFETIME = timedelta(minutes=15)  # from the intake to the printed receipt
_NONCE = 12


def _session_hash(cookie: str) -> str:
    # The form of `console_sessions.id_hash` (motcua.access.users).
    return hashlib.sha256(cookie.encode("utf-8")).hexdigest()


def _key(cookie: str) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                       info=b"motcua receipt slot").derive(cookie.encode("utf-8")))


async def hold(pool: asyncpg.Pool, cookie: str, code: str, secret: str) -> None:
    """Keep `secret` for the next view of dossier `code`'s receipt in the session whose cookie
    secret is `cookie` (replacing an earlier slot of the same dossier)."""
    nonce = os.urandom(_NONCE)
    box = nonce + _key(cookie).encrypt(nonce, secret.encode("utf-8"), code.encode("utf-8"))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM receipt_slots WHERE expires_at < now()")
        await conn.execute(
            "INSERT INTO receipt_slots (session_hash, dossier_code, box, expires_at) "
            "VALUES ($1, $2, $3, now() + $4::interval) ON CONFLICT (session_hash, dossier_code) "
            "DO UPDATE SET box = excluded.box, expires_at = excluded.expires_at",
            _session_hash(cookie), code, box, LIFETIME)


async def take(pool: asyncpg.Pool, cookie: str | None, code: str) -> str | None:
    """The secret held for this session and dossier, once (the slot is deleted), or None."""
    if not cookie:
        return None
    box = await pool.fetchval(
        "DELETE FROM receipt_slots WHERE session_hash = $1 AND dossier_code = $2 "
        "AND expires_at > now() RETURNING box", _session_hash(cookie), code)
    if box is None:
        return None
    try:
        return _key(cookie).decrypt(box[:_NONCE], box[_NONCE:], code.encode("utf-8")).decode()
    except InvalidTag:
        return None
