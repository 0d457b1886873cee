"""The signed result (issue 26): `POST /v1/dossiers/{code}/result` completes the dossier with a
result PDF (uploaded, or rendered from the dossier) signed by the unit's signer; the citizen
downloads it from `GET /v1/public/dossiers/{code}/result` with the receipt's lookup secret.
Staff list it with the other files (`purpose: result`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import httpx
import structlog
from asn1crypto import pem as pem_armor
from asn1crypto import x509 as asn1_x509
from fastapi import Depends, File, Form, Header, Request, UploadFile
from fastapi.responses import Response
from pyhanko.sign.general import SigningError

from domain import commands as cmd
from domain.catalog import UnknownProcedure, UnknownUnit
from domain.dossier import folded
from domain.states import DossierState
from motcua import lookup
from motcua.access.permissions import check_assignee, check_step
from motcua.access.tokens import Principal
from motcua.api.auth import require
from motcua.api.context import correlation_id
from motcua.api.problems import responses
from motcua.api.resources import ClientDep, PoolDep, ResourcesDep
from motcua.api.routes.dossiers import DossierCode
from motcua.api.routes.files import (
    FilesDep,
    FileView,
    problem_for,
    public_router,
    router,
)
from motcua.api.routes.public import SECRET_HEADER
from motcua.dossiers import CommandRejected
from motcua.eventstore.store import read_stream
from motcua.files import content
from motcua.files.service import FileError
from motcua.files.settings import FileSettings
from motcua.files.signing import (
    FontMissing,
    LocalSigner,
    RemoteSigner,
    ResultText,
    Signer,
    render,
)
from motcua.files.store import StoreUnavailable
from motcua.problems import INVALID_TRANSITION, TOO_MANY_REQUESTS, Problem
from motcua.problems import unavailable as unavailable_problem
from motcua.services import engine
from motcua.services.files import file_response
from motcua.services.resources import RPC_TIMEOUT

log = structlog.get_logger(__name__)


async def result_signer(request: Request) -> Signer:
    """The app's signer (MOTCUA_SIGNING_PKCS12), made on first use; 503 when unset."""
    state = request.app.state
    found = getattr(state, "result_signer", None)
    if found is not None:
        signer: Signer = found
        return signer
    settings = state.file_settings
    if settings.signing_service_url:
        signer = await _remote(request, settings)
        state.result_signer = signer
        return signer
    if settings.signing_pkcs12 is None:
        raise unavailable_problem("signer", "results cannot be signed: set "
                                  "MOTCUA_SIGNING_PKCS12 (deploy/FILES.md)")
    phrase = settings.signing_passphrase
    try:
        signer = LocalSigner(settings.signing_pkcs12,
                             phrase.get_secret_value().encode() if phrase else None)
    except (OSError, ValueError) as err:
        raise unavailable_problem("signer", f"the signing key cannot be loaded: {err}") from err
    state.result_signer = signer
    return signer


async def _remote(request: Request, settings: FileSettings) -> Signer:
    if settings.signing_chain_pem is None:
        raise unavailable_problem("signer", "MOTCUA_SIGNING_CHAIN_PEM is unset")
    try:
        pem = await asyncio.to_thread(settings.signing_chain_pem.read_bytes)
        chain = [asn1_x509.Certificate.load(der) for _kind, _headers, der in pem_armor.unarmor(
            pem, multiple=True)]
    except (OSError, ValueError) as err:
        raise unavailable_problem("signer", f"the signing chain cannot be read: {err}") from err
    token = settings.signing_service_token
    client = request.app.state.signer_client = httpx.AsyncClient(
        timeout=10.0, headers={"Authorization": f"Bearer {token.get_secret_value()}"}
        if token else {})
    return RemoteSigner(client=client, url=settings.signing_service_url or "",
                        key_id=settings.signing_service_key_id, chain=chain)


SignerDep = Annotated[Signer, Depends(result_signer)]
Completer = Annotated[Principal, Depends(require("complete"))]


@router.post("/{code}/result", status_code=201, response_model=FileView,
             operation_id="issueDossierResult", summary="Complete with a signed result",
             responses=responses(400, 401, 403, 404, 409, 410, 413, 415, 422, 503))
