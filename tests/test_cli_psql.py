"""`motcua psql` runs the embedded psql on DATABASE_URL, whatever the Python version in .venv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from motcua.cli.psql import DEV_URL, command
from motcua.devstack.postgres import EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[1]


def test_command_is_the_shipped_psql_on_the_dev_database_by_default() -> None:
    psql, url, *rest = command(["-c", "SELECT 1"], {})
    assert Path(psql).name == "psql" and os.access(psql, os.X_OK)
    assert url == DEV_URL == "postgresql://postgres@127.0.0.1:55432/motcua"
    assert rest == ["-c", "SELECT 1"]
    assert command([], {"DATABASE_URL": "postgresql://db/x"})[1] == "postgresql://db/x"


@pytest.mark.engine
def test_it_queries_the_database_in_database_url(postgres: EmbeddedPostgres) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "motcua.cli", "psql", "-At", "-c", "SELECT 40 + 2"],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
        env={**os.environ, "DATABASE_URL": postgres.dsn})
    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n"
