"""`microroute.response`: what a handler returns, and how it goes out through
WSGI (README, "The request and the response", and the HEAD/204/304 rules of
"What the framework answers by itself").

`send(response, method)` calls the response as a WSGI app, wrapped in
`wsgiref.validate.validator` (PEP 3333), and records what reached the server.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from http import HTTPStatus
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import EnvironBuilder

from helpers import Stream
from microroute import Response
from microroute.headers import Headers

TEXT = "text/plain; charset=utf-8"


@dataclass
class Sent:
    """What a server received: the status line, the header pairs, the body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


def send(response: Response, method: str = "GET") -> Sent:
    environ = EnvironBuilder(method=method).get_environ()
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, list(headers)))
        return lambda data: None

    iterable = validator(response)(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        iterable.close()  # type: ignore[attr-defined]
    [(status, headers)] = started
    return Sent(status, headers, body)


# --- building a response -----------------------------------------------------------


def test_defaults() -> None:
    response = Response()
    assert response.status == 200
    assert response.body == b""
    assert response.headers.items() == [("Content-Type", TEXT)]


def test_a_str_body_is_utf8_text() -> None:
    response = Response("héllo 日本")
    assert response.body == "héllo 日本".encode()
    assert response.headers["Content-Type"] == TEXT


def test_an_explicit_content_type_wins() -> None:
    response = Response("<p>hi</p>", content_type="text/html; charset=utf-8")
    assert response.headers.get_all("Content-Type") == ["text/html; charset=utf-8"]


def test_a_content_type_in_headers_is_kept() -> None:
    response = Response("a,b", headers={"content-type": "text/csv"})
    assert response.headers.get_all("Content-Type") == ["text/csv"]


def test_content_type_argument_replaces_the_one_in_headers() -> None:
    response = Response("x", headers={"Content-Type": "text/csv"}, content_type="text/html")
    assert response.headers.get_all("Content-Type") == ["text/html"]


def test_a_bytes_body_is_sent_as_it_is_labelled_binary() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00"
    assert Response(png, content_type="image/png").body == png
    assert Response(png).body == png
    assert Response(png).headers.get_all("Content-Type") == ["application/octet-stream"]
    assert Response(png, headers={"Content-Type": "image/png"}).headers.get_all(
        "Content-Type"
    ) == ["image/png"]


@pytest.mark.parametrize("body", [bytearray(b"abc"), memoryview(b"abc")])
def test_a_bytes_like_body_is_sent_as_bytes(body: Any) -> None:
    response = Response(body)
    assert response.body == b"abc"
    assert type(response.body) is bytes
    sent = send(response)
    assert sent.body == b"abc"
    assert sent.header("Content-Length") == ["3"]


def test_status_and_headers_are_set_and_mutable() -> None:
    response = Response("gone", 410, {"Cache-Control": "no-store"})
    assert response.status == 410
    response.headers["X-Later"] = "yes"
    response.status = 404
    sent = send(response)
    assert sent.status == "404 Not Found"
    assert sent.header("Cache-Control") == ["no-store"]
    assert sent.header("X-Later") == ["yes"]


def test_headers_given_as_pairs_keep_repeats() -> None:
    response = Response("", headers=[("Vary", "Accept"), ("Vary", "Cookie")])
    assert response.headers.get_all("Vary") == ["Accept", "Cookie"]


def test_a_header_value_with_crlf_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        Response("", headers={"X-Reflected": "a\r\nSet-Cookie: evil=1"})


def test_headers_is_a_headers_object() -> None:
    assert isinstance(Response().headers, Headers)


# --- Response.json ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "body"),
    [
        ({"id": 1, "tags": ["a", "b"], "price": None}, b'{"id":1,"tags":["a","b"],"price":null}'),
        ([1, 2.5, True], b"[1,2.5,true]"),
        ("text", b'"text"'),
        (None, b"null"),
        ({}, b"{}"),
        ({"name": "café"}, b'{"name":"caf\\u00e9"}'),
    ],
)
def test_json_is_compact(data: Any, body: bytes) -> None:
    assert Response.json(data).body == body


def test_json_headers() -> None:
    response = Response.json({"ok": True})
    assert response.status == 200
    assert response.headers.items() == [
        ("Content-Type", "application/json"),
        ("X-Content-Type-Options", "nosniff"),
    ]


def test_json_status_and_extra_headers() -> None:
    response = Response.json({"id": 7}, status=201, headers={"Location": "/api/products/7"})
    assert response.status == 201
    assert response.headers["Location"] == "/api/products/7"
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_extra_headers_can_change_the_content_type() -> None:
    response = Response.json({"title": "Bad"}, 400, {"content-type": "application/problem+json"})
    assert response.headers.get_all("Content-Type") == ["application/problem+json"]


