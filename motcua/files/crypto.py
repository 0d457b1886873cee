"""AES-256-GCM for files and for the data keys that encrypt them (`cryptography`).

Layout of every sealed blob: 12-byte random nonce, then ciphertext with its 16-byte tag. The
associated data binds a blob to where it belongs (a file to its dossier and id, a data key to
its dossier), so a blob copied under another name does not decrypt."""

from __future__ import annotations

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE = 12
KEY_BYTES = 32


class Unreadable(Exception):
    """The blob does not decrypt under this key (wrong key, tampered, or misplaced)."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plain: bytes, context: str) -> bytes:
    nonce = os.urandom(NONCE)
    return nonce + AESGCM(key).encrypt(nonce, plain, context.encode())


def open_sealed(key: bytes, sealed: bytes, context: str) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE], sealed[NONCE:], context.encode())
    except (InvalidTag, ValueError) as err:
        raise Unreadable(context) from err


def master_key(text: str) -> bytes:
    """The master key from its base64 setting; ValueError unless it is 32 bytes."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError("MOTCUA_FILES_MASTER_KEY is not base64") from err
    if len(key) != KEY_BYTES:
        raise ValueError("MOTCUA_FILES_MASTER_KEY must be 32 bytes (base64)")
    return key
