"""Encryption of Temporal payloads, so personal data (the applicant's name, ID number, phone,
e-mail, address in the workflow's input, its events and its query answers) is not readable in
Temporal's database or Web UI.

`EncryptionCodec` is a temporalio `PayloadCodec`: every payload the client or the worker sends
is serialised and sealed with AES-256-GCM; the key id travels in the payload's metadata
(`encryption-key-id`) so that keys can rotate. Payloads that are not encrypted (histories
recorded before the codec, as in tests/replay/histories) pass through decoding unchanged.

Each payload also names its dossier (issue 24.1), so that the codec endpoint decodes only what
the caller's unit may read: the SDK hands the codec the serialization context of every payload
(`WithSerializationContext`: the workflow id of the workflow, activity, update or query it
belongs to, and our workflow id is the dossier code), and the codec writes the code and its
unit into the metadata (`motcua-dossier`, `motcua-unit`) and seals both as the cipher's
associated data, so neither can be changed, removed or copied onto another dossier's payload
without the decryption failing. Payloads sealed before this carry no dossier and were sealed
without associated data; they still decrypt (`dossier_of` answers None for them).

Keys come from `MOTCUA_PAYLOAD_KEYS`: `id:base64(32 bytes)` pairs separated by commas. The
first key encrypts; every listed key decrypts. To rotate: generate a key
(`python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"`), put it
*first* with a new id, keep the old ones after it, restart the worker and the API; drop an old
key only once no open workflow's history uses it (workflows stay open until their dossier is
closed, and closed histories are kept for the namespace retention period).

The Temporal Web UI shows encrypted payloads as such; to read them, point its "codec server"
setting at the API's `POST /codec/decode` (`motcua.api.routes.codec`), which decodes only for
a bearer token of the roles that may see personal data.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Self

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    ActivitySerializationContext,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
    WorkflowSerializationContext,
)

from domain.codes import CODE_PATTERN

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
DOSSIER = "motcua-dossier"
UNIT = "motcua-unit"
_NONCE = 12
# Versioned prefix of the associated data, so a later binding can never be confused with it.
_BINDING = b"motcua-dossier-v1"


class PayloadKeyError(ValueError):
    """The key setting is malformed, or a payload names a key we do not have."""


@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys; `primary` encrypts."""

    keys: dict[str, bytes]
    primary: str

    @classmethod
    def parse(cls, setting: str) -> Keyring:
        """Keys from `id:base64,id:base64` (the first is primary)."""
        keys: dict[str, bytes] = {}
        for entry in (e.strip() for e in setting.split(",") if e.strip()):
            key_id, sep, encoded = entry.partition(":")
            if not sep or not key_id or key_id in keys:
                raise PayloadKeyError("MOTCUA_PAYLOAD_KEYS: each entry is id:base64, ids unique")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                raise PayloadKeyError(
                    f"MOTCUA_PAYLOAD_KEYS: key {key_id!r} is not base64") from None
            if len(key) != 32:
                raise PayloadKeyError(f"MOTCUA_PAYLOAD_KEYS: key {key_id!r} must be 32 bytes")
            keys[key_id] = key
        if not keys:
            raise PayloadKeyError("MOTCUA_PAYLOAD_KEYS: no key given")
        return cls(keys=keys, primary=next(iter(keys)))

    @staticmethod
    def generate(key_id: str = "k1") -> str:
        """A new setting value with one random key (for the dev stack)."""
        return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"

    def seal(self, plain: bytes, associated: bytes = b"") -> tuple[str, bytes]:
        """(key id, nonce + ciphertext) under the primary key."""
        nonce = os.urandom(_NONCE)
        return self.primary, nonce + AESGCM(self.keys[self.primary]).encrypt(
            nonce, plain, associated)

    def open(self, key_id: str, sealed: bytes, associated: bytes = b"") -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise PayloadKeyError(f"no payload key {key_id!r} (was it rotated out too early?)")
        return AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], associated)


@dataclass(frozen=True)
class PayloadDossier:
    """The dossier an encrypted payload names: its code (the workflow id) and, when the id is
    shaped like a dossier code, the unit in it."""

    code: str
    unit: str | None

    @classmethod
    def of_workflow(cls, workflow_id: str) -> PayloadDossier:
        match = CODE_PATTERN.match(workflow_id)
        return cls(code=workflow_id, unit=match["unit"] if match else None)

    def metadata(self) -> dict[str, bytes]:
        out = {DOSSIER: self.code.encode()}
        if self.unit is not None:
            out[UNIT] = self.unit.encode()
        return out

    def associated_data(self) -> bytes:
        return b"\0".join((_BINDING, self.code.encode(), (self.unit or "").encode()))


def dossier_of(payload: Payload) -> PayloadDossier | None:
    """The dossier an encrypted payload claims (authenticated only once it decrypts), or None
    for one sealed before payloads named their dossier (or never encrypted)."""
    code = payload.metadata.get(DOSSIER)
    if code is None:
        return None
    unit = payload.metadata.get(UNIT)
    return PayloadDossier(code=code.decode(errors="replace"),
                          unit=None if unit is None else unit.decode(errors="replace"))


class EncryptionCodec(PayloadCodec, WithSerializationContext):
    """See the module docstring. Built without a dossier (the client's and worker's shared
    converter); the SDK asks `with_context` for a copy bound to the workflow of each payload."""

    def __init__(self, keyring: Keyring, dossier: PayloadDossier | None = None) -> None:
        self.keyring = keyring
        self.dossier = dossier

    def with_context(self, context: SerializationContext) -> Self:
        """A codec naming the dossier of `context`: the workflow's own id, also for its
        activities (standalone activities, which we do not run, have none)."""
        workflow_id = None
        if isinstance(context, WorkflowSerializationContext | ActivitySerializationContext):
            workflow_id = context.workflow_id
        if not workflow_id or (self.dossier is not None and self.dossier.code == workflow_id):
            return self
        return type(self)(self.keyring, PayloadDossier.of_workflow(workflow_id))

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        metadata = self.dossier.metadata() if self.dossier else {}
        associated = self.dossier.associated_data() if self.dossier else b""
        out = []
        for payload in payloads:
            key_id, sealed = self.keyring.seal(payload.SerializeToString(), associated)
            out.append(Payload(metadata={"encoding": ENCODING, KEY_ID: key_id.encode(),
                                         **metadata}, data=sealed))
        return out

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(decode_all(self.keyring, payloads))


def decode_all(keyring: Keyring, payloads: Iterable[Payload]) -> Iterable[Payload]:
    """Each payload decrypted, or as it is when it was never encrypted. A payload naming a
    dossier opens only with that dossier as associated data (`InvalidTag` otherwise)."""
    for payload in payloads:
        if payload.metadata.get("encoding") != ENCODING:
            yield payload  # recorded before the codec (or by a client without it)
            continue
        key_id = payload.metadata.get(KEY_ID, b"").decode()
        dossier = dossier_of(payload)
        associated = dossier.associated_data() if dossier else b""
        yield Payload.FromString(keyring.open(key_id, payload.data, associated))


@functools.lru_cache(maxsize=4)
def keyring_from(setting: str | None) -> Keyring | None:
    """The keyring of a `MOTCUA_PAYLOAD_KEYS` value (None when unset: no encryption)."""
    return Keyring.parse(setting) if setting else None
