"""What the demo answers when its database cannot do what is asked: a database
locked beyond its busy timeout is a 503 with `Retry-After`, a full one a 507
while reads go on (the store's errors, mapped once in `demo_app/__init__.py`).
Nothing is mocked: a locked database is a real second connection holding the
lock, a full one a real SQLite page cap.
"""

from __future__ import annotations

from werkzeug.test import TestResponse

from demo_app.store import default_store
from demo_client import Api
from demo_databases import SEEDS, DemoDatabase
from helpers import error_message

# -- a locked database -----------------------------------------------------


def assert_busy(response: TestResponse) -> None:
    assert "busy" in error_message(response, 503)
    assert response.headers["Retry-After"].isdigit()


def test_writes_to_a_locked_database_are_a_503_with_retry_after(
    api: Api, demo_db: DemoDatabase
) -> None:
    default_store().busy_timeout = 0.05  # read by the first connection, opened below
    assert api.products() == SEEDS  # the schema exists; a SQLite file is in WAL mode
    with demo_db.writes_locked():
        assert_busy(api("POST", "/api/products", {"name": "Monitor", "price": 1}))
        assert_busy(api("PUT", "/api/products/1", {"name": "Monitor", "price": 1}))
        assert_busy(api("PATCH", "/api/products/1", {"price": 1}))
        assert_busy(api("DELETE", "/api/products/1"))
        # Readers carry on while someone else holds the write lock.
        assert api.products() == SEEDS
        assert api.get("/products").status_code == 200
    assert api.create("Monitor")["id"] == 3  # and it recovers
    assert api.errors.getvalue() == ""  # a 503 is no crash: no traceback logged


def test_a_database_locked_before_first_use_is_a_503(api: Api, demo_db: DemoDatabase) -> None:
    default_store().busy_timeout = 0.05
    with demo_db.locked_before_first_use():  # the store cannot create its table
        assert_busy(api.get("/api/products"))
        assert_busy(api.get("/api/products/1"))
        response = api.get("/products", headers={"Accept": "text/html"})
        assert response.status_code == 503
        assert response.headers["Retry-After"].isdigit()
    assert api.products() == SEEDS


# -- a full database -------------------------------------------------------


def test_writes_to_a_full_database_are_a_507_and_reads_go_on(sqlite_api: Api) -> None:
    api = sqlite_api
    store = default_store()
    assert api.products() == SEEDS
    # A cap on the file's pages makes SQLite itself answer SQLITE_FULL ("database
    # or disk is full"), as a full disk does. The app runs in this thread, so
    # this is the connection it uses.
    connection = store._connection()
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute(f"PRAGMA max_page_count = {pages}")
    statuses = [api("POST", "/api/products", {"name": "Filler " + "x" * 150, "price": 1})
                .status_code for _ in range(100)]
    assert 507 in statuses and set(statuses) <= {201, 507}, statuses
    listed = api.products()

    wide = "A name wide enough to need a page of its own " * 4
    for response in [
        api("POST", "/api/products", {"name": wide, "price": 1}),
        api("PUT", "/api/products/1", {"name": wide, "price": 1}),
        api("PATCH", "/api/products/2", {"name": wide}),
    ]:
        message = error_message(response, 507)
        assert "full" in message and "nothing was saved" in message
        assert "Retry-After" not in response.headers  # no use retrying until there is room
    # Reads go on, and nothing was half-written.
    assert api.products() == listed
    assert api.get("/api/products/1").get_json() == SEEDS[0]
    assert api.get("/products").status_code == 200
    assert api.errors.getvalue() == ""  # no crash: no traceback logged

    connection.execute("PRAGMA max_page_count = 1000000")  # room again
    assert api.create("Monitor")["name"] == "Monitor"
