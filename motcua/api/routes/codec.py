"""`POST /codec/decode`: the codec server of the Temporal Web UI (`motcua.payload_codec`).

Temporal keeps payloads encrypted; the Web UI shows them in clear only by sending them here.
Point the UI's "Codec Server" setting at `<api>/codec` with "Pass the user access token" on,
and sign in with an API token of a role that may see personal data (clerk, officer, leader):
anyone else gets 403, and every decode is recorded in `pii_reads`. The body is the codec
server's JSON (`{"payloads": [{"metadata": {...}, "data": "<base64>"}]}`, proto3 JSON).
"""

from __future__ import annotations

from typing import Annotated, Any

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Body, Depends, Request
from fastapi.responses import JSONResponse, Response
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payloads

from motcua.access import privacy
from motcua.access.tokens import Principal
from motcua.api import problems
from motcua.api.auth import current_principal
from motcua.api.resources import PoolDep, ResourcesDep
from motcua.payload_codec import PayloadKeyError, decode_all, keyring_from
from motcua.problems import FORBIDDEN, INVALID_INPUT, Problem

router = APIRouter(prefix="/codec", tags=["operations"])

# The Web UI calls from the browser, on another origin: allow it (the bearer token, not a
# cookie, is what authorises, so any origin may ask).
_CORS = {"Access-Control-Allow-Origin": "*",
         "Access-Control-Allow-Methods": "POST, OPTIONS",
         "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Namespace"}


@router.options("/decode", include_in_schema=False)
async def preflight() -> Response:
    return Response(status_code=204, headers=_CORS)


@router.post("/decode", operation_id="codecDecode", summary="Decrypt Temporal payloads",
             responses=problems.responses(400, 401, 403, 413, 415, 422, 503))
async def decode(
        request: Request, pool: PoolDep, resources: ResourcesDep,
        principal: Annotated[Principal, Depends(current_principal)],
        body: Annotated[dict[str, Any], Body(examples=[{"payloads": [
            {"metadata": {"encoding": "YmluYXJ5L2VuY3J5cHRlZA=="}, "data": "..."}]}])],
) -> JSONResponse:
    """The payloads decrypted (unencrypted ones as they are), for the roles that may see
    personal data."""
    if not privacy.sees_personal_data(principal):
        raise Problem(FORBIDDEN, "decoding payloads shows personal data; it needs one of the "
                      "roles: clerk, leader, officer")
    try:
        payloads = json_format.ParseDict(body, Payloads())
    except (json_format.ParseError, DecodeError, TypeError, ValueError) as err:
        raise Problem(INVALID_INPUT, f"payloads: {str(err)[:100]}", field="payloads") from None
    setting = resources.settings.payload_keys
    keyring = keyring_from(setting.get_secret_value() if setting else None)
    try:
        if keyring is None:
            decoded = list(payloads.payloads)
        else:
            decoded = list(decode_all(keyring, payloads.payloads))
    except (PayloadKeyError, ValueError) as err:
        raise Problem(INVALID_INPUT, f"payloads: {err}"[:200], field="payloads") from None
    except InvalidTag:  # tampered, truncated or sealed with a foreign key
        raise Problem(INVALID_INPUT, "payloads: cannot be decrypted with our keys",
                      field="payloads") from None
    namespace = request.headers.get("x-namespace", "")[:100]
    await privacy.record_read(pool, principal, "*", f"codec:decode:{namespace}")
    out = json_format.MessageToDict(Payloads(payloads=decoded))
    return JSONResponse(out or {"payloads": []}, headers=_CORS)
