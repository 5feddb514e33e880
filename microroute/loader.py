"""The route tree on disk -> `Route`s and the files around them, read once, at start-up.

`load_tree(app_dir)` walks the folders, keeps the ones holding a `route.py`
or a `page.py` (skipping `_private` subtrees), parses each folder name with
`segments`, lets `rules` refuse what Next.js refuses, imports each file and
reads its handlers. Everything a request needs later (handlers, their
arity, the `Allow` header, each page's layouts) is computed here, so serving
does no filesystem access and no introspection.

Beside routes and pages, a tree may hold:

    layout.py      Layout(children, request): wraps every page at and below it
    not_found.py   NotFound(request): the HTML 404 for unmatched paths below it
    proxy.py       proxy(request), at the root only: runs before routing

Route files are imported by path as modules of one private package per
`App` (`_microroute_tree_1.api.products.route`), never under the user's own
package names: importing `demo_app/app/api/x/route.py` cannot replace the
`demo_app.app` attribute that gunicorn reads, two apps never share a module,
and a route file still reaches colocated helpers with relative imports
(`from .._lib.db import connect`).
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import os
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import rules, segments
from .errors import RouteError
from .response import Response
from .rules import RoutableFile
from .segments import Kind, Segment

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
FILES = {"route.py": "route", "page.py": "page"}
LAYOUT, NOT_FOUND, PROXY = "layout.py", "not_found.py", "proxy.py"

_tree_numbers = itertools.count(1)


@dataclass(frozen=True)
class Handler:
    """A function from a route or page file, as the loader found it."""

    function: Callable[..., Any]
    arity: int  # how many arguments it takes: f(), f(request), f(request, params)
    is_async: bool
    name: str  # "GET", "Page", "Layout", "NotFound" or "proxy"
    file: str  # "app/api/products/route.py", for messages
    layouts: tuple[Handler, ...] = ()  # a page's layouts, outermost first


@dataclass(frozen=True)
class Route:
    """One routable file: `app.routes` lists these, in match order."""

    pattern: str  # "/api/products/[id]"
    file: str  # "app/api/products/[id]/route.py"
    kind: str  # "route" or "page"
    segments: tuple[Segment, ...]
    methods: tuple[str, ...]  # the methods the file handles: ("GET", "POST")
    allow: str  # the Allow header: "GET, HEAD, OPTIONS, POST"
    handlers: dict[str, Handler]  # method -> handler, HEAD falling back to GET


@dataclass(frozen=True)
class NotFoundPage:
    """A `not_found.py`: the HTML 404 for unmatched paths under `segments`."""

    segments: tuple[Segment, ...]
    handler: Handler

    def covers(self, path: list[str]) -> bool:
        """Whether a request path lies at or below this page's folder."""
        if len(path) < len(self.segments):
            return False
        for segment, part in zip(self.segments, path, strict=False):
            if segment.kind >= Kind.CATCH_ALL:
                return True
            if segment.kind is Kind.STATIC and segment.name != part:
                return False
        return True


@dataclass(frozen=True)
class Tree:
    """Everything `App` serves from one route folder."""

    routes: list[Route]  # in match order
    not_found: list[NotFoundPage]  # the deepest first: the nearest one wins
    proxy: Handler | None


def load(app_dir: str | os.PathLike[str]) -> list[Route]:
    """The routes under `app_dir`, in match order (see `load_tree`)."""
    return load_tree(app_dir).routes


def load_tree(app_dir: str | os.PathLike[str]) -> Tree:
    """Read the route tree under `app_dir`; raise `RouteError` if it breaks a rule."""
    root = Path(app_dir).resolve()
    if not root.is_dir():
        raise RouteError(f"Route directory not found: {root}")
    found, extras = _find(root)
    rules.check([routable for routable, _ in found])
    package = _create_package(root)
    try:
        layouts = {
            path.parent: _special(path, root, package, "Layout", (1, 2), "(children, request)")
            for path in extras[LAYOUT]
        }
        routes = [_load(routable, path, root, package, layouts) for routable, path in found]
        not_found = [_not_found(path, root, package, layouts) for path in extras[NOT_FOUND]]
        proxy = None
        if (root / PROXY).is_file():
            proxy = _special(root / PROXY, root, package, "proxy", (0, 1), "(request)")
    except BaseException:
        _forget_package(package)
        raise
    _check_not_found(not_found)
    return Tree(
        routes=sorted(routes, key=match_order),
        not_found=sorted(not_found, key=lambda page: -len(page.segments)),
        proxy=proxy,
    )


