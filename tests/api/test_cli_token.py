"""`motcua token create|revoke|list` against the session's PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest

from motcua.access.tokens import create_dev_token, hash_token
from motcua.cli.token import main
from motcua.devstack.postgres import EmbeddedPostgres
from tests.api.conftest import bearer
from tests.conftest import UNIT

pytestmark = pytest.mark.engine


@pytest.fixture
def database(postgres: EmbeddedPostgres, pool: asyncpg.Pool,
             monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL points at the session's migrated database."""
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    return postgres.dsn


async def run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)


async def test_create_prints_a_working_token_stored_as_hash(
        database: str, pool: asyncpg.Pool, http: httpx.AsyncClient,
        capsys: pytest.CaptureFixture[str]) -> None:
    """create prints only the token; the database holds its sha256, and the API accepts it."""
    assert await run(["create", "--name", "cli-clerk", "--role", "clerk,officer",
                      "--unit", UNIT]) == 0
    token = capsys.readouterr().out.strip()
    row = await pool.fetchrow("SELECT token_hash, roles, unit_code FROM api_tokens "
                              "WHERE name = 'cli-clerk'")
    assert row is not None
    assert row["token_hash"] == hash_token(token) and token not in row["token_hash"]
    assert sorted(row["roles"]) == ["clerk", "officer"] and row["unit_code"] == UNIT
    assert (await http.get("/v1/units", headers=bearer(token))).status_code == 200


async def test_revoke_takes_effect_at_once(database: str, http: httpx.AsyncClient,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """revoke makes the token answer 401; revoking again is an error."""
    assert await run(["create", "--name", "cli-gone", "--role", "ops"]) == 0
    token = capsys.readouterr().out.strip()
    assert await run(["revoke", "--name", "cli-gone"]) == 0
    assert (await http.get("/v1/units", headers=bearer(token))).status_code == 401
    assert await run(["revoke", "--name", "cli-gone"]) == 1
    assert await run(["list"]) == 0
    assert "cli-gone\tops\t*" in capsys.readouterr().out


async def test_bad_requests_fail_cleanly(database: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown role, unknown unit and a duplicate name exit 1 with a message."""
    assert await run(["create", "--name", "cli-x", "--role", "king"]) == 1
    assert await run(["create", "--name", "cli-x", "--role", "ops", "--unit", "1.2.3"]) == 1
    assert await run(["create", "--name", "cli-dup", "--role", "ops"]) == 0
    assert await run(["create", "--name", "cli-dup", "--role", "ops"]) == 1
    err = capsys.readouterr().err
    assert "roles must be among" in err and "unknown unit" in err and "already exists" in err


async def test_dev_token_has_every_role_and_is_replaced(database: str,
                                                        pool: asyncpg.Pool) -> None:
    """create_dev_token makes `dev` with all roles; calling it again replaces the secret."""
    first = await create_dev_token(database)
    second = await create_dev_token(database)
    row = await pool.fetchrow("SELECT token_hash, roles, unit_code FROM api_tokens "
                              "WHERE name = 'dev'")
    assert row is not None
    assert row["token_hash"] == hash_token(second) != hash_token(first)
    assert sorted(row["roles"]) == ["clerk", "leader", "officer", "ops"]
    assert row["unit_code"] is None
