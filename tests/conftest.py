"""Fixtures and hooks only (what the tests import by name is in helpers.py):
route trees written to disk (`tree`), the app behind werkzeug's test `Client`
wrapped in `wsgiref.validate.validator` for PEP 3333 (`make_client`, and `site`
over the app tests' `SITE`), a real WSGI server (gunicorn, waitress, uWSGI...)
on 127.0.0.1 (`serve`), the demo's databases (`demo_db`, `postgres_db`), and the
demo's store and app over one (`store`, `sqlite_store`, `api`, `sqlite_api`).

Under CI (`CI=true`) a skipped test is a failure: a test that needs something
missing on the machine may skip on a laptop, never in CI.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import postgres
import pytest
from werkzeug.test import Client

from demo_app.store import Store
from demo_client import Api, api_over
from demo_databases import DemoDatabase, PostgresDatabase, SqliteDatabase
from helpers import ROOT, SITE, Server, write_tree
from microroute import App

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which must run everything: {report.longrepr}"


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


@pytest.fixture
def api(demo_db: DemoDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The demo app in-process (`demo_client.Api`) over a fresh database of its
    own, SQLite then PostgreSQL, with no admin token."""
    with api_over(demo_db, monkeypatch) as api:
        yield api


@pytest.fixture
def sqlite_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """`api`, on SQLite only: for what only SQLite can be made to do here."""
    with api_over(SqliteDatabase(tmp_path / "demo.sqlite3"), monkeypatch) as api:
        yield api


@pytest.fixture
def store(demo_db: DemoDatabase) -> Iterator[Store]:
    """The demo's store on a fresh database: SQLite, then PostgreSQL."""
    store = demo_db.store()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """`store`, on SQLite only (the file `tmp_path / "products.sqlite3"`)."""
    store = Store(tmp_path / "products.sqlite3")
    yield store
    store.close()


# -- the app tests' site ----------------------------------------------------------


@pytest.fixture
def site(make_client: Callable[..., Client]) -> Client:
    """The app tests' `SITE` (helpers.py) behind `make_client`. A test file with
    a site of its own (layouts, not-found pages) defines its own `site`."""
    return make_client(SITE)
