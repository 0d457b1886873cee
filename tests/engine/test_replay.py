"""Replay: histories of representative dossiers, recorded under tests/replay/histories/ and
replayed on every run, so a change to workflow code that breaks determinism fails here.

To record anew (after a deliberate, patched change): MOTCUA_RECORD_HISTORIES=1 pytest -k replay
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import TimeSkipper, TimeSkippingConfig
from temporalio.worker import Replayer

from domain import commands as cmd
from domain.states import Satisfaction
from motcua import dossiers
from motcua.files.service import attach
from tests.conftest import PROCEDURE, TASK_QUEUE, UNIT, new_code, receipt
from worker import workflow_runner
from workflows import DossierWorkflow

pytestmark = pytest.mark.engine

HISTORIES = Path(__file__).parent.parent / "replay" / "histories"
# Histories are named <scenario>.<tag>.json; record anew under a new tag after each patch, and
# keep the old ones: running dossiers started on old code must still replay.
TAG = "v7"  # v1: before the `local-appends-v2` patch; v2: before `apology-legal-due-v1`;
# v3: before `notify-outbox-v1`; v4: before `online-intake-v1`. `dossier-files-v1` added a
# handler only (no recorded path changed): files.v5.json was recorded under it; so did
# `unit-transfer-v1` and `fee-payment-v1` (transfer.v5.json, payment.v5.json). v5: before
# `internal-steps-v1` (every receipt now asks for the procedure's steps). `step-transfer-v1`
# changed the hand-over and the send-back only for steps of another unit, which no earlier
# history has: steps_transfer.v6.json was recorded under it. `notice-delivered-v1` added a
# handler only: notices.v7.json was recorded under it. v6: before `outbox-at-start-v1` (every
# receipt now asks `notify-outbox-v1` in its first workflow task).
OLD_TAGS = ("v1", "v2")  # recorded before the `extension_alerts` scenario existed
OLDER_FULL_TAGS = ("v3", "v4")  # recorded before the `online_intake` scenario existed
BEFORE_STEPS_TAGS = ("v5",)  # recorded before the `steps` scenario existed
V6_TAGS = ("v6",)  # recorded before `outbox-at-start-v1`


async def _happy(client: Client, skipper: TimeSkipper) -> str:
    d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    for action, command in [("assign", cmd.AssignOfficer(officer="o-1")),
                            ("start", cmd.StartProcessing()),
                            ("complete", cmd.CompleteProcessing(summary="xong")),
                            ("return", cmd.ReturnResult()),
                            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _supplement_and_extension(client: Client, skipper: TimeSkipper) -> str:
    d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None
    await dossiers.act(client, d.code, "assign", cmd.AssignOfficer(officer="o-2"))
    await dossiers.act(client, d.code, "start", cmd.StartProcessing())
    await dossiers.act(client, d.code, "request-supplement", cmd.RequestSupplement(reason="x"))
    await dossiers.act(client, d.code, "supplement", cmd.ProvideSupplement())
    await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(
        reason="xác minh", new_due_at=d.due_at + timedelta(days=5)))
    await dossiers.act(client, d.code, "refuse", cmd.RefuseDossier(reason="không đủ"))
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _alerts(client: Client, skipper: TimeSkipper) -> str:
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, d.due_at - d.received_at + timedelta(days=1))
    await dossiers.act(client, d.code, "withdraw", cmd.WithdrawDossier(reason="xin rút"))
    await handle.result()
    return d.code


async def _extension_alerts(client: Client, skipper: TimeSkipper) -> str:
    # Issue 11 point 5: overdue at the legal due time, then the new appointment's alerts.
    d = await dossiers.receive(skipper.client, receipt(), task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None
    new_due = d.due_at + timedelta(days=7)
    await dossiers.act(client, d.code, "extend", cmd.ExtendDeadline(reason="xác minh",
                                                                    new_due_at=new_due))
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, new_due - d.received_at + timedelta(days=1))
    await dossiers.act(client, d.code, "complaint", cmd.RecordComplaint(
        complainant="Nguyễn Văn An", channel="hotline", text="chậm"))
    await dossiers.act(client, d.code, "withdraw", cmd.WithdrawDossier(reason="xin rút"))
    await handle.result()
    return d.code


async def _online_intake(client: Client, skipper: TimeSkipper) -> str:
    # Issue 11 points 7-8 (patch `online-intake-v1`): a submission, a supplement asked for
    # before acceptance, acceptance with its deadline, then processing to the rating.
    d = await dossiers.submit_online(client, cmd.SubmitOnline(
        code=new_code(), unit_code=UNIT, procedure_code=PROCEDURE, applicant_name="Võ Thị Em",
        actor="portal"), task_queue=TASK_QUEUE)
    for action, command in [
            ("request-intake-supplement", cmd.RequestIntakeSupplement(reason="thiếu")),
            ("intake-supplement", cmd.ProvideIntakeSupplement()),
            ("accept", cmd.AcceptSubmission()),
            ("assign", cmd.AssignOfficer(officer="o-1")),
            ("start", cmd.StartProcessing()),
            ("complete", cmd.CompleteProcessing(summary="xong")),
            ("return", cmd.ReturnResult()),
            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _files(client: Client, skipper: TimeSkipper) -> str:
    # Issue 26 (patch `dossier-files-v1`): a scanned component at intake, a result issued
    # while processing, then the usual end.
    d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    scan = cmd.AttachFile(file_id=str(uuid.UUID(int=1)), name="Tờ khai", kind="original",
                          pages=2, sha256="a" * 64, size=1234, media_type="application/pdf",
                          actor="clerk-1")
    await attach(client, d.code, scan)
    for action, command in [("assign", cmd.AssignOfficer(officer="o-1")),
                            ("start", cmd.StartProcessing())]:
        await dossiers.act(client, d.code, action, command)
    await attach(client, d.code, dataclasses.replace(
        scan, file_id=str(uuid.UUID(int=2)), name="Kết quả", purpose="result", actor="o-1"))
    for action, command in [("complete", cmd.CompleteProcessing(summary="xong")),
                            ("return", cmd.ReturnResult()),
                            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _steps(client: Client, skipper: TimeSkipper) -> str:
    # Issue 22 item 2 (patch `internal-steps-v1`): Cao Bằng 2022's 1.004944 walked with its
    # hand-overs, the first step overrunning (its step alerts fire), the assignment as the
    # hand-over to the officer, a leader's send-back and the step repeated, then the return.
    d = await dossiers.receive(skipper.client, receipt(procedure_code="1.004944"),
                               task_queue=TASK_QUEUE)
    first = d.step_runs[0]
    assert first.due_at is not None
    handle = skipper.client.get_workflow_handle(d.code)
    await skipper.fast_forward(handle, first.due_at - first.started_at + timedelta(hours=1))
    for action, command in [
            ("hand-over", cmd.HandOverStep(actor="clerk-1")),
            ("assign", cmd.AssignOfficer(officer="o-1", actor="leader-1")),
            ("start", cmd.StartProcessing(actor="o-1")),
            ("hand-over", cmd.HandOverStep(actor="o-1")),
            ("send-back", cmd.SendBackStep(reason="sửa dự thảo", actor="leader-1")),
            ("hand-over", cmd.HandOverStep(actor="o-1")),
            ("hand-over", cmd.HandOverStep(actor="leader-1")),
            ("hand-over", cmd.HandOverStep(actor="leader-2")),
            ("complete", cmd.CompleteProcessing(summary="xong", actor="o-1")),
            ("hand-over", cmd.HandOverStep(actor="clerk-2")),
            ("return", cmd.ReturnResult(actor="clerk-1")),
            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _transfer(client: Client, skipper: TimeSkipper) -> str:
    # Issue 22 item 3 (patch `unit-transfer-v1`): handed to another unit, returned as unfit,
    # handed over again, processed there, the result sent back with the result ready.
    d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    other = "000.22.39.H39"
    for action, command in [
            ("transfer", cmd.TransferDossier(unit_code=other, reason="liên thông")),
            ("return-transfer", cmd.ReturnTransfer(reason="thiếu văn bản")),
            ("transfer", cmd.TransferDossier(unit_code=other, reason="đã bổ sung")),
            ("assign", cmd.AssignOfficer(officer="o-9")),
            ("start", cmd.StartProcessing()),
            ("complete", cmd.CompleteProcessing(summary="xong")),
            ("return", cmd.ReturnResult()),
            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _payment(client: Client, skipper: TimeSkipper) -> str:
    # Issue 22 item 4 (patch `fee-payment-v1`): a fee at the counter, the wait for a tax
    # payment (code 6, the clock stopped), the payment with its new due time, then the end.
    d = await dossiers.receive(client, receipt(), task_queue=TASK_QUEUE)
    for action, command in [
            ("record-fee", cmd.RecordFee(amount=50000, reference="BL-1")),
            ("assign", cmd.AssignOfficer(officer="o-1")),
            ("start", cmd.StartProcessing()),
            ("request-payment", cmd.RequestPayment(notice="Thông báo thuế", amount=1500000)),
            ("payment-received", cmd.ReceivePayment(amount=1500000, reference="CT-1")),
            ("complete", cmd.CompleteProcessing(summary="xong")),
            ("return", cmd.ReturnResult()),
            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _notices(client: Client, skipper: TimeSkipper) -> str:
    # Issue 25 item 2 (patch `notice-delivered-v1`): the dispatcher reports the receipt's and
    # the apology's notices delivered (one reported twice: recorded once), then the end.
    d = await dossiers.receive(client, receipt(notify_by=("sms",), applicant_phone="0912345678"),
                               task_queue=TASK_QUEUE)
    assert d.due_at is not None and d.received_at is not None

    def delivered(kind: str) -> cmd.RecordNoticeDelivery:
        source = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{d.code}/{kind}"))
        return cmd.RecordNoticeDelivery(delivery_id=f"{source}:sms:{kind}",
                                        source_event_id=source, kind=kind, channel="sms",
                                        delivered_at=d.received_at, actor="dispatcher")

    for action, command in [
            ("record-notice", delivered("receipt")),
            ("assign", cmd.AssignOfficer(officer="o-1")),
            ("start", cmd.StartProcessing()),
            ("extend", cmd.ExtendDeadline(reason="xác minh",
                                          new_due_at=d.due_at + timedelta(days=5))),
            ("record-notice", delivered("extension")),
            ("record-notice", delivered("extension")),
            ("complete", cmd.CompleteProcessing(summary="xong")),
            ("return", cmd.ReturnResult()),
            ("rate", cmd.RateService(satisfaction=Satisfaction.SATISFIED))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


async def _steps_transfer(client: Client, skipper: TimeSkipper) -> str:
    # Issue 22 item 3 (patch `step-transfer-v1`): Nghệ An 3854's 2.002755, whose steps 7-15
    # are the provincial department's: the hand-over into step 7 transfers the dossier, a
    # send-back into step 6 brings it back, the hand-over again, then the department returns
    # it as unfit.
    d = await dossiers.receive(client, receipt(procedure_code="2.002755"),
                               task_queue=TASK_QUEUE)
    steps = [("hand-over", cmd.HandOverStep(actor="leader-1"))] * 6
    for action, command in [
            *steps,
            ("hand-over", cmd.HandOverStep(receiver="ld-so", actor="clerk-so")),
            ("send-back", cmd.SendBackStep(reason="chưa đóng dấu", to_step=5, actor="ld-so")),
            ("hand-over", cmd.HandOverStep(actor="clerk-1")),
            ("return-transfer", cmd.ReturnTransfer(reason="thiếu xác nhận")),
            ("withdraw", cmd.WithdrawDossier(reason="công dân rút"))]:
        await dossiers.act(client, d.code, action, command)
    await client.get_workflow_handle(d.code).result()
    return d.code


OLD_SCENARIOS = {"happy_path": _happy, "supplement_extension_refusal": _supplement_and_extension,
                 "alerts_then_withdrawal": _alerts}
BEFORE_ONLINE_SCENARIOS = {**OLD_SCENARIOS, "extension_alerts": _extension_alerts}
BEFORE_STEPS_SCENARIOS = {**BEFORE_ONLINE_SCENARIOS, "online_intake": _online_intake,
                          "files": _files, "transfer": _transfer, "payment": _payment}
BEFORE_V7_SCENARIOS = {**BEFORE_STEPS_SCENARIOS, "steps": _steps}
SCENARIOS = {**BEFORE_V7_SCENARIOS, "steps_transfer": _steps_transfer, "notices": _notices}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_current_code_replays_a_fresh_history(client: Client, worker: None,
                                                    name: str) -> None:
    """A dossier run now replays cleanly (and is recorded when asked to)."""
    skipper = TimeSkipper(client, config=TimeSkippingConfig(enabled=False))
    code = await SCENARIOS[name](client, skipper)
    history = await client.get_workflow_handle(code).fetch_history()
    await Replayer(workflows=[DossierWorkflow]).replay_workflow(history)
    if os.environ.get("MOTCUA_RECORD_HISTORIES"):
        await asyncio.to_thread((HISTORIES / f"{name}.{TAG}.json").write_text,
                                history.to_json(), encoding="utf-8")


def _recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded() -> None:
    """The representative histories are committed, for every code version a running dossier
    may have started on (replay below would be vacuous without them)."""
    recorded = {p.stem for p in _recorded()}
    for tag in OLD_TAGS:
        assert {f"{name}.{tag}" for name in OLD_SCENARIOS} <= recorded
    for tag in OLDER_FULL_TAGS:
        assert {f"{name}.{tag}" for name in BEFORE_ONLINE_SCENARIOS} <= recorded
    for tag in BEFORE_STEPS_TAGS:
        assert {f"{name}.{tag}" for name in BEFORE_STEPS_SCENARIOS} <= recorded
    for tag in V6_TAGS:
        assert {f"{name}.{tag}" for name in BEFORE_V7_SCENARIOS} <= recorded
    assert "steps_transfer.v6" in recorded  # the first history under `step-transfer-v1`
    assert {f"{name}.{TAG}" for name in SCENARIOS} <= recorded


@pytest.mark.parametrize("sandbox", ["strict", "shared", "off"])
@pytest.mark.parametrize("path", _recorded(), ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path, sandbox: str) -> None:
    """Each committed history replays on the current workflow code without nondeterminism, in
    the strict sandbox (which also refuses a non-deterministic call at run time), in the
    shared one and with none (`worker.workflow_runner`, `MOTCUA_WORKFLOW_SANDBOX`)."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    history = WorkflowHistory.from_json(path.stem, text)
    await Replayer(workflows=[DossierWorkflow],
                   workflow_runner=workflow_runner(sandbox)).replay_workflow(history)
