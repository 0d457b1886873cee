"""`/ho-so/{code}`: one dossier (state, SLA panel, timeline, documents, the actions the user
may take now), its action forms, and its printable documents."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, tzinfo
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from domain import commands as cmd
from domain import events as ev
from domain import permits, walk
from domain.catalog import Catalog
from domain.commands import AttachFile
from domain.decide import ALLOWED
from domain.dossier import Dossier, folded
from domain.envelope import EventEnvelope
from domain.states import DossierState, Timeliness
from motcua.access import privacy
from motcua.access.permissions import check_code, sees
from motcua.access.tokens import Role
from motcua.access.users import Session, list_users
from motcua.actions import BY_COMMAND, SENDERS
from motcua.console import acting, slots
from motcua.console.acting import ActionFailed
from motcua.console.web import (
    COOKIE,
    SECURITY_HEADERS,
    ConsoleError,
    checked_form,
    lines,
    now,
    page,
    parse_clock,
    parse_day,
    redirect,
    resources,
    sees_personal_data,
    staff,
    text,
    time_left,
    vn_day,
    vn_time,
)
from motcua.documents import KINDS, DocumentUnavailable, render
from motcua.documents.control import late_steps
from motcua.documents.narration import REASON_LABELS, describe
from motcua.documents.pauses import pause_effect, pause_lines
from motcua.documents.people import people_of
from motcua.documents.render import Lookup
from motcua.documents.timefmt import rule_sentence, vn_duration
from motcua.eventstore.store import read_stream
from motcua.problems import Problem
from motcua.services import digitisation
from motcua.services.ratings import CITIZEN
from motcua.services.views import step_views

router = APIRouter(include_in_schema=False)
Staff = Annotated[Session, Depends(staff)]

DOCUMENT_LABELS = {
    "receipt": "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    "supplement-request": "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    "refusal": "Phiếu từ chối tiếp nhận, giải quyết hồ sơ",
    "apology": "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    "process-control": "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    "stop-notice": "Thông báo dừng giải quyết hồ sơ",
}
ACTION_LABELS = {
    "assign": "Phân công", "start": "Bắt đầu xử lý", "request-supplement": "Yêu cầu bổ sung",
    "supplement": "Đã nhận bổ sung", "complete": "Hoàn thành xử lý", "return": "Trả kết quả",
    "refuse": "Từ chối", "withdraw": "Công dân rút hồ sơ", "stop": "Dừng xử lý",
    "extend": "Gia hạn (xin lỗi)", "rate": "Đánh giá",
    "complaint": "Ghi nhận phản ánh, kiến nghị",
    "verification": "Cần xác minh (áp dụng thời hạn tối đa)",
    "accept": "Tiếp nhận hồ sơ trực tuyến", "refuse-intake": "Từ chối tiếp nhận",
    "request-intake-supplement": "Yêu cầu bổ sung trước khi tiếp nhận",
    "intake-supplement": "Đã nhận bổ sung (trước khi tiếp nhận)",
    "hand-over": "Hoàn thành bước, chuyển bước tiếp theo",
    "send-back": "Trả lại bước trước (lãnh đạo)",
    "transfer": "Chuyển liên thông", "return-transfer": "Trả lại hồ sơ liên thông",
    "request-payment": "Chờ thực hiện nghĩa vụ tài chính",
    "payment-received": "Đã nhận chứng từ nộp tiền", "record-fee": "Thu phí, lệ phí",
}
# Actions that cannot be undone: asked to confirm, with the reason, before they are sent, and
# offered apart from the others behind a disclosure (issue 23 item 2).
IRREVERSIBLE = ("refuse", "withdraw", "stop", "refuse-intake")
CONFIRM_FIELD = "xac_nhan"
# Who usually takes each step, for "who acts next" (issue 23 item 7).
ROLE_NAMES = {"clerk": "Bộ phận một cửa", "officer": "Cán bộ xử lý", "leader": "Lãnh đạo"}
COMPLAINT_CHANNELS = [("counter", "Tại quầy"), ("hotline", "Đường dây nóng"),
                      ("portal", "Cổng dịch vụ công"), ("letter", "Thư, đơn"),
                      ("email", "Thư điện tử")]
_REASONS = REASON_LABELS


async def dossier_events(request: Request, current: Session, code: str) -> list[EventEnvelope]:
    """The dossier's events; 404 (as if absent) outside the user's scope, like the API: the
    unit that received it and the unit holding it now, from the events (a transferred dossier
    keeps its code)."""
    try:
        check_code(code)
    except Problem:
        raise ConsoleError(404, "Không tìm thấy hồ sơ.") from None
    events = await read_stream(resources(request).db(), code)
    if not events or not sees(current.user.principal, folded(events)):
        raise ConsoleError(404, "Không tìm thấy hồ sơ.")
    return events


def _at(value: Any, tz: tzinfo) -> str:
    try:
        return vn_time(datetime.fromisoformat(str(value)), tz)
    except ValueError:
        return "—"


def _span(seconds: int) -> str:
    """A wall-clock wait, e.g. '2 ngày 3 giờ 5 phút'."""
    days, rest = divmod(seconds, 86400)
    parts = [f"{days} ngày"] if days else []
    parts += [f"{rest // 3600} giờ"] if rest >= 3600 else []
    parts += [f"{rest % 3600 // 60} phút"]
    return " ".join(parts)


def allowed_actions(current: Session, d: Dossier, *, verifiable: bool) -> list[str]:
    """The actions this user may take on `d` now, the usual next step first: what
    `domain.permits.allowed` says (the rules the engine and the API apply), with the
    action table's roles. `verifiable`: the procedure has a verification maximum."""
    return [BY_COMMAND[c].name for c in permits.allowed(
        d, current.user.principal, now(), senders=SENDERS, verification_maximum=verifiable)]