def test_json_extra_headers_are_checked() -> None:
    with pytest.raises(ValueError):
        Response.json({}, headers={"X-Reflected": "a\r\nb"})


def test_json_headers_are_independent_per_response() -> None:
    first = Response.json(1)
    first.headers["X-First"] = "1"
    assert "X-First" not in Response.json(2).headers


@pytest.mark.parametrize(
    ("data", "type_name"),
    [
        ({"when": datetime(2024, 1, 1)}, "datetime"),
        ([date(2024, 1, 1)], "date"),
        ({"tags": {"a"}}, "set"),
        ({"raw": b"bytes"}, "bytes"),
        ({"price": Decimal("9.99")}, "Decimal"),
        ({"thing": object()}, "object"),
    ],
)
def test_json_of_data_json_cannot_hold_is_a_type_error_naming_the_type(
    data: Any, type_name: str
) -> None:
    with pytest.raises(TypeError, match=f"Object of type {type_name} is not JSON serializable"):
        Response.json(data)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_json_of_nan_or_infinity_is_a_value_error(number: float) -> None:
    with pytest.raises(ValueError):
        Response.json({"nested": [number]})


# --- Response.html ----------------------------------------------------------------------


def test_html_is_utf8_html() -> None:
    response = Response.html("<h1>Café</h1>")
    assert response.status == 200
    assert response.body == "<h1>Café</h1>".encode()
    assert response.headers.items() == [("Content-Type", "text/html; charset=utf-8")]


def test_html_status_and_extra_headers() -> None:
    response = Response.html("<p>gone</p>", 410, {"Cache-Control": "no-store"})
    sent = send(response)
    assert sent.status == "410 Gone"
    assert sent.header("Cache-Control") == ["no-store"]
    assert sent.header("Content-Type") == ["text/html; charset=utf-8"]
    with pytest.raises(ValueError):
        Response.html("", headers={"X-Reflected": "a\nb"})


# --- Response.redirect -----------------------------------------------------------------


def test_redirect_is_a_307_by_default() -> None:
    sent = send(Response.redirect("/login"))
    assert sent.status == "307 Temporary Redirect"
    assert sent.header("Location") == ["/login"]
    assert sent.body == b""
    assert sent.header("Content-Length") == ["0"]


@pytest.mark.parametrize(
    ("status", "line"),
    [(301, "301 Moved Permanently"), (302, "302 Found"), (303, "303 See Other"),
     (308, "308 Permanent Redirect")],
)
def test_redirect_with_another_status(status: int, line: str) -> None:
    response = Response.redirect("https://example.com/x?y=1", status)
    assert response.status == status
    sent = send(response)
    assert sent.status == line
    assert sent.header("Location") == ["https://example.com/x?y=1"]


def test_redirect_refuses_a_location_that_would_split_the_response() -> None:
    with pytest.raises(ValueError):
        Response.redirect("/x\r\nSet-Cookie: evil=1")


# --- cookies ---------------------------------------------------------------------------


def test_set_cookie_adds_a_set_cookie_header() -> None:
    response = Response("")
    response.set_cookie("session", "abc123")
    assert response.headers.get_all("Set-Cookie") == ["session=abc123; Path=/"]


def test_set_cookie_options() -> None:
    response = Response("")
    response.set_cookie(
        "session", "abc", max_age=3600, path="/app", domain="example.com",
        secure=True, httponly=True, samesite="Lax",
    )
    [cookie] = response.headers.get_all("Set-Cookie")
    assert cookie.startswith("session=abc; ")
    for part in ("Max-Age=3600", "Path=/app", "Domain=example.com", "Secure", "HttpOnly",
                 "SameSite=Lax", "Expires="):
        assert part in cookie


def test_several_cookies_are_several_headers() -> None:
    response = Response.json({"ok": True})
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    response.delete_cookie("old")
    sent = send(response)
    cookies = sent.header("Set-Cookie")
    assert len(cookies) == 3
    assert cookies[0] == "a=1; Path=/"
    assert cookies[1] == "b=2; Path=/"
    assert cookies[2].startswith("old=; ")


def test_delete_cookie_sends_an_expired_empty_cookie() -> None:
    response = Response("")
    response.delete_cookie("session", path="/app", domain="example.com")
    [cookie] = response.headers.get_all("Set-Cookie")
    assert cookie.startswith("session=; ")
    for part in ("Expires=Thu, 01 Jan 1970 00:00:00 GMT", "Max-Age=0", "Path=/app",
                 "Domain=example.com"):
        assert part in cookie


