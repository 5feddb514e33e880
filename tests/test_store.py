"""The demo's product stores, against real databases: a SQLite file under
`tmp_path` and a database on a real PostgreSQL server (the `store` fixture runs
each shared test on both). No mocks. Their schema and seeds, their queries, and
which store `default_store()` picks; under concurrency, test_store_concurrency.py;
when the database cannot do what is asked, test_store_errors.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from demo_app.store import DATABASE_URL_ENV_VAR, DB_ENV_VAR, DEFAULT_DB_FILE, Store, default_store
from demo_databases import SEEDS, DemoDatabase, PostgresDatabase, names


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "products.sqlite3"  # the file `sqlite_store` uses


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
