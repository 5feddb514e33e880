"""What the benchmarks that start servers share: ports, PIDs, memory, stopping.

Linux only where it reads /proc (a worker's PIDs, its resident memory).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
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