def test_a_cookie_value_cannot_split_the_response() -> None:
    response = Response("")
    response.set_cookie("note", "a;b\r\nSet-Cookie: evil=1")
    [cookie] = response.headers.get_all("Set-Cookie")
    assert "\r" not in cookie and "\n" not in cookie
    assert "; Set-Cookie" not in cookie


# --- going out through WSGI ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "line"),
    [
        (200, "200 OK"),
        (201, "201 Created"),
        (400, "400 Bad Request"),
        (404, "404 Not Found"),
        (413, "413 Request Entity Too Large"),
        (418, "418 I'm a Teapot"),
        (500, "500 Internal Server Error"),
        (599, "599 Unknown"),
    ],
)
def test_the_status_line(status: int, line: str) -> None:
    assert send(Response("x", status)).status == line


@pytest.mark.parametrize(
    "response",
    [Response("héllo"), Response(b"\x00\x01\x02"), Response.json({"a": "b"}), Response("")],
    ids=["str", "bytes", "json", "empty"],
)
def test_content_length_is_the_body_length_in_bytes(response: Response) -> None:
    sent = send(response)
    assert sent.body == response.body
    assert sent.header("Content-Length") == [str(len(response.body))]  # type: ignore[arg-type]


def test_an_explicit_content_length_is_not_repeated() -> None:
    sent = send(Response(b"abc", headers={"content-length": "3"}))
    assert sent.header("Content-Length") == ["3"]


def test_a_content_length_set_by_hand_is_kept_for_head() -> None:
    # A HEAD handler may say how long the GET body would be.
    response = Response("", headers={"Content-Length": "1234"})
    sent = send(response, "HEAD")
    assert sent.header("Content-Length") == ["1234"]
    assert sent.body == b""


def test_a_content_length_removed_by_hand_is_computed_again() -> None:
    response = Response("hello", headers={"Content-Length": "99"})
    del response.headers["content-length"]
    assert send(response).header("Content-Length") == ["5"]
    response.headers["Content-Length"] = "5"
    assert send(response).header("Content-Length") == ["5"]


def test_head_drops_the_body_but_keeps_the_headers() -> None:
    response = Response.json({"id": 1, "name": "Keyboard"})
    response.headers["ETag"] = '"v1"'
    get, head = send(response, "GET"), send(response, "HEAD")
    assert head.body == b""
    assert head.status == get.status == "200 OK"
    assert head.headers == get.headers
    assert head.header("Content-Length") == [str(len(get.body))]
    assert head.header("Content-Type") == ["application/json"]


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "make",
    [
        lambda status: Response("ignored", status),
        lambda status: Response.json({"ignored": True}, status),
        lambda status: Response(b"x", status, {"Content-Length": "1", "Content-Type": "a/b"}),
        lambda status: Response("", status),
    ],
    ids=["str", "json", "explicit-headers", "empty"],
)
def test_204_and_304_carry_no_body_no_content_type_and_no_content_length(
    make: Any, status: int, method: str
) -> None:
    response = make(status)
    response.headers["ETag"] = '"v1"'
    sent = send(response, method)
    assert sent.body == b""
    assert sent.header("Content-Type") == []
    assert sent.header("Content-Length") == []
    assert sent.header("ETag") == ['"v1"']  # other headers are kept


def test_a_204_keeps_its_other_headers() -> None:
    sent = send(Response(b"", 204, {"Allow": "GET, HEAD, OPTIONS"}))
    assert sent.status == "204 No Content"
    assert sent.headers == [("Allow", "GET, HEAD, OPTIONS")]


def test_a_streamed_body_passes_through_lazily() -> None:
    produced = []

    def chunks() -> Iterator[bytes]:
        for chunk in (b"one ", b"two"):
            produced.append(chunk)
            yield chunk

    response = Response(chunks(), content_type="text/plain")
    environ = EnvironBuilder().get_environ()
    iterable = response(environ, lambda status, headers: None)
    assert produced == []  # nothing is read before the server iterates
    assert list(iterable) == [b"one ", b"two"]
    sent = send(Response(Stream(b"one ", b"two"), content_type="text/plain"))
    assert sent.body == b"one two"
    assert sent.header("Content-Length") == []  # unknown: the server chunks or closes


def test_the_server_closing_a_streamed_response_closes_the_body() -> None:
    stream = Stream(b"a", b"b")
    send(Response(stream))
    assert stream.closed


@pytest.mark.parametrize(
    ("failure", "error", "logged"),
    [(RuntimeError("the database went away"), RuntimeError,
      "RuntimeError: the database went away"),
     ("a str", TypeError, "A streamed response body must give bytes, not str")],
    ids=["raises", "not-bytes"],
)
def test_a_streamed_body_that_fails_half_way_is_logged_and_raised(
    failure: Any, error: type[Exception], logged: str
) -> None:
    def chunks() -> Iterator[Any]:
        yield b"start"
        if isinstance(failure, Exception):
            raise failure
        yield failure  # a server would fail on it, and log nothing of ours

    environ = EnvironBuilder().get_environ()
    environ["wsgi.errors"] = log = io.StringIO()
    iterable = iter(Response(chunks())(environ, lambda status, headers: None))
    assert next(iterable) == b"start"
    with pytest.raises(error):
        next(iterable)
    assert logged in log.getvalue()


