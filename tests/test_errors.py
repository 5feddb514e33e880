"""`microroute.errors`: `HTTPError`, and how an error becomes a response, JSON for
API clients, HTML for browsers (README, "The request and the response" and
"What the framework answers by itself")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers import BROWSER
from microroute import HTTPError, Response, RouteError
from microroute.errors import error_response, prefers_html, reason_phrase, vary_on_accept

CHROME = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)


def accepting(accept: str | None) -> dict[str, Any]:
    return {} if accept is None else {"HTTP_ACCEPT": accept}


def as_json(response: Response) -> Any:
    assert response.headers["Content-Type"] == "application/json"
    assert isinstance(response.body, bytes)
    return json.loads(response.body)


def as_html(response: Response) -> str:
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert isinstance(response.body, bytes)
    return response.body.decode()


# --- HTTPError --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [(400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"),
     (413, "Request Entity Too Large"), (500, "Internal Server Error"), (599, "Error")],
)
def test_http_error_message_defaults_to_the_reason_phrase(status: int, message: str) -> None:
    error = HTTPError(status)
    assert error.status == status
    assert error.message == message
    assert reason_phrase(status) == message


def test_http_error_keeps_its_message_headers_and_details() -> None:
    error = HTTPError(422, "Invalid product", {"Retry-After": "5"}, details={"field": "price"})
    assert error.status == 422
    assert error.message == "Invalid product"
    assert dict(error.headers or {}) == {"Retry-After": "5"}
    assert dict(error.details or {}) == {"field": "price"}


def test_http_error_has_no_headers_or_details_by_default() -> None:
    error = HTTPError(404)
    assert not error.headers
    assert not error.details


def test_http_error_and_route_error_are_exceptions() -> None:
    with pytest.raises(HTTPError) as caught:
        raise HTTPError(404, "No product 42")
    assert caught.value.message == "No product 42"
    assert issubclass(RouteError, Exception)
    assert not issubclass(RouteError, HTTPError)


def test_an_empty_message_is_kept() -> None:
    assert HTTPError(400, "").message == ""


# --- prefers_html ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (BROWSER, True),
        (CHROME, True),
        ("text/html", True),
        ("application/json;q=0.5, text/html", True),
        ("text/html, application/json;q=0.9", True),
        (None, False),
        ("", False),
        ("*/*", False),  # curl
        ("application/json", False),
        ("application/json, text/plain, */*", False),  # axios
        ("text/html;q=0.5, application/json", False),
        ("text/html, application/json", False),  # a tie goes to JSON
        ("text/html;q=0.5, */*", False),  # */* ranks JSON at 1
        ("text/html;q=0", False),
        ("text/plain", False),
        # Wildcards and q-values, the most specific range winning (RFC 9110 §12.5.1):
        ("text/*, application/json;q=0.5", True),
        ("text/*;q=1, application/json;q=0.5", True),
        ("*/*, application/json;q=0.5", True),  # anything but JSON, rather
        ("*/*;q=0.1, application/json;q=0.5", False),
        ("application/json, text/*;q=0.9", False),
        ("text/*, text/html;q=0.1, application/json;q=0.5", False),
        ("text/html;q=0.1, text/*", True),  # JSON is not acceptable at all
        ("application/*, text/*", False),  # a tie
        ("TEXT/HTML", True),
    ],
)
def test_prefers_html(accept: str | None, html: bool) -> None:
    assert prefers_html(accepting(accept)) is html


# --- error_response -----------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_error_response_is_json_for_api_clients(accept: str | None) -> None:
    response = error_response(accepting(accept), 404, "No product 42")
    assert response.status == 404
    assert as_json(response) == {"error": "No product 42"}


@pytest.mark.parametrize("accept", [BROWSER, CHROME])
def test_error_response_is_html_for_browsers(accept: str) -> None:
    response = error_response(accepting(accept), 404, "No product 42")
    assert response.status == 404
    page = as_html(response)
    assert page.startswith("<!doctype html>")
    assert "<title>404 Not Found</title>" in page
    assert "<h1>404 Not Found</h1>" in page
    assert "<p>No product 42</p>" in page


@pytest.mark.parametrize("accept", [None, BROWSER])
def test_error_response_keeps_the_headers_given(accept: str | None) -> None:
    response = error_response(accepting(accept), 405, "Nope", {"Allow": "GET, HEAD, OPTIONS"})
    assert response.status == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_error_response_for_an_unnamed_status() -> None:
    response = error_response(accepting(BROWSER), 599, "Odd")
    assert response.status == 599
    assert "<h1>599 Error</h1>" in as_html(response)


def test_html_error_escapes_everything_it_reflects() -> None:
    message = "No page at /<script>alert('x')</script>&\"q\""
    detail = "Traceback: <img src=x onerror=alert(1)>"
    page = as_html(error_response(accepting(BROWSER), 500, message, traceback=detail))
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;q&quot;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_json_error_carries_the_message_as_given() -> None:
    message = "No page at /<script>alert(1)</script>"
    assert as_json(error_response({}, 404, message)) == {"error": message}


def test_a_traceback_is_shown_only_when_passed() -> None:
    detail = 'Traceback (most recent call last):\n  File "route.py"\nZeroDivisionError'
    assert as_json(error_response({}, 500, "Internal Server Error")) == {
        "error": "Internal Server Error"
    }
    assert as_json(error_response({}, 500, "Internal Server Error", traceback=detail)) == {
        "error": "Internal Server Error",
        "traceback": detail,
    }
    plain_page = as_html(error_response(accepting(BROWSER), 500, "Internal Server Error"))
    assert "<pre>" not in plain_page
    assert "Traceback" not in plain_page
    debug_page = as_html(
        error_response(accepting(BROWSER), 500, "Internal Server Error", traceback=detail)
    )
    assert "<pre>Traceback (most recent call last):\n  File &quot;route.py&quot;" in debug_page
    assert "ZeroDivisionError</pre>" in debug_page


def test_details_add_keys_to_the_json_body() -> None:
    response = error_response(
        {}, 422, "Invalid product", details={"fields": {"price": "must be >= 0"}}
    )
    assert as_json(response) == {
        "error": "Invalid product",
        "fields": {"price": "must be >= 0"},
    }


def test_details_never_replace_the_message() -> None:
    response = error_response({}, 422, "Invalid product", details={"error": "overridden"})
    assert as_json(response) == {"error": "Invalid product"}


def test_the_message_comes_first_in_the_json_body() -> None:
    details = {"fields": {"price": "must be >= 0"}, "error": "overridden"}
    response = error_response({}, 422, "Invalid product", details=details)
    assert response.body == b'{"error":"Invalid product","fields":{"price":"must be >= 0"}}'


@pytest.mark.parametrize("accept", [None, "*/*", BROWSER])
@pytest.mark.parametrize("headers", [None, {"Allow": "GET"}])
def test_every_error_body_chosen_by_accept_says_vary_accept(
    accept: str | None, headers: dict[str, str] | None
) -> None:
    # A shared cache must not hand a browser the JSON answer, nor curl the HTML one.
    response = error_response(accepting(accept), 404, "Not Found", headers)
    assert response.headers.get_all("Vary") == ["Accept"]


@pytest.mark.parametrize(
    ("vary", "expected"),
    [("Origin", "Origin, Accept"), ("accept", "accept"), ("Origin, Accept-Encoding",
     "Origin, Accept-Encoding, Accept"), ("*", "*"), (" Origin , ACCEPT ", " Origin , ACCEPT ")],
)
def test_vary_on_accept_keeps_what_the_response_varies_on(vary: str, expected: str) -> None:
    response = error_response(accepting(None), 429, "Slow down", {"Vary": vary})
    assert response.headers.get_all("Vary") == [expected]
    assert vary_on_accept(Response("x", headers={"Vary": vary})).headers["Vary"] == expected
