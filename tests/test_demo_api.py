"""The demo app's API and pages, in-process: werkzeug's test `Client` around
`wsgiref.validate.validator`, so every request is also checked against PEP 3333.

Each test runs twice, on a fresh database of its own: a SQLite file under
`tmp_path` (`$MICROROUTE_DEMO_DB`), then a PostgreSQL database on the session's
server (`$DATABASE_URL`); both must give the same answers. The cached
`default_store()` is cleared before and after, so the store follows the
variables. Nothing is mocked: a locked database is a real second connection
holding the lock.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client, TestResponse

from demo_app import app
from demo_app.store import default_store
from demo_databases import DemoDatabase, SqliteDatabase

ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"
SEEDS = [
    {"id": 1, "name": "Keyboard", "price": 999},
    {"id": 2, "name": "Mouse", "price": 499},
]
PRICE_RULE = "must be an integer ≥ 0"  # the issue's own wording
_NO_JSON = object()


class Api:
    """Requests to the demo app; remembers every response and what the app
    wrote to `wsgi.errors`, so a test can check what was ever sent or logged."""

    def __init__(self) -> None:
        self.client = Client(validator(app))
        self.errors = io.StringIO()
        self.responses: list[TestResponse] = []

    def __call__(self, method: str, path: str, json: Any = _NO_JSON, *,
                 data: str | bytes | None = None,
                 headers: dict[str, str] | None = None) -> TestResponse:
        options: dict[str, Any] = {"data": data}
        if json is not _NO_JSON:
            options = {"json": json}
        # buffered: the response is read whole and the app's iterator closed, as
        # the validator insists.
        response = self.client.open(path, method=method, headers=headers or {},
                                    buffered=True, errors_stream=self.errors, **options)
        self.responses.append(response)
        return response

    def get(self, path: str, **options: Any) -> TestResponse:
        return self("GET", path, **options)

    def create(self, name: str, price: int = 100) -> dict[str, Any]:
        response = self("POST", "/api/products", {"name": name, "price": price})
        assert response.status_code == 201, response.get_data(as_text=True)
        product: dict[str, Any] = response.get_json()["created"]
        return product

    def products(self, query: str = "") -> list[dict[str, Any]]:
        response = self.get("/api/products" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        products: list[dict[str, Any]] = response.get_json()
        return products


@pytest.fixture
def api(demo_db: DemoDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """The demo app over a fresh database of its own (SQLite, then PostgreSQL),
    with no admin token."""
    with api_over(demo_db, monkeypatch) as api:
        yield api


@pytest.fixture
def sqlite_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """`api`, on SQLite only: for what only SQLite can be made to do here."""
    with api_over(SqliteDatabase(tmp_path / "demo.sqlite3"), monkeypatch) as api:
        yield api


@contextmanager
def api_over(database: DemoDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    for name, value in database.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(ADMIN_TOKEN_ENV, raising=False)
    default_store.cache_clear()
    try:
        yield Api()
    finally:
        if default_store.cache_info().currsize:
            default_store().close()  # this thread's connection, or the pool
        default_store.cache_clear()


def error_of(response: TestResponse, status: int) -> str:
    """The JSON error message of a response that must have `status`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["error"], str) and body["error"]
    message: str = body["error"]
    return message


def fields_of(response: TestResponse) -> dict[str, str]:
    error_of(response, 422)
    fields: dict[str, str] = response.get_json()["fields"]
    return fields


def names(products: list[dict[str, Any]]) -> list[str]:
    return [product["name"] for product in products]


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
    assert "q must not contain a NUL" in error_of(api.get("/api/products?q=%00"), 400)
    assert "q must not contain a NUL" in error_of(api.get("/api/products?q=zz%00"), 400)


@pytest.mark.parametrize("length", [201, 2_000, 50_000])
def test_a_q_longer_than_any_name_is_a_400_naming_the_limit(api: Api, length: int) -> None:
    # 50,000 bytes is SQLite's own limit for a LIKE pattern: past it, a 500.
    message = error_of(api.get(f"/api/products?q={'k' * length}"), 400)
    assert "q must be at most 200 characters" in message and str(length) in message
    # Characters, not bytes: 200 of them, four UTF-8 bytes each, are a fine q.
    assert api.products(f"?q={'%F0%9F%90%8D' * 200}") == []
    assert names(api.products(f"?q={'k' * 200}")) == []


