"""The two exceptions a user meets, and how an HTTP error becomes a response.

`RouteError` is raised while the route tree loads: the app refuses to start.
`HTTPError` is raised while a request is served: it becomes that status.
This module also renders every error the framework answers by itself (404,
405, 413, 500, ...): JSON `{"error": message}` for API clients, a small HTML
page for browsers, chosen by the request's `Accept` header.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from .headers import Headers
from .response import Response, StartResponse, _checked_status


class RouteError(Exception):
    """The route tree breaks a rule; raised by `App(...)` before any request.

    The message names the file(s), the rule and, where Next.js has one, uses
    Next.js's own wording, so its documentation helps.

        App(app_dir)   # with app/blog/[id]/ beside app/blog/[slug]/:
        # RouteError: Ambiguous app routes detected: ... "/blog/[*]" matches multiple routes
    """


class HTTPError(Exception):
    """Raise anywhere in a handler to answer with `status` and `message`.

    >>> raise HTTPError(404, "No product 42")   # -> 404 {"error": "No product 42"}

    `details` adds keys to the JSON error body, for clients that act on them:
    `HTTPError(422, "Invalid", details={"fields": {"price": "must be ≥ 0"}})`.
    """

    # No call to Exception.__init__: its __new__ already keeps the arguments
    # (`args`, which `str(error)` shows).
    __slots__ = ("details", "headers", "message", "status")

    def __init__(
        self,
        status: int,
        message: str | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        if status.__class__ is not int or not 200 <= status <= 599:
            # Refused here, at the handler's raise, naming what was wrong, as
            # `Response(status=...)` is (not a TypeError from deep in the app).
            status = _checked_status(status)
        self.status = status
        self.message = message if message is not None else reason_phrase(status)
        self.headers = headers
        self.details = details


_PHRASES = {status.value: status.phrase for status in HTTPStatus}


def reason_phrase(status: int) -> str:
    """`404` -> "Not Found"; "Error" for a code HTTP does not name."""
    return _PHRASES.get(status, "Error")


def prefers_html(environ: Mapping[str, object]) -> bool:
    """True when the client ranks text/html above application/json, with
    q-values and wildcards read as RFC 9110 says (the most specific range wins).

    A browser does (`text/html,...,*/*;q=0.8`), and so does
    `text/*, application/json;q=0.5`; curl and `*/*` do not, so an API
    client that says nothing gets JSON. A response chosen this way must say
    so: `vary_on_accept`.
    """
    return _accepts_html(environ.get("HTTP_ACCEPT"))


def _accepts_html(accept: object) -> bool:
    # `prefers_html`, given the Accept header alone.
    return isinstance(accept, str) and accept != "" and _ranks_html_first(accept)


@functools.lru_cache(maxsize=256)
def _ranks_html_first(accept: str) -> bool:
    # A few Accept headers make up nearly all traffic (each browser sends
    # one, curl sends "*/*"): each is parsed once.
    ranked = parse_accept_header(accept, MIMEAccept)
    return ranked.quality("text/html") > ranked.quality("application/json")


def vary_on_accept(response: Response) -> Response:
    """Add `Accept` to the response's `Vary`: its body was chosen by `Accept`,
    so a shared cache must not hand a browser the JSON answer, nor an API
    client the HTML one. Returns the response.

    >>> vary_on_accept(Response.html(page, 404)).headers["Vary"]
    'Accept'
    """
    headers = response.headers
    vary = ", ".join(headers.get_all("Vary"))
    if not vary:
        headers["Vary"] = "Accept"
    elif "accept" not in (name.strip().lower() for name in vary.split(",")) and vary != "*":
        headers["Vary"] = f"{vary}, Accept"
    return response


def error_response(
    environ: Mapping[str, object],
    status: int,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    traceback: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> Response:
    """The framework's answer for an error: JSON, or HTML for a browser.

    `details` are extra keys of the JSON body (an `HTTPError`'s); a
    `traceback` (only ever passed with `debug=True`) is shown below the
    message. Everything reflected into HTML is escaped.
    """
    if headers is None and traceback is None and details is None:
        # Speed: the shared answer is found by the Accept header itself, which
        # is ranked only on a miss (with `sent`, a stray 404's 29,400
        # instructions down to 26,200; benchmarks/README.md, "The stray 404").
        accept = environ.get("HTTP_ACCEPT")
        return _plain_error(status, message, accept if isinstance(accept, str) else None)
    return _error(status, message, prefers_html(environ), headers, traceback, details)


class _Shared(Response):
    """One of the framework's own answers, built once and sent many times.

    Nothing changes it once built (what a proxy is handed is `private`), so
    its status line and headers are made once too: `sent`, what
    `Response.send` gives `start_response` for it, and the body.
    """

    __slots__ = ("sent",)

    sent: tuple[str, list[tuple[str, str]], tuple[bytes]]

    def send(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        # Speed: a stray 404's status line and headers made once, not per
        # request (see error_response's count), and its body a tuple made once
        # (-300 more). A copy of the list: a server may add to the one it is given.
        line, headers, body = self.sent
        start_response(line, headers.copy())
        return () if environ["REQUEST_METHOD"] == "HEAD" else body

    __call__ = send


def private(response: Response) -> Response:
    """`response` itself, unless it is one of the framework's shared answers:
    then a copy of it, which code that may change it (a proxy adding a
    header) can change without changing it for every other request."""
    if type(response) is not _Shared:
        return response
    copy = Response.__new__(Response)
    copy.status, copy.body = response.status, response.body
    copy.headers = Headers.trusted(response.headers.items())  # items(): a new list
    return copy


@functools.lru_cache(maxsize=256)
def _plain_error(status: int, message: str, accept: str | None) -> Response:
    # The framework's own answers repeat ("404 Not Found" for every stray
    # path), so each is built once and sent many times. Sending a response
    # never changes it; what is handed to a proxy is `private`.
    shared = _error(status, message, _accepts_html(accept), kind=_Shared)
    assert isinstance(shared, _Shared) and isinstance(shared.body, bytes)
    body = shared.body

    def keep(line: str, headers: list[tuple[str, str]]) -> None:
        shared.sent = (line, headers, (body,))

    Response.send(shared, {"REQUEST_METHOD": "GET"}, keep)  # what sending it gives
    return shared


def _error(
    status: int,
    message: str,
    as_html: bool,
    headers: Mapping[str, str] | None = None,
    traceback: str | None = None,
    details: Mapping[str, Any] | None = None,
    kind: type[Response] = Response,
) -> Response:
    if as_html:
        title = html.escape(f"{status} {reason_phrase(status)}")
        page = (
            "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{title}</title></head>\n<body><h1>{title}</h1>\n"
            f"<p>{html.escape(message)}</p>\n"
        )
        if traceback:
            page += f"<pre>{html.escape(traceback)}</pre>\n"
        page += "</body></html>\n"
        return vary_on_accept(kind.html(page, status, headers))
    body: dict[str, Any] = {"error": message}
    for key, value in (details or {}).items():
        body.setdefault(key, value)  # details add keys; they never replace the message
    if traceback:
        body["traceback"] = traceback
    return vary_on_accept(kind.json(body, status, headers))
