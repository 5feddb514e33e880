"""The app end to end, in-process: SPEC §4 (handlers), §6 (what the framework
answers by itself) and §7 (fallback, mounting, the route table).

Every request goes through werkzeug's test `Client` over the `App` wrapped in
`wsgiref.validate.validator`, so PEP 3333 is checked on each one. Requests are
sent with `buffered=True`: the validator insists that the app's iterator is
closed, and a buffered request closes it before the test reads the response.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.validate import WSGIWarning, validator

import pytest
from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, EnvironBuilder, TestResponse

from conftest import JSON_ROUTE
from microroute import App, Request, Response

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML = "text/html; charset=utf-8"
MiB = 1 << 20

SITE = {
    "page.py": """
        def Page():
            return "<h1>Home</h1>"
    """,
    "about/page.py": """
        def Page():
            return "<h1>About</h1>"
    """,
    "plain/page.py": """
        from microroute import Response

        def Page():
            return Response("not html", status=202, headers={"X-Page": "yes"})
    """,
    "api/products/route.py": """
        from microroute import Response

        def GET():
            products = [{"id": 1, "name": "Keyboard"}]
            return Response.json(products, status=203, headers={"X-Kind": "list"})

        def POST(request):
            return Response.json({"created": request.json()}, status=201)
    """,
    # POST only, and never reads the body.
    "api/upload/route.py": """
        from microroute import Response

        def POST():
            return Response("accepted")
    """,
    "api/form/route.py": """
        from microroute import Response

        def POST(request):
            return Response.json(dict(request.form()))
    """,
    "everything/route.py": """
        from microroute import Response

        def GET():
            return Response("get")

        def PUT():
            return Response("put")

        def PATCH():
            return Response("patch")

        def DELETE():
            return Response("delete")
    """,
    "custom/route.py": """
        from microroute import Response

        def GET():
            return Response("full body")

        def HEAD():
            return Response("", headers={"X-Handler": "HEAD"})

        def OPTIONS():
            return Response.json({"methods": ["GET"]}, headers={"X-Handler": "OPTIONS"})
    """,
    "boom/route.py": """
        def GET():
            raise RuntimeError("secret <detail>")
    """,
    "fail/route.py": """
        from microroute import HTTPError

        def GET(request):
            query = request.query
            headers = {"Retry-After": query["retry"]} if "retry" in query else None
            raise HTTPError(int(query["status"]), query["message"], headers)
    """,
    "cookies/route.py": """
        from microroute import Response

        def GET():
            response = Response.json({"ok": True})
            response.set_cookie("session", "abc", httponly=True)
            response.set_cookie("theme", "dark")
            return response
    """,
    "echo/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json({"path": request.path, "url": request.url})
    """,
    # Responses HTTP cannot carry, made at the handler or changed after.
    "refused/route.py": """
        from microroute import Response

        def GET(request):
            kind, value = request.query["kind"], request.query.get("v", "")
            if kind == "header":
                return Response("x", headers={"X-Echo": value})
            if kind == "length":
                return Response("hello", headers={"Content-Length": value})
            if kind == "late-length":
                response = Response("hello")
                response.headers["Content-Length"] = value
                return response
            if kind == "status":
                return Response("x", status=int(value) if value.isdigit() else value)
            if kind == "late-status":
                response = Response("x")
                response.status = int(value) if value.isdigit() else value
                return response
            if kind == "late-body":
                response = Response("x")
                response.body = {"dict": {"a": 1}, "list": ["a"], "int": 123}.get(value, value)
                return response
            return Response([value])
    """,
    "items/[id]/route.py": JSON_ROUTE,
    "blog/[...slug]/route.py": JSON_ROUTE,
    "docs/[[...slug]]/route.py": JSON_ROUTE,
    "(shop)/cart/route.py": JSON_ROUTE,
    "%5Fnext/route.py": JSON_ROUTE,
    "hello world/route.py": JSON_ROUTE,
    "x/[c]/deep/route.py": JSON_ROUTE,
    "[a]/b/route.py": JSON_ROUTE,
    "_lib/x/route.py": JSON_ROUTE,
    "_lib/helpers.py": "SECRET = 1\n",
}


