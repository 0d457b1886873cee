"""Small helpers for child processes and ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time


class StackError(RuntimeError):
    """A one-line, user-facing reason the stack cannot start."""


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing listens on `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port the kernel says is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel says are free now. Held open together while chosen:
    `free_port()` called twice may return the same port, and two processes of one stack then
    race for it (a metrics server once answered the API's requests)."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            s = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
    return ports


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None,
                  host: str = "127.0.0.1") -> None:
    """Block until `host:port` accepts connections, the process dies, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"process exited with code {proc.returncode} before listening "
                             f"on port {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise StackError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 15.0,
              sig: int = signal.SIGTERM) -> None:
    """Stop a child (its whole process group): `sig`, then SIGKILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
