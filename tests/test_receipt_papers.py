"""Form 01's paper table and the backdated receipt (issue 23 item 15): what the domain accepts,
what the receipt prints and what the history says; pure, no stack."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import commands as cmd
from domain.decide import InvalidCommand, decide
from domain.dossier import Dossier
from domain.states import Channel
from motcua.catalog.source import load_catalog
from motcua.documents import render
from motcua.documents.narration import describe
from motcua.services.requests import ReceiveRequest
from tests.test_documents import CODE, PROCEDURE, UNIT, VN, Story, at, table


def _receive(**fields: object) -> cmd.ReceiveDossier:
    base: dict[str, object] = {
        "code": CODE, "unit_code": UNIT, "procedure_code": PROCEDURE,
        "channel": Channel.COUNTER, "applicant_name": "Nguyễn Văn An", "actor": "clerk-1"}
    return cmd.ReceiveDossier(**(base | fields))  # type: ignore[arg-type]


def test_request_papers_become_aligned_forms_and_counts() -> None:
    """`papers` follow `documents`; plain names get no form and no count; without papers the
    command carries no table (old clients unchanged)."""
    body = ReceiveRequest.model_validate({
        "procedure_code": PROCEDURE, "unit_code": UNIT, "channel": "counter",
        "applicant": {"name": "Nguyễn Văn An"}, "documents": ["Tờ khai"],
        "papers": [{"name": "Giấy chứng sinh", "form": "original", "count": 2},
                   {"name": "CCCD", "form": "certified_copy"}]})
    command = body.command(code=CODE, actor="clerk-1", correlation_id="c")
    assert command.documents == ("Tờ khai", "Giấy chứng sinh", "CCCD")
    assert command.document_forms == ("", "original", "certified_copy")
    assert command.document_counts == (0, 2, 1)
    plain = ReceiveRequest.model_validate({
        "procedure_code": PROCEDURE, "unit_code": UNIT, "channel": "counter",
        "applicant": {"name": "A"}, "documents": ["Tờ khai"]}).command(
            code=CODE, actor="clerk-1", correlation_id="c")
    assert (plain.document_forms, plain.document_counts) == ((), ())
    with pytest.raises(ValueError, match="count"):
        ReceiveRequest.model_validate({
            "procedure_code": PROCEDURE, "unit_code": UNIT, "channel": "counter",
            "applicant": {"name": "A"}, "papers": [{"name": "Tờ khai", "count": 0}]})


@pytest.mark.parametrize(("fields", "field"), [
    ({"documents": ("A", "B"), "document_forms": ("original",)}, "document_forms"),
    ({"documents": ("A",), "document_counts": (1, 2)}, "document_counts"),
    ({"documents": ("A",), "document_forms": ("photocopy",)}, "document_forms"),
    ({"documents": ("A",), "document_counts": (100,)}, "document_counts"),
    ({"backdate_reason": "nhận ngoài giờ"}, "backdate_reason"),
    ({"backdate_reason": "  ", "original_received_at": at(7, 17)}, "backdate_reason"),
])
def test_bad_paper_tables_and_reasons_are_refused(fields: dict[str, object],
                                                   field: str) -> None:
    """A table that does not line up, an unknown form, a count out of range, and a reason
    without a backdated time (or a blank one) are refused, naming the field."""
    with pytest.raises(InvalidCommand) as err:
        decide(Dossier(), _receive(**fields), at(8, 8, 30))
    assert err.value.details == {"field": field}


def test_receipt_prints_form_and_count_per_paper() -> None:
    """The receipt's table: number, name, form in words, count zero-padded as on the form;
    a plain name prints without form and count."""
    story = Story().do(_receive(
        documents=("Tờ khai", "Giấy chứng sinh", "CCCD"),
        document_forms=("", "original", "certified_copy"), document_counts=(0, 2, 1)),
        at(8, 8, 30), due=at(10, 17))
    html = render("receipt", story.stored, load_catalog())
    rows = table(html)
    assert rows[:3] == [["1", "Tờ khai", "", ""], ["2", "Giấy chứng sinh", "Bản chính", "02"],
                        ["3", "CCCD", "Bản sao có chứng thực", "01"]]
    assert "Hình thức (bản chính, bản sao)" in html


def test_backdated_receipt_counts_from_the_real_time_and_tells_why() -> None:
    """Entered on the 8th at 07:40 for a dossier received on the 7th at 17:20: the receipt
    prints the real time, and the history says it was entered later, with the reason."""
    story = Story().do(_receive(original_received_at=at(7, 17, 20),
                                backdate_reason="Nhận sau giờ làm việc"),
                       at(8, 7, 40), due=at(10, 17))
    html = render("receipt", story.stored, load_catalog())
    assert "Thời gian nhận hồ sơ: 17 giờ 20 phút, ngày 07 tháng 4 năm 2025" in html
    told = describe(story.stored[0].event, VN)
    assert ("nhận thực tế lúc 17 giờ 20 phút, ngày 07 tháng 4 năm 2025, nhập vào hệ thống "
            "sau" in told.sentence(False))
    assert "Nhận sau giờ làm việc" in told.sentence(True)
    assert "Nhận sau giờ làm việc" not in told.sentence(False)  # staff free text: private
    assert story.state.received_at == at(7, 17, 20)
    assert story.stored[0].recorded_at - story.state.received_at == timedelta(hours=14,
                                                                               minutes=20)
