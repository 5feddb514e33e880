"""The app end to end, in-process: what the framework answers by itself
(README, "What the framework answers by itself"): 404, 405 with `Allow`, 501,
HEAD and OPTIONS, pages, the 308 for stray slashes; and the route table.

Beside it: a handler's request and response (test_app_handlers.py), errors
(test_app_errors.py), the app inside another (test_app_embedding.py).

Every request goes through werkzeug's test `Client` over the `App` wrapped in
`wsgiref.validate.validator` (conftest's `make_client`, and `site` over the
shared `SITE` of helpers.py), so PEP 3333 is checked on each one. Requests
are sent with `buffered=True` (`fetch`): the validator insists that the
app's iterator is closed, and a buffered request closes it before the test
reads the response.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client, EnvironBuilder

from helpers import HTML, SITE, Legacy, error_message, fetch, raw_target, unknown_method
from microroute import App

# -- 404, 405, 501 ---------------------------------------------------------------


def test_no_matching_route_is_a_json_404(site: Client) -> None:
    error_message(fetch(site, "GET", "/nowhere/at/all"), 404)


def test_the_shared_404_is_sent_alike_every_time(tree: Callable[[dict[str, str]], Path]) -> None:
    # The framework's 404 is built once and its headers made once (a Speed trick): a
    # server that adds to the list it is given (wsgiref's Headers may) must
    # not change the next request's, and a HEAD gets the same headers, no body.
    app = App(tree(SITE))
    answers: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(line: str, headers: list[tuple[str, str]]) -> None:
        answers.append((line, list(headers)))
        headers.append(("Server", "adds-its-own"))

    bodies = [
        b"".join(app(EnvironBuilder(path="/nowhere", method=method).get_environ(), start_response))
        for method in ("GET", "GET", "HEAD")
    ]
    assert bodies == [b'{"error":"Not Found"}', b'{"error":"Not Found"}', b""]
    assert answers[0] == answers[1] == answers[2]
    line, headers = answers[0]
    assert line == "404 Not Found"
    assert ("Content-Length", "21") in headers and ("Vary", "Accept") in headers


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/products", "GET, HEAD, OPTIONS, POST"),
        ("GET", "/api/upload", "OPTIONS, POST"),
        ("HEAD", "/api/upload", "OPTIONS, POST"),
        ("POST", "/everything", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
        ("POST", "/about", "GET, HEAD, OPTIONS"),
        ("PUT", "/about", "GET, HEAD, OPTIONS"),
        ("DELETE", "/about", "GET, HEAD, OPTIONS"),
        ("PATCH", "/", "GET, HEAD, OPTIONS"),
    ],
)
def test_unhandled_method_is_405_with_a_sorted_complete_allow(
    site: Client, method: str, path: str, allow: str
) -> None:
    response = fetch(site, method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    if method != "HEAD":
        assert method in error_message(response, 405)


@pytest.mark.parametrize("method", ["FOO", "get", "TRACE"])
@pytest.mark.parametrize("path", ["/api/products", "/about", "/nowhere"])
def test_unknown_method_is_501(site: Client, method: str, path: str) -> None:
    with unknown_method(method):
        response = fetch(site, method, path)
    assert method in error_message(response, 501)


# -- HEAD and OPTIONS ------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/products", "/about", "/items/42"])
def test_head_without_a_head_handler_is_get_without_the_body(site: Client, path: str) -> None:
    get = fetch(site, "GET", path)
    head = fetch(site, "HEAD", path)
    assert get.data
    assert head.status_code == get.status_code
    assert head.headers.to_wsgi_list() == get.headers.to_wsgi_list()
    assert head.headers["Content-Length"] == str(len(get.data))
    assert head.data == b""


def test_a_routes_own_head_handler_is_used(site: Client) -> None:
    head = fetch(site, "HEAD", "/custom")
    assert head.status_code == 200
    assert head.headers["X-Handler"] == "HEAD"
    assert head.headers["Content-Length"] == "0"
    assert head.data == b""
    assert fetch(site, "GET", "/custom").data == b"full body"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/products", "GET, HEAD, OPTIONS, POST"),
        ("/api/upload", "OPTIONS, POST"),
        ("/everything", "DELETE, GET, HEAD, OPTIONS, PATCH, PUT"),
        ("/about", "GET, HEAD, OPTIONS"),
        ("/items/42", "GET, HEAD, OPTIONS"),
    ],
)
def test_options_without_a_handler_is_204_with_allow(site: Client, path: str, allow: str) -> None:
    response = fetch(site, "OPTIONS", path)
    assert response.status_code == 204
    assert response.headers["Allow"] == allow
    assert "Content-Type" not in response.headers
    assert response.data == b""


SERVER_ALLOW = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


@pytest.mark.parametrize("validated", [True, False])
@pytest.mark.parametrize("fallback", [None, Legacy])
def test_options_asterisk_answers_for_the_server_as_a_whole(
    tree: Callable[..., Path], validated: bool, fallback: type[Legacy] | None
) -> None:
    # RFC 9110 §9.3.7: not the root page's Allow, every method the framework
    # routes. gunicorn and werkzeug give PATH_INFO "*", which wsgiref.validate
    # refuses (it wants a "/"); the validated case is a server giving an empty one.
    legacy = fallback() if fallback else None
    app = App(tree(SITE), fallback=legacy)
    client = Client(validator(app) if validated else app)
    path_info = "" if validated else "*"
    overrides = {"PATH_INFO": path_info, "RAW_URI": "*", "REQUEST_URI": "*"}
    response = fetch(client, "OPTIONS", "/", environ_overrides=overrides)
    assert (response.status_code, response.data) == (204, b"")
    assert response.headers["Allow"] == SERVER_ALLOW
    assert legacy is None or legacy.seen == []
    assert fetch(client, "OPTIONS", "/").headers["Allow"] == "GET, HEAD, OPTIONS"


def test_a_routes_own_options_handler_wins(site: Client) -> None:
    response = fetch(site, "OPTIONS", "/custom")
    assert response.status_code == 200
    assert response.headers["X-Handler"] == "OPTIONS"
    assert response.get_json() == {"methods": ["GET"]}


# -- pages -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "html"), [("/", b"<h1>Home</h1>"), ("/about", b"<h1>About</h1>")])
def test_a_page_returning_str_is_html(site: Client, path: str, html: bytes) -> None:
    response = fetch(site, "GET", path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == HTML
    assert response.data == html


def test_a_page_returning_a_response_is_sent_as_is(site: Client) -> None:
    response = fetch(site, "GET", "/plain")
    assert response.status_code == 202
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["X-Page"] == "yes"
    assert response.data == b"not html"


# -- redirects for slashes -------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "target", "location"),
    [
        ("GET", "/about/", "/about"),
        ("GET", "/about/?x=1&y=2", "/about?x=1&y=2"),
        ("POST", "/api/products/", "/api/products"),
        ("GET", "/items/42/", "/items/42"),
        ("GET", "/api//products", "/api/products"),
        ("GET", "/api/products//", "/api/products"),
        ("GET", "/legacy/b/", "/legacy/b"),
    ],
)
def test_trailing_and_repeated_slashes_are_a_308(
    site: Client, method: str, target: str, location: str
) -> None:
    response = fetch(site, method, target)
    assert response.status_code == 308
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("target", "location"), [("//about", "/about"), ("//evil.example/", "/evil.example")]
)
def test_a_308_location_never_starts_with_two_slashes(
    site: Client, target: str, location: str
) -> None:
    response = fetch(site, "GET", "/", environ_overrides=raw_target(target))
    assert response.status_code == 308
    # "//evil.example" would send a browser to another host.
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("script_name", "target", "location"),
    [
        ("/", "/about/", "/about"),
        ("/", "/evil.com/", "/evil.com"),
        ("/", "//evil.com/", "/evil.com"),
        ("//evil.com", "/about/", "/evil.com/about"),
        ("/\\evil.com", "/about/", "/%5Cevil.com/about"),
        ("///", "/about/?x=1", "/about?x=1"),
    ],
)
def test_a_308_stays_on_the_site_whatever_the_script_name(
    tree: Callable[..., Path], script_name: str, target: str, location: str
) -> None:
    # SCRIPT_NAME comes from the server, or from a client where the server
    # takes it from a header (gunicorn does, from 127.0.0.1); "//evil.com"
    # or "/\\evil.com" at the start of a Location is another host to a browser.
    # wsgiref.validate refuses a SCRIPT_NAME of "/" outright; a server sends
    # it anyway, so that case is tested without the validator.
    app = App(tree(SITE))
    client = Client(app if script_name == "/" else validator(app))
    path, _, query = target.partition("?")
    overrides = {**raw_target(script_name + target), "SCRIPT_NAME": script_name}
    overrides.update(PATH_INFO=path, QUERY_STRING=query)
    response = fetch(client, "GET", "/", environ_overrides=overrides)
    assert response.status_code == 308
    assert response.headers["Location"] == location


@pytest.mark.parametrize(
    ("target", "location"),
    [("/\\evil.com", "/evil.com"), ("/\\evil.com/", "/evil.com"), ("/about\\", "/about"),
     ("/api\\\\products", "/api/products"), ("/\\/about?x=1", "/about?x=1")],
)
def test_a_raw_backslash_is_a_slash_as_browsers_read_it(
    site: Client, target: str, location: str
) -> None:
    path, _, query = target.partition("?")
    overrides = {**raw_target(target), "PATH_INFO": path, "QUERY_STRING": query}
    response = fetch(site, "GET", "/", environ_overrides=overrides)
    assert response.status_code == 308
    assert response.headers["Location"] == location


def test_an_encoded_backslash_stays_a_character_of_its_segment(site: Client) -> None:
    response = fetch(site, "GET", "/items/a%5Cb")
    assert response.get_json()["params"] == {"id": "a\\b"}
    response = fetch(site, "GET", "/%5Cevil.com/")
    assert response.status_code == 308
    assert response.headers["Location"] == "/%5Cevil.com"


def test_the_root_path_is_not_redirected(site: Client) -> None:
    response = fetch(site, "GET", "/")
    assert response.status_code == 200
    assert response.data == b"<h1>Home</h1>"


# -- the route table -------------------------------------------------------------


def test_app_routes_lists_the_table_in_match_order(tree: Callable[..., Path]) -> None:
    app = App(tree({
        "docs/[[...slug]]/page.py": "def Page():\n    return ''\n",
        "api/products/[id]/route.py": "def GET():\n    pass\n\ndef DELETE():\n    pass\n",
        "api/products/route.py": "def POST():\n    pass\n\ndef GET():\n    pass\n",
        "api/[...rest]/route.py": "def GET():\n    pass\n",
        "(shop)/cart/page.py": "def Page():\n    return ''\n",
        "page.py": "def Page():\n    return ''\n",
    }))
    assert [(r.pattern, r.file, r.kind, r.methods) for r in app.routes] == [
        ("/", "app/page.py", "page", ("GET",)),
        ("/api/products", "app/api/products/route.py", "route", ("GET", "POST")),
        ("/api/products/[id]", "app/api/products/[id]/route.py", "route", ("DELETE", "GET")),
        ("/api/[...rest]", "app/api/[...rest]/route.py", "route", ("GET",)),
        ("/cart", "app/(shop)/cart/page.py", "page", ("GET",)),
        ("/docs/[[...slug]]", "app/docs/[[...slug]]/page.py", "page", ("GET",)),
    ]
