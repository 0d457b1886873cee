"""The portal mapping (motcua.notify.portal): the status table, the date format, and what
NgayHenTra and NgayKetThucXuLy carry, on event histories built by hand."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain import events as ev
from domain.envelope import EventEnvelope
from domain.states import Channel, DossierState, Timeliness
from motcua.notify.portal import (
    STATUS_CODES,
    UPSERT,
    changes_portal,
    portal_date,
    status_code,
    upsert,
)

CODE = "000.21.39.H39-261207-0001"
T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội


def _wrap(events: list[ev.Event]) -> list[EventEnvelope]:
    return [EventEnvelope.wrap(e, event_id=str(uuid.uuid4()), stream=CODE, position=i,
                               metadata={"actor": "clerk-1"})
            for i, e in enumerate(events, start=1)]


def _received() -> list[ev.Event]:
    due = T0 + timedelta(days=7)
    return [ev.DossierReceived(at=T0, code=CODE, unit_code="000.21.39.H39",
                               procedure_code="1.004222", channel=Channel.POSTAL,
                               applicant_name="Nguyễn Văn An", applicant_phone="0912345678",
                               documents=("Tờ khai",)),
            ev.DeadlineSet(at=T0, version=1, due_at=due, due_soon_at=due, reason="receipt",
                           rule="civil_code", amount=5, unit="working_days",
                           calendar_version="t", catalog_version="t", legal_due_at=due)]


@pytest.mark.parametrize(("state", "code"), [
    (DossierState.SUBMITTED, 1), (DossierState.RECEIVED, 2), (DossierState.ASSIGNED, 2),
    (DossierState.REFUSED_AT_INTAKE, 3), (DossierState.PROCESSING, 4),
    (DossierState.AWAITING_SUPPLEMENT, 5), (DossierState.AWAITING_INTAKE_SUPPLEMENT, 5),
    (DossierState.WITHDRAWN, 7), (DossierState.STOPPED, 8), (DossierState.READY, 9),
    (DossierState.RETURNED, 10), (DossierState.REFUSED, 10)])
def test_status_table(state: DossierState, code: int) -> None:
    """Every state has the code chosen in the module's table (a refusal after acceptance is
    10, never the intake refusal's 3), sent as a string like the public clients send it."""
    assert status_code(state) == str(code)


def test_the_table_covers_every_state_and_agrees_with_the_domain() -> None:
    """No state is left out, and the portal is told what motcua's own views show."""
    assert set(STATUS_CODES) == set(DossierState)
    assert all(STATUS_CODES[s] == s.status_code for s in DossierState)


def test_dates_are_compact_in_ho_chi_minh_time() -> None:
    """yyyyMMddHHmmss at UTC+7 whatever the instant's own zone; no date is an empty string."""
    assert portal_date(datetime(2026, 12, 31, 17, 30, 5, tzinfo=UTC)) == "20270101003005"
    assert portal_date(None) == ""


def test_receipt_body_has_the_contract_fields_and_no_end_yet() -> None:
    """The first upsert is an insert with MaHoSo, MaTTHC, NgayTiepNhan, NgayHenTra and
    TrangThaiHoSo; NgayKetThucXuLy stays empty while the dossier is open; the phone stays
    here."""
    body = upsert(_wrap(_received()), updating=False)
    assert body is not None and body["service"] == UPSERT and body["isUpdating"] == "False"
    [d] = body["data"]
    assert d["MaHoSo"] == CODE and d["MaTTHC"] == "1.004222" and d["TrangThaiHoSo"] == "2"
    assert d["NgayTiepNhan"] == "20261207090000" and d["NgayHenTra"] == "20261214090000"
    assert d["NgayKetThucXuLy"] == "" and d["KenhThucHien"] == "3"
    assert "0912345678" not in str(body)