# -- helpers ---------------------------------------------------------------------


def fetch(client: Client, method: str, path: str, **options: Any) -> TestResponse:
    """One request; the response is read whole and the app's iterator closed."""
    return client.open(path, method=method, buffered=True, **options)


def error_message(response: TestResponse, status: int) -> str:
    """Check that `response` is the JSON error `status`; return its message."""
    assert response.status_code == status, response.data
    assert response.content_type == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def raw_target(target: str) -> dict[str, str]:
    """Environ keys for a target werkzeug's builder misreads (`//about` as a host)."""
    return {"PATH_INFO": target, "REQUEST_URI": target, "RAW_URI": target}


def unknown_method(method: str) -> contextlib.AbstractContextManager[object]:
    """Expect wsgiref.validate's warning about a method it does not know: here
    such a method is the point of the test."""
    if method in ("GET", "HEAD", "POST", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE"):
        return contextlib.nullcontext()
    return pytest.warns(WSGIWarning, match="Unknown REQUEST_METHOD")


class UnreadableBody:
    """A `wsgi.input` that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the request body was read")

    readline = readlines = read

    def __iter__(self) -> Iterable[bytes]:
        raise AssertionError("the request body was read")


def unread_body(length: int) -> dict[str, object]:
    """Environ overrides declaring a body of `length` bytes that must not be read."""
    return {"wsgi.input": UnreadableBody(), "CONTENT_LENGTH": str(length)}


class Legacy:
    """A plain WSGI app standing in for an existing project; records what it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.seen.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"])
        )
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"legacy"]


@pytest.fixture
def site(make_client: Callable[..., Client]) -> Client:
    return make_client(SITE)


# -- 404, 405, 501 ---------------------------------------------------------------


def test_no_matching_route_is_a_json_404(site: Client) -> None:
    error_message(fetch(site, "GET", "/nowhere/at/all"), 404)


def test_the_shared_404_is_sent_alike_every_time(tree: Callable[[dict[str, str]], Path]) -> None:
    # The framework's 404 is built once and its headers made once (PERF): a
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


# -- request bodies --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "length", "status"),
    [
        ({}, MiB + 1, 413),
        ({}, MiB, 200),
        ({"max_body_size": 10}, 11, 413),
        ({"max_body_size": 10}, 10, 200),
    ],
)
def test_body_size_is_judged_from_content_length_without_reading_the_body(
    make_client: Callable[..., Client], options: dict[str, int], length: int, status: int
) -> None:
    client = make_client(SITE, **options)
    if status == 413:
        response = fetch(client, "POST", "/api/upload", environ_overrides=unread_body(length))
        error_message(response, 413)
    else:
        response = fetch(client, "POST", "/api/upload", data=b"x" * length)
        assert (response.status_code, response.data) == (200, b"accepted")


def test_a_body_shorter_than_its_content_length_is_a_400_before_the_handler_runs(
    make_client: Callable[..., Client],
) -> None:
    # The client went away mid-upload: the handler must not run on half a body.
    client = make_client({
        "api/upload/route.py": """
            def POST():
                raise AssertionError("the handler ran")  # it would be a 500
        """,
    })
    short = {"wsgi.input": io.BytesIO(b"only part"), "CONTENT_LENGTH": "100"}
    response = fetch(client, "POST", "/api/upload", environ_overrides=short)
    assert "ended after 9 of 100 bytes" in error_message(response, 400)


