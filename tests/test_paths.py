"""`microroute.paths`: the WSGI environ -> the decoded segments routes match
(README, "Segments: what a folder matches"), and where a path with a trailing
or repeated slash belongs (README, "What the framework answers by itself" and
"Embedding it in an existing app").

Environs are written by hand, as a server would fill them: `PATH_INFO` is
the path already percent-decoded (its bytes as Latin-1 characters), and the
raw request target, where the server keeps one, is gunicorn's `RAW_URI` or
werkzeug's `REQUEST_URI`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from microroute import paths
from microroute.errors import HTTPError

RAW_KEYS = ["RAW_URI", "REQUEST_URI"]  # gunicorn; werkzeug, waitress, uWSGI


def environ(path_info: str, script_name: str = "", query: str = "", **extra: str) -> dict[str, Any]:
    return {"PATH_INFO": path_info, "SCRIPT_NAME": script_name, "QUERY_STRING": query, **extra}


def served(target: str, key: str = "RAW_URI", script_name: str = "") -> dict[str, Any]:
    """The environ a server builds for this request target (`/shop/a%2Fb?q=1`)."""
    path, _, query = target.partition("?")
    path_info = unquote_to_bytes(path).decode("latin-1")
    assert path_info.startswith(script_name)
    return environ(path_info[len(script_name):], script_name, query, **{key: target})


def latin1(text: str) -> str:
    """How WSGI carries a UTF-8 path: each byte as one Latin-1 character."""
    return text.encode("utf-8").decode("latin-1")


def rejected(environ: dict[str, Any]) -> HTTPError:
    with pytest.raises(HTTPError) as caught:
        paths.split(environ)
    assert caught.value.status == 400
    return caught.value


# --- split: PATH_INFO alone ------------------------------------------------------


@pytest.mark.parametrize(
    ("path_info", "expected"),
    [
        ("/", []),
        ("", []),
        ("/about", ["about"]),
        ("/api/products/42", ["api", "products", "42"]),
        ("/about/", ["about", ""]),
        ("/api//products", ["api", "", "products"]),
        ("/hello world", ["hello world"]),
        (latin1("/café/日本"), ["café", "日本"]),
        ("/%ZZ", ["%ZZ"]),  # already decoded by the server: taken as it is
        ("/%41", ["%41"]),
    ],
)
def test_split_with_only_path_info(path_info: str, expected: list[str]) -> None:
    assert paths.split(environ(path_info)) == expected


@pytest.mark.parametrize(
    ("path_info", "expected"),
    [
        ("/\\evil.com", ["", "evil.com"]),
        ("/a\\b", ["a", "b"]),
        ("/about\\", ["about", ""]),
        (latin1("/café\\x"), ["café", "x"]),
    ],
)
def test_split_reads_a_raw_backslash_as_a_slash(path_info: str, expected: list[str]) -> None:
    assert paths.split(environ(path_info)) == expected


@pytest.mark.parametrize("key", RAW_KEYS)
def test_split_keeps_an_encoded_backslash_in_its_segment(key: str) -> None:
    assert paths.split(served("/items/a%5Cb", key)) == ["items", "a\\b"]
    assert paths.split(served("/\\items/a%5Cb", key)) == ["", "items", "a\\b"]


@pytest.mark.parametrize(
    ("path_info", "expected"), [("about", ["about"]), ("evil.com/", ["evil.com", ""]), ("*", ["*"])]
)
def test_split_reads_a_path_info_without_its_leading_slash(
    path_info: str, expected: list[str]
) -> None:
    # gunicorn, given SCRIPT_NAME "/" by a header, strips it from the path.
    assert paths.split(environ(path_info, "/")) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (served("/leg%ZZ"), ["leg%ZZ"]),
        (served("/items/%C3%28/"), ["items", "\ufffd("]),
        (served("/a%2Fb//%4"), ["a/b", "%4"]),
        (environ("/caf\xe9"), ["caf\ufffd"]),
    ],
)
def test_split_loosely_never_refuses(env: dict[str, Any], expected: list[str]) -> None:
    assert paths.split_loosely(env) == expected


def test_split_rejects_a_path_info_that_is_not_utf8() -> None:
    error = rejected(environ("/caf\xe9"))  # the byte 0xE9 alone
    assert "UTF-8" in error.message


# --- split: the raw request target -----------------------------------------------


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/items/a%2Fb", ["items", "a/b"]),
        ("/items/a%2fb", ["items", "a/b"]),
        ("/items/%2541", ["items", "%41"]),
        ("/items/%25ZZ", ["items", "%ZZ"]),
        ("/items/%252F", ["items", "%2F"]),
        ("/caf%C3%A9", ["café"]),
        ("/caf%c3%a9", ["café"]),
        ("/hello%20world", ["hello world"]),
        ("/%E6%97%A5%E6%9C%AC/x", ["日本", "x"]),
        ("/items/a%2Fb/", ["items", "a/b", ""]),
        ("/%2F", ["/"]),
        ("/a%2Fb/c%2Fd", ["a/b", "c/d"]),
    ],
)
def test_split_decodes_each_segment_of_the_raw_target_once(
    key: str, target: str, expected: list[str]
) -> None:
    assert paths.split(served(target, key)) == expected


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(
    ("target", "shown"),
    [
        ("/items/%ZZ", "%ZZ"),
        ("/items/%4", "%4"),
        ("/items/a%", "%"),
        ("/items/%G1", "%G1"),
        ("/items/%2", "%2"),
        ("/%ZZ/ok%2Fok", "%ZZ"),
    ],
)
def test_split_rejects_a_malformed_escape_with_a_message(
    key: str, target: str, shown: str
) -> None:
    error = rejected(served(target, key))
    assert "percent" in error.message.lower()
    assert error.message.endswith(shown)


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize("target", ["/items/%FF", "/caf%E9", "/%C3", "/%C3%28", "/a%2Fb/%80"])
def test_split_rejects_a_segment_that_is_not_utf8(key: str, target: str) -> None:
    error = rejected(served(target, key))
    assert "UTF-8" in error.message


@pytest.mark.parametrize(
    ("target", "path_info"),
    # What uWSGI puts in PATH_INFO (its raw target is REQUEST_URI): a
    # malformed escape decoded to a NUL, a "%" at the end dropped.
    [("/items/%ZZ", "/items/\x00"), ("/items/%zz/x", "/items/\x00/x"), ("/items/a%", "/items/a"),
     ("/items/a%4", "/items/a"), ("/a%2Fb/%ZZ", "/a/b/\x00")],
)
def test_split_rejects_a_malformed_escape_whatever_the_server_decoded(
    target: str, path_info: str
) -> None:
    error = rejected(environ(path_info, REQUEST_URI=target))
    assert error.message.startswith("Malformed percent-escape in the path: %")


def test_split_trusts_path_info_when_a_middleware_rewrote_what_comes_before_a_malformed_escape(
) -> None:
    env = environ("/new/%ZZ", REQUEST_URI="/old/%ZZ")
    assert paths.split(env) == ["new", "%ZZ"]


@pytest.mark.parametrize("key", RAW_KEYS)
def test_split_ignores_the_query_string_of_the_raw_target(key: str) -> None:
    # A malformed escape in the query is not the path's problem.
    env = served("/items/a%2Fb?next=%2Fhome&bad=%ZZ", key)
    assert paths.split(env) == ["items", "a/b"]
    assert paths.split(served("/items/plain?x=%2F", key)) == ["items", "plain"]


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(
    ("target", "script_name", "expected"),
    [
        ("/shop/items/a%2Fb", "/shop", ["items", "a/b"]),
        ("/shop/items/a%2Fb?q=1", "/shop", ["items", "a/b"]),
        ("/a/b/items/%2541", "/a/b", ["items", "%41"]),
        ("/sh%6Fp/items/a%2Fb", "/shop", ["items", "a/b"]),  # the prefix, escaped
        ("/caf%C3%A9/x%2Fy", latin1("/café"), ["x/y"]),
        ("/shop?x=%2F", "/shop", []),
        ("/shop/?x=%2F", "/shop", []),
    ],
)
def test_split_removes_the_mount_prefix_from_the_raw_target(
    key: str, target: str, script_name: str, expected: list[str]
) -> None:
    assert paths.split(served(target, key, script_name)) == expected


@pytest.mark.parametrize("key", RAW_KEYS)
def test_split_trusts_path_info_when_a_middleware_rewrote_the_path(key: str) -> None:
    env = environ("/new/a/b", **{key: "/old/a%2Fb"})
    assert paths.split(env) == ["new", "a", "b"]


@pytest.mark.parametrize("key", RAW_KEYS)
def test_split_trusts_path_info_when_script_name_disagrees_with_the_raw_target(
    key: str,
) -> None:
    # e.g. a dispatcher set SCRIPT_NAME but the raw target has another prefix.
    env = environ("/items/a/b", "/shop", **{key: "/store/items/a%2Fb"})
    assert paths.split(env) == ["items", "a", "b"]


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(
    "target",
    ["http://example.com/a%2Fb", "https://example.com:8443/a%2Fb", "http://example.com/a%2Fb?q=%2F"],
)
def test_split_reads_an_absolute_form_target(key: str, target: str) -> None:
    env = environ("/a/b", **{key: target})
    assert paths.split(env) == ["a/b"]


def test_split_prefers_raw_uri_when_both_raw_targets_are_there() -> None:
    env = environ("/a/b", RAW_URI="/a%2Fb", REQUEST_URI="/a/b")
    assert paths.split(env) == ["a/b"]


def test_split_with_a_raw_target_that_is_not_a_string_uses_path_info() -> None:
    env = environ("/a/b", RAW_URI=b"/a%2Fb")  # type: ignore[arg-type]
    assert paths.split(env) == ["a", "b"]


# --- normalized: where a trailing or repeated slash redirects to -------------------


@pytest.mark.parametrize(
    ("env", "location"),
    [
        (environ("/about/"), "/about"),
        (environ("/api//products"), "/api/products"),
        (environ("/api//products//"), "/api/products"),
        (environ("/about/", query="q=1&tag=a"), "/about?q=1&tag=a"),
        # Kept as sent, escapes too; what a Location header cannot carry is escaped.
        (environ("/about/", query="q=a b&x=%41&r=?/"), "/about?q=a%20b&x=%41&r=?/"),
        (environ("/about/", query=latin1("q=café")), "/about?q=caf%C3%A9"),
        (environ("/about/", query="x\r\nSet-Cookie: a=1"), "/about?x%0D%0ASet-Cookie:%20a=1"),
        (environ("/about/", query=""), "/about"),
        (environ("/about/", "/shop"), "/shop/about"),
        (environ("/about/", "/shop", "q=1"), "/shop/about?q=1"),
        (environ("//"), "/"),
        (environ(latin1("/café/")), "/caf%C3%A9"),
        (environ("/hello world/"), "/hello%20world"),
        (environ("/a\\b/"), "/a/b"),  # a raw "\\" is a "/", as browsers read it
    ],
)
def test_normalized(env: dict[str, Any], location: str) -> None:
    assert paths.normalized(env) == location


@pytest.mark.parametrize("key", RAW_KEYS)
@pytest.mark.parametrize(
    ("target", "script_name", "location"),
    [
        ("/items/a%2Fb/", "", "/items/a%2Fb"),  # the encoded slash stays encoded
        ("/items//a%2Fb?q=%2F", "", "/items/a%2Fb?q=%2F"),
        ("/shop/items/a%2Fb/", "/shop", "/shop/items/a%2Fb"),
        ("/caf%C3%A9/", "", "/caf%C3%A9"),
    ],
)
def test_normalized_keeps_the_escapes_of_the_raw_target(
    key: str, target: str, script_name: str, location: str
) -> None:
    assert paths.normalized(served(target, key, script_name)) == location


@pytest.mark.parametrize(
    "env",
    [
        environ("//evil.com/"),
        environ("///evil.com//"),
        environ("//evil.com", query="x=1"),
        environ("/\\evil.com/"),
        environ("/\\/evil.com/"),
        environ("//\\evil.com/"),
        served("//evil.com/a%2Fb/"),
        served("/\\evil.com/a%2Fb/"),
    ],
)
def test_normalized_never_leaves_the_site(env: dict[str, Any]) -> None:
    # "//evil.com" and "/\evil.com" are read by browsers as another host.
    location = paths.normalized(env)
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "\\" not in location
    assert "evil.com" in location


def test_normalized_of_a_protocol_relative_path_stays_on_the_site() -> None:
    assert paths.normalized(environ("//evil.com/")) == "/evil.com"
    assert paths.normalized(environ("/\\evil.com/")) == "/evil.com"
    assert paths.normalized(served("/%5Cevil.com/")) == "/%5Cevil.com"


@pytest.mark.parametrize(
    ("env", "location"),
    [
        (environ("/about/", "/"), "/about"),
        (environ("evil.com/", "/"), "/evil.com"),  # gunicorn, given the header SCRIPT_NAME: /
        (environ("/evil.com/", "/"), "/evil.com"),
        (environ("/about/", "//evil.com"), "/evil.com/about"),
        (environ("/about/", "///evil.com//"), "/evil.com/about"),
        (environ("/about/", "/\\evil.com"), "/%5Cevil.com/about"),
        (served("//evil.com/x%2Fy/", script_name="/"), "/evil.com/x%2Fy"),
        (served("//evil.com/about/", script_name="//evil.com"), "/evil.com/about"),
    ],
)
def test_normalized_never_leaves_the_site_whatever_the_script_name(
    env: dict[str, Any], location: str
) -> None:
    assert paths.normalized(env) == location


@pytest.mark.parametrize("key", RAW_KEYS)
def test_normalized_escapes_a_percent_in_the_mount_prefix(key: str) -> None:
    # SCRIPT_NAME is decoded ("/100%"); the Location must say "%25" for it,
    # with or without a raw target beside it.
    assert paths.normalized(environ("/about/", "/100%")) == "/100%25/about"
    env = served("/100%25/a%2Fb/", key, script_name="/100%")
    assert paths.normalized(env) == "/100%25/a%2Fb"
