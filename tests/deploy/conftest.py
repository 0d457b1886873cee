"""Fixtures for the deploy tests: the external validators, skipped locally when missing."""

from __future__ import annotations

import pytest

from tests.deploy._support import require_tool


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_tool("promtool")


@pytest.fixture(scope="session")
def amtool() -> str:
    return require_tool("amtool")
