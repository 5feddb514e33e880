"""`Response`: what a handler returns, and how it goes out through WSGI.

A response is a status, headers and a body. The body is `bytes` (a `str` is
encoded as UTF-8), or any iterable of `bytes` to stream. Handlers build one:

    Response("Hello")                             # 200 text/plain
    Response.json({"id": 1}, status=201)          # application/json
    Response.redirect("/login")                   # 307 Location: /login

Sending the response (`response.send(environ, start_response)`, or calling
it as the WSGI app it is: `response(environ, start_response)`) is
the last step of every request: it adds `Content-Length`, drops the body of a
HEAD request and of a 204 or 304, and hands everything to the server.

A `FileBody` sends a file (or a part of it) without reading it into memory,
by the server's `wsgi.file_wrapper` where it has one; `make_conditional`
turns a response the client already has into a 304 (see `conditional`).

What HTTP cannot carry is refused where the handler makes it, naming what was
wrong: a status that is not an int from 200 to 599 (`"200 OK"`, `0`, `True`),
a body that is not text, bytes or an iterable of bytes (`Response(123)`,
`Response(["a"])`), a header with a control character (`headers.py`). A
`Content-Length` set by hand that is not the body's length is refused when the
response is sent, since the handler may set either last; so is a body or a
status set after the response was made.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import IO, TYPE_CHECKING, Any, Literal

from werkzeug.http import dump_cookie

from . import conditional
from .headers import HeaderItems, Headers

if TYPE_CHECKING:
    from .request import Request

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
    # Speed: GET item runs 48,000 instructions, 64,400 with `json.dumps` per
    # response (benchmarks/README.md, "The dispatch").

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

        Response("Hello")                                # 200 text/plain
        Response(png_bytes, content_type="image/png")
        Response(status=204)                             # no body
    """

    __slots__ = ("body", "headers", "status")

    def __init__(
        self,
        body: Body = "",
        status: int = 200,
        headers: HeaderItems | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status = _checked_status(status)
        self.headers = Headers(headers)
        if isinstance(body, str):
            body = _utf8(body)
            default_type = TEXT
        else:
            body = _checked_body(body)
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

            Response.json({"id": 1}, status=201, headers={"Location": "/api/products/1"})
        """
        # Speed: built directly, not through __init__: there is nothing to
        # check in what the framework sets itself (`Headers.trusted`), and this
        # is every JSON response. GET item runs 48,000 instructions, 64,300
        # with these headers checked one by one (benchmarks/README.md).
        if status.__class__ is not int or not 200 <= status <= 599:
            status = _checked_status(status)
        response = cls.__new__(cls)
        response.status = status
        response.body = _json_encode(data).encode()  # ASCII: never a lone surrogate
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
        """An HTML page, as UTF-8.

            Response.html("<h1>Hi</h1>")
            Response.html("<h1>Nothing here</h1>", status=404)
        """
        if status.__class__ is not int or not 200 <= status <= 599:
            status = _checked_status(status)
        response = cls.__new__(cls)  # as in `json`
        response.status = status
        try:
            response.body = html.encode()
        except UnicodeEncodeError:
            response.body = _utf8(html)  # a lone surrogate
        response.headers = Headers.trusted([("Content-Type", HTML)])
        if headers:
            for name, value in Headers(headers).items():
                response.headers[name] = value
        return response

    @classmethod
    def redirect(cls, url: str, status: int = 307) -> Response:
        """Redirect to `url`. 307 (the default) and 308 keep the method and body.

            Response.redirect("/login")           # 307: for now
            Response.redirect("/new-home", 308)   # for good
        """
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
        """Add a `Set-Cookie` header (formatted by werkzeug, which knows the rules).

            response.set_cookie("session", token, httponly=True, samesite="Lax", max_age=3600)
        """
        cookie = dump_cookie(
            key, value, max_age=max_age, expires=expires, path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite,
        )
        self.headers.add("Set-Cookie", cookie)

    def delete_cookie(self, key: str, path: str | None = "/", domain: str | None = None) -> None:
        """Tell the browser to forget a cookie: an empty value that expired long ago.

            response.delete_cookie("session")   # on signing out
        """
        self.set_cookie(key, max_age=0, expires=0, path=path, domain=domain)

    def make_conditional(self, request: Request) -> Response:
        """Answer 304 Not Modified, with no body, when the client already has this.

            def GET(request):
                return Response.json(products()).make_conditional(request)

        For a GET or HEAD that would be a 200: a `bytes` body without an
        `ETag` gets one (a hash of the body), then the request's
        `If-None-Match`, or else its `If-Modified-Since` against
        `Last-Modified`, decides (see `conditional.is_fresh`). Any other
        method or status is left as it is. Returns the response itself.
        """
        if request.method not in ("GET", "HEAD") or self.status != 200:
            return self
        headers = self.headers
        etag = headers.get("ETag")
        if etag is None and isinstance(self.body, bytes):
            etag = headers["ETag"] = conditional.etag_for(self.body)
        if conditional.is_fresh(request.environ, etag, headers.get("Last-Modified")):
            # The 304 keeps ETag, Last-Modified, Cache-Control and Vary (RFC
            # 9110 §15.4.5); sending drops the body and its type and length.
            self.status = 304
            _close(self.body)
            self.body = b""
        return self

    def send(
        self, environ: Mapping[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """Send this response through WSGI: the last step of every request.

        Whatever it refuses (a status or a `Content-Length` changed after the
        response was made) it raises before `start_response`, so that the app
        can still answer with a 500 of its own.

            return response.send(environ, start_response)   # App.__call__'s last step
        """
        status = self.status
        body = self.body
        # A status set after the response was made is checked here, off the
        # common path: every valid status HTTP names has its line already.
        line = _STATUS_LINES.get(status) or f"{_checked_status(status)} Unknown"
        if status in _BODILESS:  # no body, nor its type or length
            headers = self.headers.wsgi_list()
            _close(body)
            start_response(line, [pair for pair in headers if pair[0].lower() not in _BODY_FIELDS])
            return []
        if isinstance(body, bytes):  # the usual case: the whole body at once
            if environ["REQUEST_METHOD"] == "HEAD":
                # A Content-Length set by hand must be the body's, except from
                # a HEAD handler without a body, saying how long GET's would be.
                start_response(line, self.headers.wsgi_list(len(body), exact=body != b""))
                return []
            start_response(line, self.headers.wsgi_list(len(body)))
            return [body]
        if isinstance(body, FileBody):  # a file: its length is known
            headers = self.headers.wsgi_list(body.length)
            if environ["REQUEST_METHOD"] == "HEAD":
                body.close()
                start_response(line, headers)
                return []
            start_response(line, headers)
            return body.send(environ)
        # A body set after the response was made is checked as the constructor
        # checks one (a str is encoded, a dict or an int refused), here, before
        # anything is sent, rather than failing half-way through a 200.
        checked = _checked_late_body(body)
        if checked is not body:
            self.body = checked
            return self.send(environ, start_response)
        if environ["REQUEST_METHOD"] == "HEAD":
            _close(body)
            start_response(line, self.headers.wsgi_list())
            return []
        start_response(line, self.headers.wsgi_list())  # a stream: its length is not known
        return _Stream(body, environ)  # the server iterates it, then calls close()

    # A `Response` is a WSGI app: `response(environ, start_response)` sends it.
    __call__ = send

    def __repr__(self) -> str:
        return f"<Response {self.status}>"


class FileBody:
    """An open binary `file` of `size` bytes as a response body: the whole
    file, or `length` bytes from `start`.

        file = open("public/logo.png", "rb")
        size = os.fstat(file.fileno()).st_size
        Response(FileBody(file, size), content_type="image/png")

    Sent in chunks, never read whole into memory; the whole file goes to the
    server's `wsgi.file_wrapper` instead, where it has one (gunicorn's uses
    `sendfile`: the bytes never enter Python). The file is closed when the
    server is done with the body, or when it is not sent at all (a HEAD, a 304).
    """

    __slots__ = ("file", "length", "whole")

    CHUNK = 64 * 1024

    def __init__(
        self, file: IO[bytes], size: int, start: int = 0, length: int | None = None
    ) -> None:
        self.file = file
        self.length = size - start if length is None else length
        self.whole = start == 0 and self.length >= size
        if start:
            file.seek(start)

    def send(self, environ: Mapping[str, Any]) -> Iterable[bytes]:
        """The iterable to hand the server: its file wrapper, or this body.

            return body.send(environ)   # in Response.send, after start_response
        """
        wrapper = environ.get("wsgi.file_wrapper")
        # Only the whole file: a wrapper sends to the end of the file, and
        # uWSGI's sends from its start whatever the position (PEP 3333 says
        # from the position; tests/test_servers.py caught it), so a part of
        # the file is always read here.
        if wrapper is not None and self.whole:
            return wrapper(self.file, self.CHUNK)  # type: ignore[no-any-return]
        return self

    def __iter__(self) -> Iterator[bytes]:
        left, read = self.length, self.file.read
        while left > 0:
            chunk = read(min(left, self.CHUNK))
            if not chunk:  # the file shrank since it was measured
                raise OSError(f"{self.file.name}: ended {left} bytes early")
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        """Close the file: the server calls it when the body is sent, and
        a response that sends no body (a HEAD, a 304) calls it itself.

            body.close()
        """
        self.file.close()


def _checked_status(status: object) -> int:
    """`status` as a plain int, if HTTP can send it (`HTTPStatus.OK` is 200)."""
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(
            f"A response status must be an int (404, HTTPStatus.NOT_FOUND), "
            f"not {type(status).__name__}: {status!r}"
        )
    # A 1xx is not a final answer: the server sends `100 Continue` itself, and a
    # WSGI app that "answered" 101 would leave the client waiting for the real one.
    if not 200 <= status <= 599:
        raise ValueError(f"A response status must be from 200 to 599, not {status}")
    return int(status)


def _checked_body(body: object) -> bytes | Iterable[bytes]:
    """A body that is not `str`: bytes as they are, or an iterable of bytes."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, (list, tuple)):  # its chunks can be checked now, at the handler
        for chunk in body:
            if not isinstance(chunk, bytes):
                raise TypeError(
                    f"A response body's chunks must be bytes, not {type(chunk).__name__}: "
                    f"{chunk!r:.40}"
                )
        return body
    if isinstance(body, Mapping):
        raise TypeError(
            f"A response body cannot be a {type(body).__name__}: "
            "for JSON, return Response.json(data)"
        )
    if not isinstance(body, Iterable):
        raise _not_a_body(body)
    return body  # a stream: each chunk is checked as it goes (`_Stream`)


def _checked_late_body(body: object) -> bytes | Iterable[bytes]:
    """A body set after the response was made (typed or not), as `__init__` takes one."""
    return _utf8(body) if isinstance(body, str) else _checked_body(body)


def _not_a_body(body: object) -> TypeError:
    return TypeError(
        "A response body must be str, bytes or an iterable of bytes, "
        f"not {type(body).__name__}"
    )


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (JSON's "\ud800", say) has no UTF-8. It becomes
        # U+FFFD, as a browser's TextEncoder makes it, rather than a 500.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()


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
            for chunk in self.body:
                if not isinstance(chunk, bytes):  # a server would fail on it, unlogged
                    raise TypeError(
                        f"A streamed response body must give bytes, not {type(chunk).__name__}"
                    )
                yield chunk
        except Exception:
            log = self.environ.get("wsgi.errors") or sys.stderr
            log.write(f"microroute: the response body failed while being sent\n"
                      f"{traceback.format_exc()}")
            log.flush()
            raise

    def close(self) -> None:
        _close(self.body)
