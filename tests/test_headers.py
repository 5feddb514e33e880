"""`microroute.headers`: the response's case-insensitive multi-dict that refuses
values which would break the response (README, "The request and the response")."""

from __future__ import annotations

from typing import Any

import pytest

from microroute.headers import Headers


def test_get_set_del_and_contains_ignore_case() -> None:
    headers = Headers({"Content-Type": "text/plain"})
    assert headers["content-type"] == "text/plain"
    assert headers["CONTENT-TYPE"] == "text/plain"
    assert headers.get("Content-type") == "text/plain"
    assert "content-TYPE" in headers
    headers["content-type"] = "application/json"
    assert headers.items() == [("content-type", "application/json")]
    del headers["CONTENT-Type"]
    assert "Content-Type" not in headers
    assert len(headers) == 0


def test_a_missing_header() -> None:
    headers = Headers()
    assert headers.get("X-Missing") is None
    assert headers.get("X-Missing", "default") == "default"
    assert headers.get_all("X-Missing") == []
    assert "X-Missing" not in headers
    with pytest.raises(KeyError):
        headers["X-Missing"]
    with pytest.raises(KeyError):
        del headers["X-Missing"]


def test_contains_is_false_for_a_non_string() -> None:
    assert 1 not in Headers({"1": "one"})


def test_add_keeps_earlier_values_and_get_all_returns_them_in_order() -> None:
    headers = Headers()
    headers.add("Set-Cookie", "a=1")
    headers.add("set-cookie", "b=2")
    headers.add("Vary", "Accept")
    assert headers.get_all("SET-COOKIE") == ["a=1", "b=2"]
    assert headers["Set-Cookie"] == "a=1"  # the first one
    assert len(headers) == 3


def test_set_replaces_every_value_of_that_name() -> None:
    headers = Headers([("Set-Cookie", "a=1"), ("X-Other", "x"), ("set-cookie", "b=2")])
    headers["SET-COOKIE"] = "c=3"
    assert headers.get_all("Set-Cookie") == ["c=3"]
    assert headers.items() == [("X-Other", "x"), ("SET-COOKIE", "c=3")]


def test_del_removes_every_value_of_that_name() -> None:
    headers = Headers([("Vary", "Accept"), ("X-Other", "x"), ("vary", "Cookie")])
    del headers["VARY"]
    assert headers.items() == [("X-Other", "x")]


def test_items_keeps_duplicates_and_order() -> None:
    pairs = [("B", "1"), ("A", "2"), ("b", "3"), ("C", "4")]
    headers = Headers(pairs)
    assert headers.items() == pairs
    assert list(headers) == ["B", "A", "b", "C"]
    assert len(headers) == 4


def test_items_is_a_copy() -> None:
    headers = Headers({"A": "1"})
    headers.items().append(("B", "2"))
    assert headers.items() == [("A", "1")]


def test_built_from_a_mapping_or_from_pairs() -> None:
    assert Headers({"A": "1", "B": "2"}).items() == [("A", "1"), ("B", "2")]
    assert Headers([("A", "1"), ("A", "2")]).get_all("a") == ["1", "2"]
    assert Headers().items() == []
    assert Headers(None).items() == []


def test_wsgi_list_is_the_pairs_for_start_response() -> None:
    headers = Headers([("A", "1"), ("A", "2")])
    assert headers.wsgi_list() == [("A", "1"), ("A", "2")]
    assert all(type(name) is str and type(value) is str for name, value in headers.wsgi_list())


def test_wsgi_list_adds_a_content_length_unless_one_was_set() -> None:
    headers = Headers({"A": "1"})
    assert headers.wsgi_list(5) == [("A", "1"), ("Content-Length", "5")]
    assert headers.items() == [("A", "1")]  # added to what is sent, not stored
    headers["content-length"] = "5"
    assert headers.wsgi_list(5) == [("A", "1"), ("content-length", "5")]
    del headers["Content-Length"]
    assert headers.wsgi_list(5) == [("A", "1"), ("Content-Length", "5")]
    headers.add("Content-Length", "5")
    assert headers.wsgi_list(5) == [("A", "1"), ("Content-Length", "5")]
    assert Headers({"Content-Length": "3"}).wsgi_list(3) == [("Content-Length", "3")]