def test_a_generator_body_is_streamed() -> None:
    def chunks() -> Iterable[bytes]:
        yield b"a"
        yield b"b"

    sent = send(Response(chunks(), headers={"Content-Length": "2"}))
    assert sent.body == b"ab"
    assert sent.header("Content-Length") == ["2"]


@pytest.mark.parametrize(("status", "method"), [(200, "HEAD"), (204, "GET"), (304, "GET")])
def test_a_streamed_body_that_is_not_sent_is_closed(status: int, method: str) -> None:
    stream = Stream(b"never sent")
    sent = send(Response(stream, status), method)
    assert sent.body == b""
    assert stream.closed


def test_a_started_generator_that_is_not_sent_runs_its_cleanup() -> None:
    finished = []

    def chunks() -> Iterator[bytes]:
        try:
            yield b"never sent"
        finally:
            finished.append(True)

    started = chunks()
    assert next(started) == b"never sent"
    assert send(Response(started), "HEAD").body == b""
    assert finished == [True]


def test_repr_shows_the_status() -> None:
    assert repr(Response("", 404)) == "<Response 404>"


# --- what HTTP cannot carry is refused where the handler makes it -------------------


@pytest.mark.parametrize(
    ("status", "error", "says"),
    [("200 OK", TypeError, "not str: '200 OK'"), (True, TypeError, "not bool"),
     (200.0, TypeError, "not float"), (None, TypeError, "not NoneType"),
     (0, ValueError, "from 200 to 599, not 0"),
     (600, ValueError, "not 600"), (99, ValueError, "not 99"), (-200, ValueError, "not -200"),
     (100, ValueError, "not 100"), (101, ValueError, "not 101"), (199, ValueError, "not 199")],
)
def test_a_status_http_cannot_send_is_refused_at_construction(
    status: Any, error: type[Exception], says: str
) -> None:
    for make in (
        lambda: Response("x", status),
        lambda: Response.json({}, status),
        lambda: Response.html("<p>x</p>", status),
        lambda: Response.redirect("/", status),
    ):
        with pytest.raises(error, match=f"A response status must be .*{says}"):
            make()


def test_a_status_set_later_is_refused_when_sent() -> None:
    response = Response("x")
    response.status = "200 OK"  # type: ignore[assignment]
    with pytest.raises(TypeError, match="not str"):
        send(response)


@pytest.mark.parametrize("status", [HTTPStatus.CREATED, 200, 599, 299])
def test_any_int_status_from_100_to_599_is_accepted(status: int) -> None:
    response = Response("x", status)
    assert type(response.status) is int and response.status == status
    assert send(response).status.startswith(f"{int(status)} ")


@pytest.mark.parametrize(
    ("body", "says"),
    [(123, "must be str, bytes or an iterable of bytes, not int"),
     (None, "not NoneType"), (1.5, "not float"),
     (["a"], "chunks must be bytes, not str: 'a'"),
     ((b"a", "b"), "chunks must be bytes, not str"),
     ([b"a", 1], "chunks must be bytes, not int"),
     ({"a": 1}, "cannot be a dict: for JSON, return Response.json"),
    ],
)
def test_a_body_http_cannot_send_is_refused_at_construction(body: Any, says: str) -> None:
    with pytest.raises(TypeError, match=re.escape(says)):
        Response(body)


@pytest.mark.parametrize(("set_by_hand", "body"), [("999", b"hello"), ("4", b"hello"), ("0", b"x")])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_a_content_length_that_is_not_the_bodys_is_refused_when_sent(
    set_by_hand: str, body: bytes, method: str
) -> None:
    response = Response(body, headers={"Content-Length": set_by_hand})
    with pytest.raises(ValueError, match=f"Content-Length {set_by_hand} is not the body's length"):
        send(response, method)


def test_a_lone_surrogate_in_text_becomes_a_replacement_character() -> None:
    # JSON's "\ud800" gives a str that UTF-8 cannot hold: never a 500.
    assert Response("a\ud800b").body == "a\ufffdb".encode()
    assert Response.html("<p>\udfff</p>").body == "<p>\ufffd</p>".encode()
    assert Response("\ud83d\ude00").body == "😀".encode()  # a pair, as two code points
    assert Response.json({"t": "\ud800"}).body == b'{"t":"\\ud800"}'