@pytest.mark.parametrize("length", ["abc", "-1", "1.5", " 12"])
def test_an_invalid_content_length_is_a_400(tree: Callable[..., Path], length: str) -> None:
    # Not validated: wsgiref.validate itself refuses such a CONTENT_LENGTH, but a
    # server may pass one along, and the app must answer it.
    client = Client(App(tree(SITE)))
    response = fetch(client, "POST", "/api/upload", environ_overrides={"CONTENT_LENGTH": length})
    assert "Content-Length" in error_message(response, 400)


def test_request_json_returns_the_body(site: Client) -> None:
    response = fetch(site, "POST", "/api/products", json={"name": "Mouse", "price": 25})
    assert response.status_code == 201
    assert response.content_type == "application/json"
    assert response.get_json() == {"created": {"name": "Mouse", "price": 25}}


@pytest.mark.parametrize(
    ("body", "says"),
    [(b'{"name": ', "Malformed JSON"), (b"not json", "Malformed JSON"), (b"", "empty"),
     (b"  \n", "empty")],
)
def test_a_body_that_is_not_json_is_a_400(site: Client, body: bytes, says: str) -> None:
    response = fetch(site, "POST", "/api/products", data=body, content_type="application/json")
    assert says in error_message(response, 400)


def test_malformed_multipart_form_data_is_a_400(site: Client) -> None:
    response = fetch(
        site, "POST", "/api/form",
        data=b"this is not multipart", content_type="multipart/form-data; boundary=xyz",
    )
    assert "form data" in error_message(response, 400)


def test_a_well_formed_form_is_parsed(site: Client) -> None:
    response = fetch(site, "POST", "/api/form", data={"name": "Mouse"})
    assert response.get_json() == {"name": "Mouse"}


# -- the path and its params -----------------------------------------------------


@pytest.mark.parametrize(
    ("target", "params"),
    [
        ("/items/42", {"id": "42"}),
        ("/items/a%2Fb", {"id": "a/b"}),
        ("/items/%2541", {"id": "%41"}),
        ("/items/caf%C3%A9", {"id": "café"}),
        ("/blog/a", {"slug": ["a"]}),
        ("/blog/a/b/c", {"slug": ["a", "b", "c"]}),
        ("/docs", {}),
        ("/docs/a/b", {"slug": ["a", "b"]}),
        ("/cart", {}),
        ("/_next", {}),
        ("/hello%20world", {}),
        ("/x/b", {"a": "x"}),
        ("/x/1/deep", {"c": "1"}),
    ],
)
def test_params_reach_the_handler(site: Client, target: str, params: dict[str, Any]) -> None:
    response = fetch(site, "GET", target)
    assert response.status_code == 200, response.data
    assert response.get_json()["params"] == params


@pytest.mark.parametrize(
    "path",
    ["/_lib/x", "/_lib/helpers.py", "/api/products/route.py", "/about/page.py", "/(shop)/cart",
     "/blog", "/x/1"],
)
def test_private_folders_files_and_partial_paths_are_never_served(site: Client, path: str) -> None:
    error_message(fetch(site, "GET", path), 404)


def test_a_malformed_escape_in_the_path_is_a_400(site: Client) -> None:
    assert "%ZZ" in error_message(fetch(site, "GET", "/items/%ZZ"), 400)


SIGNATURE_ROUTE = """
import asyncio
from microroute import Response

{define}
    {pause}
    return Response.json({result})
"""


@pytest.mark.parametrize("asynchronous", [False, True], ids=["def", "async-def"])
@pytest.mark.parametrize(
    ("parameters", "result", "expected"),
    [
        ("()", '{"arguments": 0}', {"arguments": 0}),
        ("(request)", '{"path": request.path}', {"path": "/sig/7"}),
        ("(request, params)", '{"path": request.path, **params}', {"path": "/sig/7", "id": "7"}),
    ],
)
def test_handlers_are_called_as_their_signature_asks(
    make_client: Callable[..., Client], asynchronous: bool, parameters: str, result: str,
    expected: dict[str, Any],
) -> None:
    source = SIGNATURE_ROUTE.format(
        define=f"{'async def' if asynchronous else 'def'} GET{parameters}:",
        pause="await asyncio.sleep(0)" if asynchronous else "pass",
        result=result,
    )
    client = make_client({"sig/[id]/route.py": source})
    response = fetch(client, "GET", "/sig/7")
    assert response.status_code == 200, response.data
    assert response.get_json() == expected


