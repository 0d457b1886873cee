"""`/v1/procedures` and `/v1/units`: the catalog the API validates receipts against."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.catalog import Procedure, Unit
from motcua.api import problems
from motcua.api.auth import Reader
from motcua.api.resources import ResourcesDep

router = APIRouter(prefix="/v1", tags=["catalog"])


class Duration(BaseModel):
    """A processing time in its own unit."""

    amount: int = Field(examples=[3])
    unit: str = Field(examples=["working_days"])


class ProcedureView(BaseModel):
    """An administrative procedure and its processing times."""

    code: str = Field(examples=["1.001193"])
    name: str = Field(examples=["Thủ tục đăng ký khai sinh"])
    level: str = Field(examples=["commune"])
    prescribed: Duration
    reduced: Duration = Field(description="The time the province applies (the due time): "
                              "the published reduced time, else the prescribed time.")
    reduced_is_estimate: bool = Field(default=False, description="Always false: estimates "
                                      "no longer reach a due time (issue 11).")
    source: str = Field(description="The legal text of the prescribed time.")
    field: str = Field(default="", description="Lĩnh vực (field) of the procedure.")
    reduced_source: str = Field(default="", description="The decision that published the "
                                "reduced time; empty when the prescribed time applies.")
    replaced_by: str | None = Field(default=None, description="For a code a decree retired: "
                                    "the code new dossiers use.")


class UnitView(BaseModel):
    """A receiving unit."""

    code: str = Field(examples=["000.21.39.H39"])
    name: str
    level: str
    province: str
    valid_from: date | None
    valid_to: date | None


class CatalogList(BaseModel):
    """A catalog listing with the catalog version recorded in deadline events."""

    version: str


class ProcedureList(CatalogList):
    items: list[ProcedureView]


class UnitList(CatalogList):
    items: list[UnitView]


def _procedure(p: Procedure) -> ProcedureView:
    return ProcedureView(
        code=p.code, name=p.name, level=p.level,
        prescribed=Duration(amount=p.prescribed_amount, unit=p.prescribed_unit.value),
        reduced=Duration(amount=p.reduced_amount, unit=p.reduced_unit.value),
        source=p.source, field=p.field, reduced_source=p.reduced_source,
        replaced_by=p.replaced_by)


def _unit(u: Unit) -> UnitView:
    return UnitView(code=u.code, name=u.name, level=u.level, province=u.province,
                    valid_from=u.valid_from, valid_to=u.valid_to)


@router.get("/procedures", response_model=ProcedureList, operation_id="listProcedures",
            summary="The procedure catalog", responses=problems.responses(401, 403, 503))
async def list_procedures(principal: Reader, resources: ResourcesDep) -> ProcedureList:
    """Every procedure, by code."""
    catalog = resources.catalog
    return ProcedureList(version=catalog.version, items=[
        _procedure(catalog.procedures[c]) for c in sorted(catalog.procedures)])


@router.get("/units", response_model=UnitList, operation_id="listUnits",
            summary="The receiving units", responses=problems.responses(401, 403, 503))
async def list_units(principal: Reader, resources: ResourcesDep) -> UnitList:
    """Every receiving unit, by code (with the dates it accepts dossiers)."""
    catalog = resources.catalog
    return UnitList(version=catalog.version,
                    items=[_unit(catalog.units[c]) for c in sorted(catalog.units)])
