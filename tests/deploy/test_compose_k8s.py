"""Deployment files: the Dockerfile, the compose stack and the Kubernetes manifests.

Validators: hadolint (Dockerfile lint), the Compose Specification JSON schema vendored by
check-jsonschema, Kubernetes OpenAPI-derived schemas from kubernetes-validate (strict: unknown
fields fail), minimal hand-written schemas for the Prometheus Operator CRDs. Plus the
cross-file facts no schema knows: commands exist in the CLI, ports and selectors line up,
the PrometheusRule equals the tested rules file.

Regenerate deploy/k8s/base/prometheusrule.yaml after editing the rules:
    .venv/bin/python -m tests.deploy.test_compose_k8s
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy._support import DEPLOY, RULES_FILE, require_tool, run

DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s" / "base"
PROMETHEUS_RULE = K8S / "prometheusrule.yaml"
ROOT = DEPLOY.parent

# `motcua --help` subcommands. TODO(lead): import from motcua.cli once it exposes them.
def _cli_commands() -> set[str]:
    import argparse

    from motcua.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


# The deployed commands must be commands the CLI has (read from the parser itself).
CLI_COMMANDS = _cli_commands()
# Oldest Kubernetes we promise to support, and the newest the validator knows.
K8S_VERSIONS = ["1.30.0", kubernetes_validate.utils.latest_version()]
WORKER_GRACEFUL_SHUTDOWN_S = 30


# ---------------------------------------------------------------- Dockerfile

def _stages() -> list[list[str]]:
    """Dockerfile instructions (continuations joined, comments dropped) grouped by stage."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def _instruction(stage: list[str], name: str) -> list[str]:
    return [line[len(name) + 1:].strip() for line in stage if line.upper().startswith(name + " ")]


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(hadolint).exists():
        require_tool("hadolint")  # skips locally, fails in CI
    run([hadolint, str(DOCKERFILE)])


def test_dockerfile_final_stage_is_small_and_unprivileged() -> None:
    stages = _stages()
    assert len(stages) >= 2, "multi-stage build expected"
    final = stages[-1]
    user = _instruction(final, "USER")
    assert user and user[-1].split(":")[0] not in {"root", "0"}, user
    runs = " ".join(_instruction(final, "RUN"))
    for tool in ("build-essential", "gcc", "pip install"):
        assert tool not in runs, f"final stage runs {tool!r}"
    assert json.loads(_instruction(final, "ENTRYPOINT")[-1]) == ["motcua"]
    assert json.loads(_instruction(final, "CMD")[-1]) == ["worker"]


def test_dockerfile_copies_every_package_pyproject_installs() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    wanted = {p.rstrip("*") for p in project["packages"]["find"]["include"]}
    wanted |= {f"{m}.py" for m in project.get("py-modules", [])}
    copied = {src for stage in _stages() for line in _instruction(stage, "COPY")
              if not line.startswith("--from") for src in line.split()[:-1]}
    assert wanted <= copied, f"Dockerfile does not COPY {wanted - copied}"


# ---------------------------------------------------------------- compose

def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def _motcua_services() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _compose()["services"].items()
            if s.get("image", "").startswith("motcua")}


def test_compose_matches_the_compose_specification() -> None:
    run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(COMPOSE)])


def test_compose_dependencies_health_and_files() -> None:
    services = _compose()["services"]
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"
            if cond["condition"] == "service_completed_successfully":
                assert services[dep].get("restart") == "no", f"{dep} is a one-shot"
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    for name in ("worker", "api", "projector", "dispatcher", "db", "temporal", "prometheus",
                 "alertmanager", "grafana", "temporal-ui", "temporal-setup", "migrate"):
        assert name in services, name
    assert services["worker"]["stop_grace_period"] == f"{2 * WORKER_GRACEFUL_SHUTDOWN_S}s"


def test_compose_variables_are_in_the_env_example() -> None:
    example = {line.split("=", 1)[0] for line in ENV_EXAMPLE.read_text().splitlines()
               if line and not line.startswith("#")}
    text = COMPOSE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    assert used <= example, f"missing from .env.example: {used - example}"
    assert ".env" in _compose()["x-motcua"]["env_file"]
    assert "change-me" in ENV_EXAMPLE.read_text()  # placeholders, never real secrets


