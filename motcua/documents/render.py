"""`render(kind, events, catalog)`: one citizen document as an HTML page, drawn from events.

Each kind has a context builder that picks the events the document needs (raising
`DocumentUnavailable` when they are missing) and a Jinja2 template with autoescaping on, so
names, reasons and notes typed by people can never inject markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

import jinja2
import markupsafe
import segno

from domain import events as ev
from domain.catalog import Catalog
from domain.clock import rule_source
from domain.codes import register_entry
from domain.envelope import EventEnvelope
from motcua.documents.control import late_unit_at, rows
from motcua.documents.history import DocumentUnavailable, History, UnknownDocument, load
from motcua.documents.narration import vnd
from motcua.documents.people import People
from motcua.documents.timefmt import (
    CHANNEL_LABELS,
    rule_sentence,
    vn_date,
    vn_duration,
    vn_time,
)

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("motcua.documents", "templates"),
    autoescape=True,  # every template is HTML; user text is escaped everywhere
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

Context = dict[str, Any]
RESULT_DELIVERY_LABELS = {"counter": "Bộ phận tiếp nhận và trả kết quả",
                          "post": "Qua dịch vụ bưu chính công ích"}


def _common(h: History, issued_at: datetime) -> Context:
    """What every document's header and citizen block show."""
    r = h.received
    place = f"{h.province}, " if h.province else ""
    return {
        "code": h.state.code, "unit_name": h.unit_name,
        "place_date": place + vn_date(issued_at, h.tz),
        "procedure_name": h.procedure_name,
        "applicant": {"name": r.applicant_name, "address": r.applicant_address or "",
                      "phone": r.applicant_phone or "", "email": r.applicant_email or ""},
        "channel": CHANNEL_LABELS[r.channel],
        "received_at": vn_time(h.state.received_at or r.at, h.tz),
        "received_date": vn_date(h.state.received_at or r.at, h.tz),
    }


PAPER_FORMS = {"original": "Bản chính", "copy": "Bản sao",
               "certified_copy": "Bản sao có chứng thực"}


def papers(received: ev.DossierReceived | ev.DossierSubmitted) -> list[Context]:
    """Form 01's paper table: each paper's name, form (bản chính, bản sao…) and count as
    recorded at intake ("" where the clerk stated none: papers from before issue 23 item 15, or
    entered as plain names)."""
    forms: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()
    if isinstance(received, ev.DossierReceived):  # an online submission states none
        forms, counts = received.document_forms, received.document_counts
    return [{"name": name,
             "form": PAPER_FORMS.get(forms[i], "") if i < len(forms) else "",
             "count": f"{counts[i]:02d}" if i < len(counts) and counts[i] else ""}
            for i, name in enumerate(received.documents)]


def _receipt(kind: str, h: History) -> Context:
    # The appointment printed is the one given at receipt (deadline version 1), so a reprint
    # shows the slip as the citizen got it; later changes have their own documents.
    first = h.first(ev.DeadlineSet)
    if first is None:
        raise DocumentUnavailable(kind, "no deadline was set, so there is no appointment")
    return {**_common(h, h.state.received_at or h.received.at),
            "documents": list(h.received.documents), "papers": papers(h.received),
            "duration": vn_duration(first.amount, first.unit),
            "due_at": vn_time(first.due_at, h.tz), "clerk": h.name(h.received_by),
            "result_delivery": RESULT_DELIVERY_LABELS.get(h.received.result_delivery,
                                                          h.received.result_delivery),
            "register": register_entry(h.state.code),
            # Fees paid at the counter (issue 22 item 4), as recorded: amount and receipt no.
            "fees": [(vnd(f.amount), f.reference or "") for f in h.all(ev.FeeRecorded)],
            # The procedure's fee as the catalog states it, with its legal text (issue 22
            # item 4); none printed when the catalog records none.
            "fee": None if h.procedure_fee is None else (
                "Miễn" if h.procedure_fee.amount == 0 else vnd(h.procedure_fee.amount),
                h.procedure_fee.source),
            # How the appointment was counted, in words, with its texts, so the citizen can
            # check it (the rule's identifier stays in the API: issue 23 item 5).
            "rule_text": rule_sentence(first.rule, first.unit, first.amount,
                                       first.rule_version),
            "rule_source": "" if first.rule_version < 2 else (
                first.rule_source or rule_source(first.rule, first.unit, first.rule_version))}


def _supplement_request(kind: str, h: History) -> Context:
    requests = h.all(ev.SupplementRequested)
    if not requests:
        raise DocumentUnavailable(kind, "no supplement was requested")
    last = requests[-1]  # the latest request is the one the citizen must answer now
    return {**_common(h, last.at), "reason": last.reason, "documents": list(last.documents),
            "requested_at": vn_time(last.at, h.tz), "ordinal": len(requests),
            "officer": h.name(h.actor_of(last))}


def _signers(h: History, event: ev.Event) -> Context:
    """Who signs a paper the head of the unit issues (apology, stop notice, refusal after
    acceptance): the one who recorded it when a leader, else nobody printed under "THỦ TRƯỞNG
    CƠ QUAN" (the head signs by hand) and the one who recorded it as "Người lập"."""
    login = h.actor_of(event)
    person = h.person(login)
    if person is not None and person.is_leader:
        return {"head": person.full_name, "preparer": "", "preparer_title": ""}
    return {"head": "", "preparer": h.name(login),
            "preparer_title": person.title if person else ""}


