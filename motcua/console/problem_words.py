"""The API's problem details in Vietnamese, for the console (issue 23 item 5).

The API's `detail` is English and names fields and catalog versions ("procedure_code: unknown
procedure (catalog version 32e95ab5737526ff)"): right for programs, wrong for a clerk. The
console shows a sentence instead: the known details translated, the field named in Vietnamese,
and nothing of an untranslated detail but the field (its English stays in the API answer and
the logs).
"""

from __future__ import annotations

import re

FIELD_LABELS = {
    "procedure_code": "Thủ tục", "unit_code": "Đơn vị", "applicant_name": "Họ tên người nộp",
    "applicant_id_number": "Số định danh", "applicant_phone": "Số điện thoại",
    "applicant_address": "Địa chỉ", "applicant_email": "Thư điện tử",
    "documents": "Thành phần hồ sơ", "reason": "Lý do", "officer": "Cán bộ",
    "new_due_at": "Ngày hẹn mới", "original_received_at": "Thời điểm tiếp nhận thực tế",
    "channel": "Hình thức nộp", "result_delivery": "Nơi nhận kết quả", "note": "Ghi chú",
    "satisfaction": "Mức độ hài lòng", "comment": "Ý kiến", "summary": "Kết quả",
}

# (pattern on the message after "field: ", Vietnamese sentence; groups substituted).
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"unknown procedure\b.*"),
     "Mã thủ tục không có trong danh mục thủ tục đang áp dụng."),
    (re.compile(r"unknown unit\b.*"), "Mã đơn vị không có trong danh mục đơn vị."),
    (re.compile(r"the unit does not accept dossiers today"),
     "Đơn vị không tiếp nhận hồ sơ trong ngày hôm nay."),
    (re.compile(r"retired \((.*)\); use (.*)"),
     r"Thủ tục đã được thay thế (\1); hãy chọn thủ tục \2."),
    (re.compile(r"must not be in the future"), "Thời điểm không được ở tương lai."),
    (re.compile(r"must be within office hours.*"), "Thời điểm phải trong giờ làm việc."),
    (re.compile(r"(\d{4})-(\d{2})-(\d{2}) is not a working day"),
     r"Ngày \3/\2/\1 không phải ngày làm việc."),
    (re.compile(r"a reason is required when not satisfied"),
     "Vui lòng cho biết lý do ông/bà không hài lòng."),
    (re.compile(r"(the day is|its deadline falls) outside.*"),
     "Ngày nằm ngoài lịch làm việc đã nạp."),
)


def field_label(field: str) -> str:
    """A request field in Vietnamese ('procedure_code' -> 'Thủ tục')."""
    return FIELD_LABELS.get(field, "Thông tin nhập")


def detail_sentence(detail: str, field: str | None) -> str:
    """The API's `detail` as a Vietnamese sentence, or the field it names when the detail is
    not one the console knows ('' when it names none)."""
    message = detail.split(": ", 1)[1] if field and detail.startswith(f"{field}: ") else detail
    for pattern, sentence in _MESSAGES:
        if pattern.fullmatch(message):
            return pattern.sub(sentence, message)
    return f"Mục cần xem lại: {field_label(field)}." if field else ""
