"""The console's writes go through the same services as the API (`motcua.services.dossiers`:
permission table and unit scope, idempotency, engine call, audit in events), with the same
request bodies (`motcua.services.requests`). Nothing here talks to Temporal itself; this module
turns the services' problems into messages for a person.

Each form carries a random `form_id`, used as the Idempotency-Key, so a form submitted twice
(a double click, a reload after a lost answer) acts once.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from motcua import correlation
from motcua.access.permissions import ASSIGNEE_STEPS, authorise
from motcua.access.users import Session
from motcua.actions import ACTIONS
from motcua.console.problem_words import detail_sentence, field_label
from motcua.console.web import resources, text
from motcua.problems import FORBIDDEN, Problem
from motcua.services import dossiers, lookups
from motcua.services.idempotency import Answer
from motcua.services.requests import ReceiveRequest, ReissueLookupRequest, body_for

FORM_ID = "form_id"
_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

# The problem types a person can cause, in Vietnamese (`detail` follows in English).
_PROBLEM_TEXT = {
    "invalid-transition": "Trạng thái hiện tại của hồ sơ không cho phép thao tác này.",
    "already-extended": "Hồ sơ đã được gia hạn một lần.",
    "already-rated": "Hồ sơ này đã được đánh giá.",
    "invalid-command": "Thao tác không hợp lệ theo quy định của thủ tục.",
    "invalid-input": "Thông tin nhập chưa hợp lệ.",
    "idempotency-key-reused": "Biểu mẫu này đã được gửi với nội dung khác; hãy tải lại trang.",
    "forbidden": "Bạn không có quyền thực hiện thao tác này.",
    "not-found": "Không tìm thấy hồ sơ.",
    "digitisation-required": "Thủ tục này yêu cầu số hóa đủ thành phần hồ sơ trước khi phân "
                             "công (Nghị định 118/2025/NĐ-CP điều 17 khoản 1 điểm c).",
    "service-unavailable": "Hệ thống xử lý tạm thời không phản hồi; vui lòng thử lại sau ít "
                           "giây.",
}


class ActionFailed(Exception):
    """The action was refused or the input is invalid: a message for the person, with the
    offending field names (to mark them in the form)."""

    def __init__(self, message: str, fields: list[str] | None = None,
                 status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or []
        self.status = status


def explain(problem: Problem, action: str | None = None) -> ActionFailed:
    """A problem from the services as a message for the console."""
    head = _PROBLEM_TEXT.get(problem.kind.slug, problem.kind.title)
    if problem.kind is FORBIDDEN and action in ASSIGNEE_STEPS:  # `check_assignee` refused
        head = "Chỉ cán bộ được phân công hoặc lãnh đạo đơn vị mới được thực hiện bước này."
    field = problem.extensions.get("field")
    # The API's detail is English and names identifiers: the console says it in Vietnamese
    # (issue 23 item 5; `problem_words`).
    said = detail_sentence(problem.detail, field if isinstance(field, str) else None)
    missing = problem.extensions.get("missing")
    if isinstance(missing, list) and missing:  # digitisation-required: name the papers
        said = "Còn thiếu bản quét: " + "; ".join(str(m) for m in missing) + "."
    return ActionFailed(f"{head} {said}".strip(),
                        [field] if isinstance(field, str) else [], status=problem.kind.status)


# Pydantic's error types, in Vietnamese (others keep pydantic's English message).
_ERROR_TEXT = {
    "missing": "chưa nhập", "string_too_short": "chưa nhập", "string_too_long": "quá dài",
    "too_long": "quá nhiều mục", "enum": "giá trị không hợp lệ",
    "literal_error": "giá trị không hợp lệ", "string_pattern_mismatch": "sai định dạng",
    "datetime_from_date_parsing": "ngày giờ không hợp lệ",
    "datetime_parsing": "ngày giờ không hợp lệ",
}


def _invalid(err: ValidationError) -> ActionFailed:
    fields, parts = [], []
    for e in err.errors():
        name = ".".join(str(p) for p in e.get("loc", ())) or "body"
        fields.append(name)
        label = field_label(str(e["loc"][0])) if e.get("loc") else "Thông tin nhập"
        parts.append(f"{label}: {_ERROR_TEXT.get(e.get('type', ''), 'giá trị không hợp lệ')}")
    return ActionFailed("Thông tin nhập chưa hợp lệ: " + "; ".join(parts), fields)


def form_key(form: FormData) -> str | None:
    """The form's one-time id as the Idempotency-Key (a double click acts once), or None."""
    key = text(form, FORM_ID)
    return f"console:{key}" if _FORM_ID.match(key) else None


def _caller(current: Session, form: FormData) -> dossiers.Caller:
    """The service's caller: the user, the request's correlation id, and the form id as the
    idempotency key."""
    return dossiers.Caller(current.user.principal, correlation.current() or "none",
                           form_key(form))


def _dossier(answer: Answer, action: str | None = None) -> dict[str, Any]:
    """The dossier an answer carries; a replayed refusal (the form was sent before and
    refused) is refused again."""
    if answer.status_code >= 400:
        raise explain(Problem.from_body(answer.body), action)
    return answer.body


def authorise_user(current: Session, permission: str) -> None:
    """The services' role check for `permission` (`motcua.access.permissions`; ActionFailed
    403); the unit scope on a dossier is the service's (`dossiers.act`), from its events."""
    try:
        authorise(current.user.principal, permission)
    except Problem as problem:
        if problem.kind is FORBIDDEN:
            raise ActionFailed(_PROBLEM_TEXT["forbidden"], status=403) from None
        raise explain(problem) from None


async def act(request: Request, current: Session, action_name: str, code: str,
              fields: dict[str, Any], form: FormData) -> dict[str, Any]:
    """Run an action for this user, as the API would; the dossier view after it."""
    action = ACTIONS.get(action_name)
    if action is None or not action.roles:
        raise ActionFailed("Không có thao tác này.", status=404)
    authorise_user(current, action.name)
    try:
        body = body_for(action.command).model_validate(fields)
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        answer = await dossiers.act(resources(request), _caller(current, form), action, code,
                                    body)
    except Problem as problem:
        raise explain(problem, action.name) from None
    return _dossier(answer, action.name)


async def receive(request: Request, current: Session, fields: dict[str, Any],
                  form: FormData) -> dict[str, Any]:
    """Receive a dossier for this user, as `POST /v1/dossiers` would; the new dossier."""
    authorise_user(current, "receive")
    try:
        body = ReceiveRequest.model_validate(fields)
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        answer = await dossiers.receive(resources(request), _caller(current, form), body)
    except Problem as problem:
        raise explain(problem) from None
    return _dossier(answer)


async def reissue_lookup(request: Request, current: Session, code: str, reason: str,
                         form: FormData) -> str:
    """A new lookup secret for dossier `code`, as `POST /v1/dossiers/{code}/lookup-secret`
    would (clerk or leader, with a reason, audited); returns it."""
    authorise_user(current, lookups.OPERATION)
    try:
        body = ReissueLookupRequest.model_validate({"reason": reason})
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        answer = await lookups.reissue(resources(request), _caller(current, form), code, body)
    except Problem as problem:
        raise explain(problem) from None
    secret = _dossier(answer).get("lookup_secret")
    if not isinstance(secret, str):  # a replayed form without payload keys keeps none
        raise ActionFailed("Biểu mẫu này đã được gửi; hãy tải lại trang và in lại.",
                           status=409)
    return secret
