"""The files of a dossier as the web interfaces share them (issue 26): the app's one file
service, made on first use, a stored file as an HTTP answer, and an upload under the API's
Idempotency-Key. The API routes (`motcua.api.routes.files`) and the console
(`motcua.console.files`) call these."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi.responses import Response

from domain import events as ev
from motcua.files import setup
from motcua.files.service import Files
from motcua.payload_codec import Keyring
from motcua.problems import Problem, unavailable
from motcua.services import idempotency
from motcua.services.idempotency import Answer

UPLOAD = "upload-file"
# File ids derived from an Idempotency-Key (uuid5 in a namespace of our own).
_FILE_IDS = uuid.UUID("5b0d6f2e-26a1-4c1e-9b7e-6d6f74637561")
# Refusals of an upload that changed nothing besides those `idempotency` already releases
# (404, 409, 422): not the assignee, erased dossier, too large, not a PDF/JPEG/PNG. The key is
# released so the client may send a corrected file under it.
_RELEASED = frozenset({403, 410, 413, 415})


async def files_for(state: Any, pool: asyncpg.Pool) -> Files:
    """The file service kept on the app's `state`, built on first use; a 503 problem while
    files are not configured."""
    found = getattr(state, "files_service", None)
    if isinstance(found, Files):
        return found
    try:
        service, own = await setup.build(state.file_settings, pool)
    except setup.NotConfigured as err:
        raise unavailable("files", str(err)) from err
    if own is not None:
        state.keystore_pool = own
    state.files_service = service
    return service


def file_response(found: ev.FileAttached, data: bytes) -> Response:
    """The stored bytes with their type, never cached, never sniffed, as a download."""
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
    filename = f"{found.file_id}.{extension.get(found.media_type, 'bin')}"
    return Response(data, media_type=found.media_type, headers={
        "ETag": f'"{found.sha256}"', "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "private, no-store"})


async def upload_once(pool: asyncpg.Pool, keyring: Keyring | None, *, principal: str,
                      key: str | None, code: str, fields: dict[str, Any], data: bytes,
                      store: Callable[[str | None], Awaitable[dict[str, Any]]]) -> Answer:
    """Run an upload under its `Idempotency-Key` (`motcua.services.idempotency`, as the JSON
    commands do): the request is the form's `fields` and the file's SHA-256 and size, so the
    same key with the same bytes answers the first 201 again (nothing stored twice) and the
    same key with other bytes or fields is 422 `idempotency-key-reused`. `store(file_id)`
    does the upload and returns the answer's body; with a key, the file id comes from the key
    and the request, so a retry racing the first request writes the same blob and the same
    Temporal update (its id is the file id), recorded once."""
    body = {**fields, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    try:
        async with idempotency.attempt(pool, principal=principal, key=key, operation=UPLOAD,
                                       code=code, body=body, keyring=keyring) as attempt:
            if attempt.replay is not None:
                return attempt.replay
            file_id = None if key is None else str(uuid.uuid5(_FILE_IDS, "\n".join(
                (principal, key, idempotency.request_hash(UPLOAD, code, body)))))
            return await attempt.respond(await store(file_id), status_code=201)
    except Problem as problem:
        if key is not None and problem.kind.status in _RELEASED:
            await idempotency.release(pool, principal=principal, key=key)
        raise
