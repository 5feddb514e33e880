"""The demo app in-process, for its tests: `Api`, a client that remembers what
was sent and logged, and what reading its answers takes.

Requests go through werkzeug's test `Client` around `wsgiref.validate.validator`,
so every one is also checked against PEP 3333. The `api` fixture (conftest.py)
gives each test an `Api` over a fresh database of its own, SQLite then PostgreSQL:

    def test_x(api):
        product = api.create("Monitor", 14999)          # POST, asserted 201
        response = api("PATCH", f"/api/products/{product['id']}", {"price": 1})
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client, TestResponse

from demo_app import app
from demo_app.store import default_store
from demo_databases import DemoDatabase

ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"  # as the README names it
PRICE_RULE = "must be an integer ≥ 0"  # the issue's own wording
NO_JSON = object()  # `api(method, path)` sends no JSON body


class Api:
    """Requests to the demo app; remembers every response and what the app
    wrote to `wsgi.errors`, so a test can check what was ever sent or logged."""

    def __init__(self) -> None:
        self.client = Client(validator(app))
        self.errors = io.StringIO()
        self.responses: list[TestResponse] = []

    def __call__(self, method: str, path: str, json: Any = NO_JSON, *,
                 data: str | bytes | None = None,
                 headers: dict[str, str] | None = None) -> TestResponse:
        options: dict[str, Any] = {"data": data}
        if json is not NO_JSON:
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


@contextmanager
def api_over(database: DemoDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    """An `Api` whose store is `database`, with no admin token. The cached
    `default_store()` is cleared before and after, so the store follows the
    variables."""
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


def refused_fields(response: TestResponse) -> dict[str, str]:
    """The `fields` of a 422 that refuses a product: what is wrong with each."""
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error", "fields"} and body["error"], body
    fields: dict[str, str] = body["fields"]
    return fields
