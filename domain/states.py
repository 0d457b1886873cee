"""Dossier states, SLA statuses and the national (DVCQG) status codes beside them."""

from __future__ import annotations

from enum import StrEnum


class DossierState(StrEnum):
    """Where a dossier is in its lifecycle (our names; the national code is `status_code`)."""

    # Before acceptance (online intake, patch `online-intake-v1`): no due time runs yet.
    SUBMITTED = "submitted"
    AWAITING_INTAKE_SUPPLEMENT = "awaiting_intake_supplement"
    RECEIVED = "received"
    ASSIGNED = "assigned"
    PROCESSING = "processing"
    AWAITING_SUPPLEMENT = "awaiting_supplement"
    # Waiting for the citizen's financial obligation (tax, fee): the clock stops (national
    # code 6; Đồng Tháp 138/2025/QĐ-UBND art. 5(3); issue 22 item 4).
    AWAITING_PAYMENT = "awaiting_payment"
    READY = "ready"
    RETURNED = "returned"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    STOPPED = "stopped"
    REFUSED_AT_INTAKE = "refused_at_intake"

    @property
    def status_code(self) -> int:
        """The national portal's status code 1-10 (docs/legal-sources.md §2)."""
        return NATIONAL_STATUS_CODES[self]

    @property
    def is_terminal(self) -> bool:
        """No command but `rate` (on a returned dossier) is accepted any more."""
        return self in TERMINAL_STATES


# 2 = accepted covers both "received" and "assigned": the portal has no separate assignment code.
# REFUSED is a refusal AFTER acceptance (a receipt was issued). The portal's list has no code
# of its own for it; OUR READING: the written refusal with its reasons is the outcome handed to
# the citizen, so it reports as 10 (result returned). Code 3 is the refusal AT INTAKE of an
# online submission not yet accepted (REFUSED_AT_INTAKE, from SUBMITTED or
# AWAITING_INTAKE_SUPPLEMENT), code 1 the submission awaiting acceptance. Issue 11 point 8.
# A supplement asked for at intake reports as 5 like one asked during processing (the portal's
# code 5 does not tell them apart; our reading): Decree 297/2025 art. 6(4)(a) has the one-stop
# shop send the official receipt notice together with the request.
REFUSAL_AFTER_ACCEPTANCE_CODE = 10
REFUSAL_AT_INTAKE_CODE = 3
NATIONAL_STATUS_CODES: dict[DossierState, int] = {
    DossierState.SUBMITTED: 1,
    DossierState.AWAITING_INTAKE_SUPPLEMENT: 5,
    DossierState.RECEIVED: 2,
    DossierState.ASSIGNED: 2,
    DossierState.PROCESSING: 4,
    DossierState.AWAITING_SUPPLEMENT: 5,
    DossierState.AWAITING_PAYMENT: 6,
    DossierState.READY: 9,
    DossierState.RETURNED: 10,
    DossierState.REFUSED: REFUSAL_AFTER_ACCEPTANCE_CODE,
    DossierState.WITHDRAWN: 7,
    DossierState.STOPPED: 8,
    DossierState.REFUSED_AT_INTAKE: REFUSAL_AT_INTAKE_CODE,
}

TERMINAL_STATES = frozenset(
    {DossierState.RETURNED, DossierState.REFUSED, DossierState.WITHDRAWN, DossierState.STOPPED,
     DossierState.REFUSED_AT_INTAKE}
)
# Not yet accepted: no receipt, no due time, not counted as received by the reports.
BEFORE_ACCEPTANCE_STATES = frozenset(
    {DossierState.SUBMITTED, DossierState.AWAITING_INTAKE_SUPPLEMENT})
# States in which the clock stops for a while (a pause added back to the due time).
PAUSED_STATES = frozenset({DossierState.AWAITING_SUPPLEMENT, DossierState.AWAITING_PAYMENT})
# States in which the processing clock has stopped for good (result ready or terminal).
SLA_CLOSED_STATES = TERMINAL_STATES | {DossierState.READY}


class SlaStatus(StrEnum):
    """Where a dossier stands against its due time."""

    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    PAUSED = "paused"
    CLOSED = "closed"


class Channel(StrEnum):
    """How the dossier reached the office (Biểu 06 counts online apart from direct/postal)."""

    COUNTER = "counter"
    ONLINE = "online"
    POSTAL = "postal"


class Timeliness(StrEnum):
    """Biểu 06 verdict, comparing dates in the office's time zone (`domain.clock.timeliness`)."""

    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"


class Satisfaction(StrEnum):
    """The citizen's rating of a returned dossier (Decision 766 satisfaction indicator)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NOT_SATISFIED = "not_satisfied"


class AlertKind(StrEnum):
    """Deadline alerts raised by the dossier's durable timers."""

    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    OVERDUE_WITHOUT_APOLOGY = "overdue_without_apology"
    # The new appointment given with an apology passed too (issue 11 point 5).
    APPOINTMENT_OVERDUE = "appointment_overdue"
