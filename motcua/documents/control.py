"""Rows of the process-control slip (Phiếu kiểm soát quá trình giải quyết hồ sơ).

One row per hand-off of the dossier, in stream order, with its hand-over cells "Người giao" (who
handed the dossier over) and "Người nhận" (who received it), taken from the events' actors, and
the time: receipt (citizen to clerk), assignment,
start of processing, supplement requested (to the citizen) and received (back from the
citizen), result ready (to the one-stop desk), result returned (to the citizen), plus the
apology with a new appointment and the closing refusal, withdrawal or stop. Deadline events,
alerts, notifications and ratings are not hand-offs and print no row. Who receives the result
at the one-stop desk is the clerk who later returns it to the citizen (the only desk actor the
events name); until then the desk itself.

Per-step verdict (there are no per-step time budgets in the catalog, so every step is measured
against the whole dossier's due time, with the Biểu 06 date rule of `domain.clock.timeliness`:
a step on an earlier Vietnam-time date than the due date is "Trước hạn", on the due date
"Đúng hạn", after it "Quá hạn"):

* the due time used is the LEGAL one in force when the step happened: the receipt's time with
  supplement pauses and calendar corrections, never the new appointment an apology gave (an
  apology does not make a late dossier on time; issue 11 point 5);
* except for the two steps that set their own due time: the receipt (none exists before it) and
  a supplement coming back (the clock was stopped while the citizen gathered papers, and the
  due time is recomputed on its arrival) — these are judged against the due time they set;
* the result-ready and result-returned rows print the verdict the engine recorded on those
  events, which also applies Decision 766 (a second supplement request during processing makes
  the dossier late), and a withdrawal prints the verdict the dossier's state holds (judged like
  any end of processing, Decision 766), so the slip never disagrees with the reports;
* a step with no due time known prints no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from domain import events as ev
from domain.clock import timeliness
from domain.envelope import EventEnvelope
from domain.states import Timeliness
from motcua.documents.history import History
from motcua.documents.timefmt import CHANNEL_LABELS, VERDICT_LABELS, vn_time

DESK = "Bộ phận tiếp nhận và trả kết quả"


@dataclass(frozen=True, kw_only=True)
class Row:
    """One printed hand-off."""

    number: int
    step: str
    giver: str
    receiver: str
    at: str
    verdict: str  # Trước hạn / Đúng hạn / Quá hạn, or "" when no due time is known
    verdict_class: str  # early / on_time / late / "" (for styling)
    note: str


@dataclass(frozen=True)
class _Step:
    step: str
    giver: str
    receiver: str
    at: datetime
    note: str = ""
    judged: Timeliness | None = None  # a verdict already recorded on the event


def rows(h: History) -> list[Row]:
    """The slip's rows, numbered from 1, with each step's verdict (rule in the module doc)."""
    applicant = f"Ông/Bà {h.received.applicant_name}"
    holder = h.received_by or DESK
    desk = next((rec.actor for rec in h.steps
                 if isinstance(rec.event, ev.ResultReturned) and rec.actor), DESK)
    due: datetime | None = None
    out: list[Row] = []
    for i, rec in enumerate(h.steps):
        event = rec.event
        if isinstance(event, ev.DeadlineSet):
            due = _legal_due(event, due)
            continue
        step = _describe(rec, applicant, holder, desk, h.tz)
        if step is None:
            continue
        if isinstance(event, ev.OfficerAssigned | ev.ProcessingStarted):
            holder = step.receiver
        sets_own = isinstance(event, ev.DossierReceived | ev.SupplementReceived
                              | ev.SubmissionAccepted)
        against = (_deadline_caused_by(h.steps, i) or due) if sets_own else due
        if isinstance(event, ev.DossierWithdrawn) and h.state.timeliness is not None:
            result: Timeliness | None = h.state.timeliness
        elif step.judged is not None:
            result = step.judged
        else:
            result = timeliness(h.tz, step.at, against) if against is not None else None
        out.append(Row(number=len(out) + 1, step=step.step, giver=step.giver,
                       receiver=step.receiver, at=vn_time(step.at, h.tz),
                       verdict=VERDICT_LABELS[result] if result else "",
                       verdict_class=result.value if result else "", note=step.note))
    return out


def _legal_due(event: ev.DeadlineSet, before: datetime | None) -> datetime:
    """The legal due time a deadline event sets; one recorded before issue 11 for an apology
    carries none and leaves the previous one."""
    if event.legal_due_at is not None:
        return event.legal_due_at
    return before if (event.reason == "extension" and before is not None) else event.due_at


def _deadline_caused_by(steps: tuple[EventEnvelope, ...], i: int) -> datetime | None:
    """The legal due time set by the same command as step `i` (recorded right after it)."""
    for later in steps[i + 1:]:
        if later.causation != steps[i].causation:
            return None
        if isinstance(later.event, ev.DeadlineSet):
            return _legal_due(later.event, None)
    return None


def _describe(rec: EventEnvelope, applicant: str, holder: str, desk: str,
              tz: tzinfo) -> _Step | None:
    """Step name, giver, receiver, time and note of one event; None if it is no hand-off.
    `holder` is who holds the dossier before it, `desk` who receives the result."""
    actor = rec.actor or DESK
    match rec.event:
        case ev.DossierReceived() as e:
            note = f"Hình thức nộp: {CHANNEL_LABELS[e.channel]}"
            if e.original_received_at is not None:
                note += " (nhận từ hệ thống cũ)"
            return _Step("Tiếp nhận hồ sơ", applicant, actor, e.original_received_at or e.at,
                         note)
        case ev.DossierSubmitted() as e:
            return _Step("Nộp hồ sơ trực tuyến", applicant, DESK, e.at,
                         f"Hình thức nộp: {CHANNEL_LABELS[e.channel]}; chờ tiếp nhận")
        case ev.IntakeSupplementRequested() as e:
            return _Step("Yêu cầu bổ sung trước khi tiếp nhận", actor, applicant, e.at,
                         f"Lý do: {e.reason}; thời hạn tính lại từ khi nhận đủ hồ sơ")
        case ev.IntakeSupplementReceived() as e:
            return _Step("Nhận hồ sơ bổ sung (trước khi tiếp nhận)", applicant, actor, e.at,
                         e.note or "")
        case ev.SubmissionAccepted() as e:
            return _Step("Tiếp nhận hồ sơ", applicant, actor, e.at,
                         f"Hồ sơ trực tuyến; thời hạn tính từ {vn_time(e.counted_from, tz)}")
        case ev.SubmissionRefused() as e:
            return _Step("Từ chối tiếp nhận hồ sơ", actor, applicant, e.at, f"Lý do: {e.reason}")
        case ev.OfficerAssigned() as e:
            notes = [e.note or ""]
            if actor != holder:
                notes.append(f"Phân công: {actor}")
            return _Step("Phân công xử lý", holder, e.officer, e.at,
                         "; ".join(n for n in notes if n))
        case ev.ProcessingStarted() as e:
            return _Step("Bắt đầu giải quyết", holder, e.officer, e.at)
        case ev.SupplementRequested() as e:
            note = f"Lý do: {e.reason}"
            if e.counts_as_late:
                note += ("; yêu cầu bổ sung lần thứ hai trong quá trình giải quyết: hồ sơ được "
                         "tính là quá hạn")
            return _Step("Yêu cầu bổ sung, hoàn thiện hồ sơ", actor, applicant, e.at, note)
        case ev.SupplementReceived() as e:
            return _Step("Nhận hồ sơ bổ sung", applicant, actor, e.at, e.note or "")
        case ev.ResultReady() as e:
            return _Step("Có kết quả giải quyết", actor, desk, e.at, e.summary, e.timeliness)
        case ev.ResultReturned() as e:
            return _Step("Trả kết quả", actor, applicant, e.at, e.note or "", e.timeliness)
        case ev.DeadlineExtended() as e:
            note = f"Hẹn lại: {vn_time(e.new_due_at, tz)}; lý do: {e.reason}"
            if not e.in_time:
                note += "; văn bản xin lỗi gửi sau thời hạn phải gửi"
            return _Step("Xin lỗi và hẹn lại ngày trả kết quả", actor, applicant, e.at, note)
        case ev.DossierRefused() as e:
            return _Step("Từ chối giải quyết hồ sơ", actor, applicant, e.at,
                         f"Lý do: {e.reason}")
        case ev.DossierWithdrawn() as e:
            return _Step("Rút hồ sơ theo đề nghị", actor, applicant, e.at, f"Lý do: {e.reason}")
        case ev.ProcessingStopped() as e:
            return _Step("Dừng giải quyết hồ sơ", actor, applicant, e.at, f"Lý do: {e.reason}")
    return None
