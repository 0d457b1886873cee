"""Who may see personal data, in one place; and the audit of every read of it.

Personal data (Decree 13/2023/NĐ-CP) in a dossier: the applicant's name, ID number, phone,
e-mail and address, and free text people type about the case (notes, reasons, summaries,
comments), which may name people. The unit's clerks, officers and leaders handle the dossier
and see it (a unit-scoped token sees only its unit's dossiers: `auth`). Operations staff (`ops`)
run the system and need states and times, not people: they get the same view with personal
data replaced by `REDACTED`, and no citizen documents (403).

Every response that shows personal data is a read, recorded in `pii_reads` (append-only:
who, their roles, when, which dossier, what was read, the correlation id) before the response
leaves. Lists show no names to anyone, so they are not reads.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from motcua import correlation
from motcua.access.tokens import Principal
from motcua.api.auth import CLERK, LEADER, OFFICER
from motcua.api.problems import FORBIDDEN, Problem
from motcua.api.views import DossierView

SEES_PERSONAL_DATA = frozenset({CLERK, OFFICER, LEADER})
REDACTED = "***"
# Event fields that hold personal data or free text about people.
_PERSONAL = frozenset({"applicant_name", "applicant_id_number", "applicant_phone",
                       "applicant_email", "applicant_address", "note", "summary", "comment",
                       # ComplaintRecorded: who complained, what they wrote, the answer given
                       "complainant", "text", "outcome",
                       # DossierReceived: the proxy who filed (issue 25)
                       "proxy_name", "proxy_phone"})
# `reason` is free text except on DeadlineSet, where it names the cause from a fixed list.
_MACHINE_REASON = frozenset({"DeadlineSet"})


def sees_personal_data(principal: Principal) -> bool:
    """Whether `principal` holds a role that may see personal data."""
    return bool(principal.roles & SEES_PERSONAL_DATA)


def _redact_data(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    def hidden(key: str) -> bool:
        return key in _PERSONAL or (key == "reason" and event_type not in _MACHINE_REASON)

    return {k: (REDACTED if hidden(k) and v is not None else v) for k, v in data.items()}


def redacted(view: DossierView) -> DossierView:
    """`view` with personal data replaced by `REDACTED`."""
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
