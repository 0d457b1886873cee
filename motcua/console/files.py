"""Files in the console (issue 26): scanning a component at intake (upload on the dossier
page), downloading a file, and the citizen's download of the signed result from the lookup
page (the code and secret posted, never in a URL). The work is `motcua.files.service`'s."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from motcua.access.tokens import Role
from motcua.access.users import Session
from motcua.console import lookup
from motcua.console.acting import form_key
from motcua.console.dossier import dossier_events
from motcua.console.web import ConsoleError, checked_form, resources, staff, text
from motcua.dossiers import CommandRejected
from motcua.files import content
from motcua.files.service import Erased, FileError, Files, Upload
from motcua.problems import Problem
from motcua.services import idempotency
from motcua.services.files import file_response, files_for, upload_once

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]
_MAY_ATTACH = frozenset({Role.CLERK, Role.OFFICER, Role.LEADER})


async def _service(request: Request) -> Files:
    try:
        return await files_for(request.app.state, resources(request).db())
    except Problem as err:
        raise ConsoleError(503, "Chức năng lưu tệp chưa được cấu hình.") from err


@router.post("/ho-so/{code}/tep")
async def scan(request: Request, code: str, current: Staff) -> Response:
    """The clerk's scan of one component: checked, encrypted and recorded as the API does."""
    if not current.user.roles & _MAY_ATTACH:
        raise ConsoleError(403, "Chỉ cán bộ một cửa, chuyên viên và lãnh đạo được thêm tệp.")
    await dossier_events(request, current, code)  # 404 outside the user's unit
    form = await checked_form(request, current)
    service = await _service(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ConsoleError(422, "Vui lòng chọn tệp quét.")
    data = await upload.read(service.max_bytes + 1)
    try:
        pages = int(text(form, "pages") or "0")
    except ValueError:
        pages = 0
    kind = text(form, "kind") if text(form, "kind") in ("original", "copy") else "original"
    name = text(form, "name")
    if not name or pages < 1:
        raise ConsoleError(422, "Vui lòng nhập tên giấy tờ và số trang.")
    res = resources(request)
    client = res.temporal()

    async def store(file_id: str | None) -> dict[str, Any]:
        recorded = await service.add(client, Upload(
            code=code, name=name, kind=kind, pages=pages, actor=current.user.username), data,
            file_id=file_id)
        return {"id": recorded.file_id}

    # The form's one-time id is the Idempotency-Key, as for the console's actions: a double
    # click stores the scan once (`motcua.services.files.upload_once`).
    key, pool = form_key(form), res.db()
    try:
        await upload_once(pool, res.keyring, principal=current.user.username, key=key,
                          code=code, fields={"name": name, "kind": kind, "pages": pages,
                                             "from_national_store": False},
                          data=data, store=store)
    except (content.ContentRefused, FileError, CommandRejected) as err:
        if key is not None:  # refused: nothing stored, the form may be sent again corrected
            await idempotency.release(pool, principal=current.user.username, key=key)
        if isinstance(err, content.ContentRefused):
            raise ConsoleError(415 if err.unsupported else 422,
                               f"Tệp không được nhận: {err.reason}") from err
        raise ConsoleError(410 if isinstance(err, Erased) else 409,
                           f"Tệp không được nhận: {err}") from err
    except Problem as problem:  # the same form sent with another file, or still running
        raise ConsoleError(problem.kind.status, "Biểu mẫu này đã được gửi với tệp khác; hãy "
                           "tải lại trang và quét lại.") from problem
    return RedirectResponse(f"/ho-so/{quote(code)}?xong=tep", status_code=303)


@router.get("/ho-so/{code}/tep/{file_id}")
async def download(request: Request, code: str, file_id: str, current: Staff) -> Response:
    await dossier_events(request, current, code)
    service = await _service(request)
    try:
        found, data = await service.read(code, file_id)
    except FileError as err:
        raise ConsoleError(410 if isinstance(err, Erased) else 404, str(err)) from err
    return file_response(found, data)


@router.post("/tra-cuu/ket-qua")
async def citizen_result(request: Request) -> Response:
    """The signed result for the citizen who holds the code and the secret (POSTed from the
    lookup page); the same answer for a wrong secret and a result not yet issued."""
    form = await request.form()
    code, secret = text(form, "ma")[:64], text(form, "k")[:64]
    if not code or not secret or await lookup.find(request, code, secret) is None:
        raise ConsoleError(404, "Không tìm thấy kết quả của hồ sơ này.")
    found = await (await _service(request)).result(code)
    if found is None:
        raise ConsoleError(404, "Hồ sơ chưa có kết quả điện tử.")
    return file_response(*found)
