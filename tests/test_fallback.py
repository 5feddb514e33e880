"""`microroute/fallback.py`: another WSGI app's answer, as a `Response`.

Each app here does one of the things PEP 3333 lets an app do; each answer is
checked as a `Response` (what a proxy's `handle` returns) and again as sent,
through `wsgiref.validate` on both sides.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client, EnvironBuilder

from helpers import Stream
from microroute.fallback import answer
from microroute.response import Response

StartResponse = Callable[..., Any]


def environ(method: str = "GET") -> dict[str, Any]:
    builder = EnvironBuilder(path="/legacy", method=method)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def sent(response: Response, method: str = "GET") -> tuple[str, list[tuple[str, str]], bytes]:
    """The response as a server receives it: status line, headers, body."""
    status, headers = "", []

    def start_response(line: str, pairs: list[tuple[str, str]], exc_info: object = None) -> None:
        nonlocal status, headers
        status, headers = line, pairs

    body = response(environ(method), start_response)
    try:
        return status, headers, b"".join(body)
    finally:
        getattr(body, "close", lambda: None)()


def test_an_ordinary_app_keeps_its_status_headers_and_body() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("404 Not Found", [("Content-Type", "text/html"), ("X-Legacy", "1")])
        return [b"<p>", b"legacy</p>"]

    response = answer(validator(app), environ())
    assert response.status == 404
    assert response.headers["X-Legacy"] == "1"
    status, headers, body = sent(response)
    assert (status, body) == ("404 Not Found", b"<p>legacy</p>")
    assert ("Content-Type", "text/html") in headers


def test_a_body_without_a_content_type_gets_none_added() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("204 No Content", [])
        return []

    response = answer(app, environ())
    assert "Content-Type" not in response.headers


def test_start_response_called_as_the_first_chunk_comes() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("201 Created", [("Content-Type", "text/plain")])
        yield b"first "
        yield b"second"

    response = answer(app, environ())  # a generator: nothing has run before this
    assert response.status == 201
    assert sent(response)[2] == b"first second"


def test_chunks_sent_through_write_come_before_the_rest() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written, ")
        return [b"returned"]

    assert sent(answer(app, environ()))[2] == b"written, returned"


def test_a_second_start_response_with_exc_info_replaces_the_first() -> None:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise RuntimeError("failed after starting")
        except RuntimeError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"sorry"]

    response = answer(app, environ())
    assert (response.status, sent(response)[2]) == (500, b"sorry")


def test_what_the_app_returned_is_closed_once_sent() -> None:
    body = Stream(b"a", b"b")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    assert sent(answer(app, environ()))[2] == b"ab"
    assert body.closed


def test_a_late_starting_app_is_closed_once_sent() -> None:
    closed = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        try:
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"a"
            yield b"b"
        finally:
            closed.append(True)

    response = answer(app, environ())
    assert sent(response, "HEAD")[2] == b""  # HEAD: the rest is never read, still closed
    assert closed == [True]


def test_an_app_that_never_starts_the_response_is_an_error_and_is_closed() -> None:
    body = Stream(b"no status")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return body

    with pytest.raises(RuntimeError, match="without calling start_response"):
        answer(app, environ())
    assert body.closed


def test_through_the_app_a_failing_fallback_is_a_logged_500(
    make_client: Callable[..., Client],
) -> None:
    def broken(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("legacy broke")

    client = make_client({"about/page.py": "def Page():\n    return 'about'\n"}, fallback=broken)
    log = io.StringIO()
    response = client.get("/legacy", errors_stream=log, buffered=True)
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error"}
    assert "RuntimeError: legacy broke" in log.getvalue()