def match_order(route: Route) -> tuple[tuple[int, str], ...]:
    """Static before `[dynamic]` before `[...catch-all]` before `[[...optional]]`,
    segment by segment from the left: the order in which routes are tried."""
    return tuple((segment.kind, segment.name) for segment in route.segments)


def _find(root: Path) -> tuple[list[tuple[RoutableFile, Path]], dict[str, list[Path]]]:
    found = []
    extras: dict[str, list[Path]] = {LAYOUT: [], NOT_FOUND: []}
    for folder, subfolders, filenames in os.walk(root):
        # Sorted, so the walk and every message built from it are deterministic;
        # private folders are pruned before anything below them is looked at.
        subfolders[:] = sorted(name for name in subfolders if not segments.is_private(name))
        for filename in sorted(FILES.keys() & set(filenames)):
            path = Path(folder, filename)
            routable = RoutableFile(_shown(path, root), FILES[filename], _url_segments(path, root))
            found.append((routable, path))
        for filename in sorted(extras.keys() & set(filenames)):
            extras[filename].append(Path(folder, filename))
    return found, extras


def _shown(path: Path, root: Path) -> str:
    """A file as the user sees it: `app/api/products/route.py`."""
    return f"{root.name}/{path.relative_to(root).as_posix()}"


def _url_segments(path: Path, root: Path) -> tuple[Segment, ...]:
    """What the folders above a file add to the URL (groups add nothing)."""
    parsed = []
    for name in path.relative_to(root).parts[:-1]:
        try:
            segment = segments.parse(name)
        except ValueError as error:
            raise RouteError(f"{error} ({_shown(path, root)})") from None
        if segment is not None:
            parsed.append(segment)
    return tuple(parsed)


def _load(
    routable: RoutableFile, path: Path, root: Path, package: str, layouts: dict[Path, Handler]
) -> Route:
    module = _import(path, root, package, routable.file)
    if routable.kind == "page":
        page = _handler(_required(module, "Page", routable.file), "Page", routable.file)
        handlers = {"GET": replace(page, layouts=_layouts_above(path, root, layouts))}
    else:
        handlers = {}
        for method in METHODS:
            function = _function(module, method, routable.file)
            if function is not None:
                handlers[method] = _handler(function, method, routable.file)
        if not handlers:
            raise RouteError(
                f"{routable.file} defines no handler: a route file exports functions named "
                f"after HTTP methods ({', '.join(METHODS)}).{_lowercase_hint(module, METHODS)}"
            )
    methods = tuple(sorted(handlers))
    # What HTTP gives every resource: HEAD is GET without the body (dropped
    # when the response is sent), and OPTIONS lists the methods.
    if "GET" in handlers and "HEAD" not in handlers:
        handlers["HEAD"] = handlers["GET"]
    allow = ", ".join(sorted({*handlers, "OPTIONS"}))
    if "OPTIONS" not in handlers:
        handlers["OPTIONS"] = _automatic_options(allow, routable.file)
    return Route(
        pattern=routable.pattern,
        file=routable.file,
        kind=routable.kind,
        segments=routable.segments,
        methods=methods,
        allow=allow,
        handlers=handlers,
    )


def _special(
    path: Path, root: Path, package: str, name: str, arities: tuple[int, ...], shape: str
) -> Handler:
    """A `layout.py`, `not_found.py` or `proxy.py`: one function, one signature."""
    file = _shown(path, root)
    module = _import(path, root, package, file)
    return _handler(_required(module, name, file), name, file, arities, shape)


def _not_found(
    path: Path, root: Path, package: str, layouts: dict[Path, Handler]
) -> NotFoundPage:
    handler = _special(path, root, package, "NotFound", (0, 1), "(request)")
    handler = replace(handler, layouts=_layouts_above(path, root, layouts))
    return NotFoundPage(_url_segments(path, root), handler)


