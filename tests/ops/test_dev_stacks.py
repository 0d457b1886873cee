"""Issue 24, point 11: two `motcua dev` stacks on one machine at once, each with its own data
folder and ports; their metrics and probes listen on loopback only; a taken port is one line
before anything starts."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from motcua.devstack.procs import free_ports

pytestmark = pytest.mark.engine

READY = "motcua dev is ready"
METRICS = re.compile(r"worker :(\d+), Temporal SDK :(\d+), projector :(\d+), dispatcher :(\d+)")


def _listening_addresses(port: int) -> set[str]:
    """The local addresses (hex, as in /proc/net/tcp{,6}) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.rsplit(":", 1)
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    found.add(address)
    return found


class DevStack:
    """`motcua dev` as a child, its output in a file."""

    def __init__(self, data_dir: Path, extra: list[str] | None = None) -> None:
        api, temporal, ui, pg = free_ports(4)
        self.api_port = api
        self.out = data_dir.parent / f"{data_dir.name}.out"
        self.args = [sys.executable, "-m", "motcua.cli", "dev", "--data-dir", str(data_dir),
                     "--port", str(api), "--temporal-port", str(temporal),
                     "--temporal-ui-port", str(ui), "--pg-port", str(pg), *(extra or [])]
        with self.out.open("wb") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True,
                                         env={**os.environ, "MOTCUA_LOG_FORMAT": "console"})

    def text(self) -> str:
        return self.out.read_text(errors="replace")

    def wait_ready(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if READY in text:
                time.sleep(0.5)  # the rest of the banner
                return self.text()
            assert self.proc.poll() is None, f"motcua dev exited:\n{text[-3000:]}"
            time.sleep(0.5)
        raise AssertionError(f"not ready after {timeout}s:\n{self.text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def stacks(tmp_path: Path) -> Iterator[list[DevStack]]:
    started: list[DevStack] = []
    yield started
    for stack in started:
        stack.stop()


def test_two_dev_stacks_side_by_side(tmp_path: Path, stacks: list[DevStack]) -> None:
    """Two stacks, started at once with their own folders and ports, both answer; each one's
    four metrics servers were chosen free, printed, listen on 127.0.0.1 only, and answer their
    probes; a third stack asked for a metrics port the first holds stops at once with one
    line naming the port and the flag."""
    stacks.append(DevStack(tmp_path / "one"))
    stacks.append(DevStack(tmp_path / "two"))
    banners = [stack.wait_ready(240) for stack in stacks]
    metrics: list[list[int]] = []
    for stack, banner in zip(stacks, banners, strict=True):
        found = METRICS.search(banner)
        assert found, banner
        ports = [int(p) for p in found.groups()]
        metrics.append(ports)
        assert httpx.get(f"http://127.0.0.1:{stack.api_port}/healthz", timeout=10
                         ).status_code == 200
        for port in (ports[0], ports[2], ports[3]):  # ours: /healthz beside /metrics
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert "temporal" in httpx.get(f"http://127.0.0.1:{ports[1]}/metrics",
                                       timeout=10).text
        for port in ports:
            assert _listening_addresses(port) == {"0100007F"}, (port, _listening_addresses(port))
    assert not set(metrics[0]) & set(metrics[1])
    assert all(stack.proc.poll() is None for stack in stacks)

    taken = DevStack(tmp_path / "three", ["--metrics-port", str(metrics[0][0])])
    try:
        assert taken.proc.wait(60) == 1
    finally:
        taken.stop()
    lines = [line for line in taken.text().splitlines() if line.strip()]
    assert lines == [f"motcua dev: port {metrics[0][0]} is already in use (worker metrics); "
                     "choose another with --metrics-port"], lines
