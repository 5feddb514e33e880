"""The demo's product stores, against real databases: a SQLite file under
`tmp_path` and a database on a real PostgreSQL server (the `demo_db` fixture runs
each shared test on both). No mocks.

Concurrency is real too: threads, forked processes, and a second connection that
holds the write lock.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import pytest

from demo_app.store import (
    DATABASE_URL_ENV_VAR,
    DB_ENV_VAR,
    DEFAULT_DB_FILE,
    Product,
    Store,
    StoreBusyError,
    StoreError,
    StoreFullError,
    default_store,
)
from demo_databases import DemoDatabase, PostgresDatabase
from helpers import free_port, unwritable

SEEDS: list[Product] = [
    {"id": 1, "name": "Keyboard", "price": 999},
    {"id": 2, "name": "Mouse", "price": 499},
]
JOIN_TIMEOUT = 60.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "products.sqlite3"


@pytest.fixture
def store(demo_db: DemoDatabase) -> Iterator[Store]:
    """A store on a fresh database: SQLite, then PostgreSQL."""
    store = demo_db.store()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(db_path: Path) -> Iterator[Store]:
    store = Store(db_path)
    yield store
    store.close()


def names(products: list[Product]) -> list[str]:
    return [product["name"] for product in products]


# -- schema and seeds -------------------------------------------------------


def test_nothing_is_opened_until_first_use(db_path: Path) -> None:
    Store(db_path)
    assert not db_path.exists()


def test_first_use_creates_the_table_with_two_seeded_products(store: Store) -> None:
    assert store.list_products() == SEEDS


def test_opening_the_database_again_does_not_seed_again(store: Store,
                                                        demo_db: DemoDatabase) -> None:
    store.create("Monitor", 14999)
    store.close()

    again = demo_db.store()
    try:
        assert names(again.list_products()) == ["Keyboard", "Mouse", "Monitor"]
    finally:
        again.close()


def test_an_emptied_catalogue_stays_empty(store: Store, demo_db: DemoDatabase) -> None:
    for product in store.list_products():
        assert store.delete(product["id"])
    store.close()

    again = demo_db.store()
    try:
        assert again.list_products() == []
    finally:
        again.close()


def test_the_database_is_in_wal_mode(sqlite_store: Store, db_path: Path) -> None:
    sqlite_store.list_products()
    with closing(sqlite3.connect(db_path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


# -- listing ----------------------------------------------------------------


def test_products_are_listed_oldest_first(store: Store) -> None:
    for name in ("Zebra mat", "Apple stand", "Mug"):
        store.create(name, 100)
    assert names(store.list_products()) == ["Keyboard", "Mouse", "Zebra mat", "Apple stand", "Mug"]


def test_products_can_be_listed_newest_first(store: Store) -> None:
    for name in ("Zebra mat", "Apple stand", "Mug"):
        store.create(name, 100)
    assert names(store.list_products(newest_first=True)) == [
        "Mug", "Apple stand", "Zebra mat", "Mouse", "Keyboard"]
    assert names(store.list_products(limit=2, offset=1, newest_first=True)) == [
        "Apple stand", "Zebra mat"]
    assert names(store.list_products(q="m", newest_first=True)) == ["Mug", "Zebra mat", "Mouse"]


@pytest.mark.parametrize("q", ["key", "KEY", "kEyBoArD", "board"])
def test_q_matches_a_name_substring_case_insensitively(store: Store, q: str) -> None:
    assert names(store.list_products(q=q)) == ["Keyboard"]


def test_q_without_a_match_gives_an_empty_list(store: Store) -> None:
    assert store.list_products(q="monitor") == []


def test_q_folds_only_ascii_letters(store: Store) -> None:
    # SQLite's LIKE folds ASCII only; PostgreSQL must not fold more, whatever its locale.
    store.create("Écran", 100)
    assert names(store.list_products(q="écran")) == []
    assert names(store.list_products(q="ÉCRAN")) == ["Écran"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%", ["100% wool"]),
        ("0%", ["100% wool"]),
        ("_", ["snake_case"]),
        ("e_c", ["snake_case"]),
        ("\\", ["back\\slash"]),
    ],
)
def test_like_wildcards_in_q_match_literally(store: Store, q: str, expected: list[str]) -> None:
    # Each decoy would match too if `%`, `_` or `\` kept a special meaning.
    for name in ("100% wool", "100 wool", "snake_case", "snakeXcase", "back\\slash", "backslash"):
        store.create(name, 100)
    assert names(store.list_products(q=q)) == expected


def test_limit_and_offset_page_through_the_list(store: Store) -> None:
    for name in ("A", "B", "C"):
        store.create(name, 100)
    assert names(store.list_products(limit=2)) == ["Keyboard", "Mouse"]
    assert names(store.list_products(limit=2, offset=2)) == ["A", "B"]
    assert names(store.list_products(limit=2, offset=4)) == ["C"]
    assert names(store.list_products(offset=3)) == ["B", "C"]
    assert store.list_products(offset=5) == []
    assert store.list_products(limit=0) == []


def test_limit_and_offset_apply_after_the_q_filter(store: Store) -> None:
    for name in ("Mouse pad", "Mouse bungee", "Cable"):
        store.create(name, 100)
    assert names(store.list_products(q="mouse", limit=2, offset=1)) == ["Mouse pad", "Mouse bungee"]


# -- one product --------------------------------------------------------------


def test_get_returns_the_product_or_none(store: Store) -> None:
    assert store.get(2) == {"id": 2, "name": "Mouse", "price": 499}
    assert store.get(999) is None


def test_create_returns_the_stored_product_with_its_new_id(store: Store) -> None:
    created = store.create("Monitor", 14999)
    assert created == {"id": 3, "name": "Monitor", "price": 14999}
    assert store.get(3) == created


def test_replace_overwrites_both_fields(store: Store) -> None:
    replaced = store.replace(1, "Split keyboard", 19900)
    assert replaced == {"id": 1, "name": "Split keyboard", "price": 19900}
    assert store.get(1) == replaced


def test_replace_of_an_unknown_id_changes_nothing(store: Store) -> None:
    assert store.replace(999, "Ghost", 1) is None
    assert store.list_products() == SEEDS


def test_update_changes_only_the_fields_given(store: Store) -> None:
    assert store.update(1, price=1299) == {"id": 1, "name": "Keyboard", "price": 1299}
    assert store.update(1, name="Clicky") == {"id": 1, "name": "Clicky", "price": 1299}
    assert store.update(2, name="Trackball", price=0) == {"id": 2, "name": "Trackball", "price": 0}
    assert store.list_products() == [
        {"id": 1, "name": "Clicky", "price": 1299},
        {"id": 2, "name": "Trackball", "price": 0},
    ]


def test_update_with_no_fields_returns_the_product_unchanged(store: Store) -> None:
    assert store.update(1) == SEEDS[0]
    assert store.update(999) is None


def test_update_of_an_unknown_id_changes_nothing(store: Store) -> None:
    assert store.update(999, name="Ghost") is None
    assert store.list_products() == SEEDS


def test_delete_removes_the_product_once(store: Store) -> None:
    assert store.delete(1) is True
    assert store.get(1) is None
    assert store.delete(1) is False
    assert store.list_products() == [SEEDS[1]]


def test_delete_of_an_unknown_id_is_false(store: Store) -> None:
    assert store.delete(999) is False
    assert store.list_products() == SEEDS


def test_a_deleted_id_is_never_reused(store: Store, demo_db: DemoDatabase) -> None:
    newest = store.create("Monitor", 14999)
    assert store.delete(newest["id"])
    assert store.create("Webcam", 4999)["id"] == newest["id"] + 1

    # The high-water mark lives in the database, not in the connection.
    assert store.delete(newest["id"] + 1)
    store.close()
    again = demo_db.store()
    try:
        assert again.create("Headset", 2999)["id"] == newest["id"] + 2
    finally:
        again.close()


# -- the default store --------------------------------------------------------


@pytest.fixture
def fresh_default(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(DATABASE_URL_ENV_VAR, raising=False)
    default_store.cache_clear()
    yield
    default_store.cache_clear()


@pytest.mark.usefixtures("fresh_default")
def test_the_default_store_uses_the_environment_variable(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DB_ENV_VAR, str(db_path))
    store = default_store()
    try:
        assert store is default_store()
        assert store.path == str(db_path)
        assert store.list_products() == SEEDS
        assert db_path.exists()
    finally:
        store.close()


@pytest.mark.usefixtures("fresh_default")
def test_the_default_store_falls_back_to_a_file_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DB_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_store().path == str(tmp_path / DEFAULT_DB_FILE)


@pytest.mark.usefixtures("fresh_default")
def test_database_url_makes_the_default_store_postgresql(
    postgres_db: PostgresDatabase, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, postgres_db.url)
    monkeypatch.setenv(DB_ENV_VAR, str(db_path))  # the URL wins
    store = default_store()
    try:
        assert store is default_store()
        assert type(store).__name__ == "PostgresStore"
        assert store.list_products() == SEEDS
        assert postgres_db.sql("SELECT count(*) FROM products") == [(2,)]
        assert not db_path.exists()
    finally:
        store.close()


@pytest.mark.usefixtures("fresh_default")
@pytest.mark.parametrize("url", ["sqlite:///demo.db", "mysql://demo@db/shop", "demo"])
def test_a_database_url_that_is_not_postgresql_is_refused_by_name(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, url)
    with pytest.raises(ValueError, match="DATABASE_URL must start with postgresql://"):
        default_store()


# -- concurrency --------------------------------------------------------------


def test_concurrent_creates_from_threads_all_persist_once(store: Store) -> None:
    threads_count, per_thread = 8, 25
    start = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        # One shared connection would fail here: sqlite3 refuses a connection
        # used from a thread other than the one that opened it.
        try:
            start.wait(timeout=10)
            for i in range(per_thread):
                store.create(f"t{thread}-{i}", i)
        except BaseException as error:
            errors.append(error)
        finally:
            close_this_threads(store)

    run_threads([threading.Thread(target=work, args=(t,)) for t in range(threads_count)])
    assert errors == []

    created = names(store.list_products())[2:]
    expected = {f"t{t}-{i}" for t in range(threads_count) for i in range(per_thread)}
    assert len(created) == len(expected)
    assert set(created) == expected


def test_threads_first_using_new_files_at_once_all_succeed(tmp_path: Path) -> None:
    # Switching a new file to WAL is where simultaneous first uses collide, and
    # only sometimes: hence many rounds, each on a new file (about a second).
    rounds, threads_count = 100, 8
    errors: list[BaseException] = []

    def first_use(store: Store, start: threading.Barrier) -> None:
        try:
            start.wait(timeout=10)
            store.list_products()
        except BaseException as error:
            errors.append(error)
        finally:
            store.close()

    for round_ in range(rounds):
        store = Store(tmp_path / f"new-{round_}.sqlite3")
        start = threading.Barrier(threads_count)
        run_threads([threading.Thread(target=first_use, args=(store, start))
                     for _ in range(threads_count)])
        assert errors == []
        assert store.list_products() == SEEDS
        store.close()


def _create_many(store: Store, start: threading.Barrier, worker: int, count: int) -> None:
    start.wait(timeout=10)
    for i in range(count):
        store.create(f"p{worker}-{i}", i)


def _open_and_list(database: DemoDatabase, start: threading.Barrier) -> None:
    start.wait(timeout=10)
    database.store().list_products()


def close_this_threads(store: Store) -> None:
    """What a thread does as it ends: close its own SQLite connection. A pool
    (PostgreSQL) lends its connections per statement: a thread holds none."""
    if isinstance(store, Store):
        store.close()


def run_threads(threads: list[threading.Thread]) -> None:
    """Start the threads together and wait, bounded, for every one to finish."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)