def test_compose_prometheus_scrapes_what_services_serve() -> None:
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {t for job in prom["scrape_configs"] for sc in job.get("static_configs", [])
               for t in sc["targets"]}
    env = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
               if line and not line.startswith("#"))
    assert f"worker:{env['MOTCUA_METRICS_PORT']}" in targets
    assert f"worker:{env['MOTCUA_SDK_METRICS_PORT']}" in targets
    assert f"projector:{env['MOTCUA_METRICS_PORT']}" in targets
    assert f"dispatcher:{env['MOTCUA_METRICS_PORT']}" in targets
    assert "api:8080" in targets


# ---------------------------------------------------------------- kubernetes

def _k8s_docs() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for _, d in _k8s_docs() if d["kind"] == kind]


_OBJECT_META = {"type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}, "labels": {"type": "object"}}}
# The few fields of the Prometheus Operator CRDs we use (their full schemas are not vendored).
CRD_SCHEMAS: dict[str, dict[str, Any]] = {
    "ServiceMonitor": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "metadata": _OBJECT_META,
            "spec": {"type": "object", "required": ["selector", "endpoints"],
                     "additionalProperties": False, "properties": {
                         "selector": {"type": "object"},
                         "endpoints": {"type": "array", "minItems": 1, "items": {
                             "type": "object", "required": ["port"],
                             "additionalProperties": False, "properties": {
                                 "port": {"type": "string"}, "path": {"type": "string"},
                                 "interval": {"type": "string", "pattern": "^[0-9]+[smh]$"},
                                 "honorLabels": {"type": "boolean"},
                                 "relabelings": {"type": "array", "items": {
                                     "type": "object", "additionalProperties": False,
                                     "properties": {
                                         "sourceLabels": {"type": "array"},
                                         "targetLabel": {"type": "string"},
                                         "replacement": {"type": "string"},
                                         "regex": {"type": "string"},
                                         "action": {"enum": ["replace", "keep", "drop",
                                                            "labelmap", "labeldrop"]}}}}}}}}},
        },
    },
    "PrometheusRule": {
        "type": "object", "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "metadata": _OBJECT_META,
            "spec": {"type": "object", "required": ["groups"], "properties": {
                "groups": {"type": "array", "items": {
                    "type": "object", "required": ["name", "rules"], "properties": {
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["expr"],
                            "oneOf": [{"required": ["alert"]}, {"required": ["record"]}]}}}}}}},
        },
    },
}


def _validate_k8s(filename: str, doc: dict[str, Any]) -> None:
    if doc["kind"] in CRD_SCHEMAS:
        jsonschema.validate(doc, CRD_SCHEMAS[doc["kind"]])
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            path = ".".join(str(p) for p in e.path)
            pytest.fail(f"{filename} {doc['kind']}/{doc['metadata']['name']} "
                        f"(k8s {version}) at {path}: {e.message}")


@pytest.mark.parametrize(("filename", "doc"), _k8s_docs(),
                         ids=[f"{f}:{d['kind']}/{d['metadata']['name']}" for f, d in _k8s_docs()])
def test_manifest_matches_kubernetes_schema(filename: str, doc: dict[str, Any]) -> None:
    _validate_k8s(filename, doc)


def test_kustomization_lists_exactly_the_manifests() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present, f"listed {listed - present or ''}, unlisted {present - listed or ''}"
    images = {i["name"] for i in kustomization["images"]}
    for dep in _of_kind("Deployment") + _of_kind("Job"):
        for c in dep["spec"]["template"]["spec"]["containers"]:
            assert c["image"] in images, f"{c['image']} is not rewritten by kustomize"


