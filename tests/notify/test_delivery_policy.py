"""The delivery layer's pure parts: retry policies per destination and which destinations a
process's settings configure."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from motcua.config import Settings
from motcua.eventstore import outbox
from motcua.notify.channels import zalo_phone, zalo_templates
from motcua.notify.dispatcher import Policy, retry_policy
from motcua.notify.process import destinations, portal_configured


def test_the_webhook_keeps_its_ten_attempts() -> None:
    """The default policy (the webhook's) gives up at the tenth attempt, whatever the time."""
    policy = Policy()
    assert not policy.gives_up(9, queued_for=1e9)  # no time limit
    assert policy.gives_up(10, queued_for=0)
    assert [policy.backoff(n) for n in (1, 2, 7, 8)] == [1, 2, 60, 60]


def test_the_portal_retries_for_the_whole_period_with_a_capped_backoff() -> None:
    """No attempt limit; final only once the change has waited the retry period; the wait
    doubles from 5 s and stops growing at 30 minutes (so a day's outage costs ~60 attempts)."""
    policy = retry_policy(retry_hours=48)
    assert not policy.gives_up(10_000, queued_for=47.9 * 3600)
    assert policy.gives_up(3, queued_for=48 * 3600)
    waits = [policy.backoff(n) for n in range(1, 12)]
    assert waits[:3] == [5, 10, 20] and max(waits) == 1800 and waits[-1] == 1800
    assert policy.backoff(10**6) == 1800  # no overflow for a very long outage
    day = 0.0
    attempts = 0
    while day < 24 * 3600:
        attempts += 1
        day += policy.backoff(attempts)
    assert 40 < attempts < 80


@pytest.mark.parametrize(("env", "expected"), [
    ({}, set()),
    ({"portal_url": "http://p", "portal_token": SecretStr("")}, set()),
    ({"portal_url": "http://p", "portal_token": SecretStr("t")}, {"portal"}),
    ({"sms_url": "http://s/sms"}, {"sms"}),
    ({"smtp_host": "mail", "zalo_access_token": SecretStr("z")}, {"email", "zalo"}),
])
async def test_destinations_follow_the_settings(env: dict[str, object],
                                                expected: set[str]) -> None:
    """The portal needs both its URL and token; each notice channel its own setting; a
    notice router only when some channel is configured; every destination but the webhook
    gets the patient policy."""
    settings = Settings(**env)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        adapters, policies, routers = destinations(settings, http)
    assert set(adapters) == expected
    assert portal_configured(settings) == ("portal" in expected)
    assert len(routers) == 1 + ("portal" in expected) + bool(expected - {"portal"})
    assert set(policies) == set(outbox.DESTINATIONS) - {"webhook"}
    assert all(p.max_attempts is None for p in policies.values())


def test_zalo_wants_the_international_form_and_approved_templates() -> None:
    """A phone as typed becomes 84…; the template setting maps kinds to ids."""
    assert zalo_phone("0912 345 678") == "84912345678"
    assert zalo_phone("+84912345678") == "84912345678"
    assert zalo_templates("receipt:1, result_ready:2,bad") == {"receipt": "1",
                                                              "result_ready": "2"}
