"""Connecting to Temporal (dev server, self-hosted cluster with mTLS, or Temporal Cloud)."""

from __future__ import annotations

import dataclasses

from temporalio.client import Client, Interceptor
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from motcua.config import Settings
from motcua.correlation import ClientInterceptor
from motcua.payload_codec import EncryptionCodec, keyring_from

_runtimes: dict[str, Runtime] = {}


def runtime_with_metrics(bind_address: str | None) -> Runtime | None:
    """A Temporal runtime exporting SDK metrics for Prometheus on `bind_address`, made once."""
    if not bind_address:
        return None
    if bind_address not in _runtimes:
        _runtimes[bind_address] = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
            bind_address=bind_address, counters_total_suffix=True, unit_suffix=True,
            durations_as_seconds=True)))
    return _runtimes[bind_address]


def data_converter(settings: Settings) -> DataConverter:
    """The default converter, with payloads encrypted when `MOTCUA_PAYLOAD_KEYS` is set (the
    worker inherits it from its client: `motcua.payload_codec`)."""
    keys = settings.payload_keys.get_secret_value() if settings.payload_keys else None
    keyring = keyring_from(keys)
    if keyring is None:
        return DataConverter.default
    return dataclasses.replace(DataConverter.default, payload_codec=EncryptionCodec(keyring))


async def connect(settings: Settings, *, runtime: Runtime | None = None,
                  interceptors: list[Interceptor] | None = None) -> Client:
    """A client for the configured namespace; TLS when certificates or an API key are set."""
    tls: TLSConfig | bool = settings.temporal_tls
    if settings.temporal_tls_cert or settings.temporal_tls_ca:
        tls = TLSConfig(
            client_cert=settings.temporal_tls_cert.read_bytes()
            if settings.temporal_tls_cert else None,
            client_private_key=settings.temporal_tls_key.read_bytes()
            if settings.temporal_tls_key else None,
            server_root_ca_cert=settings.temporal_tls_ca.read_bytes()
            if settings.temporal_tls_ca else None)
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    if api_key and tls is False:
        tls = True  # Temporal Cloud API keys are only accepted over TLS
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, api_key=api_key,
        tls=tls, runtime=runtime, data_converter=data_converter(settings),
        interceptors=[ClientInterceptor()] if interceptors is None else interceptors)
