"""Property tests (hypothesis): the router against a brute-force reference, random
folder names against the loader.

1. Over random *valid* route trees and random paths, `Router.match` agrees with
   the contract read literally: sort the routes in Next.js's order (per segment,
   static < `[x]` < `[...x]` < `[[...x]]`), and the first one that matches the
   whole path wins, with the same params.
2. Whatever the folder names, `App(...)` loads or raises `RouteError`: never any
   other exception.

(Random requests against the demo app: test_properties_requests.py.)

Each example writes its tree to a fresh `tempfile.TemporaryDirectory()`: hypothesis
runs many examples per test, and pytest's `tmp_path` is one folder per test.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from helpers import write_tree
from microroute import App, RouteError
from microroute.loader import load_tree
from microroute.router import Router

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# -- 1. the router against a brute-force reference ------------------------------

# The reference's own segment kinds, in Next.js's order of precedence: lower wins.
STATIC, DYNAMIC, CATCH_ALL, OPTIONAL = 0, 1, 2, 3
# Static folder names and the path segment each one matches (`%5F` escapes a "_").
STATIC_FOLDERS = {"a": "a", "b": "b", "%5Fu": "_u"}
PARAM_NAMES = {DYNAMIC: ("id", "slug", "x"), CATCH_ALL: ("rest", "parts"), OPTIONAL: ("opt",)}
ROUTE_SOURCE = "def GET():\n    return None\n"
PAGE_SOURCE = "def Page():\n    return ''\n"


@dataclass(frozen=True)
class RefRoute:
    """One routable file of a generated tree, as the reference sees it."""

    segments: tuple[tuple[int, str], ...]  # (kind, matched text or param name)
    file: str  # "app/(g1)/a/[id0]/route.py", as `Route.file` shows it


def _folder(segment: tuple[int, str]) -> str:
    kind, name = segment
    if kind == STATIC:
        return next(folder for folder, text in STATIC_FOLDERS.items() if text == name)
    return {DYNAMIC: "[{}]", CATCH_ALL: "[...{}]", OPTIONAL: "[[...{}]]"}[kind].format(name)


def _fits(segments: tuple[tuple[int, str], ...], accepted: list[RefRoute]) -> bool:
    """Whether a route can join the tree without breaking a load-time rule."""
    for other in accepted:
        if other.segments == segments:
            return False  # two files at one URL
    if segments:
        prefix, (kind, _) = segments[:-1], segments[-1]
        for other in accepted:
            if not other.segments or other.segments[:-1] != prefix:
                continue
            other_kind = other.segments[-1][0]
            if {kind, other_kind} == {CATCH_ALL, OPTIONAL}:
                return False  # a required and an optional catch-all at one level
        if kind == OPTIONAL and any(other.segments == prefix for other in accepted):
            return False  # a route beside its own optional catch-all
    return all(
        other.segments != (*segments, other.segments[-1])
        or other.segments[-1][0] != OPTIONAL
        for other in accepted
        if other.segments
    )


@st.composite
def valid_trees(draw: st.DrawFn) -> tuple[dict[str, str], list[RefRoute]]:
    """A route tree that satisfies every load-time rule, by construction.

    A parameter's name depends on its position in the tree (its parent's
    segments), so sibling dynamic folders agree; it ends with its depth, so
    no name repeats within a path. Catch-alls come last; groups are sprinkled
    in; private folders hold files that would break the rules if routed.
    """
    names: dict[tuple[Any, ...], str] = {}
    files: dict[str, str] = {}
    routes: list[RefRoute] = []
    for _ in range(draw(st.integers(1, 8))):
        length = draw(st.integers(0, 4))
        segments: list[tuple[int, str]] = []
        for depth in range(length):
            kinds = [STATIC, DYNAMIC] + ([CATCH_ALL, OPTIONAL] if depth == length - 1 else [])
            kind = draw(st.sampled_from(kinds))
            if kind == STATIC:
                segments.append((STATIC, draw(st.sampled_from(sorted(STATIC_FOLDERS.values())))))
                continue
            key = (tuple(segments), kind)
            if key not in names:
                names[key] = draw(st.sampled_from(PARAM_NAMES[kind])) + str(depth)
            segments.append((kind, names[key]))
        if not _fits(tuple(segments), routes):
            continue
        folders = [_folder(segment) for segment in segments]
        if draw(st.booleans()):  # a group folder adds nothing to the URL
            folders.insert(draw(st.integers(0, len(folders))), f"({draw(st.sampled_from('gh'))})")
        filename = draw(st.sampled_from(["route.py", "page.py"]))
        path = "/".join([*folders, filename])
        files[path] = ROUTE_SOURCE if filename == "route.py" else PAGE_SOURCE
        routes.append(RefRoute(tuple(segments), f"app/{path}"))
        if segments and segments[-1][0] >= CATCH_ALL and draw(st.booleans()):
            # Not routed, so allowed below a catch-all.
            files["/".join([*folders, "lib", "helper.py"])] = "VALUE = 1\n"
        if draw(st.integers(0, 3)) == 0:
            # Never routed, so never checked: a catch-all that is not last.
            cut = draw(st.integers(0, len(folders)))
            files["/".join([*folders[:cut], "_old", "[...bad]", "x", "route.py"])] = ROUTE_SOURCE
    return files, routes


def _reference_match(
    routes: list[RefRoute], path: list[str]
) -> tuple[str, dict[str, Any]] | None:
    """The contract, read literally: sort, then the first full-path match wins."""
    for route in sorted(routes, key=lambda route: route.segments):
        params = _match_one(route.segments, path)
        if params is not None:
            return route.file, params
    return None


def _match_one(segments: tuple[tuple[int, str], ...], path: list[str]) -> dict[str, Any] | None:
    params: dict[str, Any] = {}
    for index, (kind, name) in enumerate(segments):
        if kind == STATIC:
            if index >= len(path) or path[index] != name:
                return None
        elif kind == DYNAMIC:
            if index >= len(path):
                return None
            params[name] = path[index]
        else:  # a catch-all: always the last segment
            rest = path[index:]
            if rest:
                params[name] = list(rest)
            elif kind == CATCH_ALL:
                return None  # a required catch-all takes one segment or more
            return params
    return params if len(path) == len(segments) else None


@st.composite
def paths_for(draw: st.DrawFn, routes: list[RefRoute]) -> list[str]:
    """A random path, or one built to match a random route of the tree."""
    text = st.text(max_size=4)
    piece = st.one_of(st.sampled_from([*STATIC_FOLDERS.values(), "%5Fu", "c"]), text)
    if not routes or draw(st.booleans()):
        return draw(st.lists(piece, max_size=5))
    path: list[str] = []
    for kind, name in draw(st.sampled_from(routes)).segments:
        if kind == STATIC:
            path.append(name)
        elif kind == DYNAMIC:
            path.append(draw(piece))
        else:
            path += draw(st.lists(piece, min_size=kind == CATCH_ALL, max_size=3))
    return path


@SETTINGS
@given(data=st.data())
def test_router_agrees_with_the_brute_force_reference(data: st.DataObject) -> None:
    files, routes = data.draw(valid_trees(), label="tree")
    with tempfile.TemporaryDirectory() as scratch:
        app_dir = write_tree(Path(scratch), files)
        loaded = load_tree(app_dir).routes  # a valid tree loads: no RouteError
        assert sorted(route.file for route in loaded) == sorted(route.file for route in routes)
        router = Router(loaded)
        for _ in range(10):
            path = data.draw(paths_for(routes), label="path")
            expected = _reference_match(routes, path)
            found = router.match(list(path))
            actual = None if found is None else (found[0].file, found[1])
            assert actual == expected, f"path {path!r}"


# -- 2. random folder names: loaded, or a RouteError ------------------------------

FILENAMES = ("route.py", "page.py", "layout.py", "not_found.py", "helper.py")
GOOD_SOURCES = {
    "route.py": "from microroute import Response\n\n"
    "def GET(request, params):\n    return Response('x')\n",
    "page.py": "def Page():\n    return '<p>hi</p>'\n",
    "layout.py": "def Layout(children, request):\n    return children\n",
    "not_found.py": "def NotFound():\n    return 'gone'\n",
    "helper.py": "VALUE = 1\n",
}
BAD_SOURCES = (
    "async def POST(request):\n    return None\n",  # fine, in a route
    "def get():\n    return None\n",  # lowercase: a RouteError naming the mistake
    "def GET(a, b, c):\n    return None\n",  # a signature the loader refuses
    "GET = 1\nPage = 'x'\n",  # not functions
    "raise ValueError('boom')\n",  # fails to import
    "import a_module_that_does_not_exist_42\n",
    "from . import helper\n\ndef GET():\n    return None\n",  # a relative import
    "def GET(:\n",  # a syntax error
    "",
)
# Mostly the file's own, valid source, so that folder names decide the outcome.
sources = st.sampled_from([None] * 2 * len(BAD_SOURCES) + list(BAD_SOURCES))
# On Linux a folder name is any bytes: one that is not UTF-8 reaches Python with
# its stray bytes as lone surrogates ("caf\udce9" for b"caf\xe9").
NOT_UTF8 = ["caf\udce9", "\udcff", "x\udc80y"] if sys.platform == "linux" else []
NAME_TOKENS = (
    "[id]", "[...slug]", "[[...slug]]", "(group)", "_private", "%5Fname", "%5f", "[[id]]",
    "[]", "[...]", "[[...]]", "[..id]", "[…id]", "[...…]", "@slot", "(.)x", "(..)", "(...)y",
    "()", "[hello-world]", "[helloworld]", "[[...a]", "[a]]", "[[[a]]]", "[a", "a]",
    "(a)(b)", "[a][b]", "[.a]", "[...a.b]", "_", "%5F", "%", "%ZZ", "%2F", "é", "日本",
    *NOT_UTF8,
)
NAME_CHARS = st.one_of(
    st.sampled_from(list("[]().…@%_-5Fab é.")),
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(["\udce9"] if NOT_UTF8 else ["é"]),
)


def _can_be_a_folder(name: str) -> bool:
    return (
        name not in ("", ".", "..")
        and "/" not in name
        and "\x00" not in name
        and name not in FILENAMES
        and len(os.fsencode(name)) <= 200
    )


folder_names = st.one_of(
    st.sampled_from(NAME_TOKENS),
    st.text(NAME_CHARS, min_size=1, max_size=10),
    st.lists(st.one_of(st.sampled_from(NAME_TOKENS), st.text(NAME_CHARS, max_size=3)),
             min_size=1, max_size=3).map("".join),
).filter(_can_be_a_folder)


def _on_linux(decorator: Any) -> Any:
    return decorator if sys.platform == "linux" else lambda test: test


@SETTINGS
@_on_linux(example(files={(("caf\udce9",), "route.py"): None}))  # see the module's end
@given(
    files=st.dictionaries(
        st.tuples(st.lists(folder_names, max_size=3).map(tuple), st.sampled_from(FILENAMES)),
        sources,
        min_size=1,
        max_size=5,
    )
)
def test_any_folder_names_load_or_raise_a_route_error(
    files: dict[tuple[tuple[str, ...], str], str | None],
) -> None:
    written = {
        "/".join([*folders, name]): GOOD_SOURCES[name] if source is None else source
        for (folders, name), source in files.items()
    }
    with tempfile.TemporaryDirectory() as scratch:
        app_dir = write_tree(Path(scratch), written)
        try:
            app = App(app_dir)
        except RouteError as error:
            assert str(error)  # a message, naming the file(s) and the rule
            return
        # Loaded: every route's table row is readable, and the router answers.
        for route in app.routes:
            assert route.file.startswith("app/") and route.pattern.startswith("/")
        app.router.match(["a", "b"])


# Found by these properties (kept as explicit examples above, so they always run):
#
# - A folder name that is not UTF-8 (Linux allows any bytes: b"caf\xe9") makes
#   `App(...)` raise UnicodeEncodeError from `Router.__init__` (`path.encode()`)
#   instead of a `RouteError` naming the folder.
