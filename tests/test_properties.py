"""Property tests (hypothesis): the router against a brute-force reference, random
folder names against the loader, random requests against the demo app.

1. Over random *valid* route trees and random paths, `Router.match` agrees with
   the contract read literally: sort the routes in Next.js's order (per segment,
   static < `[x]` < `[...x]` < `[[...x]]`), and the first one that matches the
   whole path wins, with the same params.
2. Whatever the folder names, `App(...)` loads or raises `RouteError`: never any
   other exception.
3. Whatever the request (method, raw path and escapes, query, headers, body),
   the demo app under `wsgiref.validate` answers with a well-formed response and
   never a 5xx (but the 501 the contract asks for an unknown method).

Each example writes its tree to a fresh `tempfile.TemporaryDirectory()`: hypothesis
runs many examples per test, and pytest's `tmp_path` is one folder per test.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes
from wsgiref.validate import WSGIWarning, validator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from microroute import App, RouteError
from microroute.loader import load
from microroute.router import Router

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# -- 1. the router against a brute-force reference ------------------------------

# The reference's own segment kinds, in Next.js's order of precedence: lower wins.
STATIC, DYNAMIC, CATCH_ALL, OPTIONAL = 0, 1, 2, 3
# Static folder names and the path segment each one matches (`%5F` escapes a "_").
STATIC_FOLDERS = {"a": "a", "b": "b", "%5Fu": "_u"}
PARAM_NAMES = {DYNAMIC: ("id", "slug", "x"), CATCH_ALL: ("rest", "parts"), OPTIONAL: ("opt",)}
ROUTE_SOURCE = "def GET():\n    return None\n"
PAGE_SOURCE = "def Page():\n    return ''\n"


@dataclass(frozen=True)
class RefRoute:
    """One routable file of a generated tree, as the reference sees it."""

    segments: tuple[tuple[int, str], ...]  # (kind, matched text or param name)
    file: str  # "app/(g1)/a/[id0]/route.py", as `Route.file` shows it


def _folder(segment: tuple[int, str]) -> str:
    kind, name = segment
    if kind == STATIC:
        return next(folder for folder, text in STATIC_FOLDERS.items() if text == name)
    return {DYNAMIC: "[{}]", CATCH_ALL: "[...{}]", OPTIONAL: "[[...{}]]"}[kind].format(name)


def _fits(segments: tuple[tuple[int, str], ...], accepted: list[RefRoute]) -> bool:
    """Whether a route can join the tree without breaking a load-time rule."""
    for other in accepted:
        if other.segments == segments:
            return False  # two files at one URL
    if segments:
        prefix, (kind, _) = segments[:-1], segments[-1]
        for other in accepted:
            if not other.segments or other.segments[:-1] != prefix:
                continue
            other_kind = other.segments[-1][0]
            if {kind, other_kind} == {CATCH_ALL, OPTIONAL}:
                return False  # a required and an optional catch-all at one level
        if kind == OPTIONAL and any(other.segments == prefix for other in accepted):
            return False  # a route beside its own optional catch-all
    return all(
        other.segments != (*segments, other.segments[-1])
        or other.segments[-1][0] != OPTIONAL
        for other in accepted
        if other.segments
    )


@st.composite
def valid_trees(draw: st.DrawFn) -> tuple[dict[str, str], list[RefRoute]]:
    """A route tree that satisfies every load-time rule, by construction.

    A parameter's name depends on its position in the tree (its parent's
    segments), so sibling dynamic folders agree; it ends with its depth, so
    no name repeats within a path. Catch-alls come last; groups are sprinkled
    in; private folders hold files that would break the rules if routed.
    """
    names: dict[tuple[Any, ...], str] = {}
    files: dict[str, str] = {}
    routes: list[RefRoute] = []
    for _ in range(draw(st.integers(1, 8))):
        length = draw(st.integers(0, 4))
        segments: list[tuple[int, str]] = []
        for depth in range(length):
            kinds = [STATIC, DYNAMIC] + ([CATCH_ALL, OPTIONAL] if depth == length - 1 else [])
            kind = draw(st.sampled_from(kinds))
            if kind == STATIC:
                segments.append((STATIC, draw(st.sampled_from(sorted(STATIC_FOLDERS.values())))))
                continue
            key = (tuple(segments), kind)
            if key not in names:
                names[key] = draw(st.sampled_from(PARAM_NAMES[kind])) + str(depth)
            segments.append((kind, names[key]))
        if not _fits(tuple(segments), routes):
            continue
        folders = [_folder(segment) for segment in segments]
        if draw(st.booleans()):  # a group folder adds nothing to the URL
            folders.insert(draw(st.integers(0, len(folders))), f"({draw(st.sampled_from('gh'))})")
        filename = draw(st.sampled_from(["route.py", "page.py"]))
        path = "/".join([*folders, filename])
        files[path] = ROUTE_SOURCE if filename == "route.py" else PAGE_SOURCE
        routes.append(RefRoute(tuple(segments), f"app/{path}"))
        if segments and segments[-1][0] >= CATCH_ALL and draw(st.booleans()):
            # Not routed, so allowed below a catch-all.
            files["/".join([*folders, "lib", "helper.py"])] = "VALUE = 1\n"
        if draw(st.integers(0, 3)) == 0:
            # Never routed, so never checked: a catch-all that is not last.
            cut = draw(st.integers(0, len(folders)))
            files["/".join([*folders[:cut], "_old", "[...bad]", "x", "route.py"])] = ROUTE_SOURCE
    return files, routes


def _reference_match(
    routes: list[RefRoute], path: list[str]
) -> tuple[str, dict[str, Any]] | None:
    """The contract, read literally: sort, then the first full-path match wins."""
    for route in sorted(routes, key=lambda route: route.segments):
        params = _match_one(route.segments, path)
        if params is not None:
            return route.file, params
    return None


def _match_one(segments: tuple[tuple[int, str], ...], path: list[str]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for index, (kind, name) in enumerate(segments):
        if kind == STATIC:
            if index >= len(path) or path[index] != name:
                return None
        elif kind == DYNAMIC:
            if index >= len(path):
                return None
            params[name] = path[index]
        else:  # a catch-all: always the last segment
            rest = path[index:]
            if rest:
                params[name] = list(rest)
            elif kind == CATCH_ALL:
                return None  # a required catch-all takes one segment or more
            return params
    return params if len(path) == len(segments) else None


@st.composite
def paths_for(draw: st.DrawFn, routes: list[RefRoute]) -> list[str]:
    """A random path, or one built to match a random route of the tree."""
    text = st.text(max_size=4)
    piece = st.one_of(st.sampled_from([*STATIC_FOLDERS.values(), "%5Fu", "c"]), text)
    if not routes or draw(st.booleans()):
        return draw(st.lists(piece, max_size=5))
    path: list[str] = []
    for kind, name in draw(st.sampled_from(routes)).segments:
        if kind == STATIC:
            path.append(name)
        elif kind == DYNAMIC:
            path.append(draw(piece))
        else:
            path += draw(st.lists(piece, min_size=kind == CATCH_ALL, max_size=3))
    return path


@SETTINGS
@given(data=st.data())
def test_router_agrees_with_the_brute_force_reference(data: st.DataObject) -> None:
    files, routes = data.draw(valid_trees(), label="tree")
    with tempfile.TemporaryDirectory() as scratch:
        app_dir = _write(Path(scratch), files)
        loaded = load(app_dir)  # a valid tree loads: no RouteError
        assert sorted(route.file for route in loaded) == sorted(route.file for route in routes)
        router = Router(loaded)
        for _ in range(10):
            path = data.draw(paths_for(routes), label="path")
            expected = _reference_match(routes, path)
            found = router.match(list(path))
            actual = None if found is None else (found[0].file, found[1])
            assert actual == expected, f"path {path!r}"


def _write(root: Path, files: dict[str, str]) -> Path:
    app_dir = root / "app"
    app_dir.mkdir()
    for name, source in files.items():
        path = app_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return app_dir


# -- 2. random folder names: loaded, or a RouteError ------------------------------

FILENAMES = ("route.py", "page.py", "layout.py", "not_found.py", "helper.py")
GOOD_SOURCES = {
    "route.py": "from microroute import Response\n\n"
    "def GET(request, params):\n    return Response('x')\n",
    "page.py": "def Page():\n    return '<p>hi</p>'\n",
    "layout.py": "def Layout(children, request):\n    return children\n",
    "not_found.py": "def NotFound():\n    return 'gone'\n",
    "helper.py": "VALUE = 1\n",
}
BAD_SOURCES = (
    "async def POST(request):\n    return None\n",  # fine, in a route
    "def get():\n    return None\n",  # lowercase: a RouteError naming the mistake
    "def GET(a, b, c):\n    return None\n",  # a signature the loader refuses
    "GET = 1\nPage = 'x'\n",  # not functions
    "raise ValueError('boom')\n",  # fails to import
    "import a_module_that_does_not_exist_42\n",
    "from . import helper\n\ndef GET():\n    return None\n",  # a relative import
    "def GET(:\n",  # a syntax error
    "",
)
# Mostly the file's own, valid source, so that folder names decide the outcome.
sources = st.sampled_from([None] * 2 * len(BAD_SOURCES) + list(BAD_SOURCES))
# On Linux a folder name is any bytes: one that is not UTF-8 reaches Python with
# its stray bytes as lone surrogates ("caf\udce9" for b"caf\xe9").
NOT_UTF8 = ["caf\udce9", "\udcff", "x\udc80y"] if sys.platform == "linux" else []
NAME_TOKENS = (
    "[id]", "[...slug]", "[[...slug]]", "(group)", "_private", "%5Fname", "%5f", "[[id]]",
    "[]", "[...]", "[[...]]", "[..id]", "[…id]", "[...…]", "@slot", "(.)x", "(..)", "(...)y",
    "()", "[hello-world]", "[helloworld]", "[[...a]", "[a]]", "[[[a]]]", "[a", "a]",
    "(a)(b)", "[a][b]", "[.a]", "[...a.b]", "_", "%5F", "%", "%ZZ", "%2F", "é", "日本",
    *NOT_UTF8,
)
NAME_CHARS = st.one_of(
    st.sampled_from(list("[]().…@%_-5Fab é.")),
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(["\udce9"] if NOT_UTF8 else ["é"]),
)


def _can_be_a_folder(name: str) -> bool:
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and "\x00" not in name
        and name not in FILENAMES
        and len(os.fsencode(name)) <= 200
    )


folder_names = st.one_of(
    st.sampled_from(NAME_TOKENS),
    st.text(NAME_CHARS, min_size=1, max_size=10),
    st.lists(st.one_of(st.sampled_from(NAME_TOKENS), st.text(NAME_CHARS, max_size=3)),
             min_size=1, max_size=3).map("".join),
).filter(_can_be_a_folder)


def _on_linux(decorator: Any) -> Any:
    return decorator if sys.platform == "linux" else lambda test: test


@SETTINGS
@_on_linux(example(files={(("caf\udce9",), "route.py"): None}))  # see the module's end
@given(
    files=st.dictionaries(
        st.tuples(st.lists(folder_names, max_size=3).map(tuple), st.sampled_from(FILENAMES)),
        sources,
        min_size=1,
        max_size=5,
    )
)
def test_any_folder_names_load_or_raise_a_route_error(
    files: dict[tuple[tuple[str, ...], str], str | None],
) -> None:
    written = {
        "/".join([*folders, name]): GOOD_SOURCES[name] if source is None else source
        for (folders, name), source in files.items()
    }
    with tempfile.TemporaryDirectory() as scratch:
        app_dir = _write(Path(scratch), written)
        try:
            app = App(app_dir)
        except RouteError as error:
            assert str(error)  # a message, naming the file(s) and the rule
            return
        # Loaded: every route's table row is readable, and the router answers.
        for route in app.routes:
            assert route.file.startswith("app/") and route.pattern.startswith("/")
        app.router.match(["a", "b"])


# -- 3. random requests against the demo app ---------------------------------------

ADMIN_TOKEN_ENV = "MICROROUTE_DEMO_ADMIN_TOKEN"
ADMIN_TOKEN = "pr0perty-token"
FRAMEWORK_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
VALIDATOR_METHODS = FRAMEWORK_METHODS | {"TRACE"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


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
# - A folder name that is not UTF-8 (Linux allows any bytes: b"caf\xe9") makes
#   `App(...)` raise UnicodeEncodeError from `Router.__init__` (`path.encode()`)
#   instead of a `RouteError` naming the folder.
# - A trailing or repeated slash with a control character in the query string
#   (`GET //?\x00`, `GET /about/?a=\x01`): `paths.normalized` copies QUERY_STRING
#   into the 308's Location unescaped. NUL, CR or LF make `Headers` raise ValueError
#   inside `App.error`, which escapes the app; any other control character goes out
#   in the header, which PEP 3333 (and wsgiref.validate) refuse.
