"""`motcua dev`: PostgreSQL, the Temporal dev server, migrations, worker, projector,
notification dispatcher and API, all data in one folder, stopped together on Ctrl-C (or
SIGTERM)."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO

from motcua.devstack.procs import StackError, free_ports
from motcua.devstack.stack import SERVICES, Ports, Stack


def _lock(data_dir: Path) -> IO[str]:
    """Hold an exclusive lock on the data folder for as long as this process lives."""
    handle = open(data_dir / "dev.lock", "a+")  # noqa: SIM115 - held until exit
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid = handle.read().strip() or "?"
        raise StackError(f"another `motcua dev` (pid {pid}) is already using {data_dir}") \
            from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _dev_token(data_dir: Path, dsn: str) -> str:
    """Create, once, a development token with every role."""
    from motcua.access.tokens import create_dev_token

    path = data_dir / "dev-token"
    if path.exists():
        return path.read_text().strip()
    token = asyncio.run(create_dev_token(dsn))
    path.write_text(token + "\n")
    path.chmod(0o600)
    return token


def _dev_password(data_dir: Path, dsn: str) -> str:
    """(Re)create the console user `dev` with every role; its password is kept in
    `<data-dir>/dev-password` so that it survives restarts."""
    from motcua.access.users import create_dev_user

    path = data_dir / "dev-password"
    kept = path.read_text().strip() if path.exists() else None
    password = asyncio.run(create_dev_user(dsn, kept or None))
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _metrics_ports(first: int) -> dict[str, int]:
    """The four metrics ports: `first` and the three after it, or four free ones (0), so that
    a second stack beside the first needs no flag for them."""
    ports = [first + i for i in range(4)] if first else free_ports(4)
    return dict(zip(("worker_metrics", "worker_sdk_metrics", "projector_metrics",
                     "dispatcher_metrics"), ports, strict=True))


def run_dev(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    stack: Stack | None = None
    lock: IO[str] | None = None
    stop = False

    def _on_signal(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True

    try:
        lock = _lock(data_dir)
        ports = Ports(api=args.port, temporal=args.temporal_port,
                      temporal_ui=args.temporal_ui_port, postgres=args.pg_port,
                      **_metrics_ports(args.metrics_port))
        ports.check_free()  # every port, before anything starts: one line, not a dead child
        stack = Stack(data_dir, ports)
        if getattr(args, "portal_simulator", False):
            stack.use_simulator(args.simulator_port)
            stack.start("simulator")
        stack.start_services()
        token = _dev_token(data_dir, stack.postgres.dsn)
        password = _dev_password(data_dir, stack.postgres.dsn)
        for name in SERVICES:
            stack.start(name)
        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        p = stack.ports
        print(f"motcua dev is ready in {time.monotonic() - started:.1f}s (data in {data_dir})")
        print(f"  API            {stack.api_url}  (docs: /docs, /openapi.json)")
        print(f"  metrics        {stack.api_url}/metrics; on 127.0.0.1: worker "
              f":{p.worker_metrics}, Temporal SDK :{p.worker_sdk_metrics}, projector "
              f":{p.projector_metrics}, dispatcher :{p.dispatcher_metrics} (--metrics-port)")
        print(f"  Temporal       {stack.temporal.address}  "
              f"(UI http://127.0.0.1:{args.temporal_ui_port})")
        print(f"  PostgreSQL     {stack.postgres.dsn}")
        if "simulator" in stack.children:
            base = f"http://127.0.0.1:{stack.simulator_port}"
            print(f"  portal sim.    {base}  (what it holds: {base}/_sim/dossiers, "
                  f"{base}/_sim/progress, SMS {base}/_sim/sms)")
        print(f"  console        {stack.api_url}/  (user dev, password {password}, also in "
              f"{data_dir / 'dev-password'})")
        print(f"  dev token      {token}  (also in {data_dir / 'dev-token'})")
        print(f"  logs           {data_dir}/*.log   — Ctrl-C stops everything", flush=True)
        while not stop:
            dead = stack.dead_children()
            if dead:
                raise StackError(f"{dead[0]} exited; see {data_dir}/{dead[0]}.log")
            time.sleep(0.5)
        print("stopping…", flush=True)
        return 0
    except StackError as err:
        print(f"motcua dev: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if stack is not None:
            stack.shutdown()
        if lock is not None:
            lock.close()