def _contacts(events: list[EventEnvelope]) -> list[tuple[str, str]]:
    """The applicant's contact details as received (label, value), those given only: the
    receipt's or the online submission's (issue 23 item 3)."""
    first = events[0].payload if events else {}
    fields = (("Điện thoại", "applicant_phone"), ("Số định danh", "applicant_id_number"),
              ("Thư điện tử", "applicant_email"), ("Địa chỉ", "applicant_address"),
              ("Người nộp thay", "proxy_name"), ("Điện thoại người nộp thay", "proxy_phone"))
    return [(label, str(first[key])) for label, key in fields if first.get(key)]


def _next_step(d: Dossier, users: list[Any], shown: dict[str, str]) -> str:
    """Who acts next on `d` and what they do: the state's usual step, by the assignee for a
    processing step of an assigned dossier, else by the unit's users who may send it."""
    usual = permits.USUAL_NEXT.get(d.state) if d.state is not None else None
    if usual is None or d.ended(now()) or usual not in SENDERS:
        return ""
    action = BY_COMMAND[usual].name
    if usual in permits.ASSIGNEE_STEPS and d.assignee:
        people = [shown.get(d.assignee, d.assignee)]
        role = "Cán bộ xử lý"
    else:
        roles = SENDERS[usual] - {"kiosk"}
        people = sorted({u.display for u in users if u.roles & roles
                         and u.unit_code in (d.unit_code, None)})
        role = ", ".join(ROLE_NAMES.get(r, r) for r in sorted(roles))
    if d.state is DossierState.AWAITING_SUPPLEMENT:  # the citizen brings the papers
        role = "Công dân nộp giấy tờ tại quầy (Bộ phận một cửa ghi nhận) hoặc " + role.lower()
    who = f"{role}: {', '.join(people)}" if people else role
    return f"{ACTION_LABELS.get(action, action)} — {who}"


def _documents(request: Request, events: list[EventEnvelope]) -> list[tuple[str, str]]:
    available = []
    for kind in KINDS:
        try:
            render(kind, events, resources(request).catalog, resources(request).calendar.tz)
        except DocumentUnavailable:
            continue
        available.append((kind, DOCUMENT_LABELS.get(kind, kind)))
    return available


