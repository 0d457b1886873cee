"""The SLA report as users get it: CSV, `motcua report` and `GET /v1/reports/sla` (roles, unit
scope, formats, problems), on the dossiers of `tests/report_data.py`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import httpx
import pytest

from motcua.access.tokens import create_token
from motcua.api.routes import reports as reports_route
from motcua.app import create_app
from motcua.cli import report as cli_report
from motcua.config import Settings
from motcua.devstack.postgres import EmbeddedPostgres
from motcua.reports.sla import COLUMNS, DEFINITION_VERSION, sla_report, to_csv
from tests.report_data import NOW, PROCS, UNITS, Hand, data

__all__ = ["data"]  # the module-scoped fixture (its appends are idempotent)

FROM, TO = date(2021, 2, 15), date(2021, 3, 14)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


async def test_csv_has_a_line_per_group_then_the_totals(pool: asyncpg.Pool,
                                                        data: dict[str, Hand]) -> None:
    """The CSV carries the header, one `group` line per row and a `total` line, with the same
    values as the JSON and the definition's version on each line."""
    report = await sla_report(pool, period_start=FROM, period_end=TO, unit=UNITS[0],
                              group_by=("procedure",), as_of=NOW)
    lines = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert [line["scope"] for line in lines] == ["group"] * len(report.rows) + ["total"]
    assert len(report.rows) == 2
    for line, row in zip(lines, [*report.rows, report.totals], strict=True):
        assert {c: line[c] for c in COLUMNS} == {c: _cell(v) for c, v in row.as_dict().items()}
        assert line["period_from"] == "2021-02-15"
        assert line["definition_version"] == DEFINITION_VERSION
    ungrouped = await sla_report(pool, period_start=FROM, period_end=TO, unit=UNITS[0])
    assert [line["scope"] for line in csv.DictReader(io.StringIO(to_csv(ungrouped)))] == [
        "total"]


async def test_cli_prints_json_or_csv_and_refuses_bad_dates(
        pool: asyncpg.Pool, postgres: EmbeddedPostgres, data: dict[str, Hand],
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`motcua report` prints the report (JSON by default, CSV on request) read from
    DATABASE_URL, and a bad date is one line on stderr with exit status 2."""
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    args = ["--from", "2021-01-01", "--to", "2021-03-31", "--unit", UNITS[1], "--by",
            "procedure"]
    assert await asyncio.to_thread(cli_report.main, args) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = await sla_report(pool, period_start=date(2021, 1, 1),
                                period_end=date(2021, 3, 31), unit=UNITS[1],
                                group_by=("procedure",))
    assert printed == expected.as_dict()
    assert printed["definition"]["version"] == DEFINITION_VERSION
    assert await asyncio.to_thread(cli_report.main, [*args, "--format", "csv"]) == 0
    assert capsys.readouterr().out == to_csv(expected)
    assert await asyncio.to_thread(cli_report.main, ["--from", "2021-02-30", "--to", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("motcua report: error:") and len(err.splitlines()) == 1


@pytest.fixture
async def http(pool: asyncpg.Pool, postgres: EmbeddedPostgres) -> AsyncIterator[httpx.AsyncClient]:
    """The API app (which includes the reports router itself)."""
    app = create_app(Settings(DATABASE_URL=postgres.dsn), pool=pool)  # type: ignore[call-arg]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        yield client


async def _token(pool: asyncpg.Pool, role: str, unit: str | None = None) -> dict[str, str]:
    secret = await create_token(pool, name=f"rep-{role}-{uuid.uuid4().hex[:8]}", roles=[role],
                                unit_code=unit)
    return {"Authorization": f"Bearer {secret}"}


async def test_http_report_roles_scope_and_formats(pool: asyncpg.Pool, data: dict[str, Hand],
                                                   http: httpx.AsyncClient) -> None:
    """`ops` sees every unit, a unit-scoped `leader` only its own (another unit is 403), a
    clerk is refused; the JSON follows the documented schema, and `format=csv` gives CSV."""
    url, query = "/v1/reports/sla", {"from": "2021-02-15", "to": "2021-03-14", "by": "unit"}
    ops, leader = await _token(pool, "ops"), await _token(pool, "leader", UNITS[1])
    response = await http.get(url, params=query, headers=ops)
    assert response.status_code == 200, response.text
    body = reports_route.SlaReport.model_validate(response.json())
    assert {r.unit_code for r in body.rows} >= set(UNITS)
    expected = await sla_report(pool, period_start=FROM, period_end=TO, group_by=("unit",))
    assert response.json()["rows"] == expected.as_dict()["rows"]
    scoped = (await http.get(url, params=query, headers=leader)).json()
    mine = await sla_report(pool, period_start=FROM, period_end=TO, unit=UNITS[1],
                            group_by=("unit",))
    assert [r["unit_code"] for r in scoped["rows"]] == [UNITS[1]]
    assert scoped["totals"] == mine.as_dict()["totals"]
    other = await http.get(url, params={**query, "unit": UNITS[0]}, headers=leader)
    assert other.status_code == 403 and other.json()["field"] == "unit"
    assert (await http.get(url, params=query, headers=await _token(pool, "clerk"))
            ).status_code == 403
    assert (await http.get(url, params=query)).status_code == 401
    as_csv = await http.get(url, params={**query, "format": "csv", "procedure": PROCS[0]},
                            headers=ops)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[-1].startswith("total,2021-02-15,2021-03-14,")


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2021-03-01", "to": "2021-02-01"}, "to"),
    ({"from": "1999-12-31", "to": "2021-02-01"}, "from"),
    ({"from": "2021-02-30", "to": "2021-03-01"}, "from"),
    ({"from": "2021-01-01", "to": "2021-02-01", "by": "officer"}, "by"),
    ({"from": "2021-01-01", "to": "2021-02-01", "format": "xlsx"}, "format"),
    ({"to": "2021-02-01"}, "from"),
])
async def test_http_bad_input_is_a_422_problem(pool: asyncpg.Pool, http: httpx.AsyncClient,
                                               query: dict[str, str], field: str) -> None:
    """Bad dates, an unknown grouping or format are 422 problems naming the parameter."""
    response = await http.get("/v1/reports/sla", params=query, headers=await _token(pool, "ops"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field


async def test_openapi_documents_json_and_csv(http: httpx.AsyncClient) -> None:
    """The OpenAPI document lists the report with both media types and its problems."""
    doc = (await http.get("/openapi.json")).json()
    responses = doc["paths"]["/v1/reports/sla"]["get"]["responses"]
    assert set(responses["200"]["content"]) == {"application/json", "text/csv"}
    assert {"401", "403", "422", "503"} <= set(responses)
