"""What the benchmarks (and the tests) that start servers share: ports, PIDs,
memory, waiting for a server to listen, stopping it.

Linux only where it reads /proc (a worker's PIDs, its resident memory).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def worker_pids(master: int) -> list[int]:
    """A gunicorn master's children (its workers); none if it is gone."""
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def rss_kib(pid: int) -> int:
    """A process's resident set size, in KiB ("VmRSS:   23456 kB")."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise ValueError(f"no VmRSS for {pid}")  # a zombie has none


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server we started, by its PID: politely, then for sure."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, host: str = "127.0.0.1", timeout: float = 20.0
) -> bool:
    """Whether the server we started accepts connections on host:port within
    `timeout` seconds; False as soon as it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False
