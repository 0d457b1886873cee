"""Issue 23 item 5: the console says the API's refusals in Vietnamese, without identifiers."""

from __future__ import annotations

from motcua.console.acting import explain
from motcua.problems import invalid_input


def test_unknown_procedure_reads_as_a_sentence() -> None:
    """The clerk reads why, not 'procedure_code: unknown procedure (catalog version …)'."""
    problem = invalid_input("procedure_code", "unknown procedure (catalog version 32e95ab5737)")
    failed = explain(problem)
    assert "Mã thủ tục không có trong danh mục thủ tục đang áp dụng." in failed.message
    for internal in ("procedure_code", "catalog version", "unknown", "chi tiết"):
        assert internal not in failed.message
    assert failed.fields == ["procedure_code"]


def test_untranslated_detail_names_the_field_only() -> None:
    """A detail the console does not know is not shown in English; the field is named."""
    failed = explain(invalid_input("applicant_phone", "some new English rule"))
    assert "English" not in failed.message and "applicant_phone" not in failed.message
    assert "Số điện thoại" in failed.message
    assert "29/08/2026 không phải ngày làm việc" in explain(
        invalid_input("new_due_at", "2026-08-29 is not a working day")).message
