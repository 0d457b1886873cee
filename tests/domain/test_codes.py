"""Agency ids and dossier codes in the forms the texts give (issue 11 point 8)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.catalog import Unit, is_unit_code
from domain.codes import format_code, is_valid_code, register_entry


@pytest.mark.parametrize(("code", "ok"), [
    ("000.00.15.H35", True),        # the older form, level-one code rightmost
    ("H39.21.05", True),            # Decision 20/2020/QĐ-TTg art. 4: level-one code leftmost
    ("H39", True),
    ("G01.100.08.UBND", True),
    ("Z01.21", False),              # M is a letter A-Y
    ("h39.21", False),              # capitals only
    ("H3.21", False),               # MX1X2: two digits
    ("H39." + "1234567890." * 3 + "12", False),  # longer than 35 characters
    ("000.00.15", False),
])
def test_unit_code_forms(code: str, ok: bool) -> None:
    """Both agency-id forms are accepted; anything else is refused."""
    assert is_unit_code(code) is ok
    if ok:
        assert Unit(code=code, name="UBND", level="commune", province="Lào Cai").code == code
    else:
        with pytest.raises(ValueError, match="Decision 20/2020"):
            Unit(code=code, name="UBND", level="commune", province="Lào Cai")


def test_dossier_codes_with_either_unit_form_and_the_aa_prefix() -> None:
    """Codes print with either unit form; Circular 04/2025's AA prefix goes before the
    sequence, and every printed code reads back as valid."""
    day = date(2026, 1, 15)
    assert format_code("000.00.15.H35", day, 1) == "000.00.15.H35-260115-0001"
    assert format_code("H39.21.05", day, 12) == "H39.21.05-260115-0012"
    assert format_code("H39.210.05", day, 7, system_id="01") == "H39.210.05-260115-010007"
    for code in ("000.00.15.H35-260115-0001", "H39.21.05-260115-0012",
                 "H39.210.05-260115-010007", "H39-260115-12345"):
        assert is_valid_code(code), code
    assert not is_valid_code("H39.21.05-260115-012")   # fewer than 4 digits
    with pytest.raises(ValueError, match="two digits"):
        format_code("H39.21.05", day, 1, system_id="A1")
    with pytest.raises(ValueError, match="unit identifier"):
        format_code("h39", day, 1)


def test_register_entry_of_a_code() -> None:
    """Form 01's register entry: the unit's book of the day and the daily number."""
    assert register_entry("000.21.39.H39-250408-0001") == ("000.21.39.H39-250408", 1)
    assert register_entry("H39.21.05-260115-0012") == ("H39.21.05-260115", 12)
    with pytest.raises(ValueError, match="not a dossier code"):
        register_entry("nope")
