"""What the demo's stores raise when the database cannot do what is asked, and
how they recover: locked past the busy timeout or unreachable
(`StoreBusyError`), opened read-only, full (`StoreFullError`). Real databases,
a real second connection holding the lock, a real page cap. No mocks.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from demo_app.store import Store, StoreBusyError, StoreError, StoreFullError
from demo_databases import SEEDS, DemoDatabase, PostgresDatabase, names
from helpers import free_port, unwritable

# -- a locked database ----------------------------------------------------------


def test_a_write_blocked_past_the_busy_timeout_raises_store_busy(demo_db: DemoDatabase) -> None:
    store = demo_db.store(busy_timeout=0.2)
    try:
        assert store.list_products() == SEEDS
        with demo_db.writes_locked():
            started = time.monotonic()
            with pytest.raises(StoreBusyError, match="lock"):
                store.create("Monitor", 14999)
            waited = time.monotonic() - started
            assert 0.15 <= waited < 3, "the store should wait for the busy timeout, no longer"

            # Readers carry on while another connection writes (SQLite: thanks to WAL).
            assert store.list_products() == SEEDS

        assert store.create("Monitor", 14999)["id"] == 3
    finally:
        store.close()


def test_a_new_database_locked_past_the_busy_timeout_raises_store_busy_then_recovers(
    demo_db: DemoDatabase
) -> None:
    # SQLite: before WAL mode is set, an exclusive lock shuts out readers as well.
    # PostgreSQL: the lock that guards making the table is held elsewhere.
    # Either way even the first use, which makes the schema, has to give up.
    store = demo_db.store(busy_timeout=0.05)
    try:
        with demo_db.locked_before_first_use(), pytest.raises(StoreBusyError):
            store.list_products()
        assert store.list_products() == SEEDS
    finally:
        store.close()


def test_an_unreachable_server_is_busy_not_a_crash(postgres_db: PostgresDatabase) -> None:
    from demo_app.postgres_store import PostgresStore

    nobody = PostgresStore(f"postgresql://demo@127.0.0.1:{free_port()}/demo", busy_timeout=0.3)
    try:
        with pytest.raises(StoreBusyError):
            nobody.list_products()
    finally:
        nobody.close()


def test_after_a_server_restart_the_first_call_already_succeeds(
    postgres_db: PostgresDatabase, postgres_cluster: Any
) -> None:
    # The restart ends the pooled session; the pool must find that out itself
    # (an empty round trip before lending a connection), not through a write
    # whose fate the client could then not know.
    store = postgres_db.store()
    try:
        store.create("before", 1)
        postgres_cluster.stop_server("fast")
        postgres_cluster.start_server()
        assert store.create("after", 2)["name"] == "after"
        assert names(store.list_products()) == ["Keyboard", "Mouse", "before", "after"]
    finally:
        store.close()


def test_other_sqlite_errors_are_not_reported_as_busy(tmp_path: Path) -> None:
    store = Store(tmp_path)  # a directory: SQLite cannot open it at all
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        store.list_products()


# -- a read-only file -----------------------------------------------------------


def test_a_connection_opened_read_only_reconnects_once_the_file_is_writable(
    sqlite_store: Store,
) -> None:
    store = sqlite_store
    assert store.list_products() == SEEDS  # creates the file
    store.close()
    with unwritable(Path(store.path)):
        assert store.list_products() == SEEDS  # SQLite opens it read-only: reads work
        # Still read-only on a new connection: the error stands.
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.create("Monitor", 14999)
        assert store.list_products() == SEEDS  # that new connection is read-only too
    # Writable again, while the connection opened read-only is still open.
    assert store.create("Monitor", 14999)["id"] == 3
    assert names(store.list_products()) == ["Keyboard", "Mouse", "Monitor"]


# -- a full database ------------------------------------------------------------


def fill_up(store: Store) -> None:
    """Cap the file at the pages it has now (SQLite's own limit, the same
    SQLITE_FULL as a full disk), then add products until one does not fit."""
    store.list_products()
    # The store's own connection for this thread: max_page_count is per connection.
    connection = store._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreFullError, match="full"):
        for number in range(10_000):
            store.create(f"Filler {number:05} " + "x" * 150, number)


def test_a_full_database_raises_store_full_and_reads_go_on(sqlite_store: Store) -> None:
    store = sqlite_store
    fill_up(store)
    listed = store.list_products()
    assert listed[:2] == SEEDS and len(listed) > 2
    assert store.get(1) == SEEDS[0]
    # Each refused write changed nothing.
    wide = "A name long enough to need more room " * 5
    with pytest.raises(StoreFullError):
        store.create(wide, 14999)
    with pytest.raises(StoreFullError):
        store.replace(1, wide, 1)
    assert store.list_products() == listed
    assert isinstance(StoreFullError("x"), StoreError)
    assert isinstance(StoreBusyError("x"), StoreError)

    # Room again (a freed disk; here, a higher cap): writes work, no restart needed.
    store._connection().execute("PRAGMA max_page_count = 1000000")
    assert store.create("Monitor", 14999)["name"] == "Monitor"
