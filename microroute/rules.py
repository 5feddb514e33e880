"""The load-time rules: route trees that Next.js refuses, microroute refuses too.

`check(files)` looks at every routable file at once (after private folders
are dropped and each folder name is parsed by `segments`) and raises
`RouteError` for the first broken rule, in a fixed order, so the same tree
always gets the same message. The messages use Next.js's wording, so its
documentation and search results explain them, and name the files involved.
"""

from __future__ import annotations

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
    _check_same_url(files)
    _check_ambiguous(files)
    _check_siblings(files)


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


def _word_characters(name: str) -> str:
    return re.sub(r"\W", "", name)


def _check_same_url(files: list[RoutableFile]) -> None:
    by_pattern: dict[str, list[RoutableFile]] = defaultdict(list)
    for found in files:
        by_pattern[found.pattern].append(found)
    for pattern, group in sorted(by_pattern.items()):
        if len(group) < 2:
            continue
        kinds = {found.kind for found in group}
        what = "route and page" if len(kinds) == 2 else f"{group[0].kind}s"
        raise RouteError(f"Conflicting {what} at {pattern}: {_names(group)}")


def _check_ambiguous(files: list[RoutableFile]) -> None:
    # Routes that differ only in their parameters' names: `blog/[id]` and
    # `blog/[slug]` would both take every request the other takes.
    by_shape: dict[str, list[RoutableFile]] = defaultdict(list)
    for found in files:
        by_shape[_shape(found.segments)].append(found)
    for shape, group in sorted(by_shape.items()):
        if len(group) > 1:
            raise RouteError(f'Ambiguous route pattern "{shape}" matches {_names(group)}')


def _shape(segments: Iterable[Segment]) -> str:
    hidden = {Kind.DYNAMIC: "[*]", Kind.CATCH_ALL: "[...*]", Kind.OPTIONAL_CATCH_ALL: "[[...*]]"}
    return "/" + "/".join(hidden.get(s.kind, s.name) for s in segments)


@dataclass
class _Node:
    """One URL position in the tree: what is routed there, and what hangs below."""

    files: list[RoutableFile] = field(default_factory=list)  # served exactly here
    # parameter kind -> name -> files that use it here
    names: dict[Kind, dict[str, list[RoutableFile]]] = field(default_factory=dict)
    children: dict[tuple[Kind, str], _Node] = field(default_factory=dict)


def _check_siblings(files: list[RoutableFile]) -> None:
    root = _Node()
    for found in files:
        node = root
        for segment in found.segments:
            # All parameters of one kind share a child: `[id]` and `[slug]` are
            # the same position, which is why their names must agree.
            key = (segment.kind, segment.name if segment.kind is Kind.STATIC else "")
            if segment.kind is not Kind.STATIC:
                users = node.names.setdefault(segment.kind, {})
                users.setdefault(segment.name, []).append(found)
            node = node.children.setdefault(key, _Node())
        node.files.append(found)
    _check_node(root, "")


def _check_node(node: _Node, prefix: str) -> None:
    for kind in sorted(node.names):
        names = node.names[kind]
        if len(names) > 1:
            first, second = sorted(names)[:2]
            involved = names[first][:1] + names[second][:1]
            raise RouteError(
                "You cannot use different slug names for the same dynamic path "
                f"('{first}' !== '{second}'). ({_names(involved)})"
            )
    required = node.names.get(Kind.CATCH_ALL)
    optional = node.names.get(Kind.OPTIONAL_CATCH_ALL)
    if required and optional:
        [required_name] = required  # one name each: checked just above
        [optional_name] = optional
        raise RouteError(
            "You cannot use both a required and optional catch-all route at the same level "
            f'("[...{required_name}]" and "[[...{optional_name}]]"). '
            f"({_names(required[required_name][:1] + optional[optional_name][:1])})"
        )
    if optional and node.files:
        [name] = optional
        here = prefix or "/"
        raise RouteError(
            "You cannot define a route with the same specificity as an optional catch-all "
            f'route ("{here}" and "{prefix}/[[...{name}]]"). '
            f"({_names(node.files[:1] + optional[name][:1])})"
        )
    for (kind, name), child in sorted(node.children.items()):
        if kind is not Kind.STATIC:
            [name] = node.names[kind]
        _check_node(child, f"{prefix}/{Segment(kind, name)}")


def _names(files: Iterable[RoutableFile]) -> str:
    return ", ".join(sorted(found.file for found in files))