def test_a_name_with_a_nul_is_refused(api: Api) -> None:
    response = api("POST", "/api/products", {"name": "Key\u0000board", "price": 1})
    assert fields_of(response) == {"name": "must not contain a NUL character"}


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
    message = error_of(api.get(f"/api/products?{query}"), 400)
    assert parameter in message


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
    fields = fields_of(response)
    assert set(fields) == bad
    if "price" in bad:
        assert fields["price"] == PRICE_RULE
    message = error_of(response, 422)
    assert all(field in message for field in bad)
    assert api.products() == SEEDS  # nothing was stored


@pytest.mark.parametrize("body", [[], [{"name": "Monitor", "price": 1}], "Monitor", 42, None])
def test_post_of_a_json_value_that_is_not_an_object_is_a_422(api: Api, body: Any) -> None:
    response = api("POST", "/api/products", data=json.dumps(body))
    assert set(fields_of(response)) == {"name", "price"}
    assert api.products() == SEEDS


def test_post_of_a_price_sqlite_cannot_hold_is_a_422(api: Api) -> None:
    largest = 2**63 - 1
    assert api.create("Dear", largest)["price"] == largest
    response = api("POST", "/api/products", {"name": "Dearer", "price": largest + 1})
    assert set(fields_of(response)) == {"price"}


def test_post_of_a_name_with_a_lone_surrogate_is_a_422(api: Api) -> None:
    # Valid JSON, but not text UTF-8 (or SQLite) can hold.
    response = api("POST", "/api/products", data='{"name": "bad \\ud800", "price": 1}')
    assert set(fields_of(response)) == {"name"}
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
    assert "JSON" in error_of(response, 400)
    assert api.products() == SEEDS


@pytest.mark.parametrize("body", [b"", b"  \n "])
def test_post_of_an_empty_body_is_a_400(api: Api, body: bytes) -> None:
    response = api("POST", "/api/products", data=body,
                   headers={"Content-Type": "application/json"})
    assert "empty" in error_of(response, 400)


def test_the_product_list_takes_only_get_and_post(api: Api) -> None:
    response = api("DELETE", "/api/products")
    error_of(response, 405)
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


# -- /api/products/[id] -----------------------------------------------------


def test_get_one_product(api: Api) -> None:
    response = api.get("/api/products/1")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == SEEDS[0]
    assert api.get("/api/products/2").get_json() == SEEDS[1]


NOT_IDS = [
    "999",
    "0",
    "999999999999999999",  # 18 digits: a possible id, just not there
    "9223372036854775807",  # SQLite's largest integer
    "9223372036854775808",
    "99999999999999999999999999999999",
    "abc",
    "1.0",
    "-1",
    "+1",
    "1e3",
    "0x1",
    "%20%31",  # " 1"
    "%D9%A1",  # an Arabic-Indic 1
    "Keyboard",
]


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("product_id", NOT_IDS)
def test_an_unknown_or_non_numeric_id_is_a_json_404(
    api: Api, method: str, product_id: str
) -> None:
    path = f"/api/products/{product_id}"
    if method in ("PUT", "PATCH"):
        response = api(method, path, {"name": "Monitor", "price": 1})
    else:
        response = api(method, path)
    error_of(response, 404)
    assert api.products() == SEEDS


def test_put_replaces_the_product(api: Api) -> None:
    response = api("PUT", "/api/products/1", {"name": " Mechanical keyboard ", "price": 12900})
    assert response.status_code == 200
    replaced = {"id": 1, "name": "Mechanical keyboard", "price": 12900}
    assert response.get_json() == replaced
    assert api.get("/api/products/1").get_json() == replaced
    assert api.products() == [replaced, SEEDS[1]]  # same place in the list


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"name": "Only a name"}, {"price"}),
        ({"price": 5}, {"name"}),
        ({}, {"name", "price"}),
        ({"name": "   ", "price": 5}, {"name"}),
        ({"name": "Fine", "price": -5}, {"price"}),
        ({"name": "x" * 201, "price": "5"}, {"name", "price"}),
    ],
)
def test_put_requires_both_fields_valid(api: Api, body: dict[str, Any], bad: set[str]) -> None:
    assert set(fields_of(api("PUT", "/api/products/1", body))) == bad
    assert api.get("/api/products/1").get_json() == SEEDS[0]


def test_put_of_a_body_that_is_not_an_object_is_a_422(api: Api) -> None:
    assert set(fields_of(api("PUT", "/api/products/1", ["Keyboard", 5]))) == {"name", "price"}