async def show(request: Request, current: Session, code: str, *, error: str = "",
               error_fields: list[str] | None = None, status: int = 200,
               done: str = "") -> HTMLResponse:
    events = await dossier_events(request, current, code)
    d = folded(events)
    res = resources(request)
    tz = res.calendar.tz
    private = sees_personal_data(current)
    if private:
        await privacy.record_read(res.db(), current.user.principal, code, "console:dossier")
    left, css = time_left(res.calendar, d.due_at, now())
    procedure = res.catalog.procedures.get(d.procedure_code)
    unit = res.catalog.units.get(d.unit_code)
    versions = [{"version": e.payload.get("version"), "due": _at(e.payload.get("due_at"), tz),
                 "reason": _REASONS.get(e.payload.get("reason", ""), e.payload.get("reason")),
                 "time": vn_duration(e.payload.get("amount", 0), e.payload.get("unit", ""))}
                for e in events if e.event_type == "DeadlineSet"]
    # Each pause's office time (what the rule counts) and what their total moved (issue 23
    # item 8), so the minutes shown agree with the due time.
    pauses = pause_lines(res.calendar, d.pauses)
    pause_note = pause_effect(res.calendar, d.pauses, d.deadline_unit,
                              d.counting_rule_version or 0)
    verifiable = getattr(procedure, "verification_amount", None) is not None
    offered = allowed_actions(current, d, verifiable=verifiable)
    # How the due time in force was counted, in words (its identifier stays in the API).
    rule_text = rule_sentence(d.deadline_rule, d.deadline_unit,
                              next((int(v.get("amount", 0)) for v in reversed(
                                  [e.payload for e in events
                                   if e.event_type == "DeadlineSet"])), 0),
                              d.counting_rule_version or 0)
    people = await people_of(res.db(), events)
    users = await list_users(res.db())
    officers = [u for u in users
                if Role.OFFICER in u.roles and u.unit_code in (d.holding_unit_code, None)]
    shown = {u.username: u.display for u in users}
    contacts = _contacts(events) if private else []
    if contacts:  # the contact details are a read of their own, audited as such
        await privacy.record_read(res.db(), current.user.principal, code, "console:contacts")
    # A complaint may be recorded at any stage (issue 23 item 1) but is never the usual next
    # step: it goes last, so it is not the first card when the usual step is someone else's.
    actions = sorted((a for a in offered if a != "rate"), key=lambda a: a == "complaint")
    # Issue 26: a procedure that requires its papers scanned before assignment keeps assign
    # off the page until they are, and says which are missing (the service refuses the same).
    gate = next((a for a in ("assign", "hand-over")
                 if a in actions and digitisation.gated(a, d)), None)
    unscanned = (digitisation.missing(events) if gate is not None
                 and digitisation.required(res.catalog, d.procedure_code) else [])
    next_step = _next_step(d, users, shown)
    if gate is not None and unscanned:
        actions.remove(gate)
        next_step = "Số hóa giấy tờ còn thiếu — Bộ phận một cửa" + (
            f"; sau đó {next_step}" if next_step else "")
    leads = current.user.roles & SENDERS.get(cmd.ExtendDeadline, frozenset())

    def who(username: str | None) -> str:
        if not username:
            return "hệ thống"
        if username == CITIZEN.name:  # rated on the lookup page (issue 23 item 12)
            return "Công dân (trang tra cứu)"
        name = shown.get(username)
        return f"{name} ({username})" if name and name != username else username

    timeline = [{"at": e.recorded_at, "actor": who(e.metadata.get("actor")),
                 "what": describe(e.event, tz, people).sentence(private)} for e in events]
    return page(request, "dossier.html", status=status, d=d, code=code, private=private,
                procedure=procedure, unit=unit, left=left, left_css=css,
                sla=d.sla_status(now()), versions=versions, pauses=pauses,
                pause_note=pause_note,
                timeline=timeline, documents=_documents(request, events) if private else [],
                backdated=_backdated(events, private),
                actions=[a for a in actions if a not in IRREVERSIBLE],
                irreversible=[a for a in actions if a in IRREVERSIBLE], labels=ACTION_LABELS,
                contacts=contacts, next_step=next_step,
                # After the one extension the law allows, say so instead of hiding the form.
                extended_once=bool(leads) and d.extended and not d.ended(now())
                and d.state in ALLOWED[cmd.ExtendDeadline],
                officers=officers, complaint_channels=COMPLAINT_CHANNELS,
                unscanned=unscanned, unscanned_source=digitisation.SOURCE_VI,
                assignee=who(d.assignee) if d.assignee else "—",
                error=error, error_fields=error_fields or [],
                form_id=secrets.token_urlsafe(18), done=ACTION_LABELS.get(done, ""),
                rule=(rule_text, d.counting_rule[1]) if rule_text else None,
                may_rate="rate" in offered,
                today=vn_day(res.calendar.local(now()).date()),
                # Files (issue 26, motcua/console/files.py): listed from the events.
                files=[e.event for e in events if e.event_type == "FileAttached"],
                files_open=d.state in ALLOWED[AttachFile] and d.state is not DossierState.READY
                and bool(current.user.roles & {Role.CLERK, Role.OFFICER, Role.LEADER}),
                # The internal procedure (issue 22 item 6): its steps with their due times and
                # verdicts, the runs, and the earlier steps a send-back may go to.
                **steps_panel(d, res.catalog, tz, shown))


