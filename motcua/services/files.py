"""The files of a dossier as the web interfaces share them (issue 26): the app's one file
service, made on first use, and a stored file as an HTTP answer. The API routes
(`motcua.api.routes.files`) and the console (`motcua.console.files`) both call these."""

from __future__ import annotations

from typing import Any

import asyncpg
from fastapi.responses import Response

from domain import events as ev
from motcua.files import setup
from motcua.files.service import Files
from motcua.problems import unavailable


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
