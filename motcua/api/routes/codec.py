"""`POST /codec/decode`: the codec server of the Temporal Web UI (`motcua.payload_codec`).

Temporal keeps payloads encrypted; the Web UI shows them in clear only by sending them here.
Point the UI's "Codec Server" setting at `<api>/codec` with "Pass the user access token" on,
and sign in with an API token of a role that may see personal data (clerk, officer, leader):
anyone else gets 403. The body is the codec server's JSON
(`{"payloads": [{"metadata": {...}, "data": "<base64>"}]}`, proto3 JSON).

Unit scope, as everywhere in the API (issue 24.1): every payload sealed since payloads name
their dossier carries its code and unit (bound to the ciphertext, `motcua.payload_codec`), and
a unit-scoped token decodes only its own unit's. A request with any payload the caller may not
read is refused whole (403, naming the first such payload), so nothing of it is decoded:
- a payload of another unit's dossier;
- an older payload, sealed before payloads named their dossier: its dossier cannot be known
  without decrypting it, so only a token without a unit (an office-wide clerk, officer or
  leader) may decode it. Our reading: refusing costs a unit-scoped clerk the Web UI's view of
  dossiers opened before the change, which the console and `GET /v1/dossiers/{code}` still
  show them; decoding would show any unit's applicant.
Each decoded dossier is recorded in `pii_reads` under its code (`what` =
`codec:decode:<namespace>`); older payloads under `*` (`codec:decode-legacy:<namespace>`).
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
from motcua.payload_codec import ENCODING, PayloadKeyError, decode_all, dossier_of, keyring_from
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
    personal data and only of the dossiers the caller's unit may read; payloads sealed before
    they named their dossier only for a token without a unit (403 otherwise)."""
    if not privacy.sees_personal_data(principal):
        raise Problem(FORBIDDEN, "decoding payloads shows personal data; it needs one of the "
                      "roles: clerk, leader, officer")
    try:
        payloads = json_format.ParseDict(body, Payloads())
    except (json_format.ParseError, DecodeError, TypeError, ValueError) as err:
        raise Problem(INVALID_INPUT, f"payloads: {str(err)[:100]}", field="payloads") from None
    readable = _readable_dossiers(principal, payloads)
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
    for code in readable:
        what = "codec:decode" if code != LEGACY else "codec:decode-legacy"
        await privacy.record_read(pool, principal, code, f"{what}:{namespace}")
    out = json_format.MessageToDict(Payloads(payloads=decoded))
    return JSONResponse(out or {"payloads": []}, headers=_CORS)


LEGACY = "*"  # the audit's dossier for payloads sealed before they named their dossier


def _readable_dossiers(principal: Principal, payloads: Payloads) -> list[str]:
    """The dossier codes the encrypted payloads name (LEGACY for older ones), in order,
    once each; 403 at the first payload `principal` may not read. Claims are checked before
    decrypting: a forged claim then fails to decrypt (the claim is the associated data)."""
    codes: dict[str, None] = {}
    for index, payload in enumerate(payloads.payloads):
        if payload.metadata.get("encoding") != ENCODING:
            continue  # never encrypted: nothing is revealed by passing it back
        dossier = dossier_of(payload)
        if dossier is None or dossier.unit is None:
            if principal.unit_code is not None:
                raise Problem(FORBIDDEN, f"payload {index} names no dossier (sealed before "
                              "payloads named theirs); only a token without a unit may "
                              "decode it", field="payloads")
            codes[dossier.code if dossier else LEGACY] = None
        elif not principal.sees(dossier.unit):
            raise Problem(FORBIDDEN, f"payload {index} belongs to dossier {dossier.code[:60]}; "
                          f"this token is limited to unit {principal.unit_code}",
                          field="payloads")
        else:
            codes[dossier.code] = None
    return list(codes)
