"""`motcua dispatcher`: the delivery dispatcher as its own process (like the projector): the
webhook's alerts always, the national portal when `MOTCUA_PORTAL_URL` and
`MOTCUA_PORTAL_TOKEN` are set, the citizens' notices on the channels configured."""

from __future__ import annotations

import asyncio

import httpx
import structlog

from motcua.config import Settings
from motcua.eventstore import outbox
from motcua.health import probes, stop_on_signals
from motcua.metrics import METRICS
from motcua.notify.channels import EmailAdapter, SmsAdapter, ZaloAdapter, zalo_templates
from motcua.notify.delivery import Adapter
from motcua.notify.dispatcher import Dispatcher, Policy, retry_policy
from motcua.notify.notices import NoticeRouter
from motcua.notify.portal import PORTAL, PortalRouter
from motcua.notify.portal_http import PortalAdapter
from motcua.notify.recorder import NoticeRecorder
from motcua.payload_codec import Keyring
from motcua.runtime import calendar_for, catalog_for, create_pool
from motcua.temporal import connect

log = structlog.get_logger("motcua.notify.dispatcher")


def policy_for(settings: Settings) -> Policy:
    return Policy(concurrency=settings.notify_concurrency,
                  max_attempts=settings.notify_max_attempts,
                  initial_backoff=settings.notify_initial_backoff,
                  lease_seconds=settings.notify_lease_seconds)


def portal_configured(settings: Settings) -> bool:
    """Both the portal's URL and its token are set (the contract of issue 25)."""
    return bool(settings.portal_url and settings.portal_token
                and settings.portal_token.get_secret_value())


def destinations(settings: Settings, http: httpx.AsyncClient) -> tuple[
        dict[str, Adapter], dict[str, Policy], list[outbox.Router]]:
    """The adapters, retry policies and routers of every destination `settings` configure
    beside the webhook."""
    adapters: dict[str, Adapter] = {}
    routers: list[outbox.Router] = [outbox.alerts_router]
    if portal_configured(settings):
        assert settings.portal_url is not None and settings.portal_token is not None
        adapters[PORTAL] = PortalAdapter(http, settings.portal_url,
                                         settings.portal_token.get_secret_value())
        fields = {code: p.field for code, p in catalog_for(settings).procedures.items()}
        routers.append(PortalRouter(fields))
    keyring = Keyring.parse(settings.payload_keys.get_secret_value()) \
        if settings.payload_keys else None
    if settings.sms_url:
        adapters["sms"] = SmsAdapter(
            http, settings.sms_url,
            settings.sms_token.get_secret_value() if settings.sms_token else None,
            keyring=keyring)
    if settings.zalo_access_token:
        adapters["zalo"] = ZaloAdapter(http, settings.zalo_url,
                                       settings.zalo_access_token.get_secret_value(),
                                       zalo_templates(settings.zalo_templates), keyring=keyring)
    if settings.smtp_host:
        adapters["email"] = EmailAdapter(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_from,
            starttls=settings.smtp_starttls, user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value()
            if settings.smtp_password else None, keyring=keyring)
    if {"sms", "zalo", "email"} & set(adapters):
        routers.append(NoticeRouter(templates=settings.notice_templates,
                                    tz=calendar_for(settings).tz,
                                    public_url=settings.public_url, keyring=keyring))
    patient = retry_policy(retry_hours=settings.delivery_retry_hours,
                           max_backoff=settings.delivery_max_backoff,
                           initial_backoff=settings.delivery_initial_backoff)
    policies = {d: patient for d in outbox.DESTINATIONS if d != outbox.WEBHOOK}
    return adapters, policies, routers


async def run(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Dispatch until SIGTERM/SIGINT (or `stop`); then finish the POSTs in flight."""
    stop = stop_on_signals(stop)
    METRICS.prime_notifications()  # at 0 from the start, so rate() sees the first failures
    secret = settings.webhook_secret.get_secret_value().encode() \
        if settings.webhook_secret else None
    policy = policy_for(settings)
    pool = await create_pool(settings)
    limits = httpx.Limits(max_connections=policy.concurrency)
    try:
        async with httpx.AsyncClient(limits=limits, follow_redirects=False) as http, \
                probes(settings.metrics_port, {"postgresql": lambda: pool.fetchval("SELECT 1")},
                       settings.metrics_host):
            adapters, policies, routers = destinations(settings, http)
            log.info("dispatcher.started", metrics_port=settings.metrics_port,
                     webhook=bool(settings.webhook_url), destinations=sorted(adapters),
                     concurrency=policy.concurrency)
            # Each notice delivered becomes an event on its dossier (issue 25), through the
            # dossier's workflow while it runs: a Temporal client, connected when first needed.
            recorder = NoticeRecorder(pool, lambda: connect(settings)) \
                if {"sms", "zalo", "email"} & set(adapters) else None
            await Dispatcher(pool, http, settings.webhook_url, secret, policy,
                             adapters=adapters, policies=policies, routers=routers,
                             recorder=recorder).run(stop)
    finally:
        await pool.close()
    log.info("dispatcher.stopped")