VERDICTS = {"early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn"}


def _verdict_label(verdict: Timeliness | None) -> str:
    return VERDICTS.get(verdict.value, "") if verdict is not None else ""


def steps_panel(d: Dossier, catalog: Catalog, tz: tzinfo,
                shown: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What the dossier page shows of the internal procedure (empty without one): each step
    with its due time and verdict, each run with its own, and who made it late: the person
    and unit of every late run (as the control slip names them, `control.late_steps`) and
    of the open step past its due time."""
    if d.step_plan is None:
        return {"steps": [], "step_runs": [], "back_to": [], "late": []}
    at = now()
    people = shown or {}

    def person(username: str | None) -> str:
        return people.get(username, username) if username else ""

    def unit_name(code: str) -> str:
        unit = catalog.units.get(code)
        return unit.name if unit else code

    steps = [{"number": i + 1, "name": s.name, "actor": s.actor,
              "unit": unit_name(s.unit_code),
              "allowance": f"{s.allowance_hours} giờ" if s.allowance_hours
              else (s.untimed or "Không tính thời gian"),
              "started": vn_time(s_view.started_at, tz) if s_view.started_at else "",
              "due": vn_time(s_view.due_at, tz) if s_view.due_at else "",
              "ended": vn_time(s_view.ended_at, tz) if s_view.ended_at else "",
              "verdict": VERDICTS.get(s_view.timeliness or "", ""),
              "verdict_class": s_view.timeliness or "", "runs": s_view.runs,
              "receiver": s_view.receiver or "",
              "current": i == d.current_step,
              "overdue": i == d.current_step and s_view.due_at is not None
              and at > s_view.due_at}
             for i, (s, s_view) in enumerate(zip(d.step_plan.steps, step_views(d), strict=True))]
    plan = d.step_plan
    late = [{"number": x.step + 1, "name": x.name, "person": person(x.person),
             "unit": unit_name(x.unit_code), "due": vn_time(x.due_at, tz),
             "ended": vn_time(x.ended_at, tz), "open": False} for x in late_steps(d)]
    run = walk.current(d.step_runs)
    if run is not None and run.due_at is not None and at > run.due_at:
        step = plan.steps[run.step]
        late.append({"number": run.step + 1, "name": step.name,
                     "person": person(run.receiver) or step.actor,
                     "unit": unit_name(step.unit_code), "due": vn_time(run.due_at, tz),
                     "ended": "", "open": True})
    runs = [{"number": r.step + 1, "started": vn_time(r.started_at, tz),
             "due": vn_time(r.due_at, tz) if r.due_at else "",
             "verdict": _verdict_label(walk.verdict(r)),
             "person": person(r.receiver or r.ended_by),
             "ended": vn_time(r.ended_at, tz) if r.ended_at else "",
             "outcome": {"handed_over": "Đã chuyển", "sent_back": "Bị trả lại"}.get(
                 r.outcome or "", "Đang xử lý"),
             "reason": r.sent_back_reason, "by": r.ended_by, "giver": r.giver}
            for r in d.step_runs]
    current = d.current_step or 0
    return {"steps": steps, "step_runs": runs, "late": late,
            "back_to": [(i, f"Bước {i + 1}: {d.step_plan.steps[i].actor}")
                        for i in range(current - 1, -1, -1)]}


def _backdated(events: list[EventEnvelope], private: bool) -> dict[str, Any] | None:
    """A receipt entered after the fact (issue 23 item 15): when it was entered and why (the
    reason is free text by staff: shown to those who see personal data)."""
    first = events[0].event if events else None
    if not isinstance(first, ev.DossierReceived) or first.backdate_reason is None:
        return None
    return {"entered": events[0].recorded_at,
            "reason": first.backdate_reason if private else ""}


@router.get("/ho-so/{code}", response_class=HTMLResponse)
async def dossier_page(request: Request, code: str, current: Staff,
                       xong: str = "") -> HTMLResponse:
    return await show(request, current, code, done=xong)


def _fields(action: str, form: FormData, officers: set[str], tz: tzinfo) -> dict[str, Any]:
    """The API body for `action` from the console's form."""
    match action:
        case "assign":
            officer = text(form, "officer")
            if officer not in officers:
                raise ActionFailed("Hãy chọn một cán bộ của đơn vị.", ["officer"])
            return {"officer": officer, "note": text(form, "note") or None}
        case "start":
            return {}
        case "request-supplement" | "request-intake-supplement":
            return {"reason": text(form, "reason"), "documents": lines(form, "documents")}
        case "accept":
            return {"note": text(form, "note") or None}
        case "supplement" | "intake-supplement":
            return {"documents": lines(form, "documents"), "note": text(form, "note") or None}
        case "complete":
            return {"summary": text(form, "summary")}
        case "return":
            return {"note": text(form, "note") or None}
        case "refuse" | "withdraw" | "stop" | "verification" | "refuse-intake" | \
                "return-transfer":
            return {"reason": text(form, "reason")}
        case "transfer":
            return {"unit_code": text(form, "unit_code"), "reason": text(form, "reason")}
        case "request-payment":
            return {"notice": text(form, "notice"), "amount": text(form, "amount") or None}
        case "payment-received":
            return {"amount": text(form, "amount") or None,
                    "reference": text(form, "reference") or None,
                    "note": text(form, "note") or None}
        case "record-fee":
            return {"amount": text(form, "amount"),
                    "reference": text(form, "reference") or None}
        case "complaint":
            return {"complainant": text(form, "complainant"), "channel": text(form, "channel"),
                    "text": text(form, "text"), "outcome": text(form, "outcome") or None}
        case "hand-over":
            return {"receiver": text(form, "receiver") or None,
                    "note": text(form, "note") or None}
        case "send-back":
            target = text(form, "to_step")
            if target and not target.isdigit():
                raise ActionFailed("Hãy chọn bước trả lại.", ["to_step"])
            return {"reason": text(form, "reason"), "to_step": int(target) if target else None}
        case "extend":
            day, clock = text(form, "new_date"), text(form, "new_time") or "17:00"
            if not day:
                raise ActionFailed("Hãy nhập ngày hẹn mới.", ["new_due_at"])
            try:  # dd/mm/yyyy and 24-hour HH:MM, whatever the browser (issue 23 item 14)
                at = datetime.combine(parse_day(day), parse_clock(clock), tzinfo=tz)
            except ValueError:
                raise ActionFailed("Ngày hẹn mới phải có dạng ngày/tháng/năm (dd/mm/yyyy) và "
                                   "giờ dạng 24 giờ (HH:MM), ví dụ 05/01/2026 16:30.",
                                   ["new_due_at"]) from None
            return {"reason": text(form, "reason"), "new_due_at": at.isoformat()}
    raise ActionFailed("Không có thao tác này.", status=404)


@router.post("/ho-so/{code}/{action}", response_class=HTMLResponse)
async def take_action(request: Request, code: str, action: str, current: Staff) -> Response:
    form = await checked_form(request, current)
    events = await dossier_events(request, current, code)
    d = folded(events)
    try:
        if action not in ACTION_LABELS or action == "rate":
            raise ActionFailed("Không có thao tác này.", status=404)
        officers = {u.username for u in await list_users(resources(request).db())
                    if Role.OFFICER in u.roles and u.unit_code in (d.holding_unit_code, None)}
        fields = _fields(action, form, officers, resources(request).calendar.tz)
        if action in IRREVERSIBLE and text(form, CONFIRM_FIELD) != "1":
            if not fields.get("reason"):
                raise ActionFailed("Hãy nhập lý do.", ["reason"])
            # Nothing is sent yet: the person confirms, the reason before their eyes.
            return page(request, "confirm.html", code=code, action=action,
                        label=ACTION_LABELS[action], reason=fields["reason"],
                        form_id=text(form, "form_id"), confirm_field=CONFIRM_FIELD,
                        applicant=d.applicant_name if sees_personal_data(current) else "",
                        state=d.state)
        done = await acting.act(request, current, action, code, fields, form)
    except ActionFailed as failed:
        return await show(request, current, code, error=failed.message,
                          error_fields=failed.fields, status=failed.status)
    secret = done.get("lookup_secret")
    if isinstance(secret, str):  # an accepted submission: print its receipt with the secret
        await slots.hold(resources(request).db(), request.cookies.get(COOKIE, ""), code, secret)
        return redirect(f"/ho-so/{code}/bien-nhan")
    return redirect(f"/ho-so/{code}?xong={action}")


# The documents carry their own print styles inline.
DOCUMENT_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy":
                    "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                    "img-src 'self' data:; frame-ancestors 'none'"}


async def printable(request: Request, current: Session, code: str, kind: str,
                    lookup: Lookup | None = None) -> HTMLResponse:
    """A citizen document as printed (personal data: not for ops; each read audited)."""
    events = await dossier_events(request, current, code)
    try:
        await privacy.check_document(resources(request).db(), current.user.principal, code,
                                     kind)
    except Problem:
        raise ConsoleError(403, "Vai trò của bạn không được xem dữ liệu cá nhân của công "
                           "dân.") from None
    try:
        html = render(kind, events, resources(request).catalog, resources(request).calendar.tz,
                      lookup=lookup, people=await people_of(resources(request).db(), events))
    except DocumentUnavailable as err:
        raise ConsoleError(409, f"Hồ sơ chưa có giấy tờ này ({err.reason}).") from err
    # A Print button on every paper (issue 23 item 15), hidden when printed.
    html = html.replace("<body>", "<body>" + PRINT_BAR.format(code=escape(code)), 1)
    return HTMLResponse(html, headers=DOCUMENT_HEADERS)


PRINT_BAR = """<div class="print-bar" style="font:15px sans-serif;margin:10px auto;
display:flex;gap:14px;align-items:center" role="toolbar" aria-label="In giấy tờ">
<style>@media print {{ .print-bar {{ display: none !important }} }}</style>
<button type="button" data-print data-testid="print" style="font:inherit;padding:6px 14px">
In giấy tờ này</button> <a href="/ho-so/{code}">Quay lại hồ sơ</a>
<script src="/static/console/print.js" defer></script></div>"""


@router.get("/ho-so/{code}/giay-to/{kind}", response_class=HTMLResponse)
async def document(request: Request, code: str, kind: str, current: Staff) -> Response:
    """A citizen document to print; the receipt is printed by `/bien-nhan` (which shows the
    lookup secret once, right after intake, and offers the reissue form otherwise)."""
    if kind not in KINDS:
        raise ConsoleError(404, "Không có loại giấy tờ này.")
    if kind == "receipt":
        return redirect(f"/ho-so/{code}/bien-nhan")
    return await printable(request, current, code, kind)
