"""`Response`: what a handler returns, and how it goes out through WSGI.

A response is a status, headers and a body. The body is `bytes` (a `str` is
encoded as UTF-8), or any iterable of `bytes` to stream. Handlers build one:

    Response("Hello")                             # 200 text/plain
    Response.json({"id": 1}, status=201)          # application/json
    Response.redirect("/login")                   # 307 Location: /login

Calling the response as a WSGI app (`response(environ, start_response)`) is
the last step of every request: it adds `Content-Length`, drops the body of a
HEAD request and of a 204 or 304, and hands everything to the server.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Literal

from werkzeug.http import dump_cookie

from .headers import HeaderItems, Headers

Body = str | bytes | Iterable[bytes]
StartResponse = Callable[..., Any]

TEXT = "text/plain; charset=utf-8"
BINARY = "application/octet-stream"
HTML = "text/html; charset=utf-8"

# Built once: the status lines WSGI wants ("404 Not Found") for every known code.
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
# RFC 9110: 1xx, 204 and 304 responses never carry a body (nor its type or length).
_BODILESS = frozenset({*range(100, 200), 204, 304})
_BODY_FIELDS = ("content-type", "content-length")


def _json_encoder() -> Callable[[Any], str]:
    """Compact, strict JSON (NaN is not JSON, so it fails loudly too).

    `json.dumps` builds its C encoder afresh on every call, which costs as
    much as encoding a small body; here it is built once, at import.
    """

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    if c_make_encoder is None:  # a Python without json's C accelerator
        return json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    encode = c_make_encoder(
        None, refuse, encode_basestring_ascii, None, ":", ",", False, False, False
    )  # markers (off: a cycle is a RecursionError), default, ..., allow_nan
    return lambda data: "".join(encode(data, 0))


_json_encode = _json_encoder()


class Response:
    """An HTTP response: `Response(body="", status=200, headers=None, content_type=None)`.

    A `str` body is sent as `text/plain; charset=utf-8`, a `bytes` body as
    `application/octet-stream`, unless `content_type` (or a `Content-Type` in
    `headers`) says otherwise.
    """

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: Body = "",
        status: int = 200,
        headers: HeaderItems | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = status
        self.headers = Headers(headers)
        if isinstance(body, (bytearray, memoryview)):
            body = bytes(body)
        if isinstance(body, str):
            body = body.encode()
            default_type = TEXT
        else:
            default_type = BINARY
        if content_type is None and "Content-Type" not in self.headers:
            content_type = default_type
        self.body = body
        if content_type is not None:
            self.headers["Content-Type"] = content_type

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: HeaderItems | None = None
    ) -> Response:
        """Serialize `data` as JSON: `Response.json({"ok": True}, status=201)`.

        Data JSON cannot hold raises `TypeError` here, in the handler, naming
        the type: `Object of type datetime is not JSON serializable`.
        """
        # Built directly, not through __init__: there is nothing to check in
        # what the framework sets itself, and this is every JSON response.
        response = cls.__new__(cls)
        response.status = status
        response.body = _json_encode(data).encode()
        # nosniff: a browser must never guess that a JSON body is HTML.
        response.headers = Headers.trusted(
            [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")]
        )
        if headers:
            for name, value in Headers(headers).items():
                response.headers[name] = value
        return response

    @classmethod
    def html(cls, html: str, status: int = 200, headers: HeaderItems | None = None) -> Response:
        """An HTML page: `Response.html("<h1>Hi</h1>")`, as UTF-8."""
        response = cls.__new__(cls)  # as in `json`
        response.status = status
        response.body = html.encode()
        response.headers = Headers.trusted([("Content-Type", HTML)])
        if headers:
            for name, value in Headers(headers).items():
                response.headers[name] = value
        return response

    @classmethod
    def redirect(cls, url: str, status: int = 307) -> Response:
        """Redirect to `url`. 307 (the default) and 308 keep the method and body."""
        return cls("", status, {"Location": url})

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | timedelta | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["Strict", "Lax", "None"] | None = None,
    ) -> None:
        """Add a `Set-Cookie` header (formatted by werkzeug, which knows the rules)."""
        cookie = dump_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite,
        )
        self.headers.add("Set-Cookie", cookie)

    def delete_cookie(self, key: str, path: str | None = "/", domain: str | None = None) -> None:
        """Tell the browser to forget a cookie: an empty value that expired long ago."""
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain)

    def __call__(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Send this response through WSGI: the last step of every request."""
        status = self.status
        body = self.body
        line = _STATUS_LINES.get(status) or f"{status} Unknown"
        if status in _BODILESS:  # no body, nor its type or length
            headers = self.headers.wsgi_list()
            start_response(line, [pair for pair in headers if pair[0].lower() not in _BODY_FIELDS])
            _close(body)
            return []
        if isinstance(body, bytes):  # the usual case: the whole body at once
            start_response(line, self.headers.wsgi_list(len(body)))
            return [] if environ["REQUEST_METHOD"] == "HEAD" else [body]
        start_response(line, self.headers.wsgi_list())  # a stream: its length is not known
        if environ["REQUEST_METHOD"] == "HEAD":
            _close(body)
            return []
        return _Stream(body, environ)  # the server iterates it, then calls close()

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


def _close(body: Body) -> None:
    # A body that is not sent is still closed: a generator's cleanup must run.
    close = getattr(body, "close", None)
    if close is not None:
        close()


class _Stream:
    """A streamed body, passed through; if it fails half-way, the failure is
    logged (naming no more than the server's log already does) and raised on,
    so the server drops the connection instead of ending a truncated body as
    if it were whole."""

    __slots__ = ("body", "environ")

    def __init__(self, body: Iterable[bytes], environ: Mapping[str, Any]) -> None:
        self.body = body
        self.environ = environ

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except Exception:
            log = self.environ.get("wsgi.errors") or sys.stderr
            log.write(f"microroute: the response body failed while being sent\n"
                      f"{traceback.format_exc()}")
            log.flush()
            raise

    def close(self) -> None:
        _close(self.body)