@pytest.mark.parametrize("set_by_hand", [["3"], ["5", "5"], ["0"]])
def test_a_content_length_set_by_hand_must_be_the_bodys(set_by_hand: list[str]) -> None:
    headers = Headers([("Content-Length", value) for value in set_by_hand])
    with pytest.raises(ValueError, match="Content-Length .* is not the body's length, 5 bytes"):
        headers.wsgi_list(5)
    # Unless not exact: a HEAD handler may say how long GET's body is, without it.
    assert headers.wsgi_list(0, exact=False) == headers.items()
    assert headers.wsgi_list() == headers.items()  # a stream: its length is not known


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", " 5", "5 ", "", "0x10", "١٢", -1, True])
def test_a_content_length_that_is_not_a_whole_number_of_bytes_is_refused(value: Any) -> None:
    for write in (
        lambda: Headers({"Content-Length": value}),
        lambda: Headers().add("content-length", value),
        lambda: Headers().__setitem__("CONTENT-LENGTH", value),
    ):
        with pytest.raises((ValueError, TypeError), match="(?i)content-length"):
            write()


@pytest.mark.parametrize("value", [0, 42, 1 << 40])
def test_an_int_value_is_accepted_as_a_string(value: int) -> None:
    headers = Headers({"Content-Length": value})  # type: ignore[dict-item]
    headers["Retry-After"] = value  # type: ignore[assignment]
    headers.add("X-Count", value)  # type: ignore[arg-type]
    assert headers["Content-Length"] == str(value)
    assert headers["Retry-After"] == str(value)
    assert headers["X-Count"] == str(value)


@pytest.mark.parametrize(
    "value",
    ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb", "a\x00b", "\r\n", "end\n",
     "a\x0bb", "a\x01b", "a\x7fb", "a\x1fb", "\x0c", "\x08"],
)
def test_a_control_character_in_a_value_is_refused(value: str) -> None:
    headers = Headers()
    for write in (
        lambda: headers.add("X-Test", value),
        lambda: headers.__setitem__("X-Test", value),
        lambda: Headers({"X-Test": value}),
    ):
        with pytest.raises(ValueError, match="X-Test"):
            write()
    assert headers.items() == []


@pytest.mark.parametrize(
    "name",
    ["", "X Test", "X:Test", "X-Test:", "X\r\nTest", "X\nTest", "Ünicode", "X(Y)", "X/Y", "X\x00"],
)
def test_an_invalid_name_is_refused(name: str) -> None:
    headers = Headers()
    with pytest.raises(ValueError, match="Invalid header name"):
        headers.add(name, "value")
    with pytest.raises(ValueError, match="Invalid header name"):
        headers[name] = "value"
    assert headers.items() == []


@pytest.mark.parametrize("name", [None, 42, b"X-Test"])
def test_a_name_that_is_not_a_string_is_refused(name: Any) -> None:
    with pytest.raises(ValueError, match="Invalid header name"):
        Headers().add(name, "value")


@pytest.mark.parametrize("name", ["X-Test", "x_test", "Content-MD5", "!#$%&'*+.^_`|~", "a1"])
def test_a_token_is_a_valid_name(name: str) -> None:
    headers = Headers()
    headers.add(name, "value")
    assert headers[name] == "value"


@pytest.mark.parametrize("value", ["€", "日本", "emoji 🙂", "\u2028"])
def test_a_value_outside_latin1_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="Latin-1"):
        Headers().add("X-Test", value)


@pytest.mark.parametrize("value", ["café", "naïve", "\xa0", "", "  spaced  ", "a\tb"])
def test_a_latin1_value_is_accepted(value: str) -> None:
    assert Headers({"X-Test": value})["X-Test"] == value


@pytest.mark.parametrize("value", [b"bytes", 1.5, None, ["a"]])
def test_a_value_that_is_neither_str_nor_int_is_a_type_error(value: Any) -> None:
    with pytest.raises(TypeError, match="X-Test"):
        Headers().add("X-Test", value)


def test_repr_shows_the_pairs() -> None:
    assert repr(Headers({"A": "1"})) == "Headers([('A', '1')])"
