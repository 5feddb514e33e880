"""Property tests (hypothesis): random requests against the demo app.

Whatever the request (method, raw path and escapes, query, headers, body), the
demo app under `wsgiref.validate` answers with a well-formed response and never
a 5xx (but the 501 the contract asks for an unknown method). (The router and the
loader against random trees: test_properties.py.)
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes
from wsgiref.validate import WSGIWarning, validator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import BROWSER

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"
ADMIN_TOKEN = "pr0perty-token"
FRAMEWORK_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
VALIDATOR_METHODS = FRAMEWORK_METHODS | {"TRACE"}


@pytest.fixture(scope="module")
def demo() -> Iterator[Any]:
    """The demo app over a database of its own, with an admin token set."""
    from demo_app import app
    from demo_app.store import DB_ENV_VAR, default_store

    with tempfile.TemporaryDirectory() as scratch, pytest.MonkeyPatch.context() as patch:
        patch.setenv(DB_ENV_VAR, str(Path(scratch) / "demo.sqlite3"))
        patch.setenv(ADMIN_TOKEN_ENV, ADMIN_TOKEN)
        default_store.cache_clear()
        try:
            yield app
        finally:
            if default_store.cache_info().currsize:
                default_store().close()  # this thread's connection
            default_store.cache_clear()


def _latin1(data: bytes) -> str:
    return data.decode("latin-1")


raw_segments = st.one_of(
    st.sampled_from([
        b"api", b"products", b"hello", b"books", b"about", b"1", b"2", b"0",
        b"999999999999999999999", b"", b"%2F", b"%2f", b"%00", b"%ZZ", b"%", b"%4", b"%e9",
        b"%C3%A9", b"%5F", b"%5Flib", b"_lib", b"%2E%2E", b"..", b".", b"%20", b"a%2Fb",
        b"%25", b"%2541", b"%FF", b"\\", b"[id]", b"%3F", b"%0D%0A", b"\xc3\xa9", b"\xff",
    ]),
    st.binary(max_size=4).map(lambda data: data.translate(None, b"?#\r\n")),
)
known_paths = st.sampled_from([
    b"/", b"/about", b"/products", b"/api/hello", b"/api/books", b"/api/products",
    b"/api/products/1", b"/api/products/2", b"/api/products/3",
])
raw_paths = st.one_of(
    known_paths,
    known_paths,
    st.lists(raw_segments, max_size=5).map(lambda segments: b"/" + b"/".join(segments)),
    st.tuples(known_paths, raw_segments).map(lambda pair: pair[0].rstrip(b"/") + b"/" + pair[1]),
)
queries = st.one_of(
    st.sampled_from([
        b"", b"limit=5", b"limit=0", b"limit=abc", b"limit=201", b"offset=-1",
        b"offset=99999999999999999999", b"q=Key", b"q=%ZZ", b"q=%E9", b"q=_%25", b"q=\xe9",
        b"limit=200&offset=1", b"a=1&a=2", b"&&==&", b"q",
    ]),
    st.binary(max_size=20).map(lambda data: data.translate(None, b"#\r\n")),
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30)
accepts = st.one_of(
    st.sampled_from([
        None, "*/*", "text/html", "application/json", BROWSER, "text/html;q=0.1, application/json",
        "text/*", "application/*;q=0.5, text/html;q=0.9", "html", ";;;,,q=x", "text/html;q=abc",
        "text/html;q=0.5, application/json;q=0.5", "",
    ]),
    header_text,
)
content_types = st.one_of(
    st.sampled_from([
        None, "", "application/json", "application/json; charset=utf-8",
        "application/json; charset=latin-1", "application/json; charset=bogus", "text/plain",
        "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
        "multipart/form-data", "APPLICATION/JSON",
    ]),
    header_text,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
products = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=12), st.integers(), st.none()),
        "price": st.one_of(
            st.integers(-5, 10**6), st.integers(), st.floats(), st.booleans(), st.text(max_size=3)
        ),
        "extra": json_values,
    },
)
bodies = st.one_of(
    st.sampled_from([
        b"", b"{", b"[1,", b"NaN", b"Infinity", b'{"name": "Lamp", "price": 1500}', b"\xff\xfe",
        b'"\\ud800"', b'{"name": "\\ud800", "price": 1}', b"1" * 5000, b"[" * 5000, b"  ",
        b"name=x&price=1", b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--xyz--",
    ]),
    st.binary(max_size=64),
    json_values.map(lambda value: json.dumps(value).encode()),
    products.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(  # a valid product
        {"name": st.text(min_size=1, max_size=12), "price": st.integers(0, 10**6)}
    ).map(lambda value: json.dumps(value).encode()),
)
methods = st.one_of(
    st.sampled_from(sorted(FRAMEWORK_METHODS)),  # twice: the usual case, weighted
    st.sampled_from(sorted(FRAMEWORK_METHODS)),
    st.sampled_from(["TRACE", "CONNECT", "FOO", "get", "post", "Get", "PROPFIND"]),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz-", min_size=1, max_size=8),
)


def _environ(
    method: str,
    path: bytes,
    query: bytes = b"",
    script_name: str = "",
    absolute: bool = False,
    raw_target: bool = True,
) -> dict[str, Any]:
    """What a server puts in the environ for a request line (but for the streams)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": script_name,
        # What servers do: the raw path's escapes decoded, its bytes as Latin-1.
        "PATH_INFO": _latin1(unquote_to_bytes(path)),
        "QUERY_STRING": _latin1(query),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if raw_target:
        target = script_name.encode() + path + (b"?" + query if query else b"")
        if absolute:
            target = b"http://example.com" + target  # the absolute form
        environ["REQUEST_URI"] = environ["RAW_URI"] = _latin1(target)
    return environ


