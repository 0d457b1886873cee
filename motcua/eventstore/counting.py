"""Domain counters, moved by the projector after each committed batch.

Why here: workflow code must never count (a replay would count twice), and an activity may run
more than once. The projector applies each committed event exactly once per checkpoint advance,
so counting after its commit moves each counter once per event.
"""

from __future__ import annotations

from collections.abc import Iterable

from domain import events as ev
from domain.dossier import Dossier
from domain.states import AlertKind
from motcua.metrics import (
    DOSSIER_TURNAROUND,
    DOSSIERS_RECEIVED,
    DOSSIERS_RETURNED,
    SLA_ALERTS,
    SLA_BREACHES,
    STEP_ALERTS,
)


def count(applied: Iterable[tuple[ev.Event, Dossier]]) -> None:
    """Move the counters for events just projected; `Dossier` is the state after each."""
    for event, dossier in applied:
        match event:
            case ev.DossierReceived():
                DOSSIERS_RECEIVED.labels(unit=event.unit_code, channel=event.channel.value).inc()
            case ev.SubmissionAccepted():  # an online submission is received on acceptance
                DOSSIERS_RECEIVED.labels(unit=dossier.unit_code,
                                         channel=dossier.channel.value).inc()
            case ev.ResultReturned():
                DOSSIERS_RETURNED.labels(unit=dossier.unit_code,
                                         timeliness=event.timeliness.value).inc()
                DOSSIER_TURNAROUND.observe(event.turnaround_seconds)
            case ev.DeadlineAlertRaised():
                SLA_ALERTS.labels(kind=event.kind.value).inc()
                if event.kind is not AlertKind.DUE_SOON:
                    SLA_BREACHES.labels(unit=dossier.holding_unit_code,
                                        kind=event.kind.value).inc()
            case ev.StepAlertRaised():
                # By the step's actor: its unit (another unit's, for a liên thông step) and
                # role, as the webhook routes it (motcua.eventstore.outbox.step_alert_body).
                STEP_ALERTS.labels(unit=event.unit_code or dossier.unit_code, role=event.role,
                                   kind=event.kind.value).inc()
