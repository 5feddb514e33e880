"""Response headers: a small case-insensitive multi-dict that refuses bad values.

Why not werkzeug's `Headers`? It is excellent, but building one costs about as
much as the rest of a small JSON response; this keeps the same everyday
surface (`headers["X"] = "y"`, `get`, `add`, `get_all`, `in`, `del`) over a
plain list of `(name, value)` pairs, which is exactly what WSGI wants.

A value holding a control character (CR and LF above all, but also NUL, `\\x0b`,
`\\x7f`...; a tab is allowed) raises `ValueError` where the handler sets it, so a
reflected value can never split the response into two, nor make the server
refuse it on the way out. A `Content-Length` must be a whole number of bytes;
whether it is the body's length is checked when the response is sent
(`Response.send`), since only then are both final.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping

# RFC 9110 section 5.6.2: a field name is a token.
_is_token = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z").match
# RFC 9110 section 5.5: a field value holds visible characters, spaces and tabs;
# any other control character is refused (servers refuse it, or worse, split on it).
_control_character = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]").search

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


class Headers(MutableMapping[str, str]):
    """Case-insensitive: `headers["content-type"]` finds `Content-Type`.

    >>> headers = Headers({"Cache-Control": "no-store"})
    >>> headers.add("Set-Cookie", "a=1"); headers.add("Set-Cookie", "b=2")
    >>> headers.get_all("set-cookie")
    ['a=1', 'b=2']
    """

    __slots__ = ("_items", "_length_set")

    def __init__(self, headers: HeaderItems | None = None) -> None:
        self._items: list[tuple[str, str]] = []
        # Whether a Content-Length was set by hand (a HEAD handler may): kept
        # as a flag so that sending a response need not search for it.
        self._length_set = False
        if headers:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in pairs:
                self.add(name, value)

    @classmethod
    def trusted(cls, items: list[tuple[str, str]]) -> Headers:
        """Wrap pairs the framework made itself: valid, and never a Content-Length."""
        headers = cls.__new__(cls)
        headers._items = items
        headers._length_set = False
        return headers

    def __getitem__(self, name: str) -> str:
        lowered = name.lower()
        for key, value in self._items:
            if key.lower() == lowered:
                return value
        raise KeyError(name)

    def __setitem__(self, name: str, value: str) -> None:
        """Replace every header of that name with this one."""
        pair = _checked(name, value)
        if name in self:
            lowered = name.lower()
            self._items = [item for item in self._items if item[0].lower() != lowered]
        self._append(pair)

    def __delitem__(self, name: str) -> None:
        lowered = name.lower()
        kept = [item for item in self._items if item[0].lower() != lowered]
        if len(kept) == len(self._items):
            raise KeyError(name)
        self._items = kept
        if lowered == "content-length":
            self._length_set = False

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        lowered = name.lower()
        for key, _ in self._items:  # noqa: SIM110 (no generator: this runs per response)
            if key.lower() == lowered:
                return True
        return False

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def add(self, name: str, value: str) -> None:
        """Add a header, keeping others of the same name (as `Set-Cookie` needs)."""
        self._append(_checked(name, value))

    def _append(self, pair: tuple[str, str]) -> None:
        self._items.append(pair)
        if pair[0].lower() == "content-length":
            self._length_set = True

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._items if key.lower() == lowered]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every `(name, value)` pair, repeats included, in the order they were set."""
        return list(self._items)

    def wsgi_list(
        self, content_length: int | None = None, *, exact: bool = True
    ) -> list[tuple[str, str]]:
        """The list WSGI's `start_response` takes, with `Content-Length` added
        unless one was set by hand. Not a copy when there is nothing to add.

        One set by hand must be `content_length` (a `ValueError` otherwise),
        unless not `exact`: a HEAD handler may say how long GET's body is.
        """
        if content_length is None:
            return self._items
        if not self._length_set:
            return [*self._items, ("Content-Length", str(content_length))]
        if exact and self.get_all("Content-Length") != [str(content_length)]:
            raise ValueError(
                f"Header Content-Length {', '.join(self.get_all('Content-Length'))} "
                f"is not the body's length, {content_length} bytes"
            )
        return self._items


def _checked(name: str, value: str | int) -> tuple[str, str]:
    if not isinstance(name, str) or not _is_token(name):
        raise ValueError(f"Invalid header name {name!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TypeError(f"Header {name} must be a str, not {type(value).__name__}")
    if _control_character(value):
        raise ValueError(
            f"Header {name} must not contain a control character (CR, LF, NUL, "
            f"\\x01-\\x1f but tab, DEL): {value!r}"
        )
    if name.lower() == "content-length" and not (value.isdigit() and value.isascii()):
        raise ValueError(f"Header Content-Length must be a whole number of bytes: {value!r}")
    if not value.isascii():
        try:
            value.encode("latin-1")  # all that HTTP/1.1 and WSGI can carry
        except UnicodeEncodeError:
            raise ValueError(f"Header {name} must be Latin-1 text: {value!r}") from None
    return name, value
