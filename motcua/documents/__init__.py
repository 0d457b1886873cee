"""Citizen documents rendered in Vietnamese from a dossier's events (HTML).

The forms of Circular 01/2018/TT-VPCP (carried into Circular 03/2025/TT-VPCP, Appendix I):

* ``receipt``: Giấy tiếp nhận hồ sơ và hẹn trả kết quả
* ``supplement-request``: Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ
* ``refusal``: Phiếu từ chối tiếp nhận giải quyết hồ sơ
* ``apology``: Phiếu xin lỗi và hẹn lại ngày trả kết quả
* ``process-control``: Phiếu kiểm soát quá trình giải quyết hồ sơ

Usage: ``render("receipt", await read_stream(pool, code), load_catalog())``.
"""

from motcua.documents.history import DocumentError, DocumentUnavailable, UnknownDocument
from motcua.documents.render import KINDS, render

__all__ = ["KINDS", "DocumentError", "DocumentUnavailable", "UnknownDocument", "render"]
