"""`/v1/dossiers/{code}/files`: the dossier's components as files (issue 26), and the signed
result for the citizen (`/v1/public/dossiers/{code}/result`). The work is done by
`motcua.files.service`; this module maps HTTP to it and its errors to problems.

Uploads are `multipart/form-data`, so `motcua.api.guard` exempts exactly this path from the
JSON-only rule (415 for anything but multipart) and `motcua.api.middleware` lets its body
reach MOTCUA_FILE_MAX_BYTES (plus the form's own overhead) instead of 64 KiB.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import asyncpg
import structlog
from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from domain import commands as cmd
from domain import events as ev
from domain.decide import ALLOWED
from domain.dossier import folded
from motcua.access.permissions import authorise_dossier, check_code, check_visible
from motcua.access.tokens import Principal, Role
from motcua.api.auth import Reader, require
from motcua.api.context import PostCtx, correlation_id, respond
from motcua.api.problems import responses
from motcua.api.resources import ClientDep, PoolDep
from motcua.api.routes.dossiers import DossierCode
from motcua.dossiers import CommandRejected
from motcua.eventstore.store import read_stream
from motcua.files import content, crypto
from motcua.files.service import Erased, FileError, Files, NoSuchFile, TooLarge, Upload
from motcua.files.settings import FileSettings
from motcua.files.store import StoreUnavailable
from motcua.problems import FORBIDDEN, INVALID_TRANSITION, NOT_FOUND, Kind, Problem, unavailable
from motcua.services import engine
from motcua.services.files import file_response, files_for, upload_once
from motcua.services.resources import RPC_TIMEOUT

log = structlog.get_logger(__name__)

router = APIRouter(prefix="/v1/dossiers", tags=["files"])

FILE_TOO_LARGE = Kind("file-too-large", "The file is larger than the limit", 413)
UNSUPPORTED_FILE = Kind("unsupported-file-type", "Send a PDF, JPEG or PNG file", 415)
FILE_REFUSED = Kind("file-refused", "The file does not match its description", 422)
FILE_ERASED = Kind("erased", "The dossier's files were erased", 410)


class FileView(BaseModel):
    """A file on the dossier: what the event recorded (never the bytes)."""

    id: str
    name: str = Field(description="The component's name, from the procedure's checklist.")
    kind: Literal["original", "copy"]
    pages: int
    sha256: str
    size: int
    media_type: str
    purpose: Literal["component", "result"]
    digitised: bool
    reused: bool
    from_national_store: bool
    reused_from: str | None
    uploaded_by: str
    uploaded_at: datetime

    @classmethod
    def of(cls, f: ev.FileAttached) -> FileView:
        return cls(id=f.file_id, name=f.name, kind=f.kind,  # type: ignore[arg-type]
                   pages=f.pages, sha256=f.sha256, size=f.size, media_type=f.media_type,
                   purpose=f.purpose,  # type: ignore[arg-type]
                   digitised=f.digitised, reused=f.reused,
                   from_national_store=f.from_national_store, reused_from=f.reused_from,
                   uploaded_by=f.uploaded_by, uploaded_at=f.at)


class ReuseRequest(BaseModel):
    """Attach again a file already on an earlier dossier of the same unit scope."""

    from_code: str = Field(description="The earlier dossier.")
    file_id: str
    name: str | None = Field(default=None, description="Default: the earlier file's name.")
    kind: Literal["original", "copy"] | None = None


# -- the service, one per app ----------------------------------------------------------------

def install(app: FastAPI) -> None:
    """Include the routes, read the settings (the middleware needs the size limit before any
    route runs), and close the key store's own pool and the signing service's client, if
    any, at shutdown."""
    app.state.file_settings = FileSettings()
    from motcua.api.routes import results  # noqa: F401 -- its routes join these routers

    app.include_router(router)
    app.include_router(public_router)
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with inner(a):
            try:
                yield
            finally:
                own = getattr(a.state, "keystore_pool", None)
                if own is not None:
                    await own.close()
                signer_client = getattr(a.state, "signer_client", None)
                if signer_client is not None:
                    await signer_client.aclose()

    app.router.lifespan_context = lifespan


async def files_service(request: Request, pool: PoolDep) -> Files:
    """The app's file service (`motcua.services.files`); 503 while files are not configured."""
    return await files_for(request.app.state, pool)


