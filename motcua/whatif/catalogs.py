"""Catalogs for the what-if: the one in force, a proposed one from a file, a recommended one
written to a file.

The files are in the format of `motcua catalog import` / `export` (`motcua.catalog.io`: CSV or
XLSX, code, name, field, level, prescribed and reduced time and unit, sources), read and
written by that module, so a proposal is checked exactly as an import would check it and a
recommendation can be imported as it is. The catalog in force is the active version in
PostgreSQL (`motcua.catalog.store`), or the files the settings name, or the shipped one before
any activation; it is only read here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import asyncpg

from domain.catalog import Catalog
from motcua.catalog import io as catalog_io
from motcua.catalog import store as catalog_store
from motcua.config import Settings
from motcua.eventstore.store import Conn
from motcua.whatif.simulate import Clock, WhatIfError


async def in_force(conn: Conn, settings: Settings, seed: Catalog) -> Catalog:
    """The catalog deadlines are counted under now (read-only: never seeds or activates)."""
    if settings.procedures_file is not None or settings.units_file is not None:
        return seed
    try:
        version = await catalog_store.active_version(conn)
    except asyncpg.UndefinedTableError:  # a database from before migration 0007
        return seed
    return seed if version is None else await catalog_store.load(conn, version)


def read_policy(path: Path, baseline: Mapping[str, Clock]) -> dict[str, Clock]:
    """The baseline with the times the file gives (its applied, i.e. reduced, time); the
    file's errors (every bad row, as `motcua catalog import` reports them) and codes not in the
    catalog in force give `WhatIfError`."""
    try:
        procedures = catalog_io.read_procedures(path)
    except catalog_io.CatalogFileError as err:
        raise WhatIfError(str(err)) from None
    unknown = sorted(set(procedures) - set(baseline))
    if unknown:
        raise WhatIfError(f"{path.name}: unknown procedure code(s) not in the catalog in "
                          f"force: {', '.join(unknown[:20])}")
    proposed = dict(baseline)
    for code, p in procedures.items():
        proposed[code] = Clock(p.reduced_amount, p.reduced_unit, p.counting_rule)
    return proposed


def write_catalog(path: Path, catalog: Catalog, reduced: Mapping[str, int], source: str) -> int:
    """Write the procedures of `reduced` at their recommended time as an import file (CSV or
    XLSX by extension), `source` as the reduced time's source; returns the rows written."""
    # A new time no longer fits the published steps (they add up to the old one): the
    # proposal carries none, and the province publishes new steps with the new time.
    procedures = [dataclasses.replace(catalog.procedure(code), reduced_amount=amount,
                                      reduced_source=source, steps=None)
                  for code, amount in sorted(reduced.items())]
    try:
        return catalog_io.write_procedures(path, procedures)
    except OSError as err:
        raise WhatIfError(f"{path}: cannot write: {err.strerror or err}") from None