def test_patch_changes_only_the_fields_given(api: Api) -> None:
    response = api("PATCH", "/api/products/1", {"price": 1099})
    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "name": "Keyboard", "price": 1099}
    response = api("PATCH", "/api/products/1", {"name": "  Clicky keyboard "})
    assert response.get_json() == {"id": 1, "name": "Clicky keyboard", "price": 1099}
    response = api("PATCH", "/api/products/2", {"name": "Trackball", "price": 0})
    assert response.get_json() == {"id": 2, "name": "Trackball", "price": 0}
    assert api.products() == [
        {"id": 1, "name": "Clicky keyboard", "price": 1099},
        {"id": 2, "name": "Trackball", "price": 0},
    ]


@pytest.mark.parametrize("body", [{}, {"colour": "red"}])
def test_patch_with_no_field_is_a_422(api: Api, body: dict[str, Any]) -> None:
    message = error_of(api("PATCH", "/api/products/1", body), 422)
    assert "name" in message and "price" in message
    assert api.get("/api/products/1").get_json() == SEEDS[0]


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"name": ""}, {"name"}),
        ({"name": None}, {"name"}),
        ({"name": "x" * 201}, {"name"}),
        ({"price": -1}, {"price"}),
        ({"price": 2.5}, {"price"}),
        ({"price": None}, {"price"}),
        ({"price": True}, {"price"}),
        ({"name": "Fine", "price": "1"}, {"price"}),  # one bad field spoils the whole
        ({"name": 7, "price": -7}, {"name", "price"}),
    ],
)
def test_patch_validates_like_post(api: Api, body: dict[str, Any], bad: set[str]) -> None:
    fields = fields_of(api("PATCH", "/api/products/1", body))
    assert set(fields) == bad
    if "price" in bad:
        assert fields["price"] == PRICE_RULE
    assert api.get("/api/products/1").get_json() == SEEDS[0]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_of_malformed_json_are_a_400(api: Api, method: str) -> None:
    error_of(api(method, "/api/products/1", data=b'{"name": '), 400)
    error_of(api(method, "/api/products/1", data=b""), 400)
    assert api.get("/api/products/1").get_json() == SEEDS[0]


def test_delete_removes_the_product(api: Api) -> None:
    response = api("DELETE", "/api/products/1")
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    error_of(api.get("/api/products/1"), 404)
    error_of(api("DELETE", "/api/products/1"), 404)  # gone already
    error_of(api("PATCH", "/api/products/1", {"price": 1}), 404)
    error_of(api("PUT", "/api/products/1", {"name": "Back", "price": 1}), 404)
    assert api.products() == [SEEDS[1]]


def test_ids_are_never_reused(api: Api) -> None:
    third = api.create("Third")
    assert third["id"] == 3
    assert api("DELETE", "/api/products/3").status_code == 204
    assert api.create("Fourth")["id"] == 4  # not 3 again
    for product in api.products():
        assert api("DELETE", f"/api/products/{product['id']}").status_code == 204
    assert api.products() == []
    assert api.create("Fifth")["id"] == 5
    error_of(api.get("/api/products/3"), 404)


def test_a_catalogue_emptied_stays_empty(api: Api) -> None:
    # The seeds are planted once per database, not whenever the table is empty.
    for product in SEEDS:
        api("DELETE", f"/api/products/{product['id']}")
    default_store().close()  # a new connection finds the schema there already
    assert api.products() == []


# -- the admin token --------------------------------------------------------


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch, api: Api) -> str:
    secret = "adm1n-" + secrets.token_urlsafe(24)
    monkeypatch.setenv(ADMIN_TOKEN_ENV, secret)
    return secret


def wrong_authorizations(token: str) -> list[dict[str, str]]:
    return [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {token[:-1]}"},  # a prefix
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": f"Bearer {token.upper()}"},
        {"Authorization": f"Bearer  {token}"},  # two spaces
        {"Authorization": f"Basic {token}"},
        {"Authorization": f"Token {token}"},
        {"Authorization": token},
        {"Authorization": f"Bearer{token}"},
        {"Authorization": "Bearer \u00e9t\u00e9"},  # latin-1 in a header
        {"X-Admin-Token": token},
    ]


# Each write to an existing product, with a body where it takes one.
GUARDED_WRITES = [
    ("PUT", {"name": "Overwritten", "price": 1}),
    ("PATCH", {"price": 1}),
    ("DELETE", _NO_JSON),
]