def test_workloads_have_probes_resources_and_a_long_enough_grace_period() -> None:
    deployments = {d["metadata"]["name"]: d for d in _of_kind("Deployment")}
    assert set(deployments) == {"motcua-worker", "motcua-api", "motcua-projector",
                                "motcua-dispatcher"}
    for name, dep in deployments.items():
        pod = dep["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] >= 2 * WORKER_GRACEFUL_SHUTDOWN_S, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for c in pod["containers"]:
            assert c["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert c["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert {"cpu", "memory"} <= set(c["resources"]["requests"]), name
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_selectors_ports_and_scale_targets_line_up() -> None:
    deployments = _of_kind("Deployment")
    pod_labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments]
    for pdb in _of_kind("PodDisruptionBudget"):
        assert any(_matches(pdb["spec"]["selector"]["matchLabels"], lb) for lb in pod_labels)
    names = {d["metadata"]["name"] for d in deployments}
    for hpa in _of_kind("HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] in names
    worker_hpa = next(h for h in _of_kind("HorizontalPodAutoscaler")
                      if h["spec"]["scaleTargetRef"]["name"] == "motcua-worker")
    assert worker_hpa["spec"]["metrics"][0]["type"] in {"External", "Pods", "Object"}
    service_ports: set[str] = set()
    for svc in _of_kind("Service"):
        assert any(_matches(svc["spec"]["selector"], lb) for lb in pod_labels), svc
        service_ports |= {p["name"] for p in svc["spec"]["ports"]}
        container_ports = {p["name"] for d in deployments
                           if _matches(svc["spec"]["selector"],
                                       d["spec"]["template"]["metadata"]["labels"])
                           for c in d["spec"]["template"]["spec"]["containers"]
                           for p in c.get("ports", [])}
        for port in svc["spec"]["ports"]:
            assert port["targetPort"] in container_ports, (svc["metadata"]["name"], port)
    for sm in _of_kind("ServiceMonitor"):
        for endpoint in sm["spec"]["endpoints"]:
            assert endpoint["port"] in service_ports, endpoint


def expected_prometheus_rule() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "motcua", "labels": {"release": "prometheus"}},
        "spec": {"groups": yaml.safe_load(RULES_FILE.read_text())["groups"]},
    }


def test_prometheus_rule_equals_the_tested_rules_file() -> None:
    assert yaml.safe_load(PROMETHEUS_RULE.read_text()) == expected_prometheus_rule(), (
        "deploy/k8s/base/prometheusrule.yaml is stale: "
        "run .venv/bin/python -m tests.deploy.test_compose_k8s")


# ---------------------------------------------------------------- entrypoint commands

def _image_argvs() -> list[tuple[str, list[str]]]:
    """(where, argv after `motcua`) for every place that starts the motcua image."""
    out = [("Dockerfile CMD", json.loads(_instruction(_stages()[-1], "CMD")[-1]))]
    out += [(f"compose {n}", s["command"]) for n, s in _motcua_services().items()]
    for dep in _of_kind("Deployment") + _of_kind("Job"):
        for c in dep["spec"]["template"]["spec"]["containers"]:
            if c["image"] == "motcua":
                assert "command" not in c, "keep the image ENTRYPOINT (motcua)"
                out.append((f"k8s {dep['metadata']['name']}", c["args"]))
    return out


def _image_commands() -> list[tuple[str, str]]:
    return [(where, argv[0]) for where, argv in _image_argvs()]


def test_every_entrypoint_command_is_a_cli_subcommand() -> None:
    commands = _image_commands()
    assert {c for _, c in commands} >= {"worker", "api", "projector", "dispatcher", "migrate"}
    for where, command in commands:
        assert command in CLI_COMMANDS, f"{where}: `motcua {command}` is not a CLI command"


def test_every_entrypoint_argv_parses() -> None:
    """The whole argument list, e.g. `api --host 0.0.0.0 --port 8080`, not only its verb."""
    from motcua.cli import build_parser

    for where, argv in _image_argvs():
        try:
            build_parser().parse_args(argv)
        except SystemExit:
            pytest.fail(f"{where}: `motcua {' '.join(argv)}` is rejected by the CLI")


def test_cli_help_lists_the_commands_we_deploy() -> None:
    motcua = Path(sys.executable).parent / "motcua"
    # `make test` installs the package (pip install -e), so the console script is always there.
    assert motcua.exists(), "motcua console script not installed: run `make test`"
    proc = subprocess.run([str(motcua), "--help"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    for _, command in _image_commands():
        assert re.search(rf"\b{command}\b", proc.stdout), f"`motcua --help` lacks {command}"


def _literal_blocks(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def write_prometheus_rule() -> None:
    yaml.add_representer(str, _literal_blocks, Dumper=yaml.SafeDumper)
    header = ("# GENERATED from deploy/prometheus/rules/motcua.rules.yml by\n"
              "#   .venv/bin/python -m tests.deploy.test_compose_k8s\n"
              "# Do not edit; tests/deploy/test_compose_k8s.py fails when it is stale.\n")
    body = yaml.safe_dump(expected_prometheus_rule(), sort_keys=False, allow_unicode=True,
                          width=100)
    PROMETHEUS_RULE.write_text(header + body)


if __name__ == "__main__":
    write_prometheus_rule()