FilesDep = Annotated[Files, Depends(files_service)]
Attacher = Annotated[Principal, Depends(require("attach-file"))]


def problem_for(err: Exception) -> Problem:
    """The problem for a refusal of the file service or the engine."""
    match err:
        case content.ContentRefused(unsupported=True):
            return Problem(UNSUPPORTED_FILE, err.reason, field="file")
        case content.ContentRefused():
            return Problem(FILE_REFUSED, err.reason, field="pages" if "page" in err.reason
                           else "file")
        case TooLarge():
            return Problem(FILE_TOO_LARGE, err.reason, field="file")
        case Erased():
            return Problem(FILE_ERASED, err.reason)
        case NoSuchFile():
            return Problem(NOT_FOUND, err.reason)
        case CommandRejected():
            return engine.rejection(err)
        case FileError():
            return Problem(FILE_REFUSED, err.reason)
        case StoreUnavailable():
            return unavailable("files", "the file store is unavailable")
    raise err


async def _dossier_for_write(pool: asyncpg.Pool, code: str, principal: Principal) -> None:
    """404 unless the dossier exists (its unit was checked by `require`); 403 for an officer
    who is not its assignee (a leader of the unit may always)."""
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    dossier = folded(events)
    check_visible(principal, dossier)
    if dossier.state not in ALLOWED[cmd.AttachFile]:
        # Said before the body is read; the workflow (whose run may have ended) would agree.
        raise Problem(INVALID_TRANSITION, f"no files may be added while the dossier is "
                      f"{dossier.state_name}", state=dossier.state_name)
    if (principal.roles.isdisjoint({Role.CLERK, Role.LEADER}) and dossier.assignee is not None
            and dossier.assignee != principal.name):
        raise Problem(FORBIDDEN, f"the dossier is assigned to {dossier.assignee}; only the "
                      "assignee, a leader or a clerk may add files")


# -- routes ----------------------------------------------------------------------------------

@router.post("/{code}/files", status_code=201, response_model=FileView,
             operation_id="uploadDossierFile", summary="Upload a component (multipart)",
             responses=responses(400, 401, 403, 404, 409, 410, 413, 415, 422, 503))
async def upload_file(
        code: DossierCode, request: Request, principal: Attacher, pool: PoolDep,
        client: ClientDep, service: FilesDep, ctx: PostCtx,
        file: Annotated[UploadFile, File(description="The scan: PDF, JPEG or PNG.")],
        name: Annotated[str, Form(min_length=1, max_length=300,
                                  description="The component's name (checklist).")],
        kind: Annotated[Literal["original", "copy"], Form(description="Bản chính / bản sao.")],
        pages: Annotated[int, Form(ge=1, le=10000, description="Pages declared; must match.")],
        from_national_store: Annotated[bool, Form(
            description="Taken from the national data store (portal flag DuocLayTuKhoDMQG).",
        )] = False,
) -> JSONResponse:
    """Scan or upload one component. The type is judged by content (PDF, JPEG, PNG; 415
    otherwise), the size against MOTCUA_FILE_MAX_BYTES (413), the declared page count against
    the file's (422, with both numbers). Stored encrypted under the dossier's key; the dossier's
    stream records a `FileAttached` event with the SHA-256.

    `Idempotency-Key` as on every POST: a retry with the same key, the same form fields and
    the same bytes answers the first 201 again (`Idempotent-Replayed: true`) and stores
    nothing, even if the dossier has moved on since; the same key with other bytes or fields
    is 422 `idempotency-key-reused`."""
    data = await file.read(service.max_bytes + 1)
    upload = Upload(code=code, name=name.strip(), kind=kind, pages=pages, actor=principal.name,
                    from_national_store=from_national_store,
                    correlation_id=correlation_id(request))

    async def store(file_id: str | None) -> dict[str, Any]:
        # Checked here, not before the key: a replay answers as the first request did.
        await _dossier_for_write(pool, code, principal)
        try:
            recorded = await service.add(client, upload, data, rpc_timeout=RPC_TIMEOUT,
                                         bound=engine.bounded, file_id=file_id)
        except engine.WorkflowNotFound as err:
            raise engine.not_found() from err
        except (FileError, content.ContentRefused, CommandRejected, StoreUnavailable) as err:
            raise problem_for(err) from err
        return FileView.of(recorded).model_dump(mode="json")

    return respond(await upload_once(
        pool, ctx.resources.keyring, principal=principal.name, key=ctx.idempotency_key,
        code=code, fields={"name": upload.name, "kind": kind, "pages": pages,
                           "from_national_store": from_national_store},
        data=data, store=store))