def _check_not_found(pages: list[NotFoundPage]) -> None:
    by_place: dict[str, list[str]] = {}
    for page in pages:
        place = "/" + "/".join(str(segment) for segment in page.segments)
        by_place.setdefault(place, []).append(page.handler.file)
    for place, files in sorted(by_place.items()):
        if len(files) > 1:
            raise RouteError(f"Conflicting not-found pages at {place}: {', '.join(sorted(files))}")


def _layouts_above(path: Path, root: Path, layouts: dict[Path, Handler]) -> tuple[Handler, ...]:
    """The layouts of a file's folder and of every folder above it, outermost first."""
    folders = [root, *(root / parent for parent in reversed(path.relative_to(root).parents))]
    return tuple(layouts[folder] for folder in dict.fromkeys(folders) if folder in layouts)


_TEACHING = {
    "Page": "a page file exports a function named Page that returns HTML.",
    "Layout": "a layout file exports a function named Layout that wraps its children in HTML.",
    "NotFound": "a not-found file exports a function named NotFound that returns HTML.",
    "proxy": "a proxy file exports a function named proxy that returns a Response or None.",
}


def _required(module: types.ModuleType, name: str, file: str) -> Callable[..., Any]:
    function = _function(module, name, file)
    if function is None:
        hint = _lowercase_hint(module, (name,))
        raise RouteError(f"{file} defines no {name}: {_TEACHING[name]}{hint}")
    return function


def _automatic_options(allow: str, file: str) -> Handler:
    def OPTIONS() -> Response:  # noqa: N802 (named like the handlers users write)
        return Response(b"", 204, {"Allow": allow})

    return Handler(OPTIONS, 0, False, "OPTIONS", file)


def _function(module: types.ModuleType, name: str, file: str) -> Callable[..., Any] | None:
    value = getattr(module, name, None)
    if value is not None and not callable(value):
        raise RouteError(f"{name} in {file} must be a function, not {type(value).__name__}.")
    return value


def _lowercase_hint(module: types.ModuleType, expected: tuple[str, ...]) -> str:
    # The likely mistake: `def get()` where `def GET()` was meant.
    wanted = {name.lower(): name for name in expected}
    for name in sorted(vars(module)):
        if name.lower() in wanted and name != wanted[name.lower()] and callable(vars(module)[name]):
            right = wanted[name.lower()]
            return f" Found '{name}': names are case-sensitive, so write 'def {right}'."
    return ""


def _handler(
    function: Callable[..., Any],
    name: str,
    file: str,
    arities: tuple[int, ...] = (0, 1, 2),
    shape: str = "(), (request) or (request, params)",
) -> Handler:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise RouteError(f"Cannot read the signature of {name} in {file}: {error}") from error
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(signature.parameters.values())
    if len(parameters) not in arities or any(p.kind not in positional for p in parameters):
        what = "a handler" if shape.startswith("()") else name
        raise RouteError(
            f"{name}{signature} in {file}: {what} takes {shape}, passed by position."
        )
    is_async = inspect.iscoroutinefunction(function)
    return Handler(function, len(parameters), is_async, name, file)


def _create_package(root: Path) -> str:
    name = f"_microroute_tree_{next(_tree_numbers)}"
    _package(name, root)
    return name


def _forget_package(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def _package(name: str, folder: Path) -> None:
    # A bare package: its __path__ lets the import system find helpers beside
    # the route files; no __init__.py of the tree is run.
    if name not in sys.modules:
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]
        module.__package__ = name
        sys.modules[name] = module


def _import(path: Path, root: Path, package: str, file: str) -> types.ModuleType:
    folder = package
    location = root
    for part in path.relative_to(root).parts[:-1]:
        # A dot would split the module name, so it is escaped as in a URL
        # (and "%" first, so that two folder names never share a module name).
        folder = f"{folder}.{part.replace('%', '%25').replace('.', '%2E')}"
        location = location / part
        _package(folder, location)
    # "%route" is a name no escaped folder name can have: a folder called
    # `route/` beside `route.py` keeps a package of its own.
    name = f"{folder}.%{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise RouteError(f"{file} failed to import: {type(error).__name__}: {error}") from error
    return module
