"""A fee per procedure in the catalog (issue 22 item 4): amount in VND and the legal text that
sets it, carried by the YAML files and by `motcua catalog import/export`, served by the API's
procedure view, printed on the receipt and shown by the intake picker. Pure: no stack.

The shipped catalog records no fee: no primary copy of a fee text was found to check one
against (docs/legal-rules.md, "Fees"); the amounts here are test data, not law."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from domain import commands as cmd
from domain.catalog import Catalog, Fee
from motcua.api.routes.catalog import _procedure
from motcua.catalog.io import CatalogFileError, diff, read_procedures, write_procedures
from motcua.catalog.source import CatalogError, catalog_of, load_catalog
from motcua.console.intake import fee_label
from motcua.documents.render import render as render_document
from tests.test_documents import PROCEDURE, at, received

FEE = Fee(amount=50_000, source="Test: a fee text, art. 4(2)")


def _with_fee(fee: Fee | None, code: str = PROCEDURE) -> Catalog:
    shipped = load_catalog()
    procs = dict(shipped.procedures)
    procs[code] = dataclasses.replace(procs[code], fee=fee)
    return catalog_of(procs, dict(shipped.units))


def test_a_fee_needs_a_whole_amount_and_its_source() -> None:
    assert Fee(amount=0, source="exempt by art. 11").amount == 0
    for amount in (-1, 1.5, True):
        with pytest.raises(ValueError, match="fee_amount"):
            Fee(amount=amount, source="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fee_source"):
        Fee(amount=1000, source=" ")


def test_a_catalog_without_fees_keeps_its_version() -> None:
    """Fees count in the version only where there is one: dossiers' recorded catalog
    versions stay valid."""
    shipped = load_catalog()
    assert all(p.fee is None for p in shipped.procedures.values())
    again = catalog_of(dict(shipped.procedures), dict(shipped.units))
    assert again.version == shipped.version
    assert _with_fee(FEE).version != shipped.version


def test_yaml_rows_carry_the_fee(tmp_path: Path) -> None:
    path = tmp_path / "procedures.yaml"
    row = ('procedures:\n  - code: "1.004222"\n    name: "Đăng ký thường trú"\n'
           '    level: commune\n    prescribed_amount: 7\n    prescribed_unit: working_days\n'
           '    source: "Luật Cư trú 2020 art. 22(3)"\n')
    path.write_text(row + '    fee_amount: 20000\n    fee_source: "Test text art. 3"\n',
                    encoding="utf-8")
    proc = load_catalog(procedures_path=path).procedures["1.004222"]
    assert proc.fee == Fee(amount=20_000, source="Test text art. 3")
    path.write_text(row + '    fee_source: "Test text art. 3"\n', encoding="utf-8")
    with pytest.raises(CatalogError, match=r"row 1 \(code 1.004222\): fee_source needs"):
        load_catalog(procedures_path=path)


def test_import_reads_vnd_as_printed_and_export_carries_it(tmp_path: Path) -> None:
    catalog = _with_fee(FEE)
    for name in ("catalog.csv", "catalog.xlsx"):
        path = tmp_path / name
        write_procedures(path, catalog.procedures.values())
        back = read_procedures(path)
        assert back[PROCEDURE].fee == FEE
        assert diff(catalog.procedures, back).empty
    text = (tmp_path / "catalog.csv").read_text(encoding="utf-8")
    assert ",fee_amount,fee_source" in text.splitlines()[0]
    printed = text.replace(",50000,", ",50.000,")  # as a decision prints it
    assert printed != text
    (tmp_path / "printed.csv").write_text(printed, encoding="utf-8")
    assert read_procedures(tmp_path / "printed.csv")[PROCEDURE].fee == FEE
    bad = text.replace(",50000,", ",50.00,")
    (tmp_path / "bad.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(CatalogFileError, match=rf"code {PROCEDURE}\): fee_amount: not a whole"):
        read_procedures(tmp_path / "bad.csv")


def test_the_procedure_view_shows_the_fee() -> None:
    catalog = _with_fee(FEE)
    view = _procedure(catalog.procedures[PROCEDURE]).model_dump()
    assert view["fee"] == {"amount": 50_000, "source": FEE.source}
    other = next(p for c, p in catalog.procedures.items() if c != PROCEDURE)
    assert _procedure(other).model_dump()["fee"] is None


def test_the_receipt_prints_the_fee_and_what_was_paid() -> None:
    story = received().do(cmd.RecordFee(amount=50_000, reference="BL-0012", actor="clerk-1"),
                          at(8, 8, 40))
    html = render_document("receipt", story.stored, _with_fee(FEE))
    assert f"Phí, lệ phí theo quy định: 50.000 đồng ({FEE.source})" in html
    assert "Phí, lệ phí đã nộp: 50.000 đồng (biên lai số BL-0012)" in html
    exempt = render_document("receipt", story.stored,
                           _with_fee(Fee(amount=0, source="Exempt: art. 11")))
    assert "Phí, lệ phí theo quy định: Miễn (Exempt: art. 11)" in exempt
    none = render_document("receipt", story.stored, _with_fee(None))
    assert "theo quy định:" not in none


def test_the_intake_picker_labels_the_fee() -> None:
    assert fee_label(FEE) == f"Phí, lệ phí: 50.000 đồng ({FEE.source})"
    assert fee_label(Fee(amount=0, source="art. 11")) == "Phí, lệ phí: miễn (art. 11)"
    assert fee_label(None) == ""



def test_the_intake_page_shows_the_fee_of_the_procedures_found_and_chosen() -> None:
    """The clerk's form (`/tiep-nhan`) as rendered: the fee beside each procedure the search
    finds and under the chosen one; nothing for a procedure without a fee."""
    from types import SimpleNamespace

    from starlette.applications import Starlette
    from starlette.requests import Request

    from motcua.access.tokens import Role
    from motcua.access.users import Session, User
    from motcua.catalog.calendar import load_calendar
    from motcua.console.intake import _form

    app = Starlette()
    app.state.resources = SimpleNamespace(catalog=_with_fee(FEE, "1.004222"),
                                          calendar=load_calendar())
    request = Request({"type": "http", "app": app, "method": "GET", "path": "/tiep-nhan",
                       "headers": [], "query_string": b""})
    clerk = Session(user=User(username="clerk-1", full_name="", roles=frozenset({Role.CLERK}),
                              unit_code="000.21.39.H39"), csrf_token="t")
    request.state.console_session = clerk
    found = _form(request, clerk, values={"procedure_code": "1.004222"}, query="1.004222")
    html = bytes(found.body).decode()
    label = f"Phí, lệ phí: 50.000 đồng ({FEE.source})"
    # beside the match, under the picker's own "Phí, lệ phí" heading (issue 23 item 15)
    assert f'<span class="fee">50.000 đồng ({FEE.source})</span>' in html
    assert f'<p class="fee" data-testid="fee">{label}</p>' in html  # under the chosen one
    plain = _form(request, clerk, values={"procedure_code": PROCEDURE}, query=PROCEDURE)
    assert "Phí, lệ phí:" not in bytes(plain.body).decode()