def test_cookies_set_by_a_handler_come_back_as_set_cookie(site: Client) -> None:
    cookies = fetch(site, "GET", "/cookies").headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc;") and "HttpOnly" in cookies[0]
    assert cookies[1].startswith("theme=dark;")


# -- errors ----------------------------------------------------------------------


def test_an_exception_is_a_500_whose_traceback_goes_only_to_the_log(site: Client) -> None:
    log = io.StringIO()
    response = fetch(site, "GET", "/boom", errors_stream=log)
    assert response.get_json() == {"error": "Internal Server Error"}
    assert response.status_code == 500
    for leak in ("Traceback", "secret", "route.py", "raise", "/boom/"):
        assert leak not in response.text
    assert "Traceback" in log.getvalue()
    assert "RuntimeError: secret <detail>" in log.getvalue()
    assert "boom/route.py" in log.getvalue()


def test_debug_puts_the_traceback_in_the_body(make_client: Callable[..., Client]) -> None:
    client = make_client(SITE, debug=True)
    response = fetch(client, "GET", "/boom", errors_stream=io.StringIO())
    assert response.status_code == 500
    assert "RuntimeError: secret <detail>" in response.text
    html = fetch(client, "GET", "/boom", headers={"Accept": BROWSER}, errors_stream=io.StringIO())
    assert html.content_type == HTML
    assert "RuntimeError: secret &lt;detail&gt;" in html.text
    assert "<detail>" not in html.text


@pytest.mark.parametrize(
    ("file", "source", "path", "function", "returned"),
    [
        ("api/bad/route.py", "def GET():\n    return {'a': 1}\n", "/api/bad", "GET", "dict"),
        ("api/bad/route.py", "def GET():\n    return None\n", "/api/bad", "GET", "None"),
        ("api/bad/route.py", "async def POST():\n    return 42\n", "/api/bad", "POST", "int"),
        ("bad/page.py", "def Page():\n    return b'<p>'\n", "/bad", "Page", "bytes"),
    ],
    ids=["dict", "None", "async-int", "page-bytes"],
)
def test_a_handler_returning_the_wrong_type_is_a_500_that_names_it(
    make_client: Callable[..., Client], file: str, source: str, path: str, function: str,
    returned: str,
) -> None:
    client = make_client({file: source})
    log = io.StringIO()
    method = "GET" if function == "Page" else function
    response = fetch(client, method, path, errors_stream=log)
    assert error_message(response, 500) == "Internal Server Error"
    [line] = [line for line in log.getvalue().splitlines() if "returned" in line]
    assert file in line
    assert f"{function}()" in line
    assert returned in line


@pytest.mark.parametrize("value", ["{'a': 1}", "[1, 2]"], ids=["dict", "list"])
def test_a_handler_returning_data_is_told_to_return_response_json(
    make_client: Callable[..., Client], value: str
) -> None:
    client = make_client({"api/data/route.py": f"def GET():\n    return {value}\n"})
    log = io.StringIO()
    assert fetch(client, "GET", "/api/data", errors_stream=log).status_code == 500
    assert "(for JSON: return Response.json(...))" in log.getvalue()


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "Bad coupon"), (404, "No product 42"), (409, "Already in the cart"),
     (422, "Price must be positive")],
)
def test_http_error_becomes_its_status_and_message(
    site: Client, status: int, message: str
) -> None:
    response = fetch(site, "GET", "/fail", query_string={"status": status, "message": message})
    assert error_message(response, status) == message


