"""Settings: one validated object built at start-up from the environment (no import-time side
effects). The same code runs on the embedded dev stack and on a real cluster by these alone."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.calendar import OfficeHours
from domain.contracts import TASK_QUEUE


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MOTCUA_", extra="ignore")

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    temporal_api_key: SecretStr | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls: bool = False
    # DATABASE_URL without prefix: the name every PostgreSQL tool and host already uses.
    database_url: str = Field(
        default="postgresql://postgres@localhost:5432/motcua",
        validation_alias="DATABASE_URL")
    db_pool_min: int = 1
    db_pool_max: int = 10
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    # The notification dispatcher (`motcua dispatcher`, motcua/notify/): POSTs in flight,
    # attempts before a delivery is recorded as failed, first retry delay (doubling up to 60 s),
    # and the lease after which a delivery claimed by a process that died is tried again.
    notify_concurrency: int = 32
    notify_max_attempts: int = 10
    notify_initial_backoff: float = 1.0
    notify_lease_seconds: float = 60.0
    # The delivery layer's other destinations (issue 25; docs/portal-and-notices.md). A change
    # for the portal or a notice is retried with capped exponential backoff (first wait, cap)
    # for this many hours after it was queued before it is recorded as failed: a portal down
    # for a day loses nothing.
    delivery_retry_hours: float = Field(default=48.0, gt=0)
    delivery_initial_backoff: float = Field(default=5.0, gt=0)
    delivery_max_backoff: float = Field(default=1800.0, gt=0)
    # The national public-service portal (DVCQG): base URL of its integration services
    # (`<url>/DongBoHoSoMC`, `<url>/CapNhatTienDoHoSoMC`) and the bearer token. Both set:
    # every change the portal knows about is synchronised.
    portal_url: str | None = None
    portal_token: SecretStr | None = None
    # Citizens' notices. Generic SMS gateway: JSON {"to", "text"} POSTed here (optional bearer).
    sms_url: str | None = None
    sms_token: SecretStr | None = None
    # Zalo ZNS: the template-message endpoint, the official account's access token, and the
    # approved template id per notice kind ("receipt:123456,result_ready:123457").
    zalo_url: str = "https://business.openapi.zalo.me/message/template"
    zalo_access_token: SecretStr | None = None
    zalo_templates: str = ""
    # E-mail over SMTP (host unset: no e-mail).
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "motcua@localhost"
    # The notices' Jinja templates: this folder's files override the shipped ones by name.
    notice_templates: Path | None = None
    # Application metrics (prometheus-client) and Temporal SDK metrics need separate ports:
    # the SDK's exporter binds its own socket. 0 disables either.
    metrics_port: int = 9464
    sdk_metrics_port: int = 9465
    # The address both metrics servers bind: every interface in a cluster (Prometheus scrapes
    # the pod), loopback on the dev stack (`motcua dev` sets 127.0.0.1).
    metrics_host: str = "0.0.0.0"
    calendar_overrides: Path | None = None
    # Office sessions, local time: "07:30-11:30,13:30-17:00" (the default when unset).
    office_hours: str | None = None
    # The office time zone (IANA name); its one default is the domain's `OfficeHours.tz_name`.
    office_tz: str = OfficeHours.tz_name
    # When a day-based period ends on its last day: unset = the close of office (17:00 with the
    # default sessions), our practice; "24:00" = the Civil Code's end of day (art. 148(6)).
    # docs/legal-rules.md, "Stated choices".
    period_end: str | None = None
    procedures_file: Path | None = None
    # Seconds between two looks at the active catalog version in PostgreSQL, per process
    # (`CatalogSource`): an activation reaches the API and the workers within this time.
    catalog_refresh_seconds: float = Field(default=5.0, gt=0, le=3600)
    units_file: Path | None = None
    # Hours in a working day: fractions of a day in the catalog ("0,25 ngày làm việc") become
    # hours at it, and a step's whole days count it in office time (docs/legal-rules.md).
    working_day_hours: int = Field(default=8, ge=1, le=24)
    # Whether an early step's unused time passes to the later steps of an internal procedure
    # (no rule found, DOMAIN 9.1; `domain.steps`): off, each step has its own allowance.
    # Read at receipt: a dossier keeps the rule it was received under.
    steps_carry_over: bool = False
    # When a transferred dossier reaches the other unit (domain.transfers.Forwarding):
    # `at_once` (Bắc Ninh 1490/QĐ-UBND) or `next_morning`, after 15:00 at the start of the next
    # working day (Cao Bằng 2028/QĐ-UBND). docs/configuration.md.
    transfer_forwarding: Literal["at_once", "next_morning"] = "at_once"
    # The console's session cookie is `Secure` (HTTPS only) except on the dev stack, which
    # serves plain http://127.0.0.1 and sets MOTCUA_SECURE_COOKIES=false.
    secure_cookies: bool = True
    # A console session ends after this many minutes without a request (besides its 10-hour
    # lifetime); a page's background poll (/cap-nhat) does not count as use.
    console_idle_minutes: float = Field(default=30.0, gt=0, le=600)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto `motcua api` believes (comma-separated
    # addresses or networks, e.g. the ingress controller's pod network "10.42.0.0/16"); empty:
    # none, the TCP peer is the client. The rate limits and the login audit use that client, so
    # trusting everyone would let anyone pick their address. "*" trusts every peer (only behind
    # a proxy that overwrites the header, with nothing else able to reach the API).
    forwarded_allow_ips: str = ""
    log_level: str = "INFO"
    log_format: str = "json"  # json | console
    graceful_shutdown_seconds: float = 30.0
    # The projector, woken by a new event, waits this long so that the events arriving
    # meanwhile are projected in one batch (fewer round trips per event under load; the read
    # models lag by as much more). 0: project at once.
    projector_gather_ms: float = Field(default=50.0, ge=0, le=5000)
    # Open dossiers kept in the worker's memory (a cache miss replays the history).
    max_cached_workflows: int = 10000
    # The workflow sandbox. "off" (`UnsandboxedWorkflowRunner`): with the workflow code and
    # the domain passed through (as "shared" already did), the sandbox no longer intercepted
    # their calls, yet still cost an exec() into it for every payload converted (a quarter of
    # the worker's CPU per lifecycle; issue 13). Determinism is checked instead by a static
    # test of every line of `domain` and `workflows` (tests/domain/test_determinism_guard.py)
    # and by the replay tests, which run the strict sandbox over the recorded histories.
    # "shared": the sandbox with `workflows` passed through; "strict": the SDK default, which
    # loads the workflow code anew for every run (about twice the memory per dossier).
    workflow_sandbox: Literal["off", "shared", "strict"] = "off"
    # Security (issue 12). Base URL of the citizens' lookup page, printed in each receipt's QR
    # code (e.g. https://dichvucong.example.gov.vn; empty: a relative link).
    public_url: str = ""
    # Public lookups per client and minute in this process (set the same at the ingress).
    lookup_per_minute: float = 20.0
    # Keys encrypting Temporal payloads (payload_codec): "id:base64-32-bytes,..."; the first
    # encrypts, all decrypt (rotation). Unset: payloads are stored in clear (dev only).
    payload_keys: SecretStr | None = None
