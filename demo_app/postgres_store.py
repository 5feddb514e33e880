"""The demo's product storage on PostgreSQL, through psycopg 3 and a connection pool.

The same queries (`ProductQueries`), answers and errors as the SQLite `Store` in
`demo_app/store.py`; `default_store()` picks this one when `$DATABASE_URL` is set:

    DATABASE_URL=postgresql://demo@db.internal/shop gunicorn -w 4 demo_app:app

This module owns the PostgreSQL side of the `products` table: its schema, its
seeds, its connections. psycopg is imported here and only here, so the demo (and
microroute, which never needs it) runs without psycopg until a URL asks for it.

One pool per process, made after the fork. gunicorn forks its workers from a
master; a pool made before the fork would hand the child the parent's sockets
(two processes writing into one PostgreSQL session) and background threads that
did not survive the fork. So the pool is built on first use in each process, and
a child that finds its parent's pool leaves it alone: never used, never closed
(closing would tell the server to end sessions the parent is still using).

A full disk is `StoreFullError` (a 507), as with SQLite. Errors a client can
wait out are `StoreBusyError`, which the app answers with 503 and `Retry-After`
(`demo_app/__init__.py`), as for a locked SQLite file: a row or table lock held past
the busy timeout, a server that cannot be reached or went away, a pool with no
free connection within the busy timeout.
"""

from __future__ import annotations

import os
import threading
from typing import Any

try:
    import psycopg
    from psycopg_pool import ConnectionPool
except ImportError as error:  # pragma: no cover - what a user without psycopg sees
    raise ImportError(
        "DATABASE_URL names a PostgreSQL database, which needs psycopg 3 and its pool:"
        " pip install 'psycopg[binary]' psycopg-pool"
    ) from error

from demo_app.store import SEED_PRODUCTS, ProductQueries, StoreBusyError, StoreFullError

URL_SCHEMES = ("postgresql://", "postgres://")
MAX_CONNECTIONS = 8  # per process: a gthread worker with up to 8 threads never waits
# Any 64-bit number: the lock that makes creating the schema happen once, even
# when several processes meet an empty database at the same moment.
SCHEMA_LOCK = 0x6D6963726F726F75  # "microrou"


class PostgresStore(ProductQueries):
    """The products in one PostgreSQL database; one connection pool per process.

        store = PostgresStore("postgresql://demo@127.0.0.1/shop")
        store.create("Monitor", 14999)   # {"id": 3, "name": "Monitor", "price": 14999}

    `busy_timeout` (seconds) bounds every wait: for a lock, and for a connection.
    The queries are the SQLite store's (`ProductQueries`), but for these two:
    """

    # The "C" collation folds ASCII letters only, as SQLite's LIKE does,
    # whatever locale the database was made with.
    NAME_LIKE = "lower(name COLLATE \"C\") LIKE lower(?::text COLLATE \"C\") ESCAPE '\\'"
    NO_LIMIT = None  # LIMIT NULL

    def __init__(self, url: str, *, busy_timeout: float = 5.0) -> None:
        if not url.startswith(URL_SCHEMES):
            raise ValueError(
                f"DATABASE_URL must start with postgresql:// (or postgres://), not {url[:16]!r}"
            )
        self.url = url
        self.busy_timeout = busy_timeout
        self._pool: ConnectionPool | None = None
        self._pid = 0  # the process that built _pool
        self._schema_ready = False
        self._inherited: list[ConnectionPool] = []  # the parents' pools, kept from the collector
        self._building = threading.Lock()

    def close(self) -> None:
        """Close this process's pool; the next call builds a new one.

        Unlike the SQLite store's, whose connections are per thread, the pool is
        shared by every thread: close it when no other thread uses the store.
        """
        with self._building:
            if self._pool is not None and self._pid == os.getpid():
                self._pool.close()
                self._pool = None

    # -- connections -------------------------------------------------------

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        try:
            with self._pool_of_this_process().connection(timeout=self.busy_timeout) as connection:
                if not self._schema_ready:
                    _create_schema(connection)
                    self._schema_ready = True
                # Autocommit: the statement is its own transaction, committed
                # before its rows come back. psycopg's placeholder is %s; no
                # query has a "?" or a "%" of its own (values travel apart).
                return connection.execute(sql.replace("?", "%s"), params).fetchall()
        except psycopg.errors.DiskFull as error:
            # As SQLite's "database or disk is full": nothing was written; a 507.
            raise StoreFullError(str(error)) from error
        except psycopg.OperationalError as error:
            # Lock timeouts, lost or refused connections and the pool's own
            # timeout (a subclass) are all "try again shortly", never a bug.
            raise StoreBusyError(str(error)) from error

    def _pool_of_this_process(self) -> ConnectionPool:
        pool = self._pool
        if pool is not None and self._pid == os.getpid():
            return pool
        with self._building:
            if self._pool is not None and self._pid != os.getpid():
                # The parent's pool, inherited through fork(): see the module docstring.
                self._inherited.append(self._pool)
                self._pool = None
            if self._pool is None:
                self._pool = self._new_pool()
                self._pid = os.getpid()
                self._schema_ready = False
            return self._pool

    def _new_pool(self) -> ConnectionPool:
        lock_timeout_ms = max(1, round(self.busy_timeout * 1000))

        def configure(connection: psycopg.Connection[Any]) -> None:
            # A statement waiting for a lock gives up after the busy timeout,
            # like SQLite's: the client gets a 503, not a hung request.
            connection.execute("SELECT set_config('lock_timeout', %s, false)",
                               [f"{lock_timeout_ms}ms"])

        return ConnectionPool(
            self.url,
            min_size=1,
            max_size=MAX_CONNECTIONS,
            open=True,
            kwargs={"autocommit": True},
            configure=configure,
            # One empty round trip before a connection is handed out: after the
            # server restarts, a dead pooled connection is replaced there, not
            # found dead by a write the client then cannot trust.
            check=ConnectionPool.check_connection,
            timeout=self.busy_timeout,
            name=f"microroute-demo-{os.getpid()}",
        )


def _create_schema(connection: psycopg.Connection[Any]) -> None:
    """Create and seed the table, exactly once per database, even if several
    processes meet an empty database at the same moment."""
    # Most connections find the table there already, without taking the lock.
    if _has_products_table(connection):
        return
    with connection.transaction():
        # Of two processes racing here the second waits, then sees the first's work.
        connection.execute("SELECT pg_advisory_xact_lock(%s)", [SCHEMA_LOCK])
        if _has_products_table(connection):
            return
        # An identity never hands out a deleted product's id again. The table and
        # its seeds commit together, so the table's existence marks the seeds as
        # done: a catalogue whose products were all deleted stays empty.
        connection.execute(
            "CREATE TABLE products ("
            " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
            " name TEXT NOT NULL,"
            " price BIGINT NOT NULL)"
        )
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO products (name, price) VALUES (%s, %s)",
                               SEED_PRODUCTS)


def _has_products_table(connection: psycopg.Connection[Any]) -> bool:
    # Asked of the catalog with a fresh snapshot, so a table another process has
    # just committed is seen (to_regclass() may answer from a stale cache).
    row = connection.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables"
        " WHERE schemaname = current_schema() AND tablename = 'products')"
    ).fetchone()
    return bool(row and row[0])
