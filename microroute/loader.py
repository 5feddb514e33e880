"""The route tree on disk -> a list of `Route`s, read once, at start-up.

`load(app_dir)` walks the folders, keeps the ones holding a `route.py` or a
`page.py` (skipping `_private` subtrees), parses each folder name with
`segments`, lets `rules` refuse what Next.js refuses, imports each file and
reads its handlers. Everything a request needs later (handlers, their
arity, the `Allow` header) is computed here, so serving does no filesystem
access and no introspection.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import rules, segments
from .errors import RouteError
from .response import Response
from .rules import RoutableFile
from .segments import Segment

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
FILES = {"route.py": "route", "page.py": "page"}

_tree_numbers = itertools.count(1)


@dataclass(frozen=True)
class Handler:
    """A function from a route or page file, as the loader found it."""

    function: Callable[..., Any]
    arity: int  # 0, 1 or 2: called as f(), f(request) or f(request, params)
    is_async: bool
    name: str  # "GET", or "Page"
    file: str  # "app/api/products/route.py", for messages


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


def load(app_dir: str | os.PathLike[str]) -> list[Route]:
    """Read the route tree under `app_dir`; raise `RouteError` if it breaks a rule."""
    root = Path(app_dir).resolve()
    if not root.is_dir():
        raise RouteError(f"Route directory not found: {root}")
    found = _find(root)
    rules.check([routable for routable, _ in found])
    package = _create_package(root)
    try:
        routes = [_load(routable, path, root, package) for routable, path in found]
    except BaseException:
        _forget_package(package)
        raise
    return sorted(routes, key=match_order)


def match_order(route: Route) -> tuple[tuple[int, str], ...]:
    """Static before `[dynamic]` before `[...catch-all]` before `[[...optional]]`,
    segment by segment from the left: the order in which routes are tried."""
    return tuple((segment.kind, segment.name) for segment in route.segments)


def _find(root: Path) -> list[tuple[RoutableFile, Path]]:
    found = []
    for folder, subfolders, filenames in os.walk(root):
        # Sorted, so the walk and every message built from it are deterministic;
        # private folders are pruned before anything below them is looked at.
        subfolders[:] = sorted(name for name in subfolders if not segments.is_private(name))
        for filename in sorted(FILES.keys() & set(filenames)):
            path = Path(folder, filename)
            relative = path.relative_to(root)
            shown = f"{root.name}/{relative.as_posix()}"
            parsed = []
            for name in relative.parts[:-1]:
                try:
                    segment = segments.parse(name)
                except ValueError as error:
                    raise RouteError(f"{error} ({shown})") from None
                if segment is not None:
                    parsed.append(segment)
            found.append((RoutableFile(shown, FILES[filename], tuple(parsed)), path))
    return found


def _load(routable: RoutableFile, path: Path, root: Path, package: str) -> Route:
    module = _import(path, root, package, routable.file)
    if routable.kind == "page":
        page = _function(module, "Page", routable.file)
        if page is None:
            raise RouteError(
                f"{routable.file} defines no Page: a page file exports a function "
                f"named Page that returns HTML.{_lowercase_hint(module, ('Page',))}"
            )
        handlers = {"GET": _handler(page, "Page", routable.file)}
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


def _handler(function: Callable[..., Any], name: str, file: str) -> Handler:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise RouteError(f"Cannot read the signature of {name} in {file}: {error}") from error
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = list(signature.parameters.values())
    if len(parameters) > 2 or any(p.kind not in positional for p in parameters):
        raise RouteError(
            f"{name}{signature} in {file}: a handler takes (), (request) or "
            f"(request, params), passed by position."
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
