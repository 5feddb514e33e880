"""The demo's product list and the small APIs, in-process (`demo_client.Api`):
`GET /api/products` (search, paging, order), `POST /api/products`, and
`/api/hello`, `/api/books`.

Each test runs twice, on a fresh database of its own: a SQLite file under
`tmp_path` (`$MICROROUTE_DEMO_DB`), then a PostgreSQL database on the session's
server (`$DATABASE_URL`); both must give the same answers (the `api` fixture).
Nothing is mocked.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from demo_client import PRICE_RULE, Api, refused_fields
from demo_databases import SEEDS, names
from helpers import error_message

# -- GET /api/products ------------------------------------------------------


def test_the_list_starts_with_the_seeds(api: Api) -> None:
    response = api.get("/api/products")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == SEEDS


def test_the_list_is_oldest_first(api: Api) -> None:
    api.create("Zebra mat")
    api.create("Anvil")
    assert names(api.products()) == ["Keyboard", "Mouse", "Zebra mat", "Anvil"]
    ids = [product["id"] for product in api.products()]
    assert ids == sorted(ids)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("key", ["Keyboard"]),
        ("KEY", ["Keyboard"]),
        ("oUsE", ["Mouse"]),
        ("o", ["Keyboard", "Mouse"]),
        ("zzz", []),
        ("", ["Keyboard", "Mouse"]),  # an empty filter is no filter
    ],
)
def test_q_filters_by_a_case_insensitive_substring_of_the_name(
    api: Api, q: str, expected: list[str]
) -> None:
    assert names(api.products(f"?q={q}")) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("%25", ["100% wool"]),   # `%` matches itself, not everything
        ("_", ["snake_case mug"]),  # `_` matches itself, not any character
        ("\\", ["back\\slash"]),
        ("0%25 w", ["100% wool"]),
    ],
)
def test_q_treats_like_wildcards_literally(api: Api, q: str, expected: list[str]) -> None:
    for name in ["100% wool", "snake_case mug", "snakeXcase mug", "back\\slash", "100 wool"]:
        api.create(name)
    assert names(api.products(f"?q={q}")) == expected


def test_q_with_a_nul_is_a_400_not_a_match_for_everything(api: Api) -> None:
    # SQLite's LIKE ends a pattern at NUL: "%\0%" would have matched every product.
    assert "q must not contain a NUL" in error_message(api.get("/api/products?q=%00"), 400)
    assert "q must not contain a NUL" in error_message(api.get("/api/products?q=zz%00"), 400)


@pytest.mark.parametrize("length", [201, 2_000, 50_000])
def test_a_q_longer_than_any_name_is_a_400_naming_the_limit(api: Api, length: int) -> None:
    # 50,000 bytes is SQLite's own limit for a LIKE pattern: past it, a 500.
    message = error_message(api.get(f"/api/products?q={'k' * length}"), 400)
    assert "q must be at most 200 characters" in message and str(length) in message
    # Characters, not bytes: 200 of them, four UTF-8 bytes each, are a fine q.
    assert api.products(f"?q={'%F0%9F%90%8D' * 200}") == []
    assert names(api.products(f"?q={'k' * 200}")) == []


def test_a_name_with_a_nul_is_refused(api: Api) -> None:
    response = api("POST", "/api/products", {"name": "Key\u0000board", "price": 1})
    assert refused_fields(response) == {"name": "must not contain a NUL character"}


def test_q_combines_with_paging(api: Api) -> None:
    for number in range(5):
        api.create(f"Cable {number}")
    assert names(api.products("?q=cable&limit=2&offset=1")) == ["Cable 1", "Cable 2"]


def test_limit_defaults_to_50_and_may_go_up_to_200(api: Api) -> None:
    for number in range(208):
        api.create(f"Item {number}")  # 210 products with the seeds
    assert len(api.products()) == 50
    assert len(api.products("?limit=200")) == 200
    assert len(api.products("?limit=1")) == 1
    everything = api.products("?limit=200") + api.products("?limit=200&offset=200")
    assert len(everything) == 210
    assert len({product["id"] for product in everything}) == 210


def test_offset_skips_that_many(api: Api) -> None:
    api.create("Monitor")
    assert names(api.products("?offset=0")) == ["Keyboard", "Mouse", "Monitor"]
    assert names(api.products("?offset=1")) == ["Mouse", "Monitor"]
    assert names(api.products("?limit=1&offset=2")) == ["Monitor"]
    assert api.products("?offset=3") == []
    assert api.products("?offset=1000000") == []


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=%D9%A3", "limit"),  # an Arabic-Indic 3: a digit to str.isdigit, not to us
        ("limit=99999999999999999999999", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("offset=99999999999999999999999", "offset"),
        ("limit=10&offset=x", "offset"),
        ("order=random", "order"),
        ("order=NEWEST", "order"),
        ("order=", "order"),
    ],
)
def test_bad_paging_is_a_400_naming_the_parameter(api: Api, query: str, parameter: str) -> None:
    message = error_message(api.get(f"/api/products?{query}"), 400)
    assert parameter in message


def test_the_list_can_be_newest_first(api: Api) -> None:
    api.create("Zebra mat")
    api.create("Anvil")
    assert names(api.products("?order=newest")) == ["Anvil", "Zebra mat", "Mouse", "Keyboard"]
    assert names(api.products("?order=newest&limit=2&offset=1")) == ["Zebra mat", "Mouse"]
    assert names(api.products("?order=newest&q=a")) == ["Anvil", "Zebra mat", "Keyboard"]
    assert names(api.products("?order=oldest&limit=1")) == ["Keyboard"]


# -- POST /api/products -----------------------------------------------------


def test_post_creates_a_product(api: Api) -> None:
    response = api("POST", "/api/products", {"name": "Monitor", "price": 14999})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    created = {"id": 3, "name": "Monitor", "price": 14999}
    assert response.get_json() == {"created": created}
    assert response.headers["Location"] == "/api/products/3"
    assert api.get("/api/products/3").get_json() == created
    assert api.products() == [*SEEDS, created]


def test_post_parses_json_whatever_the_content_type(api: Api) -> None:
    body = json.dumps({"name": "Lamp", "price": 0})
    response = api("POST", "/api/products", data=body, headers={"Content-Type": "text/plain"})
    assert response.status_code == 201
    assert response.get_json()["created"]["price"] == 0


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  Desk lamp \n", "Desk lamp"),
        ("\tX\t", "X"),
        ("x" * 200, "x" * 200),
        ("  " + "y" * 200 + "  ", "y" * 200),  # 200 after trimming
        ("Café ☕ 🍰", "Café ☕ 🍰"),
    ],
)
def test_post_stores_the_trimmed_name(api: Api, given: str, stored: str) -> None:
    response = api("POST", "/api/products", {"name": given, "price": 5})
    assert response.status_code == 201
    product = response.get_json()["created"]
    assert product["name"] == stored
    assert api.get(response.headers["Location"]).get_json() == product


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({}, {"name", "price"}),
        ({"price": 1}, {"name"}),
        ({"name": "", "price": 1}, {"name"}),
        ({"name": "   \t\n ", "price": 1}, {"name"}),
        ({"name": "x" * 201, "price": 1}, {"name"}),
        ({"name": 5, "price": 1}, {"name"}),
        ({"name": None, "price": 1}, {"name"}),
        ({"name": ["Monitor"], "price": 1}, {"name"}),
        ({"name": {"text": "Monitor"}, "price": 1}, {"name"}),
        ({"name": "Monitor"}, {"price"}),
        ({"name": "Monitor", "price": -1}, {"price"}),
        ({"name": "Monitor", "price": 1.5}, {"price"}),
        ({"name": "Monitor", "price": 100.0}, {"price"}),
        ({"name": "Monitor", "price": "100"}, {"price"}),
        ({"name": "Monitor", "price": True}, {"price"}),
        ({"name": "Monitor", "price": False}, {"price"}),
        ({"name": "Monitor", "price": None}, {"price"}),
        ({"name": "Monitor", "price": [1]}, {"price"}),
        ({"name": "", "price": -1}, {"name", "price"}),
        ({"name": 1, "price": "1"}, {"name", "price"}),
    ],
)
def test_post_with_invalid_fields_is_a_422_naming_each(
    api: Api, body: dict[str, Any], bad: set[str]
) -> None:
    response = api("POST", "/api/products", body)
    fields = refused_fields(response)
    assert set(fields) == bad
    if "price" in bad:
        assert fields["price"] == PRICE_RULE
    message = response.get_json()["error"]
    assert all(field in message for field in bad)
    assert api.products() == SEEDS  # nothing was stored


@pytest.mark.parametrize("body", [[], [{"name": "Monitor", "price": 1}], "Monitor", 42, None])
def test_post_of_a_json_value_that_is_not_an_object_is_a_422(api: Api, body: Any) -> None:
    response = api("POST", "/api/products", data=json.dumps(body))
    assert set(refused_fields(response)) == {"name", "price"}
    assert api.products() == SEEDS


def test_post_of_a_price_sqlite_cannot_hold_is_a_422(api: Api) -> None:
    largest = 2**63 - 1
    assert api.create("Dear", largest)["price"] == largest
    response = api("POST", "/api/products", {"name": "Dearer", "price": largest + 1})
    assert set(refused_fields(response)) == {"price"}


def test_post_of_a_name_with_a_lone_surrogate_is_a_422(api: Api) -> None:
    # Valid JSON, but not text UTF-8 (or SQLite) can hold.
    response = api("POST", "/api/products", data='{"name": "bad \\ud800", "price": 1}')
    assert set(refused_fields(response)) == {"name"}
    assert api.products() == SEEDS


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"{'name': 'Monitor', 'price': 1}",
        b'{"name": "Monitor", "price": 1',
        b"name=Monitor&price=1",
        b'{"name": "Monitor", "price": 1} trailing',
        b'{"name": "\xff", "price": 1}',  # not UTF-8
    ],
)
def test_post_of_malformed_json_is_a_400(api: Api, body: bytes) -> None:
    response = api("POST", "/api/products", data=body,
                   headers={"Content-Type": "application/json"})
    assert "JSON" in error_message(response, 400)
    assert api.products() == SEEDS


@pytest.mark.parametrize("body", [b"", b"  \n "])
def test_post_of_an_empty_body_is_a_400(api: Api, body: bytes) -> None:
    response = api("POST", "/api/products", data=body,
                   headers={"Content-Type": "application/json"})
    assert "empty" in error_message(response, 400)


def test_the_product_list_takes_only_get_and_post(api: Api) -> None:
    response = api("DELETE", "/api/products")
    error_message(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


# -- the small APIs -------------------------------------------------------


def test_hello(api: Api) -> None:
    response = api.get("/api/hello")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {"message": "Hi!"}


def test_books(api: Api) -> None:
    response = api.get("/api/books")
    assert response.status_code == 200
    books = response.get_json()
    assert len(books) == 3
    assert [book["id"] for book in books] == [1, 2, 3]
    assert all(set(book) == {"id", "title", "author"} for book in books)
