"""The demo app under a real gunicorn on 127.0.0.1, with its own SQLite file in
`tmp_path`: a smoke test, the admin token kept out of the server's log, a worker
restarted while the file was read-only; 4 workers taking concurrent writes from
4 client threads, on SQLite and on PostgreSQL; and PostgreSQL restarted under
the writes.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from demo_app.store import DB_ENV_VAR
from demo_databases import DemoDatabase, PostgresDatabase
from helpers import Server, unwritable

ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"
THREADS, POSTS_PER_THREAD = 4, 100
JOIN_TIMEOUT = 120.0  # seconds for all the posts; each request also times out (10 s)


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # An empty token means no token, whatever the test runner's own environment holds;
    # an empty URL means SQLite.
    return {DB_ENV_VAR: str(tmp_path / "demo.sqlite3"), "DATABASE_URL": "",
            ADMIN_TOKEN_ENV: "", **extra}


def get_json(server: Server, path: str) -> Any:
    status, headers, body = server.request("GET", path)
    assert status == 200, body
    assert headers["Content-Type"] == "application/json"
    return json.loads(body)


def post_json(server: Server, path: str, data: Any,
              headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return server.request("POST", path, json.dumps(data).encode(),
                          {"Content-Type": "application/json", **(headers or {})})


def test_the_demo_over_gunicorn(serve: Callable[..., Server], tmp_path: Path) -> None:
    server = serve("demo_app:app", env=demo_env(tmp_path))
    status, headers, body = server.request("GET", "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'href="/products"' in body
    assert get_json(server, "/api/hello") == {"message": "Hi!"}
    assert get_json(server, "/api/products") == [
        {"id": 1, "name": "Keyboard", "price": 999},
        {"id": 2, "name": "Mouse", "price": 499},
    ]
    status, headers, body = post_json(server, "/api/products", {"name": "Monitor", "price": 1})
    assert status == 201
    assert headers["Location"] == "/api/products/3"
    status, _, body = server.request("GET", "/products")
    assert status == 200 and b"<li>Monitor: 0.01</li>" in body
    assert (tmp_path / "demo.sqlite3").exists()  # the file named by the variable
    assert "Traceback" not in server.log.read_text()


def test_the_admin_token_stays_out_of_responses_and_the_log(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    token = "adm1n-" + secrets.token_urlsafe(24)
    server = serve("demo_app:app", workers=2, env=demo_env(tmp_path, **{ADMIN_TOKEN_ENV: token}))
    answers = [
        server.request("DELETE", "/api/products/1"),
        server.request("DELETE", "/api/products/1", headers={"Authorization": "Bearer nope"}),
        server.request("DELETE", "/api/products/1", headers={"Authorization": f"Basic {token}"}),
        server.request("GET", "/api/products/1"),
        server.request("PUT", "/api/products/1", b'{"name": "Mine", "price": 1}'),
        server.request("PATCH", "/api/products/1", b'{"price": 1}',
                       headers={"Authorization": "Bearer nope"}),
        server.request("PATCH", "/api/products/1", b'{"price": 1}',
                       headers={"Authorization": f"Bearer {token}"}),
        server.request("DELETE", "/api/products/1", headers={"Authorization": f"Bearer {token}"}),
        server.request("GET", "/api/products/1"),
        server.request("GET", "/products", headers={"Accept": "text/html"}),
        server.request("GET", "/"),
    ]
    statuses = [status for status, _, _ in answers]
    assert statuses == [401, 401, 401, 200, 401, 401, 200, 204, 404, 200, 200]
    for _, headers, body in answers:
        assert token.encode() not in body
        assert token not in json.dumps(headers)
    assert token not in server.log.read_text()


def restart_workers(server: Server, timeout: float = 20.0) -> list[int]:
    """SIGHUP: gunicorn replaces every worker; wait until only new ones are left."""
    old = set(server.worker_pids())
    os.kill(server.process.pid, signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while not (pids := server.worker_pids()) or old & set(pids):
        assert time.monotonic() < deadline, f"workers {old} were not replaced"
        time.sleep(0.05)
    return pids


def test_a_worker_started_while_the_file_was_read_only_writes_once_it_is_writable(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    db_path = tmp_path / "demo.sqlite3"
    server = serve("demo_app:app", env=demo_env(tmp_path))
    product = {"name": "Monitor", "price": 1}
    assert post_json(server, "/api/products", product)[0] == 201

    with unwritable(db_path):
        first = restart_workers(server)
        # The new worker's first use opens the file, and SQLite opens it read-only.
        assert len(get_json(server, "/api/products")) == 3
        status, _, body = post_json(server, "/api/products", product)
        assert status == 500, body  # the file really is read-only: a crash, logged
        assert "attempt to write a readonly database" in server.log.read_text()

    # Writable again: the next write succeeds on the same worker, not restarted.
    status, _, body = post_json(server, "/api/products", product)
    assert status == 201, body
    assert server.worker_pids() == first
    assert len(get_json(server, "/api/products")) == 4


@pytest.mark.slow
def test_four_workers_take_concurrent_posts(serve: Callable[..., Server], tmp_path: Path,
                                            demo_db: DemoDatabase) -> None:
    """4 threads x 100 POSTs with unique names: every one a 201, and afterwards
    every product listed exactly once."""
    server = serve("demo_app:app", workers=4, env=demo_env(tmp_path, **demo_db.env))
    start = threading.Barrier(THREADS, timeout=30)
    results: list[list[tuple[str, int, dict[str, str], bytes]]] = [[] for _ in range(THREADS)]
    failures: list[BaseException] = []

    def post_many(thread: int) -> None:
        try:
            start.wait()
            for number in range(POSTS_PER_THREAD):
                name = f"Product {thread}-{number}"
                status, headers, body = post_json(
                    server, "/api/products", {"name": name, "price": thread * 1000 + number}
                )
                results[thread].append((name, status, headers, body))
        except BaseException as error:  # reported below, with the thread's results
            failures.append(error)

    threads = [threading.Thread(target=post_many, args=(n,), daemon=True)
               for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "client threads did not finish"
    assert failures == []

    answers = [answer for per_thread in results for answer in per_thread]
    assert len(answers) == THREADS * POSTS_PER_THREAD
    statuses = Counter(status for _, status, _, _ in answers)
    assert statuses == {201: THREADS * POSTS_PER_THREAD}, statuses
    created: dict[str, dict[str, Any]] = {}
    for name, _, headers, body in answers:
        product = json.loads(body)["created"]
        assert product["name"] == name
        assert headers["Location"] == f"/api/products/{product['id']}"
        created[name] = product
    assert len({product["id"] for product in created.values()}) == len(created)

    # Page through the whole list: each product exactly once, oldest first.
    listed: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = get_json(server, f"/api/products?limit=200&offset={offset}")
        listed += page
        offset += 200
        if len(page) < 200:
            break
        assert offset <= 10 * 200, "the list never ends"
    names = Counter(product["name"] for product in listed)
    assert names == Counter(["Keyboard", "Mouse", *created]), "missing or doubled products"
    ids = [product["id"] for product in listed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    for product in listed:
        if product["name"] in created:
            assert product == created[product["name"]]
    # No worker crashed or logged an error.
    log = server.log.read_text()
    assert "Traceback" not in log and "[ERROR]" not in log, log


def list_everything(server: Server) -> list[dict[str, Any]]:
    """The whole catalogue, page by page."""
    listed: list[dict[str, Any]] = []
    while True:
        page = get_json(server, f"/api/products?limit=200&offset={len(listed)}")
        listed += page
        if len(page) < 200:
            return listed
        assert len(listed) <= 50 * 200, "the list never ends"


@pytest.mark.slow
def test_postgresql_restarted_under_writes_is_503s_then_nothing_lost(
    serve: Callable[..., Server], tmp_path: Path, postgres_db: PostgresDatabase,
    postgres_cluster: Any,
) -> None:
    """A writer POSTs without pause while the server is stopped (ending every
    pooled session) and started again: while it is down the answers are 503s
    with Retry-After, never a 500; once it is back the pools reconnect by
    themselves, writes succeed again, and every 201 is in the catalogue."""
    server = serve("demo_app:app", workers=2, env=demo_env(tmp_path, **postgres_db.env))
    answers: list[tuple[str, int, dict[str, str], bytes]] = []
    stop = threading.Event()

    def write() -> None:
        number = 0
        while not stop.is_set():
            name = f"Write {number}"
            number += 1
            status, headers, body = post_json(server, "/api/products", {"name": name, "price": 1})
            answers.append((name, status, headers, body))

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        wait_until(lambda: count(answers, 201) >= 20)
        postgres_cluster.stop_server("fast")
        wait_until(lambda: count(answers, 503) >= 1)
        postgres_cluster.start_server()
        written_before = count(answers, 201)
        wait_until(lambda: count(answers, 201) >= written_before + 20)
    finally:
        stop.set()
        writer.join(JOIN_TIMEOUT)
    assert not writer.is_alive()

    statuses = Counter(status for _, status, _, _ in answers)
    assert set(statuses) == {201, 503}, statuses
    for _, status, headers, body in answers:
        if status == 503:
            assert headers["Retry-After"].isdigit()
            assert b"busy" in body
    created = {name: json.loads(body)["created"]
               for name, status, _, body in answers if status == 201}
    listed = {product["name"]: product for product in list_everything(server)}
    assert all(listed.get(name) == product for name, product in created.items()), "lost writes"
    log = server.log.read_text()
    assert "Traceback" not in log and "[ERROR]" not in log, log


def count(answers: list[tuple[str, int, dict[str, str], bytes]], status: int) -> int:
    return sum(1 for answer in list(answers) if answer[1] == status)


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "waited too long"
        time.sleep(0.05)
