"""One product of the demo, in-process: `/api/products/[id]` (GET, PUT, PATCH,
DELETE), and the admin token that guards its writes when one is set. Each
test runs on SQLite, then on PostgreSQL (the `api` fixture).
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from demo_app.store import default_store
from demo_client import ADMIN_TOKEN_ENV, NO_JSON, PRICE_RULE, Api, refused_fields
from demo_databases import SEEDS, names
from helpers import error_message

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
    error_message(response, 404)
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
    assert set(refused_fields(api("PUT", "/api/products/1", body))) == bad
    assert api.get("/api/products/1").get_json() == SEEDS[0]


def test_put_of_a_body_that_is_not_an_object_is_a_422(api: Api) -> None:
    assert set(refused_fields(api("PUT", "/api/products/1", ["Keyboard", 5]))) == {"name", "price"}


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
    message = error_message(api("PATCH", "/api/products/1", body), 422)
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
    fields = refused_fields(api("PATCH", "/api/products/1", body))
    assert set(fields) == bad
    if "price" in bad:
        assert fields["price"] == PRICE_RULE
    assert api.get("/api/products/1").get_json() == SEEDS[0]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_put_and_patch_of_malformed_json_are_a_400(api: Api, method: str) -> None:
    error_message(api(method, "/api/products/1", data=b'{"name": '), 400)
    error_message(api(method, "/api/products/1", data=b""), 400)
    assert api.get("/api/products/1").get_json() == SEEDS[0]


def test_delete_removes_the_product(api: Api) -> None:
    response = api("DELETE", "/api/products/1")
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    error_message(api.get("/api/products/1"), 404)
    error_message(api("DELETE", "/api/products/1"), 404)  # gone already
    error_message(api("PATCH", "/api/products/1", {"price": 1}), 404)
    error_message(api("PUT", "/api/products/1", {"name": "Back", "price": 1}), 404)
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
    error_message(api.get("/api/products/3"), 404)


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
    ("DELETE", NO_JSON),
]


@pytest.mark.parametrize(("method", "body"), GUARDED_WRITES)
def test_writes_to_a_product_without_the_admin_token_are_a_401(
    api: Api, token: str, method: str, body: Any
) -> None:
    for headers in wrong_authorizations(token):
        response = api(method, "/api/products/1", body, headers=headers)
        assert "admin token" in error_message(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert api.get("/api/products/1").get_json() == SEEDS[0], headers
    # Without the token, a product that does not exist is not told apart from one that does.
    error_message(api(method, "/api/products/999", body), 401)
    error_message(api(method, "/api/products/abc", body), 401)
    assert api.products() == SEEDS


def test_delete_with_the_admin_token_is_a_204(api: Api, token: str) -> None:
    response = api("DELETE", "/api/products/2", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 204
    error_message(api.get("/api/products/2"), 404)
    # With the token, an unknown product is still a plain 404.
    error_message(api("DELETE", "/api/products/2", headers={"Authorization": f"Bearer {token}"}),
             404)


def test_put_and_patch_with_the_admin_token_change_the_product(api: Api, token: str) -> None:
    bearer = {"Authorization": f"Bearer {token}"}
    response = api("PUT", "/api/products/1", {"name": "Split keyboard", "price": 2}, headers=bearer)
    assert response.get_json() == {"id": 1, "name": "Split keyboard", "price": 2}
    response = api("PATCH", "/api/products/1", {"price": 3}, headers=bearer)
    assert response.get_json() == {"id": 1, "name": "Split keyboard", "price": 3}
    error_message(api("PATCH", "/api/products/999", {"price": 3}, headers=bearer), 404)


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
