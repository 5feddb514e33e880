"""The demo's two databases, for the tests: a fresh SQLite file, or a fresh
database on the session's PostgreSQL server. The `demo_db` fixture (conftest.py)
gives one of each to every test that asks, so the same test runs on both.

    def test_x(demo_db):
        store = demo_db.store()              # demo_app's store for that database
        with demo_db.writes_locked(): ...    # another session holds the write lock
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from demo_app.store import DATABASE_URL_ENV_VAR, DB_ENV_VAR, Store

# What a new database holds: the two products the store seeds it with.
SEEDS = [
    {"id": 1, "name": "Keyboard", "price": 999},
    {"id": 2, "name": "Mouse", "price": 499},
]


def names(products: Sequence[Mapping[str, Any]]) -> list[str]:
    """The products' names, in their order."""
    return [product["name"] for product in products]


class SqliteDatabase:
    """A SQLite file that does not exist yet."""

    kind = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def env(self) -> dict[str, str]:
        """What the demo reads to use this database (an empty URL: no PostgreSQL)."""
        return {DB_ENV_VAR: str(self.path), DATABASE_URL_ENV_VAR: ""}

    def store(self, **options: Any) -> Store:
        return Store(self.path, **options)

    @contextmanager
    def writes_locked(self) -> Iterator[None]:
        """Another connection holds the write lock (readers carry on, in WAL mode)."""
        with self._exclusive():
            yield

    @contextmanager
    def locked_before_first_use(self) -> Iterator[None]:
        """The file exists but is locked: no store can make its table."""
        with self._exclusive():
            yield

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        holder = sqlite3.connect(self.path, isolation_level=None, timeout=0)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            yield
            holder.execute("ROLLBACK")
        finally:
            holder.close()


class PostgresDatabase:
    """An empty database on a running PostgreSQL server."""

    kind = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url

    @property
    def env(self) -> dict[str, str]:
        return {DATABASE_URL_ENV_VAR: self.url}

    def store(self, **options: Any) -> Any:
        from demo_app.postgres_store import PostgresStore

        return PostgresStore(self.url, **options)

    @contextmanager
    def writes_locked(self) -> Iterator[None]:
        """Another session holds a lock that shuts out writers, not readers."""
        with self._session() as holder, holder.transaction():
            holder.execute("LOCK TABLE products IN EXCLUSIVE MODE")
            yield

    @contextmanager
    def locked_before_first_use(self) -> Iterator[None]:
        """Another session holds the lock every store takes to make the table."""
        from demo_app.postgres_store import SCHEMA_LOCK

        with self._session() as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", [SCHEMA_LOCK])
            yield

    @contextmanager
    def _session(self) -> Iterator[Any]:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as session:
            yield session

    def sql(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one statement in a session of its own; its rows, if any."""
        with self._session() as session:
            cursor = session.execute(statement, params)
            return cursor.fetchall() if cursor.description else []


DemoDatabase = SqliteDatabase | PostgresDatabase
