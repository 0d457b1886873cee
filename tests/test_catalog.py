"""The shipped procedure/unit catalog loads, and bad rows are refused by name."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from domain.catalog import (
    NATIONAL_CODE,
    Catalog,
    Procedure,
    RetiredProcedure,
    TimeUnit,
    UnknownProcedure,
    UnknownUnit,
)
from motcua.catalog.source import CatalogError, load_catalog

GOOD_ROW = """\
  - code: "1.001193"
    name: "Thủ tục đăng ký khai sinh"
    level: commune
    prescribed_amount: 1
    prescribed_unit: same_day
    source: "Luật Hộ tịch 2014 art. 16(2)"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def _procedures(tmp_path: Path, *rows: str) -> Path:
    return _write(tmp_path, "procedures.yaml", "procedures:\n" + "".join(rows))


def _row(**changes: object) -> str:
    fields: dict[str, object] = {
        "code": '"1.004837"', "name": '"Thủ tục đăng ký giám hộ"', "level": "commune",
        "prescribed_amount": 3, "prescribed_unit": "working_days",
        "source": '"Luật Hộ tịch 2014 art. 20(2)"'}
    fields.update(changes)
    lines = [f"    {k}: {v}" for k, v in fields.items() if v is not None]
    return "  - " + "\n".join(lines).lstrip() + "\n"


def test_shipped_catalog_loads() -> None:
    """The shipped catalog has at least 30 procedures, both levels, and a stable version."""
    catalog = load_catalog()
    assert len(catalog.procedures) >= 30
    assert {p.level for p in catalog.procedures.values()} == {"province", "commune"}
    assert catalog.procedure("1.001193").prescribed_unit == TimeUnit.SAME_DAY
    assert catalog.procedure("1.004837").prescribed_amount == 3
    assert len(catalog.units) >= 2
    assert load_catalog().version == catalog.version
    assert all(p.source for p in catalog.procedures.values())
    assert sum(bool(NATIONAL_CODE.match(code)) for code in catalog.procedures) >= 25


def test_no_estimate_reaches_a_due_time() -> None:
    """Every shipped row applies a published reduced time with its decision, or else the
    prescribed time; each names its field and its source (issue 11 point 2)."""
    for proc in load_catalog().procedures.values():
        if not proc.reduced_source:
            assert (proc.reduced_amount, proc.reduced_unit) == (proc.prescribed_amount,
                                                                proc.prescribed_unit), proc.code
        assert proc.field and proc.time_source, proc.code


def test_2025_decree_rows() -> None:
    """Decree 120/2025 (civil status, foreign element) and Decree 280/2025 (certification)."""
    catalog = load_catalog()
    marriage = catalog.procedure("2.000806")
    assert (marriage.reduced_amount, marriage.reduced_unit) == (5, TimeUnit.WORKING_DAYS)
    assert "120/2025" in marriage.source
    assert catalog.procedure("L.ho-tich.nhan-cha-me-con-yeu-to-nuoc-ngoai").reduced_amount == 10
    assert catalog.procedure("L.ho-tich.ghi-chu-ket-hon").reduced_amount == 5
    amend = catalog.procedure("2.000913")
    assert amend.reduced_unit == TimeUnit.SAME_DAY and "280/2025" in amend.source
    assert catalog.procedure("2.001035").reduced_amount == 2
    assert catalog.procedure("2.001019").name == "Chứng thực di chúc"


def test_retired_codes_stay_resolvable() -> None:
    """A code Decree 280/2025 merged still resolves (supplements, corrections on old dossiers
    work) but takes no new receipt."""
    catalog = load_catalog()
    old = catalog.procedure("L.chung-thuc.di-chuc")
    assert old.is_retired and old.replaced_by == "2.001019" and "280/2025" in old.retired_source
    with pytest.raises(RetiredProcedure, match=r"2\.001019"):
        catalog.procedure_for_receipt("L.chung-thuc.di-chuc")
    assert catalog.procedure_for_receipt("2.001019").code == "2.001019"


def test_unknown_codes_raise_clear_key_errors() -> None:
    """Looking up an unknown code raises a KeyError subclass with a readable message."""
    catalog = load_catalog()
    with pytest.raises(UnknownProcedure, match=r"unknown procedure code '9\.999999'"):
        catalog.procedure("9.999999")
    with pytest.raises(KeyError):
        catalog.unit("000.00.99.X99")
    with pytest.raises(UnknownUnit) as info:
        catalog.unit("000.00.99.X99")
    assert str(info.value).startswith("unknown unit code '000.00.99.X99'")