def test_http_error_keeps_its_extra_headers(site: Client) -> None:
    query = {"status": 429, "message": "Slow down", "retry": "30"}
    response = fetch(site, "GET", "/fail", query_string=query)
    assert error_message(response, 429) == "Slow down"
    assert response.headers["Retry-After"] == "30"


@pytest.mark.parametrize(
    ("kind", "value", "logged"),
    [
        ("header", "a\x0bb", "Header X-Echo must not contain a control character"),
        ("header", "a\x01b", "Header X-Echo must not contain a control character"),
        ("header", "a\x7fb", "Header X-Echo must not contain a control character"),
        ("length", "-1", "Header Content-Length must be a whole number of bytes: '-1'"),
        ("length", "999", "Header Content-Length 999 is not the body's length, 5 bytes"),
        ("late-length", "4", "Header Content-Length 4 is not the body's length, 5 bytes"),
        ("status", "200 OK", "A response status must be an int"),
        ("status", "0", "A response status must be from 200 to 599, not 0"),
        ("late-status", "600", "A response status must be from 200 to 599, not 600"),
        ("late-status", "200 OK", "A response status must be an int"),
        ("body", "a", "A response body's chunks must be bytes, not str"),
        # Set after the response was made: refused before anything is sent,
        # not half-way through a 200 (a dict and a list of str are iterable).
        ("late-body", "dict", "A response body cannot be a dict: for JSON, return Response.json"),
        ("late-body", "list", "A response body's chunks must be bytes, not str"),
        ("late-body", "int", "A response body must be str, bytes or an iterable of bytes, not int"),
    ],
)
def test_a_response_http_cannot_carry_is_our_500_naming_what_was_wrong(
    site: Client, kind: str, value: str, logged: str
) -> None:
    # Never the server's own 500 (which ignores Accept and skips our log
    # line), never a wrong Content-Length on the wire: every request here
    # goes through wsgiref.validate too.
    log = io.StringIO()
    query = {"kind": kind, "v": value}
    response = fetch(site, "GET", "/refused", query_string=query, errors_stream=log)
    assert error_message(response, 500) == "Internal Server Error"
    assert logged in log.getvalue()
    assert "X-Echo" not in response.headers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_text_body_set_after_the_response_was_made_is_sent_as_utf8(
    site: Client, method: str
) -> None:
    # As the constructor sends it: a str set later is not streamed a
    # character at a time (which no server can send).
    response = fetch(site, method, "/refused", query_string={"kind": "late-body", "v": "café"})
    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len("café".encode()))
    assert response.data == (b"" if method == "HEAD" else "café".encode())


def test_a_head_handler_may_set_the_length_of_the_body_it_does_not_send(
    make_client: Callable[..., Client],
) -> None:
    client = make_client({"file/route.py": """
        from microroute import Response

        def GET():
            return Response(b"12345", content_type="text/plain")

        def HEAD():
            return Response(b"", headers={"Content-Length": "5", "Content-Type": "text/plain"})
    """})
    head = fetch(client, "HEAD", "/file")
    assert (head.status_code, head.headers["Content-Length"], head.data) == (200, "5", b"")


