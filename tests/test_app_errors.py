"""The app end to end, in-process: errors (README, "What the framework answers
by itself"). A handler that raises or returns what HTTP cannot carry gets our
500, the traceback going to the log; an `HTTPError` its status; client bytes
the framework cannot read a 4xx, never a 500; error bodies follow `Accept`.

Requests are sent as in test_app.py: through `validator`, buffered.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

from helpers import BROWSER, HTML, SITE, error_message, fetch, unknown_method, unread_body
from microroute import App

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