def _refusal(kind: str, h: History) -> Context:
    # Two papers, one per refusal (issue 23 item 6). At intake (an online submission not
    # accepted): form 03 of Circular 01/2018/TT-VPCP, "Phiếu từ chối tiếp nhận giải quyết hồ
    # sơ", signed by the receiving clerk. After acceptance (a leader refuses during processing):
    # the unit's written notice with the reason, signed by its head; no national form for it
    # was found, so its wording is our reading (docs/legal-rules.md).
    refused = h.last(ev.DossierRefused)
    if refused is not None:
        return {**_common(h, refused.at), "reason": refused.reason, "after_acceptance": True,
                "refused_at": vn_time(refused.at, h.tz), **_signers(h, refused)}
    at_intake = h.last(ev.SubmissionRefused)
    if at_intake is None:
        raise DocumentUnavailable(kind, "the dossier was not refused")
    return {**_common(h, at_intake.at), "reason": at_intake.reason, "after_acceptance": False,
            "refused_at": vn_time(at_intake.at, h.tz),
            "clerk": h.name(h.actor_of(at_intake))}


def _apology(kind: str, h: History) -> Context:
    extended = h.last(ev.DeadlineExtended)
    if extended is None:
        raise DocumentUnavailable(kind, "the appointment was never extended")
    # Lai Châu 88/2025/QĐ-UBND art. 7(5): the agency whose share of the time ran late writes
    # to the citizen; for a dossier walking steps, the unit of the late step (control.py).
    late_unit = late_unit_at(h.state, extended.at)
    return {**_common(h, extended.at), "reason": extended.reason,
            "apologising_unit": h.unit_label(late_unit) if late_unit else h.unit_name,
            "previous_due_at": vn_time(extended.previous_due_at, h.tz),
            "new_due_at": vn_time(extended.new_due_at, h.tz), "in_time": extended.in_time,
            **_signers(h, extended)}


def _stop_notice(kind: str, h: History) -> Context:
    # Circular 03/2025/TT-VPCP art. 7, "Thông báo dừng giải quyết hồ sơ": after a stop, and
    # after a withdrawal (which is followed by the stop; issue 11 point 8).
    stopped = h.last(ev.ProcessingStopped)
    if stopped is None:
        raise DocumentUnavailable(kind, "the processing was not stopped")
    withdrawn = h.last(ev.DossierWithdrawn)
    return {**_common(h, stopped.at), "reason": stopped.reason,
            "stopped_at": vn_time(stopped.at, h.tz),
            "withdrawn_at": vn_date(withdrawn.at, h.tz) if withdrawn else "",
            **_signers(h, stopped)}


def _process_control(kind: str, h: History) -> Context:
    s = h.state
    last_at = h.steps[-1].event.at
    return {**_common(h, last_at), "rows": rows(h),
            "original_due_at": vn_time(s.original_due_at, h.tz) if s.original_due_at else "",
            "due_at": vn_time(s.due_at, h.tz) if s.due_at else "",
            "legal_due_at": vn_time(s.legal_due_at, h.tz) if s.legal_due_at else "",
            "appointment_at": vn_time(s.appointment_at, h.tz) if s.appointment_at else "",
            "extended": s.extended}


_BUILDERS: dict[str, tuple[str, Callable[[str, History], Context]]] = {
    "receipt": ("receipt.html", _receipt),
    "supplement-request": ("supplement_request.html", _supplement_request),
    "refusal": ("refusal.html", _refusal),  # the template picks the paper of the refusal
    "apology": ("apology.html", _apology),
    "process-control": ("process_control.html", _process_control),
    "stop-notice": ("stop_notice.html", _stop_notice),
}

KINDS: tuple[str, ...] = tuple(_BUILDERS)


@dataclass(frozen=True)
class Lookup:
    """The citizen's lookup secret printed on a receipt, and its QR code (`motcua.lookup`)."""

    secret: str
    url: str

    def qr_svg(self) -> markupsafe.Markup:
        # segno's SVG holds only its own path data: safe to embed unescaped.
        return markupsafe.Markup(segno.make(self.url, error="m").svg_inline(scale=3))


def render(kind: str, events: Sequence[EventEnvelope], catalog: Catalog,
           tz: tzinfo | None = None, *, lookup: Lookup | None = None,
           people: People | None = None) -> str:
    """The `kind` document of the dossier whose stored `events` are given, as an HTML page,
    with times in the office time zone `tz` (the calendar's; default: the domain's default).
    `people` (`people.people_of`) names the staff by full name and tells who may sign as head
    of the unit; without it the papers print logins.

    Raises `UnknownDocument` for a kind not in `KINDS`, and `DocumentUnavailable` when the events
    lack what the document needs (no receipt, no refusal, no extension...)."""
    if kind not in _BUILDERS:
        raise UnknownDocument(kind)
    template_name, build = _BUILDERS[kind]
    history = load(kind, events, catalog, tz, people)
    context = build(kind, history)
    context["lookup"] = lookup if kind == "receipt" else None
    return _ENV.get_template(template_name).render(context)


def render_register(context: Context) -> str:
    """The dossier register (Sổ theo dõi hồ sơ) page for `context` (built by the
    `/v1/reports/register` route), autoescaped like every document."""
    return _ENV.get_template("register.html").render(context)
