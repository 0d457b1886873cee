"""The Vietnamese word for each dossier state, one list for every screen and paper: the
console's pages and the dossier register (Sổ theo dõi hồ sơ) say the same thing of the same
dossier (issue 23 item 11: a returned, refused or withdrawn dossier is not "Đã tiếp nhận")."""

from __future__ import annotations

from domain.states import DossierState

STATE_LABELS: dict[str, str] = {
    DossierState.SUBMITTED: "Chờ tiếp nhận",
    DossierState.AWAITING_INTAKE_SUPPLEMENT: "Chờ bổ sung trước khi tiếp nhận",
    DossierState.RECEIVED: "Mới tiếp nhận",
    DossierState.ASSIGNED: "Đã phân công",
    DossierState.PROCESSING: "Đang xử lý",
    DossierState.AWAITING_SUPPLEMENT: "Chờ bổ sung",
    DossierState.AWAITING_PAYMENT: "Chờ thực hiện nghĩa vụ tài chính",
    DossierState.READY: "Có kết quả",
    DossierState.RETURNED: "Đã trả kết quả",
    DossierState.REFUSED: "Từ chối",
    DossierState.WITHDRAWN: "Công dân rút",
    DossierState.STOPPED: "Dừng xử lý",
    DossierState.REFUSED_AT_INTAKE: "Từ chối tiếp nhận",
}