def run_in_forked_processes(target: Callable[..., None], calls: list[tuple[object, ...]]) -> None:
    """Run `target(*args)` in one forked process per tuple in `calls`; all must exit 0."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=target, args=args) for args in calls]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=JOIN_TIMEOUT)
        assert [process.exitcode for process in processes] == [0] * len(processes)
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join(timeout=10)


def test_concurrent_creates_from_forked_processes_all_persist_once(store: Store) -> None:
    # Used and closed before the fork, as a preloading server might: each child
    # then opens a connection of its own.
    assert store.list_products() == SEEDS
    store.close()
    workers, per_worker = 4, 25
    start = multiprocessing.get_context("fork").Barrier(workers)
    run_in_forked_processes(
        _create_many, [(store, start, worker, per_worker) for worker in range(workers)]
    )

    created = names(store.list_products())[2:]
    expected = {f"p{w}-{i}" for w in range(workers) for i in range(per_worker)}
    assert len(created) == len(expected)
    assert set(created) == expected


def _create_around_the_parents_close(store: Store, parent_closed: ProcessEvent,
                                     child_wrote: ProcessEvent) -> None:
    store.create("before", 1)
    child_wrote.set()
    assert parent_closed.wait(timeout=10)
    store.create("after", 2)


def wait_for(event: ProcessEvent, process: multiprocessing.process.BaseProcess) -> bool:
    """Wait for `event`, but not for longer than `process` lives."""
    deadline = time.monotonic() + JOIN_TIMEOUT
    while process.is_alive() and time.monotonic() < deadline:
        if event.wait(timeout=0.05):
            return True
    return event.is_set()


def test_a_store_built_before_fork_serves_parent_and_child(store: Store) -> None:
    # Nothing is open at the fork, so each process's first use opens its own
    # connection, and the parent closing its own leaves the child's writes alone
    # (SQLite would delete the WAL file under a child that inherited an open one).
    context = multiprocessing.get_context("fork")
    parent_closed, child_wrote = context.Event(), context.Event()
    child = context.Process(target=_create_around_the_parents_close,
                            args=(store, parent_closed, child_wrote))
    child.start()
    try:
        assert wait_for(child_wrote, child)
        assert names(store.list_products()) == ["Keyboard", "Mouse", "before"]
        store.close()
        parent_closed.set()
        child.join(timeout=JOIN_TIMEOUT)
        assert child.exitcode == 0
    finally:
        if child.is_alive():
            child.kill()
            child.join(timeout=10)

    assert names(store.list_products()) == ["Keyboard", "Mouse", "before", "after"]


def _expect_refusal(store: Store) -> None:
    with pytest.raises(RuntimeError, match="forked"):
        store.list_products()


def test_a_child_forked_while_the_store_is_open_refuses_to_use_it(sqlite_store: Store) -> None:
    assert sqlite_store.list_products() == SEEDS  # open in the parent, then fork
    run_in_forked_processes(_expect_refusal, [(sqlite_store,)])
    assert sqlite_store.list_products() == SEEDS  # the parent's connection is unharmed


def _create_in_a_pool_of_its_own(store: Any, parent_backend: int) -> None:
    assert store.create("child", 1)["name"] == "child"
    assert _backend_pid(store) != parent_backend


def _backend_pid(store: Any) -> int:
    with store._pool_of_this_process().connection() as connection:
        return int(connection.info.backend_pid)


def test_a_child_forked_while_the_pool_is_open_builds_its_own(
    postgres_db: PostgresDatabase
) -> None:
    # A PostgreSQL session can be shared by nothing: the child must never write
    # into the parent's connections, nor close them.
    store = postgres_db.store()
    try:
        assert store.list_products() == SEEDS  # the pool is open in the parent, then fork
        parent_backend = _backend_pid(store)
        run_in_forked_processes(_create_in_a_pool_of_its_own, [(store, parent_backend)])
        assert names(store.list_products()) == ["Keyboard", "Mouse", "child"]
        # The parent's session lives on: the child neither used nor closed it.
        assert postgres_db.sql("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                               [parent_backend]) == [(1,)]
    finally:
        store.close()


def test_processes_opening_a_new_database_at_once_seed_it_exactly_once(
    demo_db: DemoDatabase
) -> None:
    workers = 6
    start = multiprocessing.get_context("fork").Barrier(workers)
    run_in_forked_processes(_open_and_list, [(demo_db, start)] * workers)

    store = demo_db.store()
    try:
        assert store.list_products() == SEEDS
    finally:
        store.close()


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
    sqlite_store: Store, db_path: Path
) -> None:
    store = sqlite_store
    assert store.list_products() == SEEDS  # creates the file
    store.close()
    with unwritable(db_path):
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
