"""The app inside another (README, "Embedding it in an existing app"): a
fallback WSGI app for every path no route serves, `App.handle` (the answer as
a `Response`, without WSGI), and the app mounted under a prefix.

Requests are sent as in test_app.py: through `validator`, buffered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, EnvironBuilder

from helpers import SITE, Legacy, error_message, fetch, unknown_method, unread_body
from microroute import App, Request, Response

# -- fallback --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "path", "query"),
    [
        ("GET", "/legacy", "/legacy", ""),
        ("GET", "/legacy/?page=2", "/legacy/", "page=2"),
        ("DELETE", "/nowhere/deeper/", "/nowhere/deeper/", ""),
        ("GET", "/legacy//old", "/legacy//old", ""),
        ("GET", "/blog", "/blog", ""),
    ],
)
def test_fallback_receives_every_unmatched_request_untouched(
    make_client: Callable[..., Client], method: str, target: str, path: str, query: str
) -> None:
    legacy = Legacy()
    response = fetch(make_client(SITE, fallback=legacy), method, target)
    assert (response.status_code, response.data) == (200, b"legacy")
    assert legacy.seen == [(method, path, query)]


def test_fallback_gets_an_unknown_method_on_an_unmatched_path(
    make_client: Callable[..., Client],
) -> None:
    legacy = Legacy()
    with unknown_method("FOO"):
        response = fetch(make_client(SITE, fallback=legacy), "FOO", "/legacy")
    assert response.data == b"legacy"
    assert legacy.seen == [("FOO", "/legacy", "")]


def test_fallback_gets_an_oversized_body_on_an_unmatched_path(
    make_client: Callable[..., Client],
) -> None:
    legacy = Legacy()
    client = make_client(SITE, fallback=legacy, max_body_size=10)
    response = fetch(client, "POST", "/legacy", environ_overrides=unread_body(11))
    assert response.data == b"legacy"
    assert legacy.seen == [("POST", "/legacy", "")]


@pytest.mark.parametrize(
    ("method", "target", "status"),
    [("GET", "/about", 200), ("GET", "/about/", 308), ("POST", "/about", 405),
     ("DELETE", "/api/products", 405)],
)
def test_with_a_fallback_our_routes_still_answer(
    make_client: Callable[..., Client], method: str, target: str, status: int
) -> None:
    legacy = Legacy()
    response = fetch(make_client(SITE, fallback=legacy), method, target)
    assert response.status_code == status
    assert legacy.seen == []


@pytest.mark.parametrize("target", ["/leg%ZZ", "/leg%ZZ/", "/caf%E9", "/items/a/%ZZ"])
def test_fallback_gets_an_undecodable_path_no_route_serves(
    make_client: Callable[..., Client], target: str
) -> None:
    # A malformed escape in a path we do not serve is the fallback's to judge.
    legacy = Legacy()
    response = fetch(make_client(SITE, fallback=legacy), "GET", target)
    assert (response.status_code, response.data) == (200, b"legacy")
    assert len(legacy.seen) == 1


@pytest.mark.parametrize("target", ["/items/%ZZ", "/items/%ZZ/", "/items/%4", "/%ZZ/b"])
def test_with_a_fallback_an_undecodable_path_we_serve_is_still_a_400(
    make_client: Callable[..., Client], target: str
) -> None:
    legacy = Legacy()
    error_message(fetch(make_client(SITE, fallback=legacy), "GET", target), 400)
    assert legacy.seen == []


def test_a_flask_app_as_fallback(make_client: Callable[..., Client]) -> None:
    flask_app = Flask("legacy")
    flask_app.add_url_rule("/legacy", "legacy", lambda: "from flask")
    client = make_client(SITE, fallback=flask_app)
    assert fetch(client, "GET", "/legacy").data == b"from flask"
    assert fetch(client, "GET", "/about").data == b"<h1>About</h1>"
    missing = fetch(client, "GET", "/missing")
    assert missing.status_code == 404
    assert missing.content_type.startswith("text/html")  # Flask's page, not our JSON


# -- App.handle: the response without WSGI ---------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/products", 203), ("GET", "/nowhere", 404), ("DELETE", "/about", 405),
     ("GET", "/about/", 308), ("GET", "/legacy", 200)],
)
def test_handle_gives_every_answer_as_a_response(
    tree: Callable[..., Path], method: str, path: str, status: int
) -> None:
    # The handler's, the framework's own and the fallback's answers alike.
    legacy = Legacy()
    app = App(tree(SITE), fallback=legacy if path == "/legacy" else None)
    environ = EnvironBuilder(path=path, method=method).get_environ()
    response = app.handle(Request(environ))
    assert isinstance(response, Response)
    assert response.status == status


# -- mounted under a prefix ------------------------------------------------------


def outer_not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"outer"]


@pytest.fixture
def shop(tree: Callable[..., Path]) -> Client:
    """SITE mounted at /shop under werkzeug's DispatcherMiddleware."""
    mounted = DispatcherMiddleware(outer_not_found, {"/shop": App(tree(SITE))})
    return Client(validator(mounted))


def test_mounted_routes_match_after_the_prefix(shop: Client) -> None:
    assert fetch(shop, "GET", "/shop/items/42").get_json() == {
        "params": {"id": "42"}, "path": "/items/42"
    }
    assert fetch(shop, "GET", "/items/42").data == b"outer"


def test_mounted_request_path_and_url(shop: Client) -> None:
    assert fetch(shop, "GET", "/shop/echo?q=1").get_json() == {
        "path": "/echo", "url": "http://localhost/shop/echo?q=1"
    }


@pytest.mark.parametrize(
    ("target", "location"),
    [("/shop/about/", "/shop/about"), ("/shop/about/?x=1", "/shop/about?x=1"),
     ("/shop//about", "/shop/about")],
)
def test_mounted_redirects_keep_the_prefix(shop: Client, target: str, location: str) -> None:
    response = fetch(shop, "GET", target)
    assert response.status_code == 308
    assert response.headers["Location"] == location


def test_mounted_encoded_slash_stays_in_its_param(shop: Client) -> None:
    response = fetch(shop, "GET", "/shop/items/a%2Fb")
    assert response.get_json()["params"] == {"id": "a/b"}
