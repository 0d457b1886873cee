"""`/v1/procedures` and `/v1/units`: the catalog the API validates receipts against."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel, Field

from domain.catalog import Procedure, Step, Unit
from motcua.api import problems
from motcua.api.auth import Reader
from motcua.api.resources import ResourcesDep
from motcua.problems import NOT_FOUND, Problem

router = APIRouter(prefix="/v1", tags=["catalog"])


class Duration(BaseModel):
    """A processing time in its own unit."""

    amount: int = Field(examples=[3])
    unit: str = Field(examples=["working_days"])


class StepView(BaseModel):
    """One step of the province's internal procedure (quy trình nội bộ), as published."""

    name: str = Field(examples=["Phân công thụ lý hồ sơ"])
    role: str = Field(examples=["leader"], description="clerk, officer, leader or "
                      "records_clerk (văn thư).")
    actor: str = Field(description="The actor as the decision prints it.")
    unit_code: str | None = Field(default=None, description="Another unit's code for a step "
                                  "of that unit (liên thông); null: the receiving unit.")
    allowance: Duration | None = Field(description="The step's own time (working_days or "
                                       "working_hours); null for a step the decision leaves "
                                       "untimed.")
    untimed: str = Field(default="", description="The decision's words for an untimed "
                         "step, e.g. \"Không tính thời gian\".")
    produces: str = Field(default="", description="The paper the step produces, if named.")
    source: str = Field(description="The decision, annex and step it was read from.")


class FeeView(BaseModel):
    """A procedure's fee (phí, lệ phí) as its legal text sets it."""

    amount: int = Field(description="In VND (no minor unit); 0: the text exempts it.",
                        examples=[50000])
    source: str = Field(description="The legal text (and article) that sets the fee.")


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
    steps: list[StepView] | None = Field(default=None, description="The internal procedure "
                                         "in order, each step with its own allowance; null: "
                                         "none published (one assignee, one due time).")
    steps_version: str | None = Field(default=None, description="The text that approved the "
                                      "steps.")
    fee: FeeView | None = Field(default=None, description="The fee collected at the counter "
                                "(issue 22 item 4); null: none recorded in the catalog.")
    digitise_before_assign: bool = Field(
        default=False, description="Every paper listed on a dossier must be scanned before it "
        "is assigned (issue 26; Decree 118/2025 art. 17(1)(c)); assign answers 409 "
        "`digitisation-required` naming the missing ones.")


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


def _step(s: Step) -> StepView:
    return StepView(
        name=s.name, role=s.role.value, actor=s.actor, unit_code=s.unit_code or None,
        allowance=None if s.allowance is None else Duration(amount=s.allowance.amount,
                                                            unit=s.allowance.unit.value),
        untimed=s.untimed, produces=s.produces, source=s.source)


def _procedure(p: Procedure) -> ProcedureView:
    return ProcedureView(
        code=p.code, name=p.name, level=p.level,
        prescribed=Duration(amount=p.prescribed_amount, unit=p.prescribed_unit.value),
        reduced=Duration(amount=p.reduced_amount, unit=p.reduced_unit.value),
        source=p.source, field=p.field, reduced_source=p.reduced_source,
        replaced_by=p.replaced_by,
        steps=None if p.steps is None else [_step(s) for s in p.steps.steps],
        steps_version=None if p.steps is None else p.steps.version,
        fee=None if p.fee is None else FeeView(amount=p.fee.amount, source=p.fee.source),
        digitise_before_assign=p.digitise_before_assign)


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


# The parameter is not called `code`: `auth.require` reads a path's `code` as a dossier code.
@router.get("/procedures/{procedure_code}", response_model=ProcedureView,
            operation_id="getProcedure", summary="One procedure",
            responses=problems.responses(401, 403, 404, 503))
async def get_procedure(procedure_code: str, principal: Reader,
                        resources: ResourcesDep) -> ProcedureView:
    """The procedure with this code, with its internal procedure's steps if published."""
    proc = resources.catalog.procedures.get(procedure_code)
    if proc is None:
        raise Problem(NOT_FOUND,
                               f"no procedure with code {procedure_code!r}")
    return _procedure(proc)


@router.get("/units", response_model=UnitList, operation_id="listUnits",
            summary="The receiving units", responses=problems.responses(401, 403, 503))
async def list_units(principal: Reader, resources: ResourcesDep) -> UnitList:
    """Every receiving unit, by code (with the dates it accepts dossiers)."""
    catalog = resources.catalog
    return UnitList(version=catalog.version,
                    items=[_unit(catalog.units[c]) for c in sorted(catalog.units)])
