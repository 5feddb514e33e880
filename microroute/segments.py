"""Folder names -> URL segments: what one folder in the route tree matches.

    about         Segment(STATIC, "about")           exactly "about"
    [id]          Segment(DYNAMIC, "id")             any one segment
    [...slug]     Segment(CATCH_ALL, "slug")         one or more segments
    [[...slug]]   Segment(OPTIONAL_CATCH_ALL, ...)   zero or more segments
    (shop)        None                               a group: adds nothing to the URL
    _lib          (never parsed)                     private: see `is_private`
    %5Fnext       Segment(STATIC, "_next")           the escape for a real "_"

This module knows one folder name at a time. Rules that need the whole tree
(conflicts, ambiguity, catch-all placement) belong to `rules`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum


class SegmentKind(IntEnum):
    """What a segment matches, in Next.js's order of precedence: lower wins."""

    STATIC = 0
    DYNAMIC = 1
    CATCH_ALL = 2
    OPTIONAL_CATCH_ALL = 3


# The kinds by their names alone, as `re` gives its flags (`re.IGNORECASE`).
# Speed: on Python 3.11, `SegmentKind.STATIC` costs 70 ns to read, a global
# 5 ns; App() over 1,000 route files (bench_scale's start-up) runs 244 M
# instructions with these, 256 M reading the enum's attributes instead.
STATIC, DYNAMIC, CATCH_ALL, OPTIONAL_CATCH_ALL = SegmentKind


# A value (equal when kind and name are), read-only by convention: `parse`
# gives every route with the same folder name the same Segment. Nothing
# hashes one, so it is not made hashable.
# Speed: not frozen: App() over 1,000 route files runs 244 M instructions,
# 248 M with a frozen Segment (bench_scale's start-up).
@dataclass(slots=True)
class Segment:
    kind: SegmentKind
    name: str  # the text a static segment matches, or a parameter's name
    # As Next.js writes it in a route: `about`, `[id]`, `[...slug]`. Written
    # once, here: every route's pattern is made of these.
    text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.text = _WRITTEN[self.kind].format(self.name)

    def __str__(self) -> str:
        """The segment as Next.js writes it in a route: `about`, `[id]`, `[...slug]`."""
        return self.text


_WRITTEN = ("{}", "[{}]", "[...{}]", "[[...{}]]")  # by SegmentKind


def to_pattern(segments: Iterable[Segment]) -> str:
    """The URL pattern segments make, as Next.js writes it: `/api/products/[id]`."""
    return "/" + "/".join([segment.text for segment in segments])


def is_private(folder: str) -> bool:
    """`_lib`: the folder and everything below it is never routed."""
    return folder.startswith("_")


class FolderNameError(ValueError):
    """A folder name no route can have, said as Next.js says it.

    `str(error)` is the problem alone (`Parameter names cannot be empty.`);
    `error.in_route("/x/[]")` places it in the route it breaks, as Next.js
    does: `Parameter names cannot be empty in route "/x/[]".`
    """

    def __init__(self, problem: str, advice: str = "") -> None:
        super().__init__(f"{problem}.{advice}")
        self.problem = problem
        self.advice = advice  # what comes after the route: " Did you mean ('...')?"

    def in_route(self, route: str) -> str:
        """The message, naming the route the folder is in."""
        return f'{self.problem} in route "{route}".{self.advice}'


# Names repeat ("[id]", "items"), and come from the app's own folders, not
# from requests. Speed: App() over 1,000 route files runs 244 M
# instructions, 261 M parsing every folder name afresh.
@functools.cache
def parse(folder: str) -> Segment | None:
    """The segment a folder name stands for; None for a `(group)`.

    Raises `FolderNameError` (a `ValueError`) with Next.js's wording for a
    malformed name.
    """
    if not folder.isascii():
        try:
            folder.encode()
        except UnicodeEncodeError:  # bytes the filesystem holds, but no URL can name
            raise FolderNameError(f"Folder names must be valid UTF-8 ({folder!r})") from None
    if folder[:1] not in "([@%":  # most names: a plain word, told by its first character
        return Segment(STATIC, folder)
    if folder.startswith("(") and folder.endswith(")"):
        if folder in ("(.)", "(..)", "(...)") or folder == "()":
            raise FolderNameError(f"Group names may not be empty ('{folder}')")
        return None
    if folder.startswith(("(.)", "(..)", "(...)")):
        raise FolderNameError(
            f"Intercepting routes ('{folder}') are not supported by microroute"
        )
    if folder.startswith("@"):
        raise FolderNameError(f"Parallel routes ('{folder}') are not supported by microroute")
    if folder.startswith("[") and folder.endswith("]"):
        return _parse_dynamic(folder)
    if folder[:3].upper() == "%5F":
        return Segment(STATIC, "_" + folder[3:])
    return Segment(STATIC, folder)


def _parse_dynamic(folder: str) -> Segment:
    # The checks, their order and their words follow Next.js's own
    # (validate-app-paths.ts, which grew out of sorted-routes.ts).
    name = folder[1:-1]
    optional = name.startswith("[") and name.endswith("]")
    if optional:
        name = name[1:-1]
    catch_all = name.startswith("...")
    if catch_all:
        name = name[3:]
    if not name:
        raise FolderNameError("Parameter names cannot be empty")
    if "…" in name:
        raise FolderNameError(
            f"Detected a three-dot character ('…') in parameter \"{name}\"",
            " Did you mean ('...')?",
        )
    if optional and not catch_all and not name.startswith("["):
        raise FolderNameError(f'Optional route parameters are not yet supported ("{folder}")')
    if name.startswith("[") or name.endswith("]"):
        raise FolderNameError(f"Segment names may not start or end with extra brackets ('{name}')")
    if name.startswith("."):
        raise FolderNameError(f"Segment names may not start with erroneous periods ('{name}')")
    if catch_all:
        return Segment(OPTIONAL_CATCH_ALL if optional else CATCH_ALL, name)
    return Segment(DYNAMIC, name)
