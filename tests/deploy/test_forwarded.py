"""Issue 24, point 2: the deployed API believes X-Forwarded-For only from its ingress."""

from __future__ import annotations

import ipaddress

from motcua.cli.app import proxy_options
from motcua.config import Settings
from tests.deploy.test_compose_k8s import ENV_EXAMPLE, _compose, _of_kind


def _networks(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()]


def test_k8s_api_trusts_only_the_ingress_network() -> None:
    """The API Deployment names the proxies it believes: networks, never "*" or nothing, and
    `motcua api` hands exactly those to uvicorn."""
    api = next(d for d in _of_kind("Deployment") if d["metadata"]["name"] == "motcua-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container.get("env", [])}
    value = env["MOTCUA_FORWARDED_ALLOW_IPS"]
    assert "*" not in value
    networks = _networks(value)
    assert networks and all(n.is_private for n in networks), value
    options = proxy_options(Settings(forwarded_allow_ips=value))
    assert options == {"proxy_headers": True, "forwarded_allow_ips": [str(n) for n in networks]}


def test_compose_api_is_published_directly_and_trusts_no_proxy() -> None:
    """compose publishes the API itself: the example environment trusts no proxy, and the
    API service gets the example's value through the shared env_file."""
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line and not line.startswith("#"))
    assert example["MOTCUA_FORWARDED_ALLOW_IPS"] == ""
    api = _compose()["services"]["api"]
    assert "8080:8080" in api["ports"]
    assert "MOTCUA_FORWARDED_ALLOW_IPS" not in (api.get("environment") or {})
    assert proxy_options(Settings(forwarded_allow_ips="")) == {
        "proxy_headers": False, "forwarded_allow_ips": []}