@router.post("/{code}/files/reuse", status_code=201, response_model=FileView,
             operation_id="reuseDossierFile", summary="Attach a file from an earlier dossier",
             responses=responses(400, 401, 403, 404, 409, 410, 413, 415, 422, 503))
async def reuse_file(code: DossierCode, body: ReuseRequest, request: Request,
                     principal: Attacher, pool: PoolDep, client: ClientDep,
                     service: FilesDep) -> FileView:
    """The citizen's paper already on file from an earlier dossier, attached again (flag
    reused, no new scan). Only within the caller's unit scope (another unit's dossier is 404);
    the read of the earlier file is audited; the copy is encrypted anew under this dossier's
    key, so erasing either dossier never breaks the other."""
    await _dossier_for_write(pool, code, principal)
    await authorise_dossier(pool, principal, "read", body.from_code)
    upload = Upload(code=code, name=(body.name or "").strip(), kind=body.kind or "",
                    pages=0, actor=principal.name, correlation_id=correlation_id(request))
    try:
        recorded = await service.reuse(client, source=body.from_code, file_id=body.file_id,
                                       upload=upload, rpc_timeout=RPC_TIMEOUT,
                                       bound=engine.bounded)
    except engine.WorkflowNotFound as err:
        raise engine.not_found() from err
    except (FileError, content.ContentRefused, CommandRejected, StoreUnavailable) as err:
        raise problem_for(err) from err
    return FileView.of(recorded)


@router.get("/{code}/files", response_model=list[FileView], operation_id="listDossierFiles",
            summary="The dossier's files", responses=responses(401, 403, 404, 503))
async def list_files(code: DossierCode, principal: Reader, pool: PoolDep) -> list[FileView]:
    """Every file recorded on the dossier, components and result, in the order recorded."""
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    check_visible(principal, folded(events))
    return [FileView.of(e.event) for e in events if isinstance(e.event, ev.FileAttached)]


@router.get("/{code}/files/{file_id}", operation_id="getDossierFile",
            summary="Download a file (the same bytes as uploaded)",
            response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {},
                                         "image/png": {}}},
                       **responses(401, 403, 404, 410, 503)})
async def get_file(code: DossierCode, file_id: str, principal: Reader,
                   service: FilesDep) -> Response:
    """The file's bytes, decrypted, byte for byte as uploaded (its SHA-256 in `ETag`). 410
    once the dossier was erased."""
    check_code(code)
    try:
        found, data = await service.read(code, file_id)
    except (FileError, StoreUnavailable) as err:
        raise problem_for(err) from err
    except crypto.Unreadable as err:
        log.error("file.unreadable", code=code, file_id=file_id)
        raise unavailable("files", "the file cannot be decrypted; operations was told") from err
    return file_response(found, data)


public_router = APIRouter(prefix="/v1/public", tags=["public"])
