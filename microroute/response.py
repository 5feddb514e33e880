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
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any, Literal

from werkzeug.http import dump_cookie

from .headers import HeaderItems, Headers

Body = str | bytes | Iterable[bytes]
StartResponse = Callable[..., Any]

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"

# Built once: the status lines WSGI wants ("404 Not Found") for every known code.
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
# RFC 9110: 1xx, 204 and 304 responses never carry a body (nor its type or length).
_BODILESS = frozenset({*range(100, 200), 204, 304})
# Compact, strict JSON: NaN and Infinity are not JSON, so they fail loudly too.
_json_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class Response:
    """An HTTP response: `Response(body="", status=200, headers=None, content_type=None)`.

    A `str` body is sent as `text/plain; charset=utf-8` unless `content_type`
    (or a `Content-Type` in `headers`) says otherwise.
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
        if isinstance(body, str):
            body = body.encode()
            if content_type is None and "Content-Type" not in self.headers:
                content_type = TEXT
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
    def redirect(cls, url: str, status: int = 307) -> Response:
        """Redirect to `url`. 307 (the default) and 308 keep the method and body."""
        return cls(b"", status, {"Location": url})

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
        headers = self.headers.wsgi_list()
        body = self.body
        if status in _BODILESS:
            headers = [
                (name, value) for name, value in headers
                if name.lower() not in ("content-type", "content-length")
            ]
        elif isinstance(body, bytes) and "Content-Length" not in self.headers:
            headers = [*headers, ("Content-Length", str(len(body)))]
        start_response(_STATUS_LINES.get(status) or f"{status} Unknown", headers)
        if isinstance(body, bytes):
            return [] if environ["REQUEST_METHOD"] == "HEAD" or status in _BODILESS else [body]
        if environ["REQUEST_METHOD"] == "HEAD" or status in _BODILESS:
            close = getattr(body, "close", None)
            if close is not None:
                close()  # a generator's cleanup must still run
            return []
        return body  # streamed: the server iterates it, then calls close()

    def __repr__(self) -> str:
        return f"<Response {self.status}>"
