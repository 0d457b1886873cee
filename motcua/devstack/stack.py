"""The whole embedded stack as one object: PostgreSQL, the Temporal dev server, migrations, and
the worker, projector, notification dispatcher and API as child processes. `motcua dev` runs it;
the benchmarks and the fault-injection tests drive it (stop and start any part on purpose)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from motcua.devstack.postgres import EmbeddedPostgres
from motcua.devstack.procs import StackError, free_ports, port_free, terminate, wait_for_port
from motcua.devstack.temporal_server import TemporalDevServer
from motcua.eventstore.migrate import migrate
from motcua.files.devkeys import dev_files_env
from motcua.payload_codec import Keyring

# The child processes of a whole stack, in start order.
SERVICES = ("worker", "projector", "dispatcher", "api")


@dataclass
class Ports:
    api: int = 8080
    temporal: int = 7233
    temporal_ui: int | None = 8233
    postgres: int = 55432
    worker_metrics: int = 9464
    worker_sdk_metrics: int = 9465
    projector_metrics: int = 9466
    dispatcher_metrics: int = 9467

    def named(self) -> list[tuple[str, int, str]]:
        """(what, port, the `motcua dev` flag that moves it) for every port in use."""
        found = [("API", self.api, "--port"), ("Temporal", self.temporal, "--temporal-port"),
                 ("PostgreSQL", self.postgres, "--pg-port"),
                 ("worker metrics", self.worker_metrics, "--metrics-port"),
                 ("Temporal SDK metrics", self.worker_sdk_metrics, "--metrics-port"),
                 ("projector metrics", self.projector_metrics, "--metrics-port"),
                 ("dispatcher metrics", self.dispatcher_metrics, "--metrics-port")]
        if self.temporal_ui:
            found.append(("Temporal UI", self.temporal_ui, "--temporal-ui-port"))
        return found

    def check_free(self) -> None:
        """StackError naming the first port something already listens on, and its flag; also
        when two of them are the same port."""
        seen: dict[int, str] = {}
        for what, port, flag in self.named():
            if port in seen:
                raise StackError(f"port {port} is given to both {seen[port]} and {what}; "
                                 f"choose another with {flag}")
            seen[port] = what
            if not port_free(port):
                raise StackError(f"port {port} is already in use ({what}); choose another "
                                 f"with {flag}")

    @classmethod
    def free(cls) -> Ports:
        """Ports all free now, for a stack beside others (tests, benchmarks); no Web UI."""
        # Chosen together: one at a time, two could come back equal (`free_ports`).
        api, temporal, postgres, worker, worker_sdk, projector, dispatcher = free_ports(7)
        return cls(api=api, temporal=temporal, temporal_ui=None, postgres=postgres,
                   worker_metrics=worker, worker_sdk_metrics=worker_sdk,
                   projector_metrics=projector, dispatcher_metrics=dispatcher)


@dataclass
class Stack:
    """One stack with all its data in `data_dir`. `env` adds settings for every child."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    env: dict[str, str] = field(default_factory=dict)
    time_skipping: bool = False
    simulator_port: int = 8099  # `motcua dev --portal-simulator`
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.postgres = EmbeddedPostgres(self.data_dir / "postgres", self.ports.postgres)
        self.temporal = TemporalDevServer(
            self.data_dir / "temporal.db", self.ports.temporal, ui_port=self.ports.temporal_ui,
            time_skipping=self.time_skipping, log_file=self.data_dir / "temporal.log")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.api}"

    def child_env(self) -> dict[str, str]:
        # Metrics and probes on loopback, as the API, Temporal and PostgreSQL are.
        return {**os.environ, "DATABASE_URL": self.postgres.dsn,
                "MOTCUA_TEMPORAL_ADDRESS": self.temporal.address,
                "MOTCUA_METRICS_HOST": "127.0.0.1", **self.payload_keys(),
                **dev_files_env(self.data_dir), **self.env}

    def payload_keys(self) -> dict[str, str]:
        """The dev stack encrypts Temporal payloads as production does (payload_codec): with
        a key made once in `<data_dir>/payload-keys` (0600), unless the environment sets one."""
        if os.environ.get("MOTCUA_PAYLOAD_KEYS"):
            return {}
        path = self.data_dir / "payload-keys"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(Keyring.generate("dev1"))
        return {"MOTCUA_PAYLOAD_KEYS": path.read_text().strip()}

    def start_services(self) -> None:
        """PostgreSQL, Temporal and the migrations."""
        if not port_free(self.ports.api):
            raise StackError(f"port {self.ports.api} is already in use (API); use --port")
        self.postgres.start()
        self.temporal.start()
        asyncio.run(self._migrate())

    async def _migrate(self) -> None:
        conn = await asyncpg.connect(self.postgres.dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    def start(self, name: str, *, label: str | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `worker`, `projector`, `dispatcher` or `api` as a child (its log:
        `<data_dir>/<label>.log`). `label` (default `name`) is its key in `children`: a second
        worker runs beside the first under another label, `env` giving it its own ports."""
        p = self.ports
        label = label or name
        args, extra = {
            "worker": (["worker"], {"MOTCUA_METRICS_PORT": str(p.worker_metrics),
                                    "MOTCUA_SDK_METRICS_PORT": str(p.worker_sdk_metrics)}),
            "projector": (["projector"], {"MOTCUA_METRICS_PORT": str(p.projector_metrics),
                                          "MOTCUA_SDK_METRICS_PORT": "0"}),
            "dispatcher": (["dispatcher"], {"MOTCUA_METRICS_PORT": str(p.dispatcher_metrics),
                                            "MOTCUA_SDK_METRICS_PORT": "0"}),
            # `motcua dev --portal-simulator`: the national portal, SMS gateway and Zalo ZNS
            # stand-ins (motcua.notify.simulators) on `simulator_port`.
            "simulator": (["portal", "simulate", "--port", str(self.simulator_port)], {}),
            "api": (["api", "--host", "127.0.0.1", "--port", str(p.api)],
                    {"MOTCUA_METRICS_PORT": "0", "MOTCUA_SDK_METRICS_PORT": "0",
                     "MOTCUA_SECURE_COOKIES": "false"}),  # plain http on 127.0.0.1
        }[name]
        log = open(self.data_dir / f"{label}.log", "ab")  # noqa: SIM115 - owned by the child
        child = subprocess.Popen([sys.executable, "-m", "motcua.cli", *args],
                                 env={**self.child_env(), **extra, **(env or {})}, stdout=log,
                                 stderr=log, start_new_session=True)
        self.children[label] = child
        if name == "api":
            wait_for_port(p.api, 30, child)
        if name == "simulator":
            wait_for_port(self.simulator_port, 30, child)
        return child

    def use_simulator(self, port: int) -> dict[str, str]:
        """Point the children at a local simulator on `port` (the environment's own settings
        win); returns the settings added."""
        self.simulator_port = port
        base = f"http://127.0.0.1:{port}"
        # The console's own address as the public one, so the notices' lookup links work on
        # this machine (a real deployment sets MOTCUA_PUBLIC_URL to its public address).
        added = {k: v for k, v in {"MOTCUA_PORTAL_URL": base,
                                   "MOTCUA_PORTAL_TOKEN": "portal-token",
                                   "MOTCUA_SMS_URL": f"{base}/sms",
                                   "MOTCUA_PUBLIC_URL": f"http://127.0.0.1:{self.ports.api}",
                                   }.items()
                 if k not in os.environ}
        self.env.update(added)
        return added

    def stop(self, name: str, timeout: float = 40.0) -> None:
        terminate(self.children.pop(name, None), timeout=timeout)

    def kill(self, name: str) -> None:
        """SIGKILL a child: no shutdown hooks, as in a crash."""
        child = self.children.pop(name)
        child.kill()
        child.wait(10)

    def start_all(self) -> None:
        self.start_services()
        for name in SERVICES:
            self.start(name)

    def dead_children(self) -> list[str]:
        return [name for name, c in self.children.items() if c.poll() is not None]

    def shutdown(self) -> None:
        for name in reversed(list(self.children)):
            self.stop(name)
        self.temporal.stop()
        self.postgres.stop()
