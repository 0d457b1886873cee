"""The intake picker's guides (issue 23 item 15): every row names a procedure of the catalog,
every fee and list of papers carries its legal source, and a malformed row is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from motcua.catalog.guides import load_guides
from motcua.catalog.source import load_catalog


def test_every_guide_names_a_catalog_procedure_and_cites_its_text() -> None:
    shipped = load_guides()
    catalog = load_catalog()
    assert shipped and set(shipped) <= set(catalog.procedures)
    for code, guide in shipped.items():
        assert guide.fee or guide.papers, code
        assert not guide.fee or guide.fee_source.startswith("Luật"), code
        assert not guide.papers or guide.papers_source.startswith("Luật"), code
    birth = shipped["1.001193"]
    assert "Giấy chứng sinh" in " ".join(birth.papers) and "Miễn" in birth.fee


@pytest.mark.parametrize("row, message", [
    ('- code: "1"\n    fee: "Miễn"', "legal source"),
    ('- code: "1"\n    cost: "x"', "unknown key"),
    ('- code: 1.5', "quoted code"),
    ('- code: "1"\n    papers: "Tờ khai"\n    papers_source: "Luật"', "list of strings"),
])
def test_a_malformed_guide_is_refused(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "guides.yaml"
    path.write_text(f"guides:\n  {row}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_guides(path)
