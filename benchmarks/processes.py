"""What the benchmarks (and the tests) that start servers share: the WSGI
servers and how each is started, ports, PIDs, memory, waiting for a server to
listen, stopping it.

Linux only where it reads /proc (a worker's PIDs, its resident memory).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# How to start a WSGI server on 127.0.0.1:port serving `target` ("module:app")
# with `workers` processes, as a command line for the Python running this.
Command = Callable[[str, int, int], list[str]]


def gunicorn(target: str, port: int, workers: int = 1) -> list[str]:
    """gunicorn with its default sync workers: one request at a time each."""
    return [sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--graceful-timeout", "2", "--timeout", "30"]


def gunicorn_gthread(target: str, port: int, workers: int = 1) -> list[str]:
    """gunicorn with threaded workers: 4 requests at once in each process."""
    return [*gunicorn(target, port, workers), "--worker-class", "gthread", "--threads", "4"]


def waitress(target: str, port: int, workers: int = 1) -> list[str]:
    """waitress: one process (it has no workers), 4 threads."""
    return [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=4",
            target]


def uwsgi(target: str, port: int, workers: int = 1) -> list[str]:
    """uWSGI speaking HTTP itself (`--http-socket`), from the `pyuwsgi` wheel.

    `--die-on-term`: else SIGTERM makes uWSGI 2.0 reload, not stop;
    `--need-app`: an app that fails to load stops it, instead of serving 500s.
    """
    return [sys.executable, "-c", "import pyuwsgi; pyuwsgi.run()",
            "--http-socket", f"127.0.0.1:{port}", "--module", target, "--master",
            "--processes", str(workers), "--die-on-term", "--need-app"]


def granian(target: str, port: int, workers: int = 1) -> list[str]:
    """granian's WSGI interface: a server written in Rust, calling the app from
    its own threads. It passes no raw request target (see WSGIServer)."""
    return [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(workers), target]


@dataclass(frozen=True)
class WSGIServer:
    """A WSGI server: how to start it, and what it does before the app sees a
    request (the README's server table says the same, and the tests check it)."""

    command: Command
    # Hands the app a chunked request body decoded, its end marked
    # (`wsgi.input_terminated`); else the app answers such a body with a 411.
    decodes_chunked_bodies: bool
    # What it answers itself, with a 400 of its own, before the app is called:
    # "method" (a lowercase `get`), "length" (`Content-Length: abc`).
    refuses: frozenset[str]
    # Passes the request target as it came (gunicorn's RAW_URI, REQUEST_URI):
    # then `%2F` stays inside its segment and `%ZZ` is a 400. Without it the
    # app sees only the decoded PATH_INFO, where `a%2Fb` is `a/b`.
    raw_target: bool = True
    # Passes a header's bytes that are not ASCII on, as latin-1 (PEP 3333);
    # granian empties such a value instead.
    keeps_non_ascii_headers: bool = True


BOTH = frozenset({"method", "length"})

# Every server the HTTP-level tests run against (tests/test_servers.py):
# adding one is one entry here and one row of the README's server table.
SERVERS: dict[str, WSGIServer] = {
    "gunicorn": WSGIServer(gunicorn, decodes_chunked_bodies=True, refuses=BOTH),
    "gunicorn-gthread": WSGIServer(gunicorn_gthread, decodes_chunked_bodies=True, refuses=BOTH),
    "waitress": WSGIServer(waitress, decodes_chunked_bodies=True, refuses=BOTH),
    "uwsgi": WSGIServer(uwsgi, decodes_chunked_bodies=False, refuses=frozenset()),
    "granian": WSGIServer(granian, decodes_chunked_bodies=True, refuses=frozenset({"length"}),
                          raw_target=False, keeps_non_ascii_headers=False),
}


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
