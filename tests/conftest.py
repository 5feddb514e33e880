"""Shared fixtures: route trees written to disk, the app behind werkzeug's test
`Client` (plain, and wrapped in `wsgiref.validate.validator` for PEP 3333),
a real WSGI server (gunicorn, waitress, uWSGI...) on 127.0.0.1, and a file that
cannot be written (even by root).

Under CI (`CI=true`) a skipped test is a failure: a test that needs something
missing on the machine may skip on a laptop, never in CI.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import types
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

from demo_databases import DemoDatabase, PostgresDatabase, SqliteDatabase
from microroute import App

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def benchmark_module(name: str) -> types.ModuleType:
    """benchmarks/<name>.py, which the servers here share with the benchmarks'
    (benchmarks/ is no package: loaded from its path, and registered so that one
    such module can import another)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as the benchmarks import it (dataclasses look there)
    spec.loader.exec_module(module)
    return module


processes = benchmark_module("processes")
postgres = benchmark_module("postgres")
nginx = benchmark_module("nginx")
free_port = processes.free_port
stop_process = processes.stop


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run everything: {report.longrepr}"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{"api/x/route.py": source}` under `root/app`; return that folder."""
    app_dir = root / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        path = app_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return app_dir


@pytest.fixture
def tree(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """`tree({"about/page.py": "def Page(): ..."})` -> the app folder."""
    return lambda files: write_tree(tmp_path, files)


@pytest.fixture
def make_client(tmp_path: Path) -> Callable[..., Client]:
    """`make_client(files, **app_options)` -> a `Client` for the app, validated by
    `wsgiref.validate` (PEP 3333) on every request."""

    def make(files: dict[str, str], **options: object) -> Client:
        app = App(write_tree(tmp_path, files), **options)  # type: ignore[arg-type]
        return Client(validator(app))

    return make


class BufferedClient(Client):
    """A test client that reads each answer whole and closes the app's
    iterator, as a server does (`wsgiref.validate` insists, and a file body
    left open would be a ResourceWarning): `BufferedClient(app).get("/")`."""

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Inside the block, no process can open `path` for writing; afterwards it
    is writable again, with the -wal and -shm companions SQLite may have made.

    Permission bits bind everyone but root, and the tests may run as root: then
    the file is made immutable (`chattr +i`, which binds root too; it needs
    CAP_LINUX_IMMUTABLE and a filesystem that keeps the flag, such as ext4).
    """
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            # SQLite gives the companions it creates the database's mode.
            for file in path.parent.glob(path.name + "*"):
                file.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("no `chattr` on PATH (Debian: apt-get install e2fsprogs)")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                          timeout=10)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file unwritable for root: chattr +i: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True, timeout=10)


def cli_env(tmp_path: Path | None = None) -> dict[str, str]:
    """The environment of a child process: the repository importable, and
    bytecode written (to a private cache) as it would be on a user's machine."""
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), env.get("PYTHONPATH", "")) if part
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tmp_path is not None:
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_cli(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m microroute ARGUMENTS`, to completion (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "microroute", *arguments],
        cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60,
    )


JSON_ROUTE = """
from microroute import Response

def GET(request, params):
    return Response.json({"params": params, "path": request.path})
"""


class Server:
    """A real WSGI server on loopback (gunicorn unless `server` names another
    of `processes.SERVERS`), started and stopped by PID."""

    def __init__(self, target: str, cwd: Path, log_dir: Path, workers: int = 1,
                 env: dict[str, str] | None = None, server: str = "gunicorn",
                 config: Path | None = None, arguments: list[str] | None = None) -> None:
        self.name = server
        self.kind = processes.SERVERS[server]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{server}-{self.port}.log"
        command = self.kind.command(target, self.port, workers)
        if config is not None:  # gunicorn's config file (deploy/gunicorn.conf.py); flags win
            assert command[1:3] == ["-m", "gunicorn"], "a config file is for gunicorn"
            command[3:3] = ["--config", str(config)]
        command += arguments or []  # the server's own flags: gunicorn's --preload, say
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {}), "PYTHONPATH": f"{ROOT}:{cwd}"},
            )
        if not processes.wait_until_listening(self.process, self.port):
            self.stop()
            raise RuntimeError(f"{server} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)

    def worker_pids(self) -> list[int]:
        return list(processes.worker_pids(self.process.pid))

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request over a real socket; returns status, headers, body (any status)."""
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, ResponseHeaders(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, ResponseHeaders(error.headers), error.read()

    def send(self, raw: bytes) -> bytes:
        """`raw` bytes on a new connection (they should close it); all the reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(raw)
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        return reply


class ResponseHeaders(dict[str, str]):
    """Response headers, looked up whatever the case of their names: servers
    may send `content-type` (granian does), and HTTP says it is the same header."""

    def __init__(self, headers: Any) -> None:
        super().__init__((name.lower(), value) for name, value in headers.items())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """`serve("demo_app:app", workers=2)` -> a running `Server`, stopped afterwards."""
    servers: list[Server] = []

    def start(target: str, cwd: Path = ROOT, **options: object) -> Server:
        server = Server(target, cwd, tmp_path, **options)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# -- the demo's databases ------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """One PostgreSQL server for the whole session (benchmarks/postgres.py); each
    test that uses it gets a database of its own. Skips, saying why, where this
    machine cannot run one."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as error:
        pytest.skip(f"PostgreSQL tests need psycopg and psycopg-pool (the test extra): {error}")
    try:
        cluster = postgres.PostgresCluster.start()
    except postgres.PostgresUnavailableError as error:
        pytest.skip(f"cannot start a PostgreSQL server: {error}")
    yield cluster
    cluster.destroy()


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_db(request: pytest.FixtureRequest, tmp_path: Path) -> DemoDatabase:
    """A fresh, empty demo database: a SQLite file, then (the same test again) a
    PostgreSQL database. Both must give the same answers."""
    if request.param == "sqlite":
        return SqliteDatabase(tmp_path / "demo.sqlite3")
    return request.getfixturevalue("postgres_db")


@pytest.fixture(scope="session")
def _postgres_demo_url(postgres_cluster: Any) -> str:
    return str(postgres_cluster.create_database("demo"))


@pytest.fixture
def postgres_db(_postgres_demo_url: str) -> PostgresDatabase:
    """An empty database on the session's PostgreSQL server, for what only
    PostgreSQL has (its SQLite twin, if any, is a test of its own)."""
    database = PostgresDatabase(_postgres_demo_url)
    # Emptied, not made anew: dropping a table takes milliseconds, CREATE DATABASE
    # a third of a second, and the store makes and seeds the table on first use.
    database.sql("DROP TABLE IF EXISTS products")
    return database
