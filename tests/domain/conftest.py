"""Shared fixtures for the pure-domain tests: one real calendar, loaded once."""

from __future__ import annotations

import pytest

from domain.calendar import Calendar
from motcua.catalog.calendar import load_calendar


@pytest.fixture(scope="session")
def cal() -> Calendar:
    """The shipped calendar (holidays VN + shipped overrides), 2020-2035."""
    return load_calendar()