def test_after_an_apology_ngayhentra_keeps_the_legal_due_time() -> None:
    """An extension's new appointment goes to the extension list, not to NgayHenTra: the
    dossier stays late nationally (our reading, module docstring); the end is sent once the
    result is ready."""
    events = _received()
    legal = T0 + timedelta(days=7)
    new = legal + timedelta(days=3)
    events += [
        ev.OfficerAssigned(at=T0, officer="o"), ev.ProcessingStarted(at=T0, officer="o"),
        ev.DeadlineExtended(at=legal - timedelta(days=2), reason="Chờ xác minh",
                            previous_due_at=legal, new_due_at=new, in_time=True),
        ev.DeadlineSet(at=legal - timedelta(days=2), version=2, due_at=new, due_soon_at=new,
                       reason="extension", rule="leader", amount=0, unit="working_days",
                       calendar_version="t", catalog_version="t", legal_due_at=legal),
        ev.ResultReady(at=new, summary="Giấy xác nhận", timeliness=Timeliness.LATE)]
    body = upsert(_wrap(events), updating=True)
    assert body is not None
    [d] = body["data"]
    assert d["NgayHenTra"] == portal_date(legal) != portal_date(new)
    assert d["DanhSachGiaHan"] == [{"LyDo": "Chờ xác minh",
                                   "NgayGiaHan": portal_date(legal - timedelta(days=2)),
                                   "NgayHenTraTruoc": portal_date(legal),
                                   "NgayHenTraMoi": portal_date(new)}]
    assert d["TrangThaiHoSo"] == "9" and d["NgayKetThucXuLy"] == portal_date(new)
    assert d["NgayKetThucXuLy"] > d["NgayHenTra"]  # counted late by indicator 2.1


def _file(name: str, *, purpose: str = "component", reused: bool = False,
          national: bool = False, at: datetime = T0) -> ev.FileAttached:
    return ev.FileAttached(at=at, file_id=str(uuid.uuid4()), name=name, kind="copy", pages=1,
                           sha256="ab" * 32, size=100, media_type="application/pdf",
                           uploaded_by="clerk-1", purpose=purpose,
                           digitised=not reused, reused=reused,
                           reused_from="000.21.39.H39-261201-0001" if reused else None,
                           from_national_store=national)


def test_files_and_the_result_reach_the_portal_with_their_flags() -> None:
    """Issue 26: each component file is a TaiLieuNop entry with DuocSoHoa, DuocTaiSuDung and
    DuocLayTuKhoDMQG; a listed paper not yet scanned stays by name with its flags 0;
    HoSoCoThanhPhanSoHoa says a component is on file; the signed result's id and SHA-256 go
    on the result entry; a file alone triggers an upsert."""
    events = _received()
    before = upsert(_wrap(events), updating=False)
    assert before is not None
    [d0] = before["data"]
    assert d0["HoSoCoThanhPhanSoHoa"] == "0"
    assert d0["TaiLieuNop"] == [{"TenTepDinhKem": "Tờ khai", "DuocSoHoa": "0",
                                 "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0"}]
    scanned = _file("Tờ khai")
    reused = _file("Giấy khai sinh", reused=True, national=True)
    signed = _file("Kết quả giải quyết", purpose="result", at=T0 + timedelta(days=2))
    signed = ev.FileAttached(**{**vars(signed), "sha256": "cd" * 32})
    events += [scanned, reused, ev.OfficerAssigned(at=T0, officer="o"),
               ev.ProcessingStarted(at=T0, officer="o"),
               ev.ResultReady(at=T0 + timedelta(days=2), summary="Giấy xác nhận",
                              timeliness=Timeliness.EARLY), signed]
    assert changes_portal(scanned) and changes_portal(signed)
    body = upsert(_wrap(events), updating=True)
    assert body is not None
    [d] = body["data"]
    assert d["HoSoCoThanhPhanSoHoa"] == "1"
    by_name = {f["TenTepDinhKem"]: f for f in d["TaiLieuNop"]}
    assert set(by_name) == {"Tờ khai", "Giấy khai sinh"}  # the paper is now its file
    assert by_name["Tờ khai"]["TepDinhKemId"] == scanned.file_id
    assert (by_name["Tờ khai"]["DuocSoHoa"], by_name["Tờ khai"]["DuocTaiSuDung"],
            by_name["Tờ khai"]["DuocLayTuKhoDMQG"]) == ("1", "0", "0")
    assert (by_name["Giấy khai sinh"]["DuocSoHoa"], by_name["Giấy khai sinh"]["DuocTaiSuDung"],
            by_name["Giấy khai sinh"]["DuocLayTuKhoDMQG"]) == ("0", "1", "1")
    [result] = d["DanhSachGiayToKetQua"]
    assert result["TenGiayTo"] == "Giấy xác nhận"
    assert result["GiayToId"] == signed.file_id and result["TepKetQuaSHA256"] == "cd" * 32
