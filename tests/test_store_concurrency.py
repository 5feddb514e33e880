"""The demo's stores under real concurrency: threads, forked processes (as
gunicorn's workers are), and processes meeting a new database at once, on
SQLite and on PostgreSQL (the `store` fixture). No mocks.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as ProcessEvent
from pathlib import Path
from typing import Any

import pytest

from demo_app.store import Store
from demo_databases import SEEDS, DemoDatabase, PostgresDatabase, names

JOIN_TIMEOUT = 60.0  # seconds for every thread or process of a test


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