async def issue_result(
        code: DossierCode, request: Request, principal: Completer, pool: PoolDep,
        client: ClientDep, service: FilesDep, signer: SignerDep, resources: ResourcesDep,
        summary: Annotated[str, Form(min_length=1, max_length=2000,
                                     description="The decision, as for `complete`.")],
        file: Annotated[UploadFile | None, File(
            description="The result as a PDF; rendered from the dossier when absent.")] = None,
) -> FileView:
    """The result as an electronic document with a digital signature (PAdES, pyHanko): the
    uploaded PDF, or one rendered from the dossier, is signed by the unit's signer, stored
    encrypted, and recorded (`FileAttached`, purpose result, with its SHA-256). A dossier still
    processing is completed with `summary` first; a dossier already ready gets its result."""
    events = await read_stream(pool, code)
    if not events:
        raise engine.not_found()
    dossier = folded(events)
    check_assignee(principal, "complete", dossier.assignee)
    if dossier.state is DossierState.PROCESSING:
        check_step(principal, "complete", dossier)  # a walk not at its last step: 403
    if dossier.state not in (DossierState.PROCESSING, DossierState.READY):
        raise Problem(INVALID_TRANSITION, "a result is issued while processing or once ready",
                      state=dossier.state_name)
    catalog = resources.catalog
    try:
        procedure = catalog.procedure(dossier.procedure_code).name
        unit = catalog.unit(dossier.unit_code).name
    except (UnknownProcedure, UnknownUnit):
        procedure, unit = dossier.procedure_code, dossier.unit_code
    if file is not None:
        pdf = await file.read(service.max_bytes + 1)
    else:
        try:
            pdf = render(ResultText(code=code, procedure=procedure, unit=unit,
                                    applicant=dossier.applicant_name, summary=summary,
                                    issued_at=resources.calendar.local(datetime.now(UTC)),
                                    signed_by=principal.name),
                         request.app.state.file_settings.result_font_dir)
        except FontMissing as err:
            log.error("result.font_missing", error=str(err))
            raise unavailable_problem("result-font", str(err)) from err
    completion = cmd.CompleteProcessing(summary=summary.strip(), actor=principal.name,
                                        correlation_id=correlation_id(request))

    async def complete() -> object:
        return await engine.act(client, code, "complete", completion,
                                update_id=f"complete-with-result:{code}")

    try:
        recorded = await service.issue_result(
            client, code=code, pdf=pdf, signer=signer, actor=principal.name, location=unit,
            correlation_id=correlation_id(request),
            complete=complete if dossier.state is DossierState.PROCESSING else None,
            rpc_timeout=RPC_TIMEOUT, bound=engine.bounded)
    except engine.WorkflowNotFound as err:
        raise engine.not_found() from err
    except (FileError, content.ContentRefused, CommandRejected, StoreUnavailable) as err:
        raise problem_for(err) from err
    except (httpx.HTTPError, SigningError, KeyError, ValueError) as err:
        # The signing service did not sign (down, refused, or answered nonsense): nothing was
        # recorded; a dossier completed already is ready and its result is issued again.
        log.error("result.signing_failed", code=code, error=str(err) or type(err).__name__)
        raise unavailable_problem("signer", "the result could not be signed now") from err
    log.info("result.issued", code=code, sha256=recorded.sha256)
    return FileView.of(recorded)


@public_router.get("/dossiers/{code}/result", operation_id="publicDossierResult",
                   summary="Download the signed result (citizens)", response_class=Response,
                   responses={200: {"content": {"application/pdf": {}}},
                              **responses(404, 410, 429, 503)})
async def public_result(
        code: DossierCode, request: Request, pool: PoolDep, service: FilesDep,
        resources: ResourcesDep,
        secret: Annotated[str | None, Header(
            alias=SECRET_HEADER, description="The secret printed on the receipt.",
            examples=["7KQ2-M9PA-3DXF"])] = None,
) -> Response:
    """The signed result PDF once issued; an unknown code, a wrong secret and a result not
    yet issued are the same 404. Rate-limited like the lookup."""
    client = request.client.host if request.client else "unknown"
    wait = resources.lookup_limiter.check(client)
    if wait is not None:
        raise Problem(TOO_MANY_REQUESTS, f"too many lookups; retry in {wait} s",
                      headers={"Retry-After": str(wait)})
    if not await lookup.verify(pool, code, (secret or "")[:64]):
        raise engine.not_found()
    try:
        found = await service.result(code)
    except (FileError, StoreUnavailable) as err:
        raise problem_for(err) from err
    if found is None:
        raise engine.not_found()
    return file_response(*found)
