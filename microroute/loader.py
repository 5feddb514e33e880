"""The route tree on disk -> `Route`s and the files around them, read once, at start-up.

`load_tree(app_dir)` walks the folders, keeps the ones holding a `route.py`
or a `page.py` (skipping `_private` subtrees), parses each folder name with
`segments`, lets `rules` refuse what Next.js refuses, imports each file
(`packages`) and reads its handlers. Everything a request needs later
(handlers, their arity, the `Allow` header, each page's layouts) is
computed here, so serving does no filesystem access and no introspection.
What it builds (`Route`, `Handler`) is defined in `routes`.

Beside routes and pages, a tree may hold:

    layout.py      Layout(children, request): wraps every page at and below it
    not_found.py   NotFound(request): the HTML 404 for unmatched paths below it
    error.py       Error(error, request): the HTML 500 for what fails below it
    proxy.py       proxy(request) or proxy(request, handle), at the root only:
                   runs before routing (where its `config` matcher says)

Route files are imported by path, as modules of a private package of the
tree's own (`_microroute_tree_1.api.products.%route`: see `packages`), never
under the user's own package names.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import types
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from . import matcher, packages, rules, segments
from .errors import RouteError
from .routes import (
    METHODS,
    Handler,
    NotFoundPage,
    Proxy,
    RoutableFile,
    Route,
    RouteKind,
    Tree,
    make_route,
)
from .segments import Segment

_SORTED_METHODS = tuple(sorted(METHODS))  # as `Route.methods` lists them
FILES = {"route.py": RouteKind.ROUTE, "page.py": RouteKind.PAGE}
LAYOUT, NOT_FOUND, ERROR, PROXY = "layout.py", "not_found.py", "error.py", "proxy.py"


def load_tree(app_dir: str | os.PathLike[str]) -> Tree:
    """Read the route tree under `app_dir`; raise `RouteError` if it breaks a rule."""
    root = os.path.realpath(app_dir)
    if os.path.isfile(root):
        raise RouteError(
            f"{root} is a file: App() takes the route folder that holds the page.py and "
            'route.py files, such as App(Path(__file__).parent / "app")'
        )
    if not os.path.isdir(root):
        raise RouteError(f"Route directory not found: {root}")
    with _collector_paused():
        return _load_tree(_Root(root))


# Speed: App() over 1,000 route files (bench_scale's start-up) runs 244 M
# instructions with the collector paused and the tree frozen, 257 M with
# neither, 254 M paused without the freeze (benchmarks/README.md).
@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector off while a tree loads.

    Loading makes tens of thousands of objects that all live as long as the
    app. The collector, which runs after every 700 new objects, would walk
    them again and again and find nothing to free. Instead, once the tree is
    loaded, they go straight to the oldest generation, which the collector
    walks only now and then: `gc.freeze()` then `gc.unfreeze()` moves every
    object there at once, without walking any. (Young objects of the
    program's own go with them, to be collected there if they are garbage.
    When the program has frozen objects of its own, say a server before it
    forks, unfreezing would undo that: the collector then sweeps the
    youngest objects once instead. A nested load leaves the collector as
    the outer one set it.)
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        else:
            gc.collect(0)
        gc.enable()


def _load_tree(root: _Root) -> Tree:
    try:
        routables, extras, problems = _find(root)
        rules.check([routable for routable, _ in routables], problems)
        layouts = {
            source.folders: _import_handler(root, source, _LAYOUT)
            for source in extras[LAYOUT]
        }
        errors = {
            source.folders: _import_handler(root, source, _ERROR,
                                            _layouts_above(source.folders, layouts))
            for source in extras[ERROR]
        }
        for folders, layout in layouts.items():
            layout.error = _nearest(folders[:-1], errors) if folders else None
        routes = [_load(root, routable, source, layouts, errors) for routable, source in routables]
        not_found = [_not_found(root, source, layouts, errors) for source in extras[NOT_FOUND]]
        proxy = None
        proxy_path = os.path.join(root.path, PROXY)
        if os.path.isfile(proxy_path):
            proxy = _proxy(root, _Source((), PROXY, proxy_path))
    except BaseException:
        packages.forget(root.package)
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
    return tuple([(segment.kind, segment.name) for segment in route.segments])


class _Source(NamedTuple):
    """A file of the tree, by the folder names that lead to it: ("api", "[id]"), "route.py"."""

    folders: tuple[str, ...]
    filename: str
    path: str  # where it is on disk


class _Root:
    """The folder a tree is loaded from, and the private package its modules go in."""

    def __init__(self, path: str) -> None:
        self.path = path  # real, absolute
        self.name = os.path.basename(path)  # "app"
        self.package = packages.new_tree(path)

    def shown(self, source: _Source) -> str:
        """A file as the user sees it: `app/api/products/route.py`."""
        return "/".join((self.name, *source.folders, source.filename))


def _find(
    root: _Root,
) -> tuple[list[tuple[RoutableFile, _Source]], dict[str, list[_Source]], list[str]]:
    """The routable files (each placed in the URL space), the extra files by
    name, and the problems found on the way (links that cannot be followed,
    malformed folder names).

    A symlink is followed as Next.js users expect: a linked folder is walked
    like a folder, a linked `route.py` read like a file. A link that leads
    back to a folder above it (a loop), or nowhere, is a problem naming it.
    """
    extras: dict[str, list[_Source]] = {LAYOUT: [], NOT_FOUND: [], ERROR: []}
    broken_links: list[str] = []

    # `above`: the real paths of the folders on the way to `folder`, itself
    # last. A plain subfolder's real path is its parent's and its name: only
    # a link is resolved. Speed: os.path.realpath on every folder instead
    # takes App() over 1,000 route files from 244 M instructions to 495 M.
    def visit(folder: str, folders: tuple[str, ...], above: tuple[str, ...]) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                name = entry.name
                if entry.is_dir(follow_symlinks=False):
                    # Private folders are pruned before anything below them is looked at.
                    if not segments.is_private(name):
                        visit(entry.path, (*folders, name), (*above, f"{above[-1]}/{name}"))
                elif entry.is_symlink():  # the rare case: told without a stat, as is_dir
                    follow(entry, folders, above)
                elif (name in FILES or name in extras) and entry.is_file():
                    sources.append(_Source(folders, name, entry.path))

    def follow(entry: os.DirEntry[str], folders: tuple[str, ...], above: tuple[str, ...]) -> None:
        name = entry.name
        if segments.is_private(name):
            return  # never looked at, linked or not
        try:
            is_dir = entry.is_dir()
        except OSError:  # ELOOP: links that lead only to each other (or to themselves)
            if not name.startswith("."):  # (hidden: as below)
                broken_links.append(
                    f"The symlink {root.shown(_Source(folders, name, ''))} -> "
                    f"{os.readlink(entry.path)} leads round in a loop of links: it has no target."
                )
            return
        if is_dir:
            target = os.path.realpath(entry.path)
            if target in above:
                broken_links.append(
                    f"The symlink {root.shown(_Source(folders, name, ''))} -> "
                    f"{os.readlink(entry.path)} leads back to a folder above it: "
                    "it would be walked round and round. Link to another folder, or copy it."
                )
            else:
                visit(entry.path, (*folders, name), (*above, target))
        elif entry.is_file():
            if name in FILES or name in extras:
                sources.append(_Source(folders, name, entry.path))
        elif not name.startswith(".") and not os.path.exists(entry.path):
            # (A hidden one may be an editor's lock file: Emacs links `.#route.py` to nowhere.)
            broken_links.append(
                f"The symlink {root.shown(_Source(folders, name, ''))} -> "
                f"{os.readlink(entry.path)} leads nowhere: its target does not exist."
            )

    sources: list[_Source] = []
    visit(root.path, (), (root.path,))
    # So that the order, and every message built from it, is the same on
    # every filesystem. (By path: one string compare, where the folder
    # tuples would be compared name by name.)
    sources.sort(key=lambda source: source.path)
    problems = sorted(broken_links)
    routables: list[tuple[RoutableFile, _Source]] = []
    for source in sources:
        if source.filename in FILES:
            try:
                url = _url_segments(root, source)
            except RouteError as error:  # told with the tree's other problems
                problems.append(str(error))
                continue
            routable = RoutableFile(root.shown(source), FILES[source.filename], url)
            routables.append((routable, source))
        else:
            extras[source.filename].append(source)
    return routables, extras, problems


def _url_segments(root: _Root, source: _Source) -> tuple[Segment, ...]:
    """What the folders above a file add to the URL (groups add nothing).

    A malformed folder name is a `RouteError` naming the route as Next.js
    would write it, and the file: `Parameter names cannot be empty in route
    "/x/[]". (app/x/[]/route.py)`.
    """
    parsed = []
    for name in source.folders:
        try:
            segment = segments.parse(name)
        except segments.FolderNameError as error:
            route = _route_as_written(source.folders)
            raise RouteError(f"{error.in_route(route)} ({root.shown(source)})") from None
        if segment is not None:
            parsed.append(segment)
    return tuple(parsed)


def _route_as_written(folders: tuple[str, ...]) -> str:
    """The route as Next.js writes it in a message: the folder names, groups left
    out, a malformed one kept as it is (`/shop/[]`)."""
    kept = []
    for folder in folders:
        try:
            if segments.parse(folder) is None:
                continue
        except segments.FolderNameError:
            pass
        kept.append(folder)
    return "/" + "/".join(kept)


ByFolder = dict[tuple[str, ...], Handler]  # a folder (by its names) -> its layout, or error page


def _load(
    root: _Root, routable: RoutableFile, source: _Source, layouts: ByFolder, errors: ByFolder
) -> Route:
    file = routable.file
    namespace = vars(_import(root, source))
    if routable.kind is RouteKind.PAGE:
        page = _handler(_required(namespace, "Page", file), "Page", file, _HANDLER,
                        _layouts_above(source.folders, layouts))
        page.error = _nearest(source.folders, errors)
        handlers = {"GET": page}
    else:
        handlers = {}
        for method in _SORTED_METHODS:  # so that the handlers come out sorted
            if method in namespace:
                function = _function(namespace, method, file)
                if function is not None:
                    handlers[method] = _handler(function, method, file, _HANDLER)
        if not handlers:
            raise RouteError(
                f"{file} defines no handler: a route file exports functions named "
                f"after HTTP methods ({', '.join(METHODS)}).{_lowercase_hint(namespace, METHODS)}"
            )
    return make_route(routable.pattern, file, routable.kind, routable.segments, handlers)


class _Signature(NamedTuple):
    """The parameters a function of the tree may take, as the loader checks them."""

    # How a refusal names the function: "a handler" (a method, or Page), or
    # the one function a layout, error, not-found or proxy file exports
    # ("Layout"), which is the name `_import_handler` looks for.
    who: str
    arities: tuple[int, ...]  # how many positional parameters it may take
    shown: str  # as a refusal shows them: "(children, request)"


_HANDLER = _Signature("a handler", (0, 1, 2), "(), (request) or (request, params)")  # and Page
_LAYOUT = _Signature("Layout", (1, 2), "(children, request)")
_ERROR = _Signature("Error", (1, 2), "(error) or (error, request)")
_NOT_FOUND = _Signature("NotFound", (0, 1), "(request)")
_PROXY = _Signature("proxy", (0, 1, 2), "(request) or (request, handle)")


def _import_handler(
    root: _Root, source: _Source, signature: _Signature, layouts: tuple[Handler, ...] = ()
) -> Handler:
    """Import a `layout.py`, `error.py` or `not_found.py` and read the one
    function it must export (`Layout`, `Error`, `NotFound`)."""
    file = root.shown(source)
    name = signature.who
    function = _required(vars(_import(root, source)), name, file)
    return _handler(function, name, file, signature, layouts)


def _proxy(root: _Root, source: _Source) -> Proxy:
    """A `proxy.py`: as `_import_handler`, with its `config` read too."""
    file = root.shown(source)
    namespace = vars(_import(root, source))
    function = _required(namespace, "proxy", file)
    handler = _handler(function, "proxy", file, _PROXY)
    return Proxy(handler, matcher.from_config(namespace.get("config"), file))


def _not_found(
    root: _Root, source: _Source, layouts: ByFolder, errors: ByFolder
) -> NotFoundPage:
    above = _layouts_above(source.folders, layouts)
    handler = _import_handler(root, source, _NOT_FOUND, above)
    handler.error = _nearest(source.folders, errors)
    return NotFoundPage(_url_segments(root, source), handler)


def _check_not_found(pages: list[NotFoundPage]) -> None:
    by_place: dict[str, list[str]] = {}
    for page in pages:
        place = segments.to_pattern(page.segments)
        by_place.setdefault(place, []).append(page.handler.file)
    for place, files in sorted(by_place.items()):
        if len(files) > 1:
            raise RouteError(f"Conflicting not-found pages at {place}: {', '.join(sorted(files))}")


def _layouts_above(folders: tuple[str, ...], layouts: ByFolder) -> tuple[Handler, ...]:
    """The layouts of a folder and of every folder above it, outermost first."""
    above = (folders[:depth] for depth in range(len(folders) + 1))
    return tuple(layouts[folder] for folder in above if folder in layouts)


def _nearest(folders: tuple[str, ...], errors: ByFolder) -> Handler | None:
    """The error page of a folder, or else of the nearest folder above it that has one."""
    for depth in range(len(folders), -1, -1):
        error = errors.get(folders[:depth])
        if error is not None:
            return error
    return None


_TEACHING = {
    "Page": "a page file exports a function named Page that returns HTML.",
    "Layout": "a layout file exports a function named Layout that wraps its children in HTML.",
    "NotFound": "a not-found file exports a function named NotFound that returns HTML.",
    "Error": "an error file exports a function named Error(error, request) that returns HTML.",
    "proxy": "a proxy file exports a function named proxy(request) that returns a Response "
    "or None, or proxy(request, handle) that returns handle(request)'s Response or its own.",
}

Namespace = dict[str, Any]  # a module's globals: `vars(module)`


def _required(namespace: Namespace, name: str, file: str) -> Callable[..., Any]:
    function = _function(namespace, name, file)
    if function is None:
        hint = _lowercase_hint(namespace, (name,))
        raise RouteError(f"{file} defines no {name}: {_TEACHING[name]}{hint}")
    return function


def _function(namespace: Namespace, name: str, file: str) -> Callable[..., Any] | None:
    # The module's own names, as `from route import GET` sees them.
    value = namespace.get(name)
    if value is not None and not callable(value):
        raise RouteError(f"{name} in {file} must be a function, not {type(value).__name__}.")
    return value


def _lowercase_hint(namespace: Namespace, expected: tuple[str, ...]) -> str:
    # The likely mistake: `def get()` where `def GET()` was meant.
    wanted = {name.lower(): name for name in expected}
    for name in sorted(namespace):
        if name.lower() in wanted and name != wanted[name.lower()] and callable(namespace[name]):
            right = wanted[name.lower()]
            return f" Found '{name}': names are case-sensitive, so write 'def {right}'."
    return ""


def _handler(
    function: Callable[..., Any],
    name: str,
    file: str,
    signature: _Signature,
    layouts: tuple[Handler, ...] = (),
) -> Handler:
    code = _plain_code(function)
    # Speed: the common case, read straight from the code object: with
    # inspect.signature for every handler, App() over 1,000 route files
    # runs 308 M instructions instead of 244 M.
    if code is not None:
        flags = code.co_flags
        all_positional = not (code.co_kwonlyargcount or flags & _VARIADIC)
        arity = code.co_argcount if all_positional else None
        is_async = bool(flags & inspect.CO_COROUTINE)
    else:
        arity = _arity_from_signature(function, name, file)
        is_async = inspect.iscoroutinefunction(function)
    if arity not in signature.arities:
        raise RouteError(
            f"{name}{inspect.signature(function)} in {file}: {signature.who} takes "
            f"{signature.shown}, passed by position."
        )
    return Handler(function, arity, is_async, name, file, layouts)


_VARIADIC = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS


def _plain_code(function: Callable[..., Any]) -> types.CodeType | None:
    """The code object of a plain `def` function, which says all that
    `inspect.signature` would, much faster; None for anything else (a
    decorated function, a callable object), which `inspect` must read."""
    if type(function) is types.FunctionType and not hasattr(function, "__wrapped__"):
        return function.__code__
    return None


def _arity_from_signature(function: Callable[..., Any], name: str, file: str) -> int | None:
    """How many parameters a callable takes, if they are all positional; None if not."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError) as error:
        raise RouteError(f"Cannot read the signature of {name} in {file}: {error}") from error
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    parameters = signature.parameters.values()
    if all(parameter.kind in positional for parameter in parameters):
        return len(parameters)
    return None


def _import(root: _Root, source: _Source) -> types.ModuleType:
    name = packages.module_name(root.package, source.folders, source.filename)
    try:
        return packages.import_file(name, source.path)
    except Exception as error:
        file = root.shown(source)
        raise RouteError(f"{file} failed to import: {type(error).__name__}: {error}") from error