@st.composite
def environs(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    """A PEP 3333 environ, as a server builds it from a random request (but for
    its streams, added by the test), and the request's body."""
    if draw(st.booleans()):  # anything at all
        method, path, query = draw(methods), draw(raw_paths), draw(queries)
    else:  # a call the API expects, with a body that may or may not be a product
        method = draw(st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "GET"]))
        path = draw(st.sampled_from([b"/api/products", b"/api/products/1", b"/api/products/3"]))
        query = draw(st.sampled_from([b"", b"limit=1"]))
    script_name = draw(st.sampled_from(["", "", "/mnt"]))
    absolute = draw(st.integers(0, 5)) == 0
    raw_target = draw(st.integers(0, 5)) > 0  # most servers give it; some do not
    body = draw(bodies)
    environ = _environ(method, path, query, script_name, absolute, raw_target)
    length = str(len(body)) if body else draw(st.sampled_from([None, "0"]))
    optional = {
        "CONTENT_LENGTH": length,
        "CONTENT_TYPE": draw(content_types),
        "HTTP_ACCEPT": draw(accepts),
        "HTTP_AUTHORIZATION": draw(
            st.one_of(st.sampled_from([None, f"Bearer {ADMIN_TOKEN}", "Bearer x"]), header_text)
        ),
        "HTTP_COOKIE": draw(st.one_of(st.sampled_from([None, "a=b; c=d"]), header_text)),
    }
    environ.update({key: value for key, value in optional.items() if value is not None})
    return environ, body


@SETTINGS
@example(request=(_environ("GET", b"//", b"\x00"), b""))  # see the module's end
@example(request=(_environ("GET", b"/about/", b"a=\x01"), b""))
@given(request=environs())
def test_random_requests_get_well_formed_answers_from_the_demo(
    demo: Any, request: tuple[dict[str, Any], bytes]
) -> None:
    environ, body = request
    errors = io.StringIO()
    environ = {**environ, "wsgi.input": io.BytesIO(body), "wsgi.errors": errors}
    method = environ["REQUEST_METHOD"]
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append((status, headers))
        return lambda data: None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = validator(demo)(environ, start_response)
        try:
            chunks = list(result)
        finally:
            result.close()  # type: ignore[attr-defined]
    # The validator warns about a method it does not know, and about nothing else.
    for warning in caught:
        assert issubclass(warning.category, WSGIWarning), warning
        assert "Unknown REQUEST_METHOD" in str(warning.message), warning
        assert method not in VALIDATOR_METHODS
    assert not errors.getvalue()  # no traceback logged

    assert len(started) == 1
    status, headers = started[0]
    parsed = re.fullmatch(r"([1-5]\d\d) (\S.*)", status)
    assert parsed, status
    code = int(parsed[1])
    # Never a 5xx, but the 501 the contract asks for a method it does not know.
    assert code < 500 or (code == 501 and method not in FRAMEWORK_METHODS), (code, chunks)
    assert isinstance(headers, list)
    assert all(
        isinstance(pair, tuple) and len(pair) == 2 and all(type(part) is str for part in pair)
        for pair in headers
    ), headers
    assert all(type(chunk) is bytes for chunk in chunks)
    sent = b"".join(chunks)
    fields = {name.lower(): value for name, value in headers}

    if method == "HEAD" or code in (204, 304) or code < 200:
        assert sent == b""
    elif "content-length" in fields:
        assert int(fields["content-length"]) == len(sent), fields
    if 300 <= code < 400:
        assert "location" in fields
    content_type = fields.get("content-type", "")
    if sent and content_type.split(";")[0].strip().lower() == "application/json":
        data = json.loads(sent)
        if code >= 400:
            assert isinstance(data, dict) and isinstance(data["error"], str), data


# Found by these properties (kept as explicit examples above, so they always run):
#
# - A trailing or repeated slash with a control character in the query string
#   (`GET //?\x00`, `GET /about/?a=\x01`): `paths.normalized` copies QUERY_STRING
#   into the 308's Location unescaped. NUL, CR or LF make `Headers` raise ValueError
#   inside `App.error`, which escapes the app; any other control character goes out
#   in the header, which PEP 3333 (and wsgiref.validate) refuse.
