"""Process set-up shared by every entry point (`motcua.runtime`): the office time zone has one
source, the settings, through the calendar; the pool factory retries, then names the failure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from domain.calendar import OfficeHours
from motcua.config import Settings
from motcua.devstack.procs import free_port
from motcua.documents.timefmt import vn_time
from motcua.eventstore.reporting import office_day
from motcua.reports.sla import definition
from motcua.runtime import calendar_for, create_pool


def test_the_office_zone_comes_from_the_settings_through_the_calendar() -> None:
    default = calendar_for(Settings())
    assert default.hours.tz_name == OfficeHours.tz_name == Settings().office_tz
    bangkok = calendar_for(Settings(office_tz="Asia/Bangkok", office_hours="08:00-16:00"))
    assert bangkok.hours.tz_name == "Asia/Bangkok" and str(bangkok.tz) == "Asia/Bangkok"
    assert bangkok.hours.sessions == ((time(8), time(16)),)
    assert bangkok.version != default.version  # the zone is part of what the version hashes
    with pytest.raises(ValueError, match="unknown time zone"):
        calendar_for(Settings(office_tz="Mars/Olympus"))


def test_consumers_use_the_zone_they_are_given() -> None:
    """Report dates, documents and the report definition follow the calendar's zone."""
    tz = calendar_for(Settings(office_tz="America/New_York")).tz
    at = datetime(2025, 4, 12, 2, 30, tzinfo=UTC)  # 12 April in Hà Nội, 11 April in New York
    assert office_day(at, tz).isoformat() == "2025-04-11"
    assert vn_time(at, tz) == "22 giờ 30 phút, ngày 11 tháng 4 năm 2025"
    assert vn_time(at) == "09 giờ 30 phút, ngày 12 tháng 4 năm 2025"  # the default zone
    assert definition(str(tz))["timezone"] == "America/New_York"


async def test_create_pool_retries_then_names_the_failure() -> None:
    settings = Settings(database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    with pytest.raises(ConnectionError, match=r"after 2 attempt\(s\)"):
        await create_pool(settings, attempts=2, delay=0.01)


# The API's and the worker's pools skip asyncpg's session reset on release
# (`create_pool(reset_session=False)`): safe only while no code those processes run leaves
# session state on a pooled connection. The projector and dispatcher LISTEN (full reset kept);
# migrations run on their own connections.
_KEEPS_FULL_RESET = {"motcua/eventstore/projector.py", "motcua/notify/dispatcher.py",
                     "motcua/notify/process.py", "motcua/eventstore/process.py",
                     "motcua/eventstore/migrate.py"}
_SESSION_STATE = re.compile(
    r"add_listener\(|['\"]\s*LISTEN\s|pg_advisory_lock\(|pg_try_advisory_lock\(|"
    r"execute\(\s*f?['\"]\s*SET\s+(?!LOCAL\b)(?:SESSION\s+)?[a-z_.]+\s*(?:=|TO\b)",
    re.IGNORECASE)


def session_state_uses(text: str) -> list[str]:
    return [m.group(0) for m in _SESSION_STATE.finditer(text)]


def test_no_session_state_on_connections_released_without_reset() -> None:
    root = Path(__file__).resolve().parents[1]
    files = [root / "worker.py", *sorted((root / "activities").rglob("*.py")),
             *sorted((root / "motcua").rglob("*.py"))]
    found = {str(p.relative_to(root)): uses for p in files
             if str(p.relative_to(root)) not in _KEEPS_FULL_RESET
             and (uses := session_state_uses(p.read_text(encoding="utf-8")))}
    assert found == {}
    # The check can fail: each kind of session state in a sample is found, SET LOCAL is not.
    sample = ('await conn.add_listener("x", f)\nawait conn.execute("LISTEN motcua")\n'
              'await conn.execute("SELECT pg_advisory_lock(1)")\n'
              'await conn.execute("SET work_mem = \'1GB\'")\n'
              'await conn.execute("SET LOCAL work_mem = \'1GB\'")\n'
              '"UPDATE t SET state = excluded.state"')
    assert len(session_state_uses(sample)) == 4