@pytest.mark.parametrize(("method", "body"), GUARDED_WRITES)
def test_writes_to_a_product_without_the_admin_token_are_a_401(
    api: Api, token: str, method: str, body: Any
) -> None:
    for headers in wrong_authorizations(token):
        response = api(method, "/api/products/1", body, headers=headers)
        assert "admin token" in error_of(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert api.get("/api/products/1").get_json() == SEEDS[0], headers
    # Without the token, a product that does not exist is not told apart from one that does.
    error_of(api(method, "/api/products/999", body), 401)
    error_of(api(method, "/api/products/abc", body), 401)
    assert api.products() == SEEDS


def test_delete_with_the_admin_token_is_a_204(api: Api, token: str) -> None:
    response = api("DELETE", "/api/products/2", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    error_of(api.get("/api/products/2"), 404)
    # With the token, an unknown product is still a plain 404.
    error_of(api("DELETE", "/api/products/2", headers={"Authorization": f"Bearer {token}"}),
             404)


def test_put_and_patch_with_the_admin_token_change_the_product(api: Api, token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    response = api("PUT", "/api/products/1", {"name": "Split keyboard", "price": 2}, headers=bearer)
    assert response.get_json() == {"id": 1, "name": "Split keyboard", "price": 2}
    response = api("PATCH", "/api/products/1", {"price": 3}, headers=bearer)
    assert response.get_json() == {"id": 1, "name": "Split keyboard", "price": 3}
    error_of(api("PATCH", "/api/products/999", {"price": 3}, headers=bearer), 404)


def test_adding_and_reading_need_no_token(api: Api, token: str) -> None:
    # POST stays open: it is what the lesson's form does, from any visitor.
    assert api.create("Monitor")["id"] == 3
    assert api.get("/api/products/3").status_code == 200
    assert names(api.products()) == ["Keyboard", "Mouse", "Monitor"]
    assert api.get("/products").status_code == 200


def test_the_token_is_never_sent_back_or_logged(api: Api, token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    for headers in wrong_authorizations(token):
        for method, body in GUARDED_WRITES:
            api(method, "/api/products/1", body, headers=headers)
            api(method, "/api/products/abc", body, headers=headers)
    api("DELETE", "/api/products/1", headers=bearer)
    api("DELETE", "/api/products/1", headers=bearer)  # a 404 now
    api("DELETE", "/api/products/nope", headers=bearer)
    api("POST", "/api/products", {"name": token, "price": -1}, headers=bearer)
    api("POST", "/api/products", data=b"{", headers=bearer)
    api("PATCH", "/api/products/2", {}, headers=bearer)
    api("DELETE", "/api/products", headers=bearer)
    for path in ["/", "/about", "/products", "/api/products", "/api/hello", "/api/books"]:
        api.get(path, headers=bearer)
        api.get(path, headers={**bearer, "Accept": "text/html"})
    assert len(api.responses) > 100
    for response in api.responses:
        assert token not in response.get_data(as_text=True)
        for name, value in response.headers.items():
            assert token not in name and token not in value, (response.status, name)
    assert token not in api.errors.getvalue()


# -- pages and the small APIs ----------------------------------------------


class ListItems(HTMLParser):
    """The text of each `<li>` inside `<ul id="products">`, as a browser without
    JavaScript would show it."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.tags: list[str] = []
        self._in_list = False
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "ul" and ("id", "products") in attrs:
            self._in_list = True
        elif tag == "li" and self._in_list:
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._in_list = False
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)


def parse(html: str) -> ListItems:
    parser = ListItems()
    parser.feed(html)
    parser.close()
    return parser


def test_the_products_page_lists_the_products_as_plain_html(api: Api) -> None:
    api.create("Monitor", 14999)
    response = api.get("/products", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.mimetype_params["charset"] == "utf-8"
    page = parse(response.get_data(as_text=True))
    assert page.items == ["Monitor: 149.99", "Mouse: 4.99", "Keyboard: 9.99"]  # newest first


def test_the_products_page_has_the_form_and_the_script(api: Api) -> None:
    html = api.get("/products").get_data(as_text=True)
    page = parse(html)
    assert "form" in page.tags and "script" in page.tags
    assert '<form id="add"' in html
    assert 'name="name"' in html and 'name="price"' in html
    assert 'type="submit"' in html
    assert 'id="message"' in html  # where the API's message is shown
    # The script is a file of demo_app/public/, not inline (the demo's CSP).
    assert '<script src="/products.js" defer></script>' in html
    script = api.get("/products.js").get_data(as_text=True)
    assert "fetch(" in script and "/api/products" in script
    assert "<noscript>" in html


def test_the_products_page_escapes_names(api: Api) -> None:
    api.create("<script>alert(1)</script>")
    api.create('Tom & Jerry "mugs" <b>')
    html = api.get("/products").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
    assert parse(html).items[:2] == [
        'Tom & Jerry "mugs" <b>: 1.00',  # the text a reader sees
        "<script>alert(1)</script>: 1.00",
    ]
    assert html.count("<script") == 1  # the page's own script only


def test_the_products_page_follows_the_database(api: Api) -> None:
    api("DELETE", "/api/products/1")
    api("PATCH", "/api/products/2", {"name": "Trackball"})
    assert parse(api.get("/products").get_data(as_text=True)).items == ["Trackball: 4.99"]


def page_links(html: str) -> dict[str, str | None]:
    """The products page's links to newer and older pages that a reader sees."""
    links: dict[str, str | None] = {}

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "a" and found.get("id") in ("newer", "older") and "hidden" not in found:
                links[str(found["id"])] = found["href"]

    Links().feed(html)
    return links


def test_the_products_page_shows_what_was_just_added_past_a_page(api: Api) -> None:
    store = default_store()
    for number in range(1, 249):  # 250 products with the seeds
        store.create(f"Item {number}", number)
    api.create("Just added", 1)
    html = api.get("/products").get_data(as_text=True)
    items = parse(html).items
    assert items[:2] == ["Just added: 0.01", "Item 248: 2.48"]
    assert len(items) == 100
    assert page_links(html) == {"older": "/products?offset=100"}

    html = api.get("/products?offset=100").get_data(as_text=True)
    assert parse(html).items[0] == "Item 149: 1.49"
    assert page_links(html) == {"newer": "/products?offset=0", "older": "/products?offset=200"}
    assert 'data-offset="100"' in html  # the script sends a new product to the first page

    html = api.get("/products?offset=200").get_data(as_text=True)
    assert parse(html).items[-2:] == ["Mouse: 4.99", "Keyboard: 9.99"]
    assert len(parse(html).items) == 51
    assert page_links(html) == {"newer": "/products?offset=100"}


def test_the_products_page_links_to_no_older_page_when_all_fit(api: Api) -> None:
    html = api.get("/products").get_data(as_text=True)
    assert page_links(html) == {}
    assert 'id="older"' in html  # there, hidden, for the script to show when needed


@pytest.mark.parametrize("offset", ["-1", "x", "1.5", "99999999999999999999"])
def test_a_bad_offset_for_the_products_page_is_a_400_naming_it(api: Api, offset: str) -> None:
    response = api.get(f"/products?offset={offset}", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "offset must be a whole number" in response.get_data(as_text=True)


def test_the_list_can_be_newest_first(api: Api) -> None:
    api.create("Zebra mat")
    api.create("Anvil")
    assert names(api.products("?order=newest")) == ["Anvil", "Zebra mat", "Mouse", "Keyboard"]
    assert names(api.products("?order=newest&limit=2&offset=1")) == ["Zebra mat", "Mouse"]
    assert names(api.products("?order=newest&q=a")) == ["Anvil", "Zebra mat", "Keyboard"]
    assert names(api.products("?order=oldest&limit=1")) == ["Keyboard"]


@pytest.mark.parametrize("path", ["/", "/about"])
def test_the_plain_pages(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>")
    assert 'href="/"' in html or path == "/"


def test_the_home_page_links_to_everything(api: Api) -> None:
    html = api.get("/").get_data(as_text=True)
    for path in ["/products", "/about", "/api/products", "/api/hello", "/api/books"]:
        assert f'href="{path}"' in html
        assert api.get(path).status_code == 200


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


# -- a locked database -----------------------------------------------------


def assert_busy(response: TestResponse) -> None:
    assert "busy" in error_of(response, 503)
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
        message = error_of(response, 507)
        assert "full" in message and "nothing was saved" in message
        assert "Retry-After" not in response.headers  # no use retrying until there is room
    # Reads go on, and nothing was half-written.
    assert api.products() == listed
    assert api.get("/api/products/1").get_json() == SEEDS[0]
    assert api.get("/products").status_code == 200
    assert api.errors.getvalue() == ""  # no crash: no traceback logged

    connection.execute("PRAGMA max_page_count = 1000000")  # room again
    assert api.create("Monitor")["name"] == "Monitor"
