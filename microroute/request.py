"""`Request`: what a handler is given. One per request, and lazy.

Building a `Request` only stores the environ and the route's params;
nothing is parsed until asked for, and each part is parsed at most once.
Where parsing is subtle (headers, cookies, forms and multipart) werkzeug
does it, as it does best.

    def POST(request, params):
        request.method            # "POST"
        request.path              # "/api/products/42" (inside the app)
        request.query.get("q")    # the query string, as a multi-dict
        request.headers["Accept"] # case-insensitive
        request.json()            # the body, parsed; a 400 if it is not JSON
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Mapping
from functools import cached_property
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import EnvironHeaders, FileStorage, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.utils import get_current_url
from werkzeug.wsgi import get_host

from .errors import HTTPError

_MISSING = object()


class Request:
    """The incoming request: `method`, `path`, `url`, `headers`, `query`,
    `cookies`, `params`, `json()`, `text()`, `form()`, `files()`, `body()`
    and the raw WSGI `environ`.

        def GET(request, params):
            request.method, request.path, params   # "GET", "/api/products/42", {"id": "42"}
    """

    # Parsed on first use, then kept: each part is parsed at most once.
    _body: bytes | None = None
    _json: Any = _MISSING

    def __init__(
        self,
        environ: dict[str, Any],
        max_body_size: int = 1 << 20,
        *,
        params: Mapping[str, str | list[str]] | None = None,
    ) -> None:
        self.environ = environ
        self.method: str = environ["REQUEST_METHOD"]
        self.max_body_size = max_body_size
        self.params = params if params is not None else {}  # the route's, once it is found

    @property
    def path(self) -> str:
        """The path inside the app, decoded: after any `SCRIPT_NAME` mount prefix.

            request.path   # "/api/products/42", also when the app is mounted at /shop
        """
        path = self.environ.get("PATH_INFO") or "/"
        if path[0] != "/":  # gunicorn, given the header SCRIPT_NAME: /, says "about"
            path = "/" + path
        return _wsgi_text(path)

    @property
    def url(self) -> str:
        """The full URL the client asked for, mount prefix and query included.

            request.url   # "https://example.com/shop/api/products?limit=5"
        """
        environ = self.environ
        return get_current_url(
            environ["wsgi.url_scheme"],
            get_host(environ),
            _wsgi_text(environ.get("SCRIPT_NAME", "")),
            _wsgi_text(environ.get("PATH_INFO", "")),
            environ.get("QUERY_STRING", "").encode("latin-1"),
        )

    @cached_property
    def headers(self) -> EnvironHeaders:
        """The request headers; `request.headers["content-type"]` ignores case.

            token = request.headers.get("Authorization")   # None if it sent none
        """
        return EnvironHeaders(self.environ)

    @cached_property
    def query(self) -> MultiDict[str, str]:
        """The query string, as a multi-dict of text.

            request.query.get("limit", "50")   # ?limit=5: "5"; none: "50"
            request.query.getlist("tag")       # ?tag=a&tag=b: ["a", "b"]
        """
        query = _wsgi_text(self.environ.get("QUERY_STRING", ""))
        return MultiDict(parse_qsl(query, keep_blank_values=True))

    @cached_property
    def cookies(self) -> MultiDict[str, str]:
        """The request's cookies, by name.

            session = request.cookies.get("session")   # None if it sent none

        A `Cookie` header that is not UTF-8 (`f=caf\\xe9`) is read with U+FFFD
        for the bytes it cannot decode, the other cookies intact, as werkzeug
        2 did: bad client bytes are never a 500.
        """
        return parse_cookie(_wsgi_text(self.environ.get("HTTP_COOKIE", "")))

    @property
    def content_type(self) -> str:
        """The media type alone, lowercased.

            request.content_type   # "application/json", for "Application/JSON; charset=utf-8"
        """
        return self._content_type[0]

    @cached_property
    def _content_type(self) -> tuple[str, dict[str, str]]:
        mimetype, options = parse_options_header(self.environ.get("CONTENT_TYPE", ""))
        return mimetype.lower(), options  # media types ignore case (RFC 9110)

    def body(self) -> bytes:
        """The raw body, read once. Larger than `max_body_size`: a 413;
        shorter than its `Content-Length` (the client went away): a 400.

            request.body()   # b'{"name": "Monitor"}'
        """
        if self._body is None:
            self._body = _read_body(self.environ, self.max_body_size)
        return self._body

    def text(self) -> str:
        """The body as text, in the charset its `Content-Type` names (UTF-8 if none).

        Only the charsets browsers send are read (`_TEXT_CHARSETS`): any other
        is a 415 naming it, and bytes the charset cannot decode are a 400.

            request.text()   # "café", for a text/plain; charset=utf-8 body
        """
        charset = self._content_type[1].get("charset", "utf-8")
        codec = _text_codec(charset)
        if codec is None:
            raise HTTPError(
                415, f"The body's charset {charset[:40]!r} is not a text encoding microroute "
                "reads (UTF-8, UTF-16, ISO-8859-*, windows-125*, and the others browsers use)."
            )
        try:
            return self.body().decode(codec)
        except UnicodeDecodeError as error:
            raise HTTPError(400, f"The body is not valid {charset} text: {error}") from None

    def json(self) -> Any:
        """The body parsed as JSON, whatever its `Content-Type` (as fetch's `json()`).

        An empty or malformed body raises `HTTPError(400)` saying why.

            product = request.json()   # {"name": "Monitor", "price": 14999}
        """
        if self._json is _MISSING:
            body = self.body()
            if not body.strip():
                raise HTTPError(400, "The request body is empty; expected JSON.")
            try:
                self._json = _json_decode(body.decode())
            except UnicodeDecodeError:
                raise HTTPError(400, "Malformed JSON: the body is not UTF-8.") from None
            except json.JSONDecodeError as error:
                raise HTTPError(
                    400,
                    f"Malformed JSON: {error.msg} at line {error.lineno} column {error.colno}.",
                ) from None
            except (ValueError, RecursionError) as error:
                # Python's own limits: a number of more than 4300 digits, or
                # nesting deeper than the interpreter's stack.
                raise HTTPError(400, f"Malformed JSON: {error}") from None
        return self._json

    def form(self) -> MultiDict[str, str]:
        """Fields of an urlencoded or multipart form (werkzeug parses it).

            request.form().get("name")   # from <form method="post"><input name="name">
        """
        return self._form_data[0]

    def files(self) -> MultiDict[str, FileStorage]:
        """Files uploaded with a multipart form, each a werkzeug `FileStorage`.

            upload = request.files()["photo"]   # <input type="file" name="photo">
            upload.save(f"/srv/uploads/{params['id']}.jpg")
        """
        return self._form_data[1]

    @cached_property
    def _form_data(self) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        mimetype, options = self._content_type
        body = self.body()
        parser = FormDataParser(max_content_length=self.max_body_size)
        try:
            _, form, files = parser.parse(BytesIO(body), mimetype, len(body), options)
        except RequestEntityTooLarge:
            raise HTTPError(413, "The form data is too large.") from None
        except ValueError as error:
            raise HTTPError(400, f"Malformed form data: {error}") from None
        if mimetype == "multipart/form-data" and body and not form and not files:
            raise HTTPError(400, "Malformed form data: no parts found in the multipart body.")
        return form, files

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


# The charsets `text()` decodes: the WHATWG Encoding Standard's (every one a
# browser sends; windows-874 and x-mac-cyrillic by Python's names for them),
# plus ASCII and Latin-1, as Python names their codecs. An allow-list, not a
# deny-list: Python has codecs that are no text encoding for a body
# (`unicode_escape` runs escape sequences, `punycode` and `idna` are for host
# names, `utf-7` gives lone surrogates, `rot13` and `base64` are not bytes to
# text), and a package may register more with `codecs.register`; a list of
# what to refuse would have to keep up with them all.
_TEXT_CHARSETS = frozenset(
    codecs.lookup(name).name
    for name in (
        "utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "iso-8859-1", "iso-8859-2",
        "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7", "iso-8859-8",
        "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16",
        "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254",
        "windows-1255", "windows-1256", "windows-1257", "windows-1258", "cp874", "cp866",
        "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "gbk", "gb18030", "big5",
        "euc-jp", "iso-2022-jp", "shift_jis", "euc-kr",
    )
)
# What a charset label may look like before Python is asked about it.
_is_charset_label = re.compile(r"[A-Za-z0-9_.:-]{1,40}\Z").match


def _text_codec(charset: str) -> str | None:
    """Python's codec for a charset label (`"UTF8"` -> `"utf-8"`), if `text()` reads it."""
    if not _is_charset_label(charset):
        return None
    try:
        name = codecs.lookup(charset).name
    except LookupError:
        return None
    return name if name in _TEXT_CHARSETS else None


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have.
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # Python's json reads a number past 1.8e308 as inf, which no JSON
    # response can send: echoed back, the client's number would be a 500.
    value = float(text)
    if value in (math.inf, -math.inf):
        raise ValueError(f"{text[:40]} is too large a number.")
    return value


# Built once: `json.loads` with any option builds a new decoder on every call.
_json_decode = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float).decode


