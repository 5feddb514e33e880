"""The request path: from the WSGI environ to the decoded segments routes match.

    GET /shop/items/a%2Fb?x=1   (mounted at SCRIPT_NAME=/shop)
      -> ["items", "a/b"]

The path is split on "/" *before* percent-decoding, and each segment is
decoded exactly once, as UTF-8, so an encoded slash stays inside its segment
and `%2541` gives "%41". WSGI's `PATH_INFO` has already been decoded (and a
`%2F` in it is indistinguishable from a "/"), so the raw request target is
read where the server provides it: gunicorn's `RAW_URI`; werkzeug's,
waitress's and uWSGI's `REQUEST_URI`. Without one, `PATH_INFO` is all there is.

A raw `\\` in the path is a `/`, as browsers read it (`/\\evil.com` is
`["", "evil.com"]`, so a 308 to `/evil.com`); an encoded `%5C` stays a
character of its segment. Where the server gives only `PATH_INFO`, the two
cannot be told apart, and a `\\` there is read as the browser would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from .errors import HTTPError

_HEX = frozenset("0123456789abcdefABCDEF")
_MALFORMED = re.compile("%(?![0-9A-Fa-f]{2})")  # a "%" not followed by two hex digits
_SAFE = "/:@!$&'()*+,;=-._~"  # what a path may hold unescaped (RFC 3986)


def split(environ: Mapping[str, Any]) -> list[str]:
    """The path inside the app as decoded segments; `/` is `[]`, `/a/` is `["a", ""]`.

    Raises `HTTPError(400)` for a malformed escape or a segment that is not UTF-8.
    """
    path = environ.get("PATH_INFO", "")
    # Speed: `has_escapes`, written out (a call fewer: a stray 404, 23,450 ->
    # 23,050 instructions; benchmarks/README.md, "The dispatch")
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(target, str) and "%" in target:
        raw = raw_path(environ)  # only the raw target knows where escapes were
        if raw is not None:
            return [_decode(segment) for segment in _segments(raw)]
    elif path.isascii() and path[:1] == "/" and "\\" not in path:  # the usual case
        return path[1:].split("/") if len(path) > 1 else []
    return [_segment_text(segment) for segment in _segments(path)]


def split_loosely(environ: Mapping[str, Any]) -> list[str]:
    """The path's non-empty segments, never refused: a malformed escape is kept
    as written, bytes that are not UTF-8 become U+FFFD.

    Not for routing: for asking whether any route would serve a path that
    `split` refuses (under a fallback, one no route serves is not ours to judge).
    """
    raw = raw_path(environ)
    if raw is not None:
        pieces = [unquote_to_bytes(segment.encode("latin-1")) for segment in _segments(raw)]
    else:
        pieces = [segment.encode("latin-1") for segment in _segments(environ.get("PATH_INFO", ""))]
    return [piece.decode("utf-8", "replace") for piece in pieces if piece]


def has_escapes(environ: Mapping[str, Any]) -> bool:
    """Whether the raw request target has a `%`: else `PATH_INFO` says it all."""
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    return isinstance(target, str) and "%" in target


def is_asterisk(environ: Mapping[str, Any]) -> bool:
    """Whether the request target is `*` (`OPTIONS *`, about the server as a
    whole) rather than a path: gunicorn and werkzeug give `PATH_INFO` as `*`,
    other servers an empty one beside the raw target `*`."""
    path = environ.get("PATH_INFO")
    if path == "*":
        return True
    return not path and (environ.get("RAW_URI") or environ.get("REQUEST_URI")) == "*"


def raw_path(environ: Mapping[str, Any]) -> str | None:
    """The request target's path inside the app, still percent-encoded.

    None when the server gives no raw target, or when there is nothing to
    decode in it (then `PATH_INFO` says the same, more cheaply).
    """
    target = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not isinstance(target, str) or "%" not in target:
        return None
    path = target.partition("?")[0]
    if not path.startswith("/"):  # absolute form: "http://host/path"
        scheme, separator, rest = path.partition("://")
        if not separator:
            return None
        path = "/" + rest.partition("/")[2]
    # The mount prefix (SCRIPT_NAME) is part of the raw target but not of the
    # app's path: drop as many raw segments as it has. If the two parts do not
    # decode to SCRIPT_NAME and PATH_INFO (a middleware rewrote the path),
    # trust the environ.
    # (A SCRIPT_NAME of "/" is the root: gunicorn then gives a PATH_INFO without
    # its leading slash, "/about" as "about".)
    script_name = environ.get("SCRIPT_NAME", "").rstrip("/")
    prefix = "/".join(path.split("/")[: script_name.count("/") + 1]) if script_name else ""
    inside = path[len(prefix) :]
    path_info = environ.get("PATH_INFO", "")
    if _unquote(prefix) != script_name or not (
        _decodes_to(inside, path_info) or _decodes_to(inside, "/" + path_info)
    ):
        return None
    return inside


def _decodes_to(raw: str, path_info: str) -> bool:
    """Whether `path_info` is what a server makes of the `raw` path.

    Servers agree on well-formed escapes, not on a malformed one: gunicorn
    and waitress keep `%ZZ`, uWSGI makes it a NUL and drops a `%` at the
    end. From a malformed escape on, the path is the client's mistake (a 400)
    whatever the server made of it, so only what comes before it is compared.
    """
    malformed = _MALFORMED.search(raw)
    if malformed is None:
        return _unquote(raw) == path_info
    start = _unquote(raw[: malformed.start()])
    return start is not None and path_info.startswith(start)


def _unquote(text: str) -> str | None:
    """Decode escapes the way servers build PATH_INFO: bytes as Latin-1, `%ZZ` kept."""
    try:
        return unquote_to_bytes(text.encode("latin-1")).decode("latin-1")
    except UnicodeEncodeError:
        return None


def _segments(path: str) -> list[str]:
    # "\\" is a "/" to a browser; and a path without its leading slash
    # (PATH_INFO under a SCRIPT_NAME of "/") is read as if it had one.
    path = path.replace("\\", "/")
    path = path[1:] if path[:1] == "/" else path
    return path.split("/") if path else []


def _decode(segment: str) -> str:
    if "%" not in segment:
        return _segment_text(segment)
    pieces = segment.split("%")
    decoded = bytearray(pieces[0].encode("latin-1"))
    for piece in pieces[1:]:
        if len(piece) < 2 or piece[0] not in _HEX or piece[1] not in _HEX:
            raise HTTPError(400, f"Malformed percent-escape in the path: %{piece[:2]}")
        decoded.append(int(piece[:2], 16))
        decoded += piece[2:].encode("latin-1")
    return _utf8(bytes(decoded))


def _segment_text(segment: str) -> str:
    # WSGI strings carry the path's bytes as Latin-1; the URL means UTF-8.
    # Bytes that are not UTF-8 are a 400: a route matches exact text
    # (unlike `request._wsgi_text`, which reads what a client sent as best it can).
    if segment.isascii():
        return segment
    return _utf8(segment.encode("latin-1"))


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPError(400, "The path is not valid UTF-8") from None


def normalized(environ: Mapping[str, Any]) -> str:
    """Where a path with a trailing or repeated slash belongs: `/a//b/?q` -> `/shop/a/b?q`.

    Relative (no scheme or host), with the mount prefix and the query string
    kept, and never leaving the site: it starts with one `/` and never `//`
    or `/\\` (which a browser reads as another host), whatever the path or
    `SCRIPT_NAME` (`/`, `//evil.com`: empty parts are dropped from both).
    """
    raw = raw_path(environ)
    path = raw if raw is not None else environ.get("PATH_INFO", "")
    clean = "/".join(part for part in _segments(path) if part)
    script_name = "/".join(part for part in environ.get("SCRIPT_NAME", "").split("/") if part)
    # Quote what a browser could misread (a "\\" left in SCRIPT_NAME, spaces); a
    # raw target's escapes are already there and stay as they are. SCRIPT_NAME
    # is decoded.
    prefix = quote(f"/{script_name}".encode("latin-1"), safe=_SAFE) if script_name else ""
    location = prefix + quote(f"/{clean}".encode("latin-1"), safe=_SAFE + ("%" if raw else ""))
    query = environ.get("QUERY_STRING")
    if not query:
        return location
    # Kept as sent, escapes and all; anything a header cannot carry is escaped.
    return f"{location}?{quote(query.encode('latin-1'), safe=_SAFE + '?%')}"
