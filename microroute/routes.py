"""Routes and handlers: the data a loaded tree is made of, which the modules share.

The loader builds these at start-up (and `public` builds one for each file
of `public/`); the router, the app and the command line read them. Nothing
here reads a file or imports a module, so the router depends on this data,
not on the loader that builds it.

    Route      one routable file, as `app.routes` lists it:
                 Route(pattern="/api/products/[id]",
                       file="app/api/products/[id]/route.py", kind=RouteKind.ROUTE,
                       methods=("GET", "PUT"), allow="GET, HEAD, OPTIONS, PUT", ...)
    Handler    one function of a route file (`GET`), a page (`Page`), a layout, ...
    NotFoundPage  a not_found.py's `NotFound`, and the folder it answers for
    Proxy      the root's proxy.py: its function, and the paths it runs for
    Tree       all of the above that `App` serves from one route folder
    RoutableFile  a route.py or page.py placed in the URL space, before it is
               imported: what `rules` checks
    Params     what a request's path gives a handler: {"id": "42"}, {"slug": ["a", "b"]}
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from . import paths
from .errors import HTTPError
from .matcher import Matcher
from .response import Response
from .segments import STATIC, Segment, to_pattern

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

Params = dict[str, str | list[str]]  # a parameter's name -> its segment, or a catch-all's list


class RouteKind(str, Enum):
    """What a route's file is. Each kind equals its name in lowercase, so
    `route.kind == "page"` reads as it should (and prints as "page")."""

    ROUTE = "route"  # a route.py: API handlers named after HTTP methods
    PAGE = "page"  # a page.py: a Page that returns HTML
    PUBLIC = "public"  # a file of public/ (see `public`)

    def __str__(self) -> str:
        return self.value


# Handler and Route are read-only by convention once the loader has made
# them (it sets a handler's `error` last, when every error page is known).
# Speed: Route is not frozen: App() over 1,000 route files (bench_scale's
# start-up) runs 244 M instructions, 253 M with a frozen Route.


@dataclass(slots=True)
class Handler:
    """A function from a route or page file, as the loader found it."""

    function: Callable[..., Any]
    arity: int  # how many arguments it takes: f(), f(request), f(request, params)
    is_async: bool
    name: str  # "GET", "Page", "Layout", "NotFound", "Error" or "proxy"
    file: str  # "app/api/products/route.py", for messages
    layouts: tuple[Handler, ...] = ()  # a page's layouts, outermost first
    # For a Page, Layout or NotFound: the nearest error.py's `Error` that
    # answers for it when it fails (for a layout, one above its own folder,
    # since an `Error` page is wrapped in the layouts of its folder).
    error: Handler | None = None


@dataclass(slots=True)
class Route:
    """One routable file: `app.routes` lists these, in match order."""

    pattern: str  # "/api/products/[id]"
    file: str  # "app/api/products/[id]/route.py"
    kind: RouteKind
    segments: tuple[Segment, ...]
    methods: tuple[str, ...]  # the methods the file handles: ("GET", "POST")
    allow: str  # the Allow header: "GET, HEAD, OPTIONS, POST"
    handlers: dict[str, Handler]  # method -> handler, HEAD falling back to GET


@dataclass(frozen=True)
class NotFoundPage:
    """A `not_found.py`: the HTML 404 for unmatched paths under `segments`
    (the router finds the nearest one: `Router.not_found`)."""

    segments: tuple[Segment, ...]
    handler: Handler


@dataclass(frozen=True)
class Proxy:
    """The root's `proxy.py`: its function, and the paths it runs for."""

    handler: Handler  # proxy(), (request) or (request, handle)
    matcher: Matcher | None  # from its `config`; None: every request

    def runs_for(self, environ: dict[str, Any]) -> bool:
        """Whether the proxy runs for this request's path."""
        if self.matcher is None:
            return True
        try:
            segments = paths.split(environ)
        except HTTPError:
            # A path the router refuses (`/admin/%ZZ`) is judged as read
            # loosely: a proxy guarding /admin still runs, and the refusal
            # (a 400, or the fallback's answer) is what `handle` returns.
            segments = paths.split_loosely(environ)
        return self.matcher.matches(segments)


@dataclass(frozen=True)
class Tree:
    """Everything `App` serves from one route folder."""

    routes: list[Route]  # in match order
    not_found: list[NotFoundPage]  # the deepest first: the nearest one wins
    proxy: Proxy | None


@dataclass(slots=True)
class RoutableFile:
    """One `route.py` or `page.py`, placed in the URL space."""

    file: str  # as the user sees it: "app/api/products/[id]/route.py"
    kind: RouteKind  # ROUTE or PAGE
    segments: tuple[Segment, ...]  # groups already removed
    pattern: str = field(init=False)  # the URL pattern: "/api/products/[id]"
    parameters: tuple[Segment, ...] = field(init=False)  # [id], [...slug], [[...slug]]

    def __post_init__(self) -> None:
        self.pattern = to_pattern(self.segments)
        # Every parameter is written "[...]": most files need no closer look.
        # Speed: App() over 1,000 route files runs 244 M instructions, 248 M
        # without this and `rules`' quick look for files that share a URL.
        self.parameters = ()
        if "[" in self.pattern:
            self.parameters = tuple([s for s in self.segments if s.kind is not STATIC])


def make_route(
    pattern: str,
    file: str,
    kind: RouteKind,
    segments: tuple[Segment, ...],
    handlers: dict[str, Handler],
) -> Route:
    """A `Route` serving `handlers` (method -> handler, in sorted order), with
    what HTTP gives every resource added: HEAD is GET without the body
    (dropped when the response is sent), and OPTIONS lists the methods."""
    methods = tuple(handlers)
    allow = _allow(methods)
    if "GET" in handlers and "HEAD" not in handlers:
        handlers["HEAD"] = handlers["GET"]
    if "OPTIONS" not in handlers:
        handlers["OPTIONS"] = _automatic_options(allow)
    return Route(pattern, file, kind, segments, methods, allow, handlers)


@functools.cache  # one per set of methods: at most 2⁷
def _allow(methods: tuple[str, ...]) -> str:
    """The Allow header of a file that defines `methods`: with HEAD where it
    has GET, and always OPTIONS."""
    head = ("HEAD",) if "GET" in methods else ()
    return ", ".join(sorted({*methods, *head, "OPTIONS"}))


@functools.cache  # one per Allow value, shared by every route with it
def _automatic_options(allow: str) -> Handler:
    def OPTIONS() -> Response:  # noqa: N802 (named like the handlers users write)
        return Response(b"", 204, {"Allow": allow})

    return Handler(OPTIONS, 0, False, "OPTIONS", "(the automatic OPTIONS)")
