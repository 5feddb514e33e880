"""The load-time rules: route trees that Next.js refuses, microroute refuses too.

`check(files)` looks at every routable file at once (after private folders
are dropped and each folder name is parsed by `segments`) and raises
`RouteError` for the first broken rule, in a fixed order, so the same tree
always gets the same message. The messages use Next.js's wording, so its
documentation and search results explain them, and name the files involved.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from .errors import RouteError
from .segments import Kind, Segment


@dataclass(frozen=True)
class RoutableFile:
    """One `route.py` or `page.py`, placed in the URL space."""

    file: str  # as the user sees it: "app/api/products/[id]/route.py"
    kind: str  # "route" or "page"
    segments: tuple[Segment, ...]  # groups already removed

    @cached_property
    def pattern(self) -> str:
        """The URL pattern: `/api/products/[id]`."""
        return "/" + "/".join(str(segment) for segment in self.segments)


def check(files: list[RoutableFile]) -> None:
    """Raise `RouteError` if the tree breaks any rule; return quietly if not."""
    for found in files:
        _check_one_path(found)
    positions = _positions(files)
    _check_same_url(positions)
    _check_ambiguous(positions)
    _check_siblings(positions)


def _check_one_path(found: RoutableFile) -> None:
    segments = found.segments
    for segment in segments[:-1]:
        if segment.kind >= Kind.CATCH_ALL:
            route = "/" + "/".join(str(s) for s in segments)
            raise RouteError(
                f'Catch-all must be the last part of the URL in route "{route}". ({found.file})'
            )
    seen: list[str] = []
    for segment in segments:
        if segment.kind is Kind.STATIC:
            continue
        for earlier in seen:
            if earlier == segment.name:
                raise RouteError(
                    f'You cannot have the same slug name "{segment.name}" repeat within '
                    f"a single dynamic path. ({found.file})"
                )
            if _word_characters(earlier) == _word_characters(segment.name):
                raise RouteError(
                    f'You cannot have the slug names "{earlier}" and "{segment.name}" differ '
                    f"only by non-word symbols within a single dynamic path. ({found.file})"
                )
        seen.append(segment.name)


@functools.lru_cache(maxsize=4096)  # parameter names repeat: "id", "slug"
def _word_characters(name: str) -> str:
    return re.sub(r"\W", "", name)


@dataclass(slots=True)
class _Position:
    """One place in the URL space, reached by one or more files: "/blog/[*]".

    Parameters of one kind share a position (`[id]` and `[slug]` are the same
    place, which is why their names must agree), so two files at the same
    position take the same requests."""

    first: RoutableFile  # the first file through here, which spells the place
    depth: int  # how many of its segments lead here
    files: list[RoutableFile] = field(default_factory=list)  # routed exactly here
    # parameter kind -> name -> the files that use it for the next segment
    names: dict[Kind, dict[str, list[RoutableFile]]] = field(default_factory=dict)
    children: dict[tuple[Kind, str], _Position] = field(default_factory=dict)

    @property
    def place(self) -> str:
        """The position as a URL pattern, for messages: "/blog/[slug]" ("" at the root)."""
        return "".join(f"/{segment}" for segment in self.first.segments[: self.depth])

    @property
    def order(self) -> tuple[tuple[Kind, str], ...]:
        """Where it comes in match order, so that the first problem found is
        the same however the files were listed."""
        return tuple(
            (segment.kind, segment.name if segment.kind is Kind.STATIC else "")
            for segment in self.first.segments[: self.depth]
        )


def _positions(files: list[RoutableFile]) -> list[_Position]:
    """Every position of the tree, the root first: one pass over the files."""
    if not files:
        return []
    root = _Position(files[0], 0)
    positions = [root]
    for found in files:
        position = root
        for depth, segment in enumerate(found.segments, 1):
            kind = segment.kind
            key: tuple[Kind, str]
            if kind is Kind.STATIC:
                key = (kind, segment.name)
            else:
                key = (kind, "")
                position.names.setdefault(kind, {}).setdefault(segment.name, []).append(found)
            child = position.children.get(key)
            if child is None:
                child = position.children[key] = _Position(found, depth)
                positions.append(child)
            position = child
        position.files.append(found)
    return positions


def _check_same_url(positions: list[_Position]) -> None:
    by_pattern: dict[str, list[RoutableFile]] = defaultdict(list)
    for position in positions:
        if len(position.files) > 1:  # only files at one position can share a URL
            for found in position.files:
                by_pattern[found.pattern].append(found)
    for pattern, group in sorted(by_pattern.items()):
        if len(group) < 2:
            continue
        kinds = {found.kind for found in group}
        what = "route and page" if len(kinds) == 2 else f"{group[0].kind}s"
        raise RouteError(f"Conflicting {what} at {pattern}: {_names(group)}")


def _check_ambiguous(positions: list[_Position]) -> None:
    # Routes that differ only in their parameters' names: `blog/[id]` and
    # `blog/[slug]` would both take every request the other takes.
    crowded = {
        _shape(position.first.segments): position.files
        for position in positions
        if len(position.files) > 1
    }
    if crowded:
        shape = min(crowded)
        raise RouteError(f'Ambiguous route pattern "{shape}" matches {_names(crowded[shape])}')


def _shape(segments: Iterable[Segment]) -> str:
    hidden = {Kind.DYNAMIC: "[*]", Kind.CATCH_ALL: "[...*]", Kind.OPTIONAL_CATCH_ALL: "[[...*]]"}
    return "/" + "/".join(hidden.get(s.kind, s.name) for s in segments)


def _check_siblings(positions: list[_Position]) -> None:
    problems = [
        (position.order, problem)
        for position in positions
        if position.names and (problem := _sibling_problem(position))
    ]
    if problems:
        raise RouteError(min(problems)[1])


def _sibling_problem(position: _Position) -> str | None:
    """What is wrong with the parameters that follow this position, if anything."""
    for kind in sorted(position.names):
        names = position.names[kind]
        if len(names) > 1:
            first, second = sorted(names)[:2]
            involved = names[first][:1] + names[second][:1]
            return (
                "You cannot use different slug names for the same dynamic path "
                f"('{first}' !== '{second}'). ({_names(involved)})"
            )
    required = position.names.get(Kind.CATCH_ALL)
    optional = position.names.get(Kind.OPTIONAL_CATCH_ALL)
    if required and optional:
        [required_name] = required  # one name each: checked just above
        [optional_name] = optional
        return (
            "You cannot use both a required and optional catch-all route at the same level "
            f'("[...{required_name}]" and "[[...{optional_name}]]"). '
            f"({_names(required[required_name][:1] + optional[optional_name][:1])})"
        )
    if optional and position.files:
        [name] = optional
        place = position.place
        return (
            "You cannot define a route with the same specificity as an optional catch-all "
            f'route ("{place or "/"}" and "{place}/[[...{name}]]"). '
            f"({_names(position.files[:1] + optional[name][:1])})"
        )
    return None


def _names(files: Iterable[RoutableFile]) -> str:
    return ", ".join(sorted(found.file for found in files))
