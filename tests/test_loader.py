"""`microroute.loader`: the route tree on disk -> `app.routes`.

What the loader reads from each file (handlers, their signatures, `Allow`),
the order it lists routes in, and what it refuses before importing anything
(README, "Mistakes it catches at start-up"; the route table: README,
"Embedding it in an existing app"). How it walks symlinks is in
`test_loader_symlinks.py`; how it imports route files, in `test_packages.py`.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import MINIMAL_PAGE, module_of, refusal, routable, write_tree
from microroute import App, RouteError, loader, segments
from microroute.routes import Route, RouteKind

Tree = Callable[[dict[str, str]], Path]


def only_route(app_dir: Path) -> Route:
    [route] = loader.load_tree(app_dir).routes
    return route


# -- The route table ------------------------------------------------------------


def test_routes_are_listed_in_match_order(tree: Tree) -> None:
    app_dir = tree(routable(
        "[...all]/route.py",
        "[lang]/settings/page.py",
        "[lang]/page.py",
        "docs/[[...path]]/page.py",
        "blog/[...rest]/page.py",
        "blog/[slug]/page.py",
        "(shop)/cart/page.py",
        "api/upload/route.py",
        "api/products/[id]/route.py",
        "api/products/route.py",
        "about/page.py",
        "page.py",
    ))
    assert [route.pattern for route in App(app_dir).routes] == [
        "/",
        "/about",
        "/api/products",
        "/api/products/[id]",
        "/api/upload",
        "/blog/[slug]",
        "/blog/[...rest]",
        "/cart",
        "/docs/[[...path]]",
        "/[lang]",
        "/[lang]/settings",
        "/[...all]",
    ]


def test_match_order_is_static_then_dynamic_then_catch_all_then_optional() -> None:
    def route(*folders: str) -> Route:
        parsed = tuple(segment for segment in map(segments.parse, folders) if segment)
        return types.SimpleNamespace(segments=parsed)  # type: ignore[return-value]

    written = [
        route("[[...rest]]"),
        route("[...rest]"),
        route("[id]", "b"),
        route("[id]", "[x]"),
        route("[id]", "a"),
        route("[id]"),
        route("zebra"),
        route("about", "[[...rest]]"),
        route("about", "team"),
        route(),
    ]
    ordered = sorted(written, key=loader.match_order)
    assert ["/" + "/".join(map(str, r.segments)) for r in ordered] == [
        "/",
        "/about/team",
        "/about/[[...rest]]",
        "/zebra",
        "/[id]",
        "/[id]/a",
        "/[id]/b",
        "/[id]/[x]",
        "/[...rest]",
        "/[[...rest]]",
    ]


def test_each_route_describes_its_file(tree: Tree) -> None:
    app_dir = tree({
        "api/products/route.py": "def POST(request):\n    pass\n\ndef GET():\n    pass\n",
        "api/products/[id]/route.py": (
            "def PUT(): pass\ndef DELETE(): pass\ndef GET(): pass\ndef PATCH(): pass\n"
        ),
        "api/upload/route.py": "def POST(request):\n    pass\n",
        "(shop)/cart/page.py": MINIMAL_PAGE,
    })
    table = [
        (route.pattern, route.file, route.kind, route.methods, route.allow)
        for route in App(app_dir).routes
    ]
    assert table == [
        (
            "/api/products",
            "app/api/products/route.py",
            "route",
            ("GET", "POST"),
            "GET, HEAD, OPTIONS, POST",
        ),
        (
            "/api/products/[id]",
            "app/api/products/[id]/route.py",
            "route",
            ("DELETE", "GET", "PATCH", "PUT"),
            "DELETE, GET, HEAD, OPTIONS, PATCH, PUT",
        ),
        ("/api/upload", "app/api/upload/route.py", "route", ("POST",), "OPTIONS, POST"),
        ("/cart", "app/(shop)/cart/page.py", "page", ("GET",), "GET, HEAD, OPTIONS"),
    ]


def test_a_routes_kind_is_a_route_kind_that_reads_as_its_name(tree: Tree) -> None:
    routes = App(tree(routable("api/route.py", "about/page.py"))).routes
    assert [route.kind for route in routes] == [RouteKind.PAGE, RouteKind.ROUTE]
    assert [(route.kind == name, str(route.kind), f"{route.kind}") for route, name in zip(
        routes, ["page", "route"], strict=True
    )] == [(True, "page", "page"), (True, "route", "route")]


def test_a_route_file_at_the_root_is_the_root_url(tree: Tree) -> None:
    route = only_route(tree(routable("route.py")))
    assert (route.pattern, route.file, route.segments) == ("/", "app/route.py", ())


@pytest.mark.parametrize(
    ("source", "methods", "allow"),
    [
        ("def HEAD(): pass\n", ("HEAD",), "HEAD, OPTIONS"),
        ("def OPTIONS(): pass\ndef GET(): pass\n", ("GET", "OPTIONS"), "GET, HEAD, OPTIONS"),
        ("def GET(): pass\ndef HEAD(): pass\n", ("GET", "HEAD"), "GET, HEAD, OPTIONS"),
        # Only the seven method names are handlers; other functions are the file's own.
        ("def GET(): pass\ndef FOO(): pass\ndef post(): pass\n", ("GET",), "GET, HEAD, OPTIONS"),
    ],
)
def test_methods_are_the_handlers_written_and_allow_completes_them(
    tree: Tree, source: str, methods: tuple[str, ...], allow: str
) -> None:
    route = only_route(tree({"x/route.py": source}))
    assert (route.methods, route.allow) == (methods, allow)


def test_head_falls_back_to_get_and_options_is_answered_by_the_framework(tree: Tree) -> None:
    route = only_route(tree(routable("x/route.py")))
    assert route.handlers["HEAD"] is route.handlers["GET"]
    options = route.handlers["OPTIONS"]
    response = options.function()
    assert (options.arity, response.status, response.headers["Allow"]) == (
        0,
        204,
        "GET, HEAD, OPTIONS",
    )


def test_a_user_options_handler_is_kept(tree: Tree) -> None:
    route = only_route(tree({"x/route.py": "def GET(): pass\ndef OPTIONS(request): pass\n"}))
    assert route.handlers["OPTIONS"].function is module_of(route).OPTIONS


# -- What a file must define ------------------------------------------------------

ROUTE_NEEDS = (
    "app/x/route.py defines no handler: a route file exports functions named after "
    "HTTP methods (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)."
)
PAGE_NEEDS = (
    "app/x/page.py defines no Page: a page file exports a function named Page that returns HTML."
)


@pytest.mark.parametrize(
    ("file", "source", "message"),
    [
        ("route.py", "", ROUTE_NEEDS),
        ("route.py", "from microroute import Response\nVALUE = 1\n", ROUTE_NEEDS),
        ("route.py", "get = 1\n", ROUTE_NEEDS),  # not callable: not a likely handler
        (
            "route.py",
            "def get():\n    pass\n",
            f"{ROUTE_NEEDS} Found 'get': names are case-sensitive, so write 'def GET'.",
        ),
        (
            "route.py",
            "def helper():\n    pass\n\ndef post(request):\n    pass\n",
            f"{ROUTE_NEEDS} Found 'post': names are case-sensitive, so write 'def POST'.",
        ),
        (
            "route.py",
            "def Delete():\n    pass\n",
            f"{ROUTE_NEEDS} Found 'Delete': names are case-sensitive, so write 'def DELETE'.",
        ),
        ("page.py", "HTML = '<h1>Hi</h1>'\n", PAGE_NEEDS),
        (
            "page.py",
            "def page():\n    return '<h1>Hi</h1>'\n",
            f"{PAGE_NEEDS} Found 'page': names are case-sensitive, so write 'def Page'.",
        ),
        (
            "page.py",
            "def PAGE():\n    return '<h1>Hi</h1>'\n",
            f"{PAGE_NEEDS} Found 'PAGE': names are case-sensitive, so write 'def Page'.",
        ),
    ],
)
def test_a_file_without_its_handler_is_refused_naming_the_likely_mistake(
    tree: Tree, file: str, source: str, message: str
) -> None:
    assert refusal(tree({f"x/{file}": source})) == message


@pytest.mark.parametrize(
    ("file", "source", "message"),
    [
        ("route.py", "GET = 1\n", "GET in app/x/route.py must be a function, not int."),
        (
            "route.py",
            "def GET(): pass\nPOST = 'create'\n",
            "POST in app/x/route.py must be a function, not str.",
        ),
        ("page.py", "Page = '<h1>Hi</h1>'\n", "Page in app/x/page.py must be a function, not str."),
    ],
)
def test_a_handler_name_bound_to_a_non_callable_is_refused(
    tree: Tree, file: str, source: str, message: str
) -> None:
    assert refusal(tree({f"x/{file}": source})) == message


# -- Handler signatures -------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "arity"),
    [("", 0), ("request", 1), ("request, params", 2), ("request, /", 1), ("req, p, /", 2)],
)
@pytest.mark.parametrize(("file", "name"), [("route.py", "GET"), ("page.py", "Page")])
def test_a_handler_takes_nothing_request_or_request_and_params(
    tree: Tree, parameters: str, arity: int, file: str, name: str
) -> None:
    route = only_route(tree({f"x/{file}": f"def {name}({parameters}):\n    pass\n"}))
    handler = route.handlers["GET"]
    assert (handler.arity, handler.name, handler.file, handler.is_async) == (
        arity,
        name,
        f"app/x/{file}",
        False,
    )
    assert handler.function is getattr(module_of(route), name)


@pytest.mark.parametrize(
    "parameters",
    [
        "a, b, c",
        "*args",
        "**kwargs",
        "request, *args",
        "request, *, params",
        "*, request",
        "request, params, **extra",
    ],
)
@pytest.mark.parametrize(("file", "name"), [("route.py", "POST"), ("page.py", "Page")])
def test_any_other_signature_is_refused_at_load_time(
    tree: Tree, parameters: str, file: str, name: str
) -> None:
    error = refusal(tree({f"x/{file}": f"def {name}({parameters}):\n    pass\n"}))
    assert error == (
        f"{name}({parameters}) in app/x/{file}: a handler takes (), (request) or "
        "(request, params), passed by position."
    )


@pytest.mark.parametrize(
    ("file", "function", "takes"),
    [
        ("layout.py", "Layout(a, b, c)", "Layout takes (children, request)"),
        ("error.py", "Error()", "Error takes (error) or (error, request)"),
        ("not_found.py", "NotFound(a, b)", "NotFound takes (request)"),
        ("proxy.py", "proxy(a, b, c)", "proxy takes (request) or (request, handle)"),
    ],
)
def test_the_other_files_functions_are_refused_by_name_with_their_own_signature(
    tree: Tree, file: str, function: str, takes: str
) -> None:
    app_dir = tree({**routable("page.py"), file: f"def {function}:\n    pass\n"})
    assert refusal(app_dir) == f"{function} in app/{file}: {takes}, passed by position."


@pytest.mark.parametrize(("file", "name"), [("route.py", "GET"), ("page.py", "Page")])
@pytest.mark.parametrize(("parameters", "arity"), [("", 0), ("request", 1), ("request, p", 2)])
def test_async_handlers_are_accepted_and_marked(
    tree: Tree, file: str, name: str, parameters: str, arity: int
) -> None:
    route = only_route(tree({f"x/{file}": f"async def {name}({parameters}):\n    pass\n"}))
    handler = route.handlers["GET"]
    assert (handler.is_async, handler.arity) == (True, arity)


# -- The garbage collector, paused while a tree loads ----------------------------


def test_loading_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    # The collector is held off while a tree loads (see loader._collector_paused).
    good = write_tree(tmp_path / "good", routable("x/route.py"))
    broken = write_tree(tmp_path / "broken", {"y/route.py": "raise KeyError\n"})
    assert gc.isenabled()
    App(good)
    with pytest.raises(RouteError):
        App(broken)
    assert gc.isenabled()
    gc.disable()
    try:
        App(good)
        assert not gc.isenabled()  # the caller's choice, kept
    finally:
        gc.enable()


def test_a_loaded_tree_goes_to_the_collectors_oldest_generation(tree: Tree) -> None:
    # It lives as long as the app: moved there at once, never walked on the way.
    app = App(tree(routable("x/route.py")))
    handler = app.routes[0].handlers["GET"].function
    assert gc.get_freeze_count() == 0  # moved through the frozen set, and out again
    assert any(found is handler for found in gc.get_objects(generation=2))


def test_loading_never_unfreezes_what_the_program_froze(tree: Tree) -> None:
    # A server may freeze its objects before it forks: they stay frozen.
    app_dir = tree(routable("x/route.py"))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        App(app_dir)
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


# -- The app folder itself ----------------------------------------------------------------


def test_a_missing_app_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-app"
    assert refusal(missing) == f"Route directory not found: {missing.resolve()}"


def test_a_file_given_as_the_app_folder_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text("")
    assert refusal(file) == (
        f"{file.resolve()} is a file: App() takes the route folder that holds the page.py "
        'and route.py files, such as App(Path(__file__).parent / "app")'
    )


def test_an_empty_app_folder_loads_with_no_routes(tmp_path: Path) -> None:
    assert App(write_tree(tmp_path, {})).routes == []


def test_the_app_folder_may_be_given_as_a_string(tree: Tree) -> None:
    app_dir = tree(routable("about/page.py"))
    assert [route.file for route in App(str(app_dir)).routes] == ["app/about/page.py"]
