"""A procedure's guide for the intake clerk (issue 23 item 15): its fee and the papers to hand
in, each with its legal source, from `motcua/data/procedure_guides.yaml`.

Kept apart from the catalog of times (`motcua.catalog.source`): it is shown, never computed
with, so it changes neither a due time nor the catalog's version. A code without a row has no
guide; the picker says so rather than guess.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KEYS = frozenset({"code", "fee", "fee_source", "papers", "papers_source"})


@dataclass(frozen=True)
class Guide:
    """What the citizen brings and pays for one procedure, with the texts they follow."""

    fee: str = ""
    fee_source: str = ""
    papers: tuple[str, ...] = ()
    papers_source: str = ""


def _guide(row: Any) -> tuple[str, Guide]:
    if not isinstance(row, dict) or not isinstance(row.get("code"), str):
        raise ValueError(f"each guide needs a quoted code, got {row!r}")
    unknown = sorted(set(map(str, row)) - KEYS)
    if unknown:
        raise ValueError(f"{row['code']}: unknown key(s) {', '.join(unknown)}")
    papers = row.get("papers") or []
    if not isinstance(papers, list) or not all(isinstance(p, str) for p in papers):
        raise ValueError(f"{row['code']}: papers must be a list of strings")
    guide = Guide(fee=str(row.get("fee") or "").strip(),
                  fee_source=str(row.get("fee_source") or "").strip(),
                  papers=tuple(p.strip() for p in papers if p.strip()),
                  papers_source=str(row.get("papers_source") or "").strip())
    if (guide.fee and not guide.fee_source) or (guide.papers and not guide.papers_source):
        raise ValueError(f"{row['code']}: a fee or papers need their legal source")
    return row["code"], guide


def load_guides(path: Path | None = None) -> dict[str, Guide]:
    """The guides by procedure code (ValueError naming the row for a malformed file)."""
    path = path or Path(str(resources.files("motcua") / "data" / "procedure_guides.yaml"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    rows = data.get("guides") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"{path.name}: expected a top-level 'guides:' list")
    return dict(_guide(row) for row in rows)


@functools.cache
def guides() -> dict[str, Guide]:
    """The shipped guides, read once."""
    return load_guides()