def declared_length(environ: Mapping[str, Any]) -> int | None:
    """The body's `Content-Length`, or None if it declares none.

    A value that is not a whole number of bytes is a 400.
    """
    value = environ.get("CONTENT_LENGTH")
    if not value:
        return None
    if not value.isdigit() or not value.isascii():
        raise HTTPError(400, f"Invalid Content-Length: {value!r}")
    return int(value)


def _read_body(environ: Mapping[str, Any], limit: int) -> bytes:
    try:
        return _read_bounded(environ["wsgi.input"], environ, limit)
    except HTTPError:
        raise
    except Exception as error:
        # What a server raises for a broken upload varies (gunicorn's
        # NoMoreData or InvalidChunkSize, werkzeug's ClientDisconnected...);
        # each means the same: the client sent a body that cannot be read.
        raise HTTPError(400, f"The request body could not be read: {error}") from error


def _read_bounded(stream: Any, environ: Mapping[str, Any], limit: int) -> bytes:
    length = declared_length(environ)
    if not environ.get("wsgi.input_terminated"):
        if environ.get("HTTP_TRANSFER_ENCODING"):
            raise _still_encoded(length)
        if length is None:
            return b""  # no length, and the server would not mark the end: no body
    if length is not None and length > limit:
        raise _too_large(limit)
    # What was declared; or, for a chunked body, one byte past the limit, to
    # know it is too large. A server may hand it over in pieces.
    wanted = length if length is not None else limit + 1
    body: bytes = stream.read(wanted) if wanted else b""  # usually all of it, at once
    received = len(body)
    if 0 < received < wanted:
        # In pieces: kept in a list and joined once, so that a body sent a
        # byte at a time is read in linear time (adding bytes to bytes copies
        # all that came before, every time).
        pieces = [body]
        while received < wanted:
            chunk: bytes = stream.read(wanted - received)
            if not chunk:
                break
            pieces.append(chunk)
            received += len(chunk)
        body = b"".join(pieces)
    if length is not None and received < length:
        raise HTTPError(400, f"The request body ended after {received} of {length} bytes.")
    if received > limit:
        raise _too_large(limit)
    return body


def _still_encoded(length: int | None) -> HTTPError:
    # The server handed the body over as it came, chunk sizes and all, and
    # will not say where it ends (uWSGI does this): it cannot be read right.
    if length is None:
        return HTTPError(
            411,
            "This server does not decode a chunked request body: "
            "send the body with a Content-Length.",
        )
    # Both headers: the length is the chunks' framing's (RFC 9112, 6.1).
    return HTTPError(400, "A request cannot have both Transfer-Encoding and Content-Length.")


def _too_large(limit: int) -> HTTPError:
    return HTTPError(413, f"The request body is larger than {limit} bytes.")


def _wsgi_text(text: str) -> str:
    # WSGI strings carry bytes as Latin-1; the URL means UTF-8. Bytes that
    # are not UTF-8 become U+FFFD: what a client sent is read, never refused
    # (unlike a path segment, `paths._segment_text`, which must be exact).
    return text.encode("latin-1").decode("utf-8", "replace")
