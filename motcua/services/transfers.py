"""What the service adds to a transfer before the engine sees it (issue 22 item 3): the
target unit checked against the catalog (422 naming `unit_code`), and the instants the
domain records, worked out with the office calendar and the forwarding setting
(`domain.transfers`): when the other unit's share starts, the last moment it may return the
dossier as unfit, and the one-stop shop's last moment to tell the citizen of a return.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from domain import commands as cmd
from domain import transfers, walk
from domain.dossier import Dossier
from motcua.problems import invalid_input
from motcua.services.requests import ActionBody, ReturnTransferBody, TransferBody
from motcua.services.resources import Resources

Fill = Callable[[cmd.Command], cmd.Command]


def _same(command: cmd.Command) -> cmd.Command:
    return command


def prepare(res: Resources, body: ActionBody, now: datetime | None = None) -> Fill:
    """Check `body` (before any claim is made) and give the function that completes its
    command; the identity for every other action."""
    now = now or datetime.now(UTC)
    if isinstance(body, TransferBody):
        unit = res.catalog.units.get(body.unit_code)
        if unit is None:
            raise invalid_input("unit_code",
                                f"unknown unit (catalog version {res.catalog.version})")
        if not unit.is_active_on(res.calendar.local(now).date()):
            raise invalid_input("unit_code", "the unit does not take dossiers today")
        counted_from, return_by = transfers.transfer_terms(
            res.calendar, now, transfers.Forwarding(res.settings.transfer_forwarding))
        def fill_transfer(c: cmd.Command) -> cmd.Command:
            if not isinstance(c, cmd.TransferDossier):
                return c
            return dataclasses.replace(c, counted_from=counted_from, return_by=return_by)
        return fill_transfer
    if isinstance(body, ReturnTransferBody):
        notice_by = transfers.citizen_notice_by(res.calendar, now)
        def fill_return(c: cmd.Command) -> cmd.Command:
            if not isinstance(c, cmd.ReturnTransfer):
                return c
            return dataclasses.replace(c, citizen_notice_by=notice_by)
        return fill_return
    return _same


def for_step(res: Resources, dossier: Dossier, fill: Fill, now: datetime | None = None) -> Fill:
    """`fill`, and for a hand-over into a step another unit answers for (the workflow then
    transfers the dossier to it: patch `step-transfer-v1`) the transfer's instants, as for a
    leader's transfer: when that unit's share starts and its 02 working days to return an
    unfit dossier (Đồng Tháp 138/2025/QĐ-UBND art. 3(4)(a))."""
    run = walk.current(dossier.step_runs)
    plan = dossier.step_plan
    if plan is None or run is None or run.step + 1 >= len(plan.steps):
        return fill
    unit = walk.step_unit_code(plan, run.step + 1, dossier.unit_code)
    if unit == dossier.holding_unit_code:
        return fill
    counted_from, return_by = transfers.transfer_terms(
        res.calendar, now or datetime.now(UTC),
        transfers.Forwarding(res.settings.transfer_forwarding))

    def fill_step(c: cmd.Command) -> cmd.Command:
        c = fill(c)
        if not isinstance(c, cmd.HandOverStep):
            return c
        return dataclasses.replace(c, counted_from=counted_from, return_by=return_by)
    return fill_step
