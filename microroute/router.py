"""Path segments -> the route that serves them, and its params.

The routes are arranged once, at start-up, into a tree with one node per
URL position; each node keeps its static children in a dict, so matching
costs a dict lookup per segment however many routes there are. Routes
without parameters are also kept by their whole path (`static`), so that a
path with nothing to decode skips the tree altogether (see `App.match`).

At each segment, Next.js's precedence decides: a static child first, then
`[dynamic]`, then `[...catch-all]`, then `[[...optional]]`. When the first
choice cannot match the *rest* of the path, the next one is tried
(backtracking): with `x/[c]/deep` and `[a]/b`, `/x/b` is served by `[a]/b`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .routes import Params, Route
from .segments import CATCH_ALL, DYNAMIC, STATIC


@dataclass(slots=True)
class _Node:
    route: Route | None = None  # the route served exactly here
    static: dict[str, _Node] = field(default_factory=dict)
    dynamic: _Node | None = None
    dynamic_name: str = ""
    # A catch-all is always the last segment, so it holds a route, not a node.
    catch_all: Route | None = None
    catch_all_name: str = ""
    optional: Route | None = None
    optional_name: str = ""


class Router:
    """Finds the route for a list of decoded path segments.

    >>> route, params = router.match(["api", "products", "42"])
    >>> params
    {'id': '42'}
    """

    def __init__(self, routes: list[Route]) -> None:
        # Routes without parameters, by their path as WSGI spells it: "/about".
        self.static: dict[str, Route] = {}
        self.root = _Node()
        for route in routes:
            if self._insert(route):
                # Its pattern is its path ("/about"), which WSGI spells in Latin-1.
                self.static[route.pattern.encode().decode("latin-1")] = route

    def _insert(self, route: Route) -> bool:
        """Hang the route in the tree; True if it has no parameters."""
        node, static = self.root, True
        for segment in route.segments:
            if segment.kind is STATIC:
                child = node.static.get(segment.name)
                if child is None:
                    child = node.static[segment.name] = _Node()
                node = child
            elif segment.kind is DYNAMIC:
                if node.dynamic is None:
                    node.dynamic = _Node()
                node.dynamic_name = segment.name
                node, static = node.dynamic, False
            elif segment.kind is CATCH_ALL:
                node.catch_all, node.catch_all_name = route, segment.name
                return False
            else:
                node.optional, node.optional_name = route, segment.name
                return False
        node.route = route
        return static

    def match(self, segments: list[str]) -> tuple[Route, Params] | None:
        """The route for these segments and its params, or None (a 404)."""
        params: Params = {}
        route = _match(self.root, segments, 0, params)
        return None if route is None else (route, params)


def _match(node: _Node, segments: list[str], index: int, params: Params) -> Route | None:
    # Depth first, in order of precedence; params are written on the way back
    # out, so a branch that fails leaves nothing behind.
    if index == len(segments):
        # An optional catch-all also matches nothing at all: `/docs` for
        # `docs/[[...slug]]`, with no "slug" key.
        return node.route or node.optional
    segment = segments[index]
    child = node.static.get(segment)
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
