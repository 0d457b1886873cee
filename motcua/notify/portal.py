"""What the national public-service portal (Cổng Dịch vụ công quốc gia, DVCQG) is told about a
dossier, and when: the one place that maps our events and states to the portal's fields.

Sources. No official specification of the portal's integration API is public (DOMAIN.md §9.3).
The shapes follow two public clients, read, not copied:
- OpenCPS (VietOpenCPS/opencps-v2, `DVCQGIntegrationActionImpl.java`): a POST per service with
  `{"service": "DongBoHoSoMC", "isUpdating": "True"|"False", "data": [<dossier>...]}` (the
  dossier upsert) and `{"service": "CapNhatTienDoHoSoMC", "data": [<step>...]}` (progress);
  the answer `{"error_code": "00", ...}` on success; dates `yyyyMMddHHmmss`.
- The newer client (HuanVu201/DichVuCong_KhoaLuan_PASETO, `ISyncLocalDataToDVCQGService.cs`):
  adds KenhThucHien, NgayNopHoSo, NgayTuChoi and each step's NgayKetThucTheoQuyDinh; its
  `FormatTrangThaiHoSoDVCQG.cs` gives the status codes 1-10 used below.
The URL (`<MOTCUA_PORTAL_URL>/<service>`) and the bearer token replace OpenCPS's
`session`/`madonvi` login: that part is the deployment's contract (docs/portal-and-notices.md).

Status (TrangThaiHoSo). One table, `STATUS_CODES`, the same as the rest of motcua
(`domain.states.NATIONAL_STATUS_CODES`, docs/legal-sources.md §2): 1 submitted online, 2
accepted, 3 refused at intake, 4 processing, 5 supplement requested, 6 financial obligation, 7
withdrawal asked, 8 stopped, 9 processing finished, 10 returned. Choice and disagreement: the
public clients send 3 ("denied") for every refusal; Circular 01/2018/TT-VPCP's list of states
was not found in a primary copy, so it is not used. A refusal after acceptance is reported as
10 (the written refusal is the outcome handed back; our reading, as in §2), never 3, which
would count a dossier already received as never accepted (Decision 766 indicator 1.4/2.1).

Our readings (no source says otherwise; a province may change them here):
- NgayHenTra carries the LEGAL due time (`Dossier.judged_due_at`: the receipt's, moved only by
  supplement pauses, verification and calendar corrections), not an apology's new appointment:
  the portal judges on-time (indicator 2.1) from NgayKetThucXuLy against NgayHenTra, and a
  late dossier stays late after an apology (Lai Châu 88/2025/QĐ-UBND art. 7(6); our own Biểu
  06 judges the same way). The new appointment is sent in the extension step's
  NgayKetThucTheoQuyDinh and text, and in `NgayHenTraMoi` of `DanhSachGiaHan` (our field).
- A step's NgayKetThucTheoQuyDinh is the dossier's due time in force at that step (per-step
  allowances belong to the internal-procedures issue, not built).
- KenhThucHien: 1 counter, 2 online, 3 postal (OpenCPS's KENH values).
- MaLinhVuc: our catalog holds the field's name only (`Procedure.field`): it goes to TenLinhVuc
  and MaLinhVuc stays empty until the catalog carries the national field codes.
- DanhSachLePhi stays empty: motcua records no fees yet.
- Only the applicant's name (ChuHoSo) is sent of the applicant's data: the portal knows the
  citizen from their own account; the id number, phone, e-mail and address stay here.

Files (issue 26). The newer client's `TaiLieuNop` entries are files, with TepDinhKemId,
TenTepDinhKem, DuongDanTaiTepTin, DuocSoHoa, DuocTaiSuDung, DuocLayTuKhoDMQG and MaKetQuaThayThe
(flags "1"/"0"), and its `GiayToKetQua` entries carry TenGiayTo, GiayToId and
DuongDanTepTinKetQua. A public description of the Decision 766 formulas counts digitised
dossiers (indicator 4.2) by a file in the components and in the result, reuse (4.3) by a
component flagged reused or the dossier's HoSoCoThanhPhanSoHoa = 1, and 4.4 by
DuocLayTuKhoDMQG = 1 (DOMAIN.md 9.3; read, not verified against the portal). What we send:
- one TaiLieuNop entry per component file (its id, name, and the three flags from the
  `FileAttached` event); a paper listed on the dossier with no file yet keeps its name-only
  entry with the three flags "0" (our reading: received on paper, not digitised);
- HoSoCoThanhPhanSoHoa "1" once any component is on file (scanned, reused or taken from the
  national store; our reading of the name, "the dossier has digitised components");
- the latest result file on the last GiayToKetQua entry: GiayToId, and `TepKetQuaSHA256`, its
  SHA-256 (our field: no public client has a hash; the signed PDF's hash is what the events
  hold). DuongDanTaiTepTin and DuongDanTepTinKetQua stay empty: the files are encrypted here and
  handed out only to staff and, the result, to the citizen with the lookup secret; a link the
  portal could follow needs an integration credential the portal's API would define (not
  built; until then the portal's 4.1 count may not see our results);
- MaThanhPhanHoSo (the national component code) stays empty: the catalog has no component
  codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from domain import events as ev
from domain.dossier import Dossier, evolve
from domain.envelope import EventEnvelope
from domain.states import Channel, DossierState
from motcua.eventstore import store
from motcua.eventstore.outbox import NewDelivery
from motcua.eventstore.store import Conn

PORTAL = "portal"
UPSERT, PROGRESS = "DongBoHoSoMC", "CapNhatTienDoHoSoMC"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the portal's dates, whatever the office's zone

STATUS_CODES: dict[DossierState, int] = {
    DossierState.SUBMITTED: 1,
    DossierState.RECEIVED: 2,
    DossierState.ASSIGNED: 2,
    DossierState.REFUSED_AT_INTAKE: 3,
    DossierState.PROCESSING: 4,
    DossierState.AWAITING_SUPPLEMENT: 5,
    DossierState.AWAITING_INTAKE_SUPPLEMENT: 5,
    # Hà Nội 1610/QĐ-TTPVHCC: "tạm dừng chờ thực hiện nghĩa vụ tài chính" (DOMAIN.md 9.2).
    DossierState.AWAITING_PAYMENT: 6,
    DossierState.WITHDRAWN: 7,
    DossierState.STOPPED: 8,
    DossierState.READY: 9,
    DossierState.RETURNED: 10,
    DossierState.REFUSED: 10,
}
CHANNELS = {Channel.COUNTER: 1, Channel.ONLINE: 2, Channel.POSTAL: 3}
# The processing ends (NgayKetThucXuLy) at these states: the result is ready, or the dossier
# is refused, withdrawn or stopped.
ENDED = frozenset({DossierState.READY, DossierState.RETURNED, DossierState.REFUSED,
                   DossierState.WITHDRAWN, DossierState.STOPPED, DossierState.REFUSED_AT_INTAKE})

# Events that are a step of the dossier's progress, with the text the portal shows.
STEPS: dict[type[ev.Event], str] = {
    ev.DossierSubmitted: "Nộp hồ sơ trực tuyến",
    ev.IntakeSupplementRequested: "Yêu cầu bổ sung hồ sơ trước khi tiếp nhận",
    ev.IntakeSupplementReceived: "Nhận hồ sơ bổ sung",
    ev.SubmissionAccepted: "Tiếp nhận hồ sơ trực tuyến",
    ev.SubmissionRefused: "Từ chối tiếp nhận hồ sơ",
    ev.DossierReceived: "Tiếp nhận hồ sơ",
    ev.OfficerAssigned: "Phân công xử lý",
    ev.ProcessingStarted: "Bắt đầu xử lý",
    ev.SupplementRequested: "Yêu cầu bổ sung hồ sơ",
    ev.SupplementReceived: "Nhận hồ sơ bổ sung",
    ev.VerificationRequired: "Cần xác minh",
    ev.DeadlineExtended: "Xin lỗi và hẹn lại ngày trả kết quả",
    ev.ResultReady: "Có kết quả",
    ev.ResultReturned: "Trả kết quả",
    ev.DossierRefused: "Từ chối giải quyết",
    ev.DossierWithdrawn: "Công dân rút hồ sơ",
    ev.ProcessingStopped: "Dừng giải quyết",
    # Transfers and the wait for payment (issue 22 items 3-4): the status stays complete and
    # continuous across units (Nghệ An 3783/QĐ-UBND art. 2(2)(c)).
    ev.DossierTransferred: "Chuyển hồ sơ liên thông",
    ev.TransferReturned: "Trả lại hồ sơ liên thông",
    ev.ResultSentBack: "Chuyển kết quả về nơi tiếp nhận",
    ev.PaymentRequested: "Tạm dừng chờ thực hiện nghĩa vụ tài chính",
    ev.PaymentReceived: "Nhận chứng từ thực hiện nghĩa vụ tài chính",
}
# What changes the portal's dossier without being a step: a new due time, a file (issue 26).
UPSERT_ONLY: frozenset[type[ev.Event]] = frozenset({ev.DeadlineSet, ev.FileAttached})
FIRST: frozenset[type[ev.Event]] = frozenset({ev.DossierReceived, ev.DossierSubmitted})


def portal_date(at: datetime | None) -> str:
    """`yyyyMMddHHmmss` in Asia/Ho_Chi_Minh; "" for no date (as the public clients send)."""
    return at.astimezone(ZONE).strftime("%Y%m%d%H%M%S") if at is not None else ""


def status_code(state: DossierState) -> str:
    """TrangThaiHoSo as the public clients send it (a string)."""
    return str(STATUS_CODES[state])


def changes_portal(event: ev.Event) -> bool:
    """Whether the portal learns something from `event`."""
    return type(event) in STEPS or type(event) in UPSERT_ONLY


@dataclass
class _History:
    """What the dossier's events say beyond the folded state: papers, supplements, extensions,
    results, and the dates only an event holds."""

    papers: list[str] = field(default_factory=list)
    supplements: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    returned_at: datetime | None = None
    refused_at: datetime | None = None
    portal_code: str | None = None
    components: list[ev.FileAttached] = field(default_factory=list)
    result_file: ev.FileAttached | None = None


def _history(events: Sequence[EventEnvelope], states: Sequence[Dossier]) -> _History:
    h = _History()
    for e, before in zip(events, states, strict=True):
        event = e.event
        if isinstance(event, ev.DossierReceived | ev.DossierSubmitted):
            h.papers += event.documents
            if isinstance(event, ev.DossierSubmitted):
                h.portal_code = event.portal_code
        elif isinstance(event, ev.IntakeSupplementReceived | ev.SupplementReceived):
            h.papers += event.documents
        if isinstance(event, ev.SupplementRequested):
            h.supplements.append({
                "HoSoBoSungId": str(len(h.supplements) + 1),
                "NguoiYeuCauBoSung": e.metadata.get("actor", ""),
                "NoiDungBoSung": event.reason, "NgayBoSung": portal_date(event.at),
                "DanhSachGiayToBoSung": [{"TenGiayTo": d} for d in event.documents],
                "NgayHenTraTruoc": portal_date(before.judged_due_at),
                "NgayTiepNhanBoSung": "", "NgayHenTraMoi": "", "TrangThaiBoSung": "0"})
        elif isinstance(event, ev.SupplementReceived) and h.supplements:
            h.supplements[-1].update(NgayTiepNhanBoSung=portal_date(event.at),
                                     TrangThaiBoSung="1")
        elif isinstance(event, ev.DeadlineSet) and h.supplements \
                and event.reason == "supplement_received":
            h.supplements[-1]["NgayHenTraMoi"] = portal_date(event.legal_due_at
                                                             or event.due_at)
        elif isinstance(event, ev.DeadlineExtended):
            h.extensions.append({"LyDo": event.reason, "NgayGiaHan": portal_date(event.at),
                                 "NgayHenTraTruoc": portal_date(event.previous_due_at),
                                 "NgayHenTraMoi": portal_date(event.new_due_at)})
        elif isinstance(event, ev.ResultReady):
            h.results.append({"TenGiayTo": event.summary, "NgayCoKetQua": portal_date(event.at)})
        elif isinstance(event, ev.ResultReturned):
            h.returned_at = event.at
        elif isinstance(event, ev.DossierRefused | ev.SubmissionRefused):
            h.refused_at = event.at
        elif isinstance(event, ev.FileAttached):
            if event.purpose == "result":
                h.result_file = event
            else:
                h.components.append(event)
    return h


def _flag(on: bool) -> str:
    return "1" if on else "0"


def submitted_files(h: _History) -> list[dict[str, Any]]:
    """TaiLieuNop: each component file with its flags, then each listed paper that has no
    file yet, by name only, its flags "0" (module docstring, "Files")."""
    named = {" ".join(f.name.casefold().split()) for f in h.components}
    files = [{"TepDinhKemId": f.file_id, "TenTepDinhKem": f.name, "DuongDanTaiTepTin": "",
              "DuocSoHoa": _flag(f.digitised), "DuocTaiSuDung": _flag(f.reused),
              "DuocLayTuKhoDMQG": _flag(f.from_national_store), "MaThanhPhanHoSo": ""}
             for f in h.components]
    paper = [{"TenTepDinhKem": p, "DuocSoHoa": "0", "DuocTaiSuDung": "0",
              "DuocLayTuKhoDMQG": "0"}
             for p in h.papers if " ".join(p.casefold().split()) not in named]
    return files + paper


def result_papers(h: _History) -> list[dict[str, Any]]:
    """DanhSachGiayToKetQua: each result made ready, the last with its signed file."""
    results = [dict(r) for r in h.results]
    f = h.result_file
    if f is not None:
        if not results:  # never: a result file follows ResultReady; kept whole regardless
            results.append({"TenGiayTo": f.name, "NgayCoKetQua": portal_date(f.at)})
        results[-1].update(GiayToId=f.file_id, DuongDanTepTinKetQua="",
                           TepKetQuaSHA256=f.sha256)
    return results


def dossier_body(d: Dossier, h: _History, *, field_name: str = "") -> dict[str, Any]:
    """The DongBoHoSoMC object of dossier `d` after the events `h` was read from."""
    assert d.state is not None
    return {
        "MaHoSo": d.code, "MaHoSoQuocGia": h.portal_code or "",
        "MaTTHC": d.procedure_code, "MaLinhVuc": "", "TenLinhVuc": field_name,
        "ChuHoSo": d.applicant_name, "KenhThucHien": str(CHANNELS[d.channel]),
        "NgayNopHoSo": portal_date(d.submitted_at),
        "NgayTiepNhan": portal_date(d.received_at),
        "NgayHenTra": portal_date(d.judged_due_at),
        "TrangThaiHoSo": status_code(d.state),
        "NgayKetThucXuLy": portal_date(d.finished_at) if d.state in ENDED else "",
        "NgayTra": portal_date(h.returned_at),
        "NgayTuChoi": portal_date(h.refused_at),
        "DonViXuLy": d.unit_code,
        "TaiLieuNop": submitted_files(h),
        "HoSoCoThanhPhanSoHoa": _flag(bool(h.components)),
        "DanhSachLePhi": [],
        "DanhSachHoSoBoSung": h.supplements,
        "DanhSachGiaHan": h.extensions,
        "DanhSachGiayToKetQua": result_papers(h),
    }


def upsert(events: Sequence[EventEnvelope], *, field_name: str = "",
           updating: bool) -> dict[str, Any] | None:
    """The DongBoHoSoMC request for the dossier after `events` (its stream from position 1);
    None before its receipt or submission."""
    states = [Dossier()]
    for e in events:
        states.append(evolve(states[-1], e.event))
    if states[-1].state is None:
        return None
    body = dossier_body(states[-1], _history(events, states[:-1]), field_name=field_name)
    return {"service": UPSERT, "isUpdating": "True" if updating else "False", "data": [body]}


def step_body(e: EventEnvelope, before: Dossier, after: Dossier,
              committed: Dossier | None = None) -> dict[str, Any]:
    """The CapNhatTienDoHoSoMC object of the step `e` (who, title, when, unit, what, status,
    the step's start and due time). `committed` is the state its transaction committed: the
    receipt's due time is set by the DeadlineSet stored with it, after the receipt itself."""
    event = e.event
    assert after.state is not None
    text = STEPS[type(event)]
    detail = getattr(event, "reason", None) or getattr(event, "summary", None)
    if isinstance(event, ev.DeadlineExtended):
        detail = f"{event.reason}; hẹn trả mới {portal_date(event.new_due_at)}"
    due = event.new_due_at if isinstance(event, ev.DeadlineExtended) else (
        after.judged_due_at or (committed.judged_due_at if committed else None))
    return {
        "MaHoSo": after.code, "NguoiXuLy": e.metadata.get("actor", ""),
        "ChucDanh": e.metadata.get("role", ""),
        "ThoiDiemXuLy": portal_date(event.at), "PhongBanXuLy": after.holding_unit_code,
        "NoiDungXuLy": f"{text}: {detail}" if detail else text,
        "TrangThai": status_code(after.state),
        "NgayBatDau": portal_date(before.period_start or event.at)
        if before.state is not None else portal_date(event.at),
        "NgayKetThucTheoQuyDinh": portal_date(due),
    }


class PortalRouter:
    """The outbox router: after each committed change the portal knows about, one upsert per
    dossier and transaction (the state after its last such event) and one progress update
    per step, in commit order. `fields` maps procedure codes to their field's name."""

    def __init__(self, fields: Mapping[str, str] | None = None) -> None:
        self._fields = dict(fields or {})

    async def __call__(self, conn: Conn, rows: Sequence[asyncpg.Record]) -> list[NewDelivery]:
        relevant = [r for r in rows if changes_portal(store.envelope(r).event)]
        if not relevant:
            return []
        streams = sorted({r["stream"] for r in relevant})
        history = await conn.fetch(
            f"SELECT {store.COLUMNS} FROM events WHERE stream = ANY($1) "
            "ORDER BY stream, position", streams)
        by_stream: dict[str, list[EventEnvelope]] = {}
        for h in history:
            by_stream.setdefault(h["stream"], []).append(store.envelope(h))
        groups: dict[tuple[str, str], list[asyncpg.Record]] = {}
        for r in relevant:
            groups.setdefault((r["stream"], r["tx_text"]), []).append(r)
        new: list[NewDelivery] = []
        for (stream, _tx), group in groups.items():
            events = [e for e in by_stream[stream] if e.position <= group[-1]["position"]]
            states = [Dossier()]
            for e in events:
                states.append(evolve(states[-1], e.event))
            final = states[-1]
            if final.state is None:
                continue
            # One upsert per dossier and transaction, first (the portal must know the dossier
            # before its progress), with the state the transaction committed; keyed to the
            # transaction's first such event. isUpdating is "False" only for the transaction
            # that created the dossier (its stream starts in it).
            first = min(r["position"] for r in group)
            body = dossier_body(final, _history(events, states[:-1]),
                                field_name=self._fields.get(final.procedure_code, ""))
            new.append(NewDelivery(group[0], PORTAL, "dossier", {
                "service": UPSERT, "isUpdating": "False" if first == 1 else "True",
                "data": [body]}, part=UPSERT, unit_code=final.unit_code))
            for r in group:
                at = r["position"]  # states[at] is the state after the event at `at`
                if type(events[at - 1].event) in STEPS:
                    new.append(NewDelivery(r, PORTAL, "progress", {
                        "service": PROGRESS,
                        "data": [step_body(events[at - 1], states[at - 1], states[at], final)]},
                        part=PROGRESS, unit_code=final.unit_code))
        return new
