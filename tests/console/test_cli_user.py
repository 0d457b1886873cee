"""`motcua user create|disable|reset-password|list` and the `dev` user of `motcua dev`,
against the session's PostgreSQL."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from motcua.access import users
from motcua.cli.user import PASSWORD_ENV, main
from motcua.devstack.postgres import EmbeddedPostgres
from tests.conftest import UNIT

pytestmark = pytest.mark.engine


@pytest.fixture
def database(postgres: EmbeddedPostgres, pool: asyncpg.Pool,
             monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL points at the session's migrated database."""
    monkeypatch.setenv("DATABASE_URL", postgres.dsn)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return postgres.dsn


async def run(argv: list[str]) -> int:
    return await asyncio.to_thread(main, argv)


async def test_create_disable_and_reset(database: str, pool: asyncpg.Pool,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """create prints a password that logs in (stored as an argon2id hash); disable ends the
    sessions and refuses logins; reset-password prints a new one and lifts a lockout."""
    assert await run(["create", "--name", "cli-lan", "--role", "clerk,officer",
                      "--unit", UNIT, "--full-name", "Trần Thị Lan"]) == 0
    # The password is the last line (log lines may precede it when an earlier test configured
    # logging to standard output).
    password = capsys.readouterr().out.strip().splitlines()[-1]
    row = await pool.fetchrow("SELECT password_hash, roles, unit_code FROM console_users "
                              "WHERE username = 'cli-lan'")
    assert row is not None and row["password_hash"].startswith("$argon2id$")
    assert password not in row["password_hash"]
    assert sorted(row["roles"]) == ["clerk", "officer"] and row["unit_code"] == UNIT
    outcome, secret, _ = await users.login(pool, "cli-lan", password)
    assert outcome is users.Outcome.SUCCESS and secret is not None
    assert await users.session(pool, secret) is not None

    assert await run(["disable", "--name", "cli-lan"]) == 0
    assert await users.session(pool, secret) is None
    assert (await users.login(pool, "cli-lan", password))[0] is users.Outcome.DISABLED

    assert await run(["reset-password", "--name", "cli-lan"]) == 0
    fresh = capsys.readouterr().out.strip().splitlines()[-1]
    assert fresh and fresh != password
    assert (await users.login(pool, "cli-lan", fresh))[0] is users.Outcome.DISABLED
    assert (await users.login(pool, "cli-lan", password))[0] is users.Outcome.BAD_PASSWORD


async def test_refusals(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown role or unit, a kiosk without a unit or with other roles, a duplicate: exit
    status 1 and a message on stderr."""
    cases = [
        ["create", "--name", "x1", "--role", "admin"],
        ["create", "--name", "x2", "--role", "clerk", "--unit", "000.99.99.H99"],
        ["create", "--name", "x3", "--role", "kiosk"],
        ["create", "--name", "x4", "--role", "kiosk,clerk", "--unit", UNIT],
        ["disable", "--name", "nobody-here"],
    ]
    for argv in cases:
        assert await run(argv) == 1, argv
        assert "motcua user:" in capsys.readouterr().err
    assert await run(["create", "--name", "dup-user", "--role", "ops"]) == 0
    assert await run(["create", "--name", "dup-user", "--role", "ops"]) == 1
    assert "already exists" in capsys.readouterr().err


async def test_dev_user_has_every_staff_role(database: str, pool: asyncpg.Pool) -> None:
    """`motcua dev`'s user `dev`: every staff role, no unit; the kept password still works."""
    password = await users.create_dev_user(database)
    again = await users.create_dev_user(database, password)
    assert again == password
    row = await pool.fetchrow("SELECT roles, unit_code FROM console_users "
                              "WHERE username = 'dev'")
    assert row is not None and row["unit_code"] is None
    assert sorted(row["roles"]) == ["clerk", "leader", "officer", "ops"]
    assert (await users.login(pool, "dev", password))[0] is users.Outcome.SUCCESS


async def test_a_kiosk_and_a_clerk_name_their_counter(
        database: str, pool: asyncpg.Pool, capsys: pytest.CaptureFixture[str]) -> None:
    """`--counter` binds a kiosk (and a clerk) to a counter of its unit (issue 23 item 12);
    a counter without a unit is refused."""
    assert await run(["create", "--name", "cli-quay3", "--role", "kiosk", "--unit", UNIT,
                      "--counter", " 3 "]) == 0
    assert await pool.fetchval(
        "SELECT counter FROM console_users WHERE username = 'cli-quay3'") == "3"
    assert await run(["create", "--name", "cli-q-none", "--role", "clerk",
                      "--counter", "3"]) == 1
    assert "needs a unit" in capsys.readouterr().err
    assert await pool.fetchval(
        "SELECT count(*) FROM console_users WHERE username = 'cli-q-none'") == 0
