"""The request's path -> the route that serves it, and its params.

The routes are arranged once, at start-up, into a tree with one node per
URL position; each node keeps its children named by a static segment in a
dict, so matching costs a dict lookup per segment however many routes there
are. Routes without parameters are also kept by their whole path
(`by_path`), so that a path with nothing to decode skips the tree
altogether (`find`; `match` is the tree alone, given the path's segments
as `paths.split` decodes them). The `not_found.py` pages hang in the same
tree, at their folders: `not_found` finds the nearest one above a path.

At each segment, Next.js's precedence decides: a static child first, then
`[dynamic]`, then `[...catch-all]`, then `[[...optional]]`. When the first
choice cannot match the *rest* of the path, the next one is tried
(backtracking): with `x/[c]/deep` and `[a]/b`, `/x/b` is served by `[a]/b`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import paths
from .routes import Handler, NotFoundPage, Params, Route
from .segments import CATCH_ALL, DYNAMIC, STATIC, Segment


@dataclass(slots=True)
class _Node:
    route: Route | None = None  # the route served exactly here
    children: dict[str, _Node] = field(default_factory=dict)  # by static segment
    dynamic: _Node | None = None
    dynamic_name: str = ""
    # A catch-all is always the last segment, so it holds a route, not a node.
    catch_all: Route | None = None
    catch_all_name: str = ""
    optional: Route | None = None
    optional_name: str = ""
    not_found: Handler | None = None  # the NotFound of this folder's not_found.py
    # One in a catch-all folder below: it covers paths of at least `length` segments.
    catch_all_not_found: tuple[int, Handler] | None = None


class Router:
    """Finds the route for a list of decoded path segments.

    >>> route, params = router.match(["api", "products", "42"])
    >>> params
    {'id': '42'}
    """

    def __init__(self, routes: list[Route], not_found: Sequence[NotFoundPage] = ()) -> None:
        # Routes without parameters, by their path as WSGI spells it: "/about".
        self.by_path: dict[str, Route] = {}
        self.root = _Node()
        for route in routes:
            node, catch_all = self._place(route.segments)
            if catch_all is None:
                node.route = route
                if all(segment.kind is STATIC for segment in route.segments):
                    # Its pattern is its path ("/about"), which WSGI spells in Latin-1.
                    self.by_path[route.pattern.encode().decode("latin-1")] = route
            elif catch_all.kind is CATCH_ALL:
                node.catch_all, node.catch_all_name = route, catch_all.name
            else:
                node.optional, node.optional_name = route, catch_all.name
        self.has_not_found_pages = bool(not_found)
        for page in not_found:
            node, catch_all = self._place(page.segments)
            if catch_all is None:
                node.not_found = page.handler
            else:
                node.catch_all_not_found = (len(page.segments), page.handler)

    def _place(self, segments: tuple[Segment, ...]) -> tuple[_Node, Segment | None]:
        """The node where `segments` lead, made on the way where missing; for
        segments with a catch-all, the node above it, and the catch-all."""
        node = self.root
        for segment in segments:
            if segment.kind is STATIC:
                child = node.children.get(segment.name)
                if child is None:
                    child = node.children[segment.name] = _Node()
                node = child
            elif segment.kind is DYNAMIC:
                if node.dynamic is None:
                    node.dynamic = _Node()
                node.dynamic_name = segment.name
                node = node.dynamic
            else:
                return node, segment
        return node, None

    def find(
        self, environ: Mapping[str, Any]
    ) -> tuple[Route | None, Params, list[str] | None]:
        """The route for the request's path (None if no route serves it), its
        params, and the path's segments as `paths.split` decodes them (None
        for a route found by its whole path, which is not split).

        A path with an empty segment (`/about/`) is served by no route
        (`App.without_handler` sends it where it belongs); one that cannot be
        decoded is an `HTTPError(400)`, from `paths.split`.
        """
        # Speed: a path with nothing to decode that names a route without
        # parameters is one dict lookup, with no splitting at all: GET page
        # runs 28,200 instructions, 32,500 through the tree; GET list 43,300,
        # 50,100 (benchmarks/README.md, "The dispatch").
        route = self.by_path.get(environ.get("PATH_INFO") or "/")
        if route is not None and not paths.has_escapes(environ):
            return route, {}, None
        segments = paths.split(environ)
        params: Params = {}
        if "" not in segments:
            route = _match(self.root, segments, 0, params)
        return route, params, segments

    def match(self, segments: list[str]) -> tuple[Route, Params] | None:
        """The route for these segments and its params, or None (a 404)."""
        params: Params = {}
        route = _match(self.root, segments, 0, params)
        return None if route is None else (route, params)

    def not_found(self, segments: list[str]) -> Handler | None:
        """The `NotFound` of the nearest `not_found.py` at or above the path:
        the deepest folder that covers it (`[id]` covers any one segment, a
        catch-all folder the rest of the path); between two as deep, the one
        that Next.js's precedence would route to first."""
        nearest = _nearest_not_found(self.root, segments, 0)
        return None if nearest is None else nearest[1]


def _match(node: _Node, segments: list[str], index: int, params: Params) -> Route | None:
    # Depth first, in order of precedence; params are written on the way back
    # out, so a branch that fails leaves nothing behind.
    if index == len(segments):
        # An optional catch-all also matches nothing at all: `/docs` for
        # `docs/[[...slug]]`, with no "slug" key.
        return node.route or node.optional
    segment = segments[index]
    child = node.children.get(segment)
    if child is not None:
        route = _match(child, segments, index + 1, params)
        if route is not None:
            return route
    if node.dynamic is not None:
        route = _match(node.dynamic, segments, index + 1, params)
        if route is not None:
            params[node.dynamic_name] = segment
            return route
    if node.catch_all is not None:
        params[node.catch_all_name] = segments[index:]
        return node.catch_all
    if node.optional is not None:
        params[node.optional_name] = segments[index:]
        return node.optional
    return None


def _nearest_not_found(
    node: _Node, segments: list[str], index: int
) -> tuple[int, Handler] | None:
    # The deepest page at or below `node` that covers segments[index:], and
    # its depth; between two as deep, the first in order of precedence.
    nearest = None if node.not_found is None else (index, node.not_found)
    if index < len(segments):
        for child in (node.children.get(segments[index]), node.dynamic):
            if child is not None:
                below = _nearest_not_found(child, segments, index + 1)
                if below is not None and (nearest is None or below[0] > nearest[0]):
                    nearest = below
        rest = node.catch_all_not_found
        if rest is not None and len(segments) >= rest[0] and (
            nearest is None or rest[0] > nearest[0]
        ):
            nearest = rest
    return nearest
