"""The console's writes go through the API's own code: the same permission table and unit
scope (`motcua.api.auth`), the same request bodies (`motcua.api.schemas`), and the same
handlers (`receive_dossier`, `perform`: idempotency, engine call, audit in events). Nothing
here talks to Temporal itself.

Each form carries a random `form_id`, used as the Idempotency-Key, so a form submitted twice
(a double click, a reload after a lost answer) acts once.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from starlette.datastructures import FormData

from motcua.access.users import Session
from motcua.actions import ACTIONS
from motcua.api.auth import ASSIGNEE_STEPS, PERMISSIONS, check_visible, unit_of
from motcua.api.context import PostContext, post_context
from motcua.api.problems import FORBIDDEN, Problem
from motcua.api.routes.actions import perform
from motcua.api.routes.dossiers import receive_dossier
from motcua.api.schemas import ReceiveRequest, body_for
from motcua.console.problem_words import detail_sentence, field_label
from motcua.console.web import resources, text

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
    """A problem from the API code as a message for the console."""
    head = _PROBLEM_TEXT.get(problem.kind.slug, problem.kind.title)
    if problem.kind is FORBIDDEN and action in ASSIGNEE_STEPS:  # `check_assignee` refused
        head = "Chỉ cán bộ được phân công hoặc lãnh đạo đơn vị mới được thực hiện bước này."
    field = problem.extensions.get("field")
    # The API's detail is English and names identifiers: the console says it in Vietnamese
    # (issue 23 item 5; `problem_words`).
    said = detail_sentence(problem.detail, field if isinstance(field, str) else None)
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


async def _context(request: Request, form: FormData) -> PostContext:
    """The API's own POST context (`post_context`), the form id as the Idempotency-Key."""
    res = resources(request)
    key = text(form, FORM_ID)
    return await post_context(request, res, res.db(),
                              f"console:{key}" if _FORM_ID.match(key) else None)


def _json(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body


def authorise(current: Session, permission: str, code: str | None = None) -> None:
    """The API's checks for `permission`: a role that grants it, and the code's unit in the
    user's scope (ActionFailed 403 / 404 as the API answers)."""
    principal = current.user.principal
    if not principal.roles & PERMISSIONS[permission]:
        raise ActionFailed(_PROBLEM_TEXT["forbidden"], status=403)
    if code is not None:
        try:
            check_visible(principal, unit_of(code))
        except Problem as problem:
            raise explain(problem) from None


async def act(request: Request, current: Session, action_name: str, code: str,
              fields: dict[str, Any], form: FormData) -> dict[str, Any]:
    """Run an action as the API would for this user; the dossier view after it."""
    action = ACTIONS.get(action_name)
    if action is None or not action.roles:
        raise ActionFailed("Không có thao tác này.", status=404)
    authorise(current, action.name, code)
    try:
        body = body_for(action.command).model_validate(fields)
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        response = await perform(action, code, body, current.user.principal,
                                 await _context(request, form))
    except Problem as problem:
        raise explain(problem, action.name) from None
    return _json(response)


async def receive(request: Request, current: Session, fields: dict[str, Any],
                  form: FormData) -> dict[str, Any]:
    """Receive a dossier as `POST /v1/dossiers` would for this user; the new dossier."""
    authorise(current, "receive")
    try:
        body = ReceiveRequest.model_validate(fields)
    except ValidationError as err:
        raise _invalid(err) from None
    try:
        response = await receive_dossier(body, await _context(request, form),
                                         current.user.principal)
    except Problem as problem:
        raise explain(problem) from None
    return _json(response)