ECHO = {
    "echo/text/route.py": """
        from microroute import Response

        def POST(request):
            return Response(request.text())
    """,
    "echo/json/route.py": """
        from microroute import HTTPError, Response

        def POST(request):
            text = request.json()["t"]
            if request.query.get("as") == "html":
                return Response.html(f"<p>{text}</p>")
            if request.query.get("as") == "error":
                raise HTTPError(422, f"Bad value {text}")
            return Response(text)
    """,
    "echo/cookies/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json(dict(request.cookies))
    """,
}


@pytest.mark.parametrize("charset", ["utf-7", "unicode_escape", "punycode", "rot13", "idna"])
def test_a_body_in_a_charset_that_is_no_text_encoding_is_a_415_never_a_500(
    make_client: Callable[..., Client], charset: str
) -> None:
    # "+2AA-" in UTF-7 is a lone surrogate, which no response can carry.
    response = fetch(make_client(ECHO), "POST", "/echo/text", data=b"+2AA-",
                     content_type=f"text/plain; charset={charset}")
    assert charset in error_message(response, 415)


@pytest.mark.parametrize(
    ("query", "accept", "status", "sent"),
    [({}, None, 200, "a\ufffdb"), ({"as": "html"}, None, 200, "<p>a\ufffdb</p>"),
     ({"as": "error"}, BROWSER, 422, "Bad value a\ufffdb")],
)
def test_a_lone_surrogate_echoed_back_is_a_replacement_character_never_a_500(
    make_client: Callable[..., Client], query: dict[str, str], accept: str | None,
    status: int, sent: str
) -> None:
    # JSON's "\ud800" escape decodes to a str that UTF-8 cannot hold.
    response = fetch(make_client(ECHO), "POST", "/echo/json", query_string=query,
                     data=b'{"t": "a\\ud800b"}', headers={"Accept": accept} if accept else {})
    assert response.status_code == status
    assert sent in response.data.decode()


def test_a_number_too_large_for_a_float_is_a_400_never_a_500_when_echoed(
    make_client: Callable[..., Client],
) -> None:
    # Python's json reads 1e999 as inf, which Response.json cannot send: echoed
    # back, the client's number was a 500.
    client = make_client({"echo/data/route.py": """
        from microroute import Response

        def POST(request):
            return Response.json(request.json())
    """})
    response = fetch(client, "POST", "/echo/data", data=b'{"price": 1e999}')
    assert error_message(response, 400) == "Malformed JSON: 1e999 is too large a number."
    response = fetch(client, "POST", "/echo/data", data=b'{"price": 1e308}')
    assert (response.status_code, response.get_json()) == (200, {"price": 1e308})


def test_a_cookie_header_that_is_not_utf8_is_never_a_500(tree: Callable[..., Path]) -> None:
    # The byte 0xE9 alone, as WSGI carries it (Latin-1). (The client's own
    # cookie jar is off: it would replace the header.)
    client = Client(validator(App(tree(ECHO))), use_cookies=False)
    response = fetch(client, "GET", "/echo/cookies", headers={"Cookie": "f=caf\xe9; g=ok"})
    assert (response.status_code, response.get_json()) == (200, {"f": "caf\ufffd", "g": "ok"})


def test_an_http_error_with_headers_http_cannot_carry_is_a_500(site: Client) -> None:
    # Its own answer cannot be sent: it is a handler's mistake, logged like any other.
    log = io.StringIO()
    query = {"status": 429, "message": "Slow down", "retry": "1\r\nSet-Cookie: owned=1"}
    response = fetch(site, "GET", "/fail", query_string=query, errors_stream=log)
    assert error_message(response, 500) == "Internal Server Error"
    assert "Set-Cookie" not in response.headers and "Retry-After" not in response.headers
    assert "must not contain a control character" in log.getvalue()


@pytest.mark.parametrize(
    ("status", "logged"),
    [("'404'", "A response status must be an int (404, HTTPStatus.NOT_FOUND), not str: '404'"),
     ("999", "A response status must be from 200 to 599, not 999")],
)
def test_an_http_error_with_a_status_http_cannot_send_is_refused_where_it_is_raised(
    make_client: Callable[..., Client], status: str, logged: str
) -> None:
    # As Response(status=...) is: the log names what was wrong, at the raise.
    client = make_client({"api/x/route.py": f"""
        from microroute import HTTPError

        def GET():
            raise HTTPError({status}, "Nope")
    """})
    log = io.StringIO()
    assert error_message(fetch(client, "GET", "/api/x", errors_stream=log), 500) == (
        "Internal Server Error"
    )
    assert logged in log.getvalue()
    assert 'raise HTTPError(' in log.getvalue()  # the traceback ends at the handler's line


@pytest.mark.parametrize(
    ("accept", "html"),
    [(BROWSER, True), ("text/html", True), ("*/*", False), ("application/json", False),
     ("application/json, text/html;q=0.9", False), (None, False),
     ("text/*, application/json;q=0.5", True), ("*/*;q=0.1, application/json;q=0.5", False)],
)
def test_error_bodies_follow_the_accept_header(site: Client, accept: str | None,
                                                html: bool) -> None:
    headers = {"Accept": accept} if accept else {}
    response = fetch(site, "GET", "/nowhere", headers=headers)
    assert response.status_code == 404
    if html:
        assert response.headers["Content-Type"] == HTML
        assert response.text.lower().startswith("<!doctype html>")
    else:
        error_message(response, 404)


@pytest.mark.parametrize("accept", [BROWSER, "*/*", None])
@pytest.mark.parametrize(
    ("method", "target", "options", "status"),
    [
        ("GET", "/nowhere", {}, 404),
        ("DELETE", "/about", {}, 405),
        ("GET", "/boom", {"errors_stream": io.StringIO()}, 500),
        ("GET", "/items/%ZZ", {}, 400),
        ("POST", "/api/products", {"data": b"{oops"}, 400),
        ("GET", "/fail", {"query_string": {"status": 409, "message": "Taken"}}, 409),
        ("GET", "/fail", {"query_string": {"status": 429, "message": "Wait", "retry": "1"}},
         429),
    ],
)
def test_every_answer_whose_body_was_chosen_by_accept_says_vary_accept(
    site: Client, accept: str | None, method: str, target: str, options: dict[str, Any],
    status: int,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = fetch(site, method, target, headers=headers, **options)
    assert response.status_code == status
    assert response.headers.getlist("Vary") == ["Accept"]


@pytest.mark.parametrize("accept", [BROWSER, "*/*"])
def test_a_501_and_a_413_say_vary_accept(
    make_client: Callable[..., Client], accept: str
) -> None:
    client = make_client(SITE, max_body_size=10)
    with unknown_method("FOO"):
        response = fetch(client, "FOO", "/about", headers={"Accept": accept})
    assert (response.status_code, response.headers.getlist("Vary")) == (501, ["Accept"])
    response = fetch(client, "POST", "/api/upload", headers={"Accept": accept},
                     environ_overrides=unread_body(11))
    assert (response.status_code, response.headers.getlist("Vary")) == (413, ["Accept"])


@pytest.mark.parametrize(
    ("target", "status"), [("/about", 200), ("/about/", 308), ("/api/products", 203)]
)
def test_answers_not_chosen_by_accept_do_not_vary_on_it(
    site: Client, target: str, status: int
) -> None:
    response = fetch(site, "GET", target, headers={"Accept": BROWSER})
    assert response.status_code == status
    assert "Vary" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("POST", "/about", 405), ("GET", "/boom", 500)],
)
def test_a_browser_gets_small_html_error_pages(
    site: Client, method: str, path: str, status: int
) -> None:
    response = fetch(site, method, path, headers={"Accept": BROWSER}, errors_stream=io.StringIO())
    assert response.status_code == status
    assert response.headers["Content-Type"] == HTML
    assert f"<title>{status} " in response.text
    assert "secret" not in response.text and "Traceback" not in response.text


@pytest.mark.parametrize(
    "target", ["/<script>alert(1)</script>", "/%3Cscript%3Ealert(1)%3C%2Fscript%3E"]
)
def test_a_script_in_the_url_is_never_reflected_as_html(site: Client, target: str) -> None:
    response = fetch(site, "GET", target, headers={"Accept": BROWSER})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == HTML
    assert "<script>" not in response.text


def test_a_script_in_an_http_error_message_is_escaped_in_html(site: Client) -> None:
    query = {"status": 400, "message": "<script>alert(1)</script>"}
    response = fetch(site, "GET", "/fail", query_string=query, headers={"Accept": BROWSER})
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


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
