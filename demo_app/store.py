"""The demo's product storage, on the standard library's `sqlite3`.

This module owns the `products` table: its schema, its two seed rows and every
query against it. Route handlers call a `Store`; they never see SQL. Checking
query-string values is the handlers' job: the store takes plain ints and strings.

    store = default_store()          # the file named by $MICROROUTE_DEMO_DB
    store.create("Monitor", 14999)   # {"id": 3, "name": "Monitor", "price": 14999}

Prices are integer cents. It is safe under `gunicorn -w 4`: the database runs in
WAL mode, waits up to a busy timeout for a lock, and each process and thread
opens its own connection on first use, never at import. A database still locked
after the timeout raises `StoreBusyError`, which the app answers with a 503;
a full database or disk raises `StoreFullError` (nothing was written; reads go on),
a 507. Those answers are `demo_app/__init__.py`'s (`App(errors=...)`): this module
knows nothing of HTTP.

A connection that SQLite opened read-only (the file was read-only at that moment)
stays read-only after the file is made writable again; a write that finds it so
reconnects once and tries again, so the store recovers without a restart.

One rule for servers that fork: nothing may have the database open in the parent
at the moment it forks. SQLite keeps its file locks in per-process state, which a
child inherits; such a child cannot lock the file correctly even through a new
connection, and its writes can be lost. gunicorn forks its workers before any
request is served, so the rule holds unless code run in the master (`--preload`)
uses the store; a child that inherited an open connection raises `RuntimeError`.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from demo_app.postgres_store import PostgresStore

DB_ENV_VAR = "MICROROUTE_DEMO_DB"
DATABASE_URL_ENV_VAR = "DATABASE_URL"  # set: the store is PostgreSQL (postgres_store.py)
DEFAULT_DB_FILE = "microroute-demo.sqlite3"
SEED_PRODUCTS = (("Keyboard", 999), ("Mouse", 499))
SCHEMA_VERSION = 1


class Product(TypedDict):
    id: int
    name: str
    price: int


class StoreError(Exception):
    """The database could not do what was asked, for a reason that is no bug:
    `except StoreError` catches each kind below."""


class StoreBusyError(StoreError):
    """The database stayed locked by another writer for longer than the busy timeout."""


class StoreFullError(StoreError):
    """The database, or the disk it is on, has no room for the write; nothing
    was written, and reading still works."""


@contextmanager
def _sqlite_errors_as_store_errors() -> Iterator[None]:
    # sqlite3 reports a lock timeout or a full disk as a generic OperationalError,
    # the same class as a syntax error; callers need to tell "try again later" and
    # "out of room" apart from a bug. (The message is all Python 3.10 gives.)
    try:
        yield
    except sqlite3.OperationalError as error:
        message = str(error).lower()
        if "locked" in message or "busy" in message:
            raise StoreBusyError(str(error)) from error
        if "disk is full" in message:  # SQLITE_FULL: "database or disk is full"
            raise StoreFullError(str(error)) from error
        raise


def _is_read_only(error: sqlite3.OperationalError) -> bool:
    # SQLITE_READONLY: "attempt to write a readonly database".
    return "readonly database" in str(error)


class ProductQueries:
    """Every query against the `products` table, written once for both stores
    (this file's SQLite `Store`, and `postgres_store.PostgresStore`). SQL here
    has `?` placeholders; each store's `_run(sql, params)` runs a statement and
    returns its rows, turning its driver's errors into `StoreError`s."""

    # Where the stores' SQL dialects differ: how a name matches a LIKE pattern
    # (ASCII letters folded, `\` the escape) and how LIMIT says "no limit".
    NAME_LIKE = "name LIKE ? ESCAPE '\\'"
    NO_LIMIT: int | None = -1

    # -- reading -----------------------------------------------------------

    def list_products(self, q: str | None = None, limit: int | None = None,
                      offset: int = 0, *, newest_first: bool = False) -> list[Product]:
        """Products oldest first (or newest first), optionally only those whose
        name contains `q` (ASCII letters compared case-insensitively; `%` and `_`
        match literally)."""
        sql = "SELECT id, name, price FROM products"
        params: list[Any] = []
        if q:
            sql += f" WHERE {self.NAME_LIKE}"
            params.append(f"%{_escape_like(q)}%")
        # Ids only grow (never reused), so their order is the order of adding.
        sql += f" ORDER BY id {'DESC' if newest_first else 'ASC'} LIMIT ? OFFSET ?"
        params += [self.NO_LIMIT if limit is None else limit, offset]
        return [_product(row) for row in self._run(sql, params)]

    def get(self, product_id: int) -> Product | None:
        rows = self._run("SELECT id, name, price FROM products WHERE id = ?", [product_id])
        return _product(rows[0]) if rows else None

    # -- writing -----------------------------------------------------------

    def create(self, name: str, price: int) -> Product:
        rows = self._run(
            "INSERT INTO products (name, price) VALUES (?, ?) RETURNING id, name, price",
            [name, price],
        )
        return _product(rows[0])

    def replace(self, product_id: int, name: str, price: int) -> Product | None:
        return self.update(product_id, name=name, price=price)

    def update(self, product_id: int, *, name: str | None = None,
               price: int | None = None) -> Product | None:
        """Change the fields given; None if there is no such product."""
        # Column names come from this fixed table, never from the caller.
        changes = {column: value for column, value in (("name", name), ("price", price))
                   if value is not None}
        if not changes:
            return self.get(product_id)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        rows = self._run(
            f"UPDATE products SET {assignments} WHERE id = ? RETURNING id, name, price",
            [*changes.values(), product_id],
        )
        return _product(rows[0]) if rows else None

    def delete(self, product_id: int) -> bool:
        """True if the product existed."""
        return bool(self._run("DELETE FROM products WHERE id = ? RETURNING id", [product_id]))

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        raise NotImplementedError


class Store(ProductQueries):
    """The products in one SQLite file; one connection per process and thread."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        # Absolute now, so a later chdir cannot send another thread to another file.
        self.path = os.path.abspath(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()

    def close(self) -> None:
        """Close the calling thread's connection; the next call opens a new one."""
        local = self._local
        if getattr(local, "pid", None) == os.getpid() and local.connection is not None:
            local.connection.close()
            local.connection = None

    # -- connections -------------------------------------------------------

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        # Connecting is inside too: creating the schema may wait for the write lock.
        with _sqlite_errors_as_store_errors():
            try:
                # fetchall() runs the statement to completion: an INSERT/UPDATE ...
                # RETURNING only commits (and frees the write lock) once it is finished.
                return self._connection().execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if not _is_read_only(error):
                    raise
            # SQLite opens the file read-only when it cannot open it for writing,
            # and a connection never looks again: without a new one, this worker
            # would refuse every write until it is restarted. The failed statement
            # changed nothing (each is its own transaction), so trying it once more
            # on a new connection is safe; if the file is still read-only, the
            # error stands.
            self.close()
            return self._connection().execute(sql, params).fetchall()

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            # A new thread, or the first call after fork(). A connection inherited
            # from the parent cannot be used, and a new one would not be safe either
            # (see the module docstring), so fail loudly rather than lose writes.
            # The inherited connection is left as it is, never closed: it is the
            # parent's, and closing it would run SQLite on the parent's lock state.
            if getattr(local, "connection", None) is not None:
                raise RuntimeError(
                    f"{self.path} was open in the parent when this process was forked;"
                    " open the store only after fork(), or close() it before"
                )
            local.connection = None
            local.pid = os.getpid()
        if local.connection is None:
            local.connection = self._connect()
        connection: sqlite3.Connection = local.connection
        return connection

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: autocommit, so every statement is its own transaction
        # and the only explicit one is the schema setup below.
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            _enable_wal(connection, self.busy_timeout)
            _create_schema(connection)
        except BaseException:
            connection.close()
            raise
        return connection


def _enable_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL, which lets readers carry on while one process writes.

    The mode is stored in the file, so this is a no-op after the first time.
    """
    # Two connections switching a new file at once get "database is locked" at
    # once: SQLite does not apply the busy timeout to this pragma. So wait here.
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def _create_schema(connection: sqlite3.Connection) -> None:
    """Create and seed the table, exactly once per file, even if several processes
    open a new file at the same moment."""
    # Most connections find the schema there already; looking first spares them
    # the write lock.
    if _schema_version(connection) >= SCHEMA_VERSION:
        return
    # BEGIN IMMEDIATE takes the write lock before reading, so of two processes
    # racing here the second waits, then sees the first one's work.
    connection.execute("BEGIN IMMEDIATE")
    try:
        if _schema_version(connection) < SCHEMA_VERSION:
            # AUTOINCREMENT: a deleted product's id is never handed out again.
            connection.execute(
                "CREATE TABLE products ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " name TEXT NOT NULL,"
                " price INTEGER NOT NULL)"
            )
            connection.executemany("INSERT INTO products (name, price) VALUES (?, ?)",
                                   SEED_PRODUCTS)
            # The version, not an empty table, marks the seeds as done: a catalogue
            # whose products were all deleted stays empty.
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def _schema_version(connection: sqlite3.Connection) -> int:
    version: int = connection.execute("PRAGMA user_version").fetchone()[0]
    return version


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _product(row: tuple[Any, ...]) -> Product:
    return {"id": row[0], "name": row[1], "price": row[2]}


@functools.cache
def default_store() -> Store | PostgresStore:
    """PostgreSQL when $DATABASE_URL is set (demo_app/postgres_store.py); else the
    SQLite file named by $MICROROUTE_DEMO_DB (default: microroute-demo.sqlite3 in
    the working directory). Built on first call, never at import."""
    # Two threads racing on the first call may each build a store; that is harmless,
    # since building one opens nothing.
    url = os.environ.get(DATABASE_URL_ENV_VAR)
    if url:
        from demo_app.postgres_store import PostgresStore  # psycopg only when asked for

        return PostgresStore(url)
    return Store(os.environ.get(DB_ENV_VAR) or DEFAULT_DB_FILE)