@pytest.mark.parametrize(("row", "message"), [
    (_row(reduced_amount=4, reduced_unit="working_days", reduced_source='"QĐ 1/QĐ-UBND"'),
     "row 2 (code 1.004837): reduced_amount must be <= prescribed_amount"),
    (_row(prescribed_amount=1, prescribed_unit="same_day", reduced_amount=2,
          reduced_unit="working_days", reduced_source='"QĐ 1/QĐ-UBND"'),
     "row 2 (code 1.004837): reduced time must not be longer than the prescribed time"),
    (_row(code="1.00483"), "row 2 (code 1.00483): code must be a quoted string"),
    (_row(code='"1.00483"'), "row 2 (code 1.00483): code '1.00483' is neither"),
    (_row(prescribed_unit="weeks"), "prescribed_unit must be one of working_days"),
    (_row(level="district"), "level must be one of province, commune"),
    (_row(source=None), "missing source"),
    (_row(colour="red"), "unknown key(s) colour"),
    (_row(prescribed_amount=0), "prescribed_amount must be >= 1"),
    (_row(reduced_amount=2), "a reduced time needs reduced_source"),
    (_row(reduced_is_estimate="true"), "estimates are no longer accepted"),
    (_row(replaced_by='"1.001193"'), "needs retired_source"),
    (_row(code='"1.001193"'), "row 2 (code 1.001193): duplicate code"),
    (_row(digitise_before_assign='"yes"'), "digitise_before_assign must be true or false"),
])
def test_bad_rows_are_named(tmp_path: Path, row: str, message: str) -> None:
    """A bad procedure row stops the load with an error naming file, row and code."""
    path = _procedures(tmp_path, GOOD_ROW, row)
    with pytest.raises(CatalogError) as info:
        load_catalog(procedures_path=path)
    assert str(info.value).startswith("procedures.yaml: ")
    assert message in str(info.value)


def test_bad_unit_row_is_named(tmp_path: Path) -> None:
    """A malformed unit code is refused with the row number."""
    units = _write(tmp_path, "units.yaml", """\
        units:
          - code: "000.00.00.H39"
            name: "Trung tâm Phục vụ hành chính công tỉnh Lào Cai"
            level: province
            province: "Lào Cai"
          - code: "H39.21"
            name: "Decision 20/2020/QĐ-TTg form: accepted"
            level: commune
            province: "Lào Cai"
          - code: "h39.21"
            name: "Bad"
            level: commune
            province: "Lào Cai"
        """)
    # "H39" alone was refused here before issue 11: wrong, it is Decision 20/2020's form.
    with pytest.raises(CatalogError, match=r"units.yaml: row 3 \(code h39.21\): code 'h39.21'"):
        load_catalog(units_path=units)


def test_file_shape_errors(tmp_path: Path) -> None:
    """A file without the top-level list, or not YAML at all, is refused by name."""
    with pytest.raises(CatalogError, match="expected a top-level 'procedures:' list"):
        load_catalog(procedures_path=_write(tmp_path, "procedures.yaml", "rows: []\n"))
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(procedures_path=_write(tmp_path, "procedures.yaml", "procedures: [\n"))
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(procedures_path=tmp_path / "missing.yaml")


def test_catalog_types_check_their_invariants() -> None:
    """Procedures built by hand obey the same invariants as loaded ones."""
    with pytest.raises(ValueError, match="must be 1 for same_day"):
        Procedure(code="1.001193", name="x", level="commune", prescribed_amount=2,
                  prescribed_unit=TimeUnit.SAME_DAY, reduced_amount=1,
                  reduced_unit=TimeUnit.SAME_DAY, source="s")
    with pytest.raises(ValueError, match="keyed"):
        Catalog(version="v", procedures={"1.000001": load_catalog().procedure("1.001193")},
                units={})


def test_digitisation_flag_in_the_yaml_catalog(tmp_path: Path) -> None:
    """`digitise_before_assign: true` (issue 26) loads; absent is false."""
    path = _procedures(tmp_path, GOOD_ROW, _row(digitise_before_assign="true"))
    catalog = load_catalog(procedures_path=path)
    assert catalog.procedure("1.004837").digitise_before_assign
    assert not catalog.procedure("1.001193").digitise_before_assign
