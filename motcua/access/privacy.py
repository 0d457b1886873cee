"""Who may see personal data, in one place; and the audit of every read of it.

Personal data (Decree 13/2023/NĐ-CP) in a dossier: the applicant's name, ID number, phone,
e-mail and address, and free text people type about the case (notes, reasons, summaries,
comments), which may name people. The unit's clerks, officers and leaders handle the dossier
and see it (a unit-scoped token sees only its unit's dossiers: `auth`). Operations staff (`ops`)
run the system and need states and times, not people: they get the same view with personal
data and every free-text field (paper titles, notes, reasons, complaints) replaced by
`REDACTED`, and no citizen documents (403).

Every response that shows personal data is a read, recorded in `pii_reads` (append-only:
who, their roles, when, which dossier, what was read, the correlation id) before the response
leaves. Lists show no names to anyone, so they are not reads.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from motcua import correlation
from motcua.access.permissions import CLERK, LEADER, OFFICER
from motcua.access.tokens import Principal
from motcua.problems import FORBIDDEN, Problem
from motcua.services.views import DossierView

SEES_PERSONAL_DATA = frozenset({CLERK, OFFICER, LEADER})
REDACTED = "***"
# Event fields ops sees: machine values (codes, enumerations, instants, versions, the legal
# texts of a rule, staff user names, the dispatcher's delivery error); numbers and yes/no values
# are shown in any field. It is an allowlist (issue 24.9): every other field, those of today
# (names, ID numbers, phones, e-mails, addresses, paper titles, notes, reasons, summaries,
# comments, complaints) and any added later, is redacted for ops until someone decides it
# holds no personal data or free text.
_MACHINE = frozenset({
    "at", "code", "unit_code", "procedure_code", "channel", "result_delivery",
    "original_received_at", "counted_from", "version", "due_at", "due_soon_at", "rule",
    "amount", "unit", "calendar_version", "catalog_version", "rule_version", "rule_source",
    "legal_due_at", "officer", "timeliness", "previous_due_at", "new_due_at", "in_time",
    "satisfaction", "kind", "deadline_version", "alert_event_id", "attempts", "error",
    # A notice delivered (issue 25): its key, source event, channel and instant only.
    "delivery_id", "source_event_id", "delivered_at"})
# Where a name above holds free text, or one outside it a fixed value, on one event type:
# a complaint's channel is typed by staff ("hotline", "thư của ông A"); DeadlineSet's reason
# names its cause from a fixed list (receipt, supplement_received, extension, ...).
_FREE_TEXT_IN = {"ComplaintRecorded": frozenset({"channel"})}
_MACHINE_IN = {"DeadlineSet": frozenset({"reason"})}


def sees_personal_data(principal: Principal) -> bool:
    """Whether `principal` holds a role that may see personal data."""
    return bool(principal.roles & SEES_PERSONAL_DATA)


def _hidden(value: Any) -> Any:
    """`value` redacted, keeping the shape of a list (how many papers, not which)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [REDACTED for _ in value]
    return REDACTED


def _redact_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    def shown(key: str) -> bool:
        if key in _FREE_TEXT_IN.get(event_type, ()):
            return False
        return key in _MACHINE or key in _MACHINE_IN.get(event_type, ())

    # A number or a yes/no holds no name nor words: shown whatever its field.
    return {k: (v if shown(k) or isinstance(v, bool | int | float) else _hidden(v))
            for k, v in data.items()}


def redacted(view: DossierView) -> DossierView:
    """`view` with personal data and free text replaced by `REDACTED`."""
    return view.model_copy(update={
        "applicant_name": REDACTED,
        "outcome_reason": REDACTED if view.outcome_reason is not None else None,
        "timeline": [e.model_copy(update={"data": _redact_data(e.event_type, e.data)})
                     for e in view.timeline]})


async def record_read(pool: asyncpg.Pool | asyncpg.Connection, principal: Principal,
                      dossier_code: str, what: str) -> None:
    """Append one read of `dossier_code`'s personal data to the audit table (with the
    request's correlation id)."""
    await pool.execute(
        "INSERT INTO pii_reads (principal, roles, dossier_code, what, correlation_id) "
        "VALUES ($1, $2, $3, $4, $5)",
        principal.name, sorted(r.value for r in principal.roles), dossier_code, what,
        correlation.current())


async def shown(pool: asyncpg.Pool, principal: Principal, view: DossierView, *,
                what: str) -> DossierView:
    """The view `principal` may see: whole (the read recorded first), or redacted."""
    if not sees_personal_data(principal):
        return redacted(view)
    await record_read(pool, principal, view.code, what)
    return view


async def check_document(pool: asyncpg.Pool, principal: Principal, code: str,
                         kind: str) -> None:
    """403 unless `principal` may read citizen documents (they all carry personal data);
    otherwise the read is recorded."""
    if not sees_personal_data(principal):
        raise Problem(FORBIDDEN, "citizen documents hold personal data; they need one of the "
                      "roles: clerk, leader, officer")
    await record_read(pool, principal, code, f"document:{kind}")
