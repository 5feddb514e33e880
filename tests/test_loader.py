"""`microroute.loader`: the route tree on disk -> `app.routes` (SPEC §3, §4, §7).

What the loader reads from each file (handlers, their signatures, `Allow`), the
order it lists routes in, and how it imports route files: by path, under a
private package per `App`, so relative imports reach colocated helpers and a
user's own package is never touched.
"""

from __future__ import annotations

import gc
import importlib
import pickle
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from helpers import write_tree
from microroute import App, RouteError, loader, segments
from microroute.routes import Route

Tree = Callable[[dict[str, str]], Path]

ROUTE = "def GET():\n    return None\n"
PAGE = "def Page():\n    return '<h1>Hello</h1>'\n"
JSON_VALUE = """
from microroute import Response
{imports}

def GET():
    return Response.json({value})
"""


def routable(*paths: str) -> dict[str, str]:
    """`routable("blog/[id]/page.py", "api/route.py")` -> each file with a minimal handler."""
    return {path: PAGE if path.endswith("page.py") else ROUTE for path in paths}


def json_route(value: str, imports: str = "") -> str:
    """A route file whose GET answers `Response.json(<value>)`, after `imports`."""
    return JSON_VALUE.format(value=value, imports=imports)


def refusal(app_dir: Path) -> RouteError:
    with pytest.raises(RouteError) as caught:
        App(app_dir)
    return caught.value


def only_route(app_dir: Path) -> Route:
    [route] = loader.load_tree(app_dir).routes
    return route


def module_of(route: Route, method: str = "GET") -> types.ModuleType:
    return sys.modules[route.handlers[method].function.__module__]


def tree_modules() -> set[str]:
    return {name for name in sys.modules if name.startswith("_microroute_tree_")}


def get_json(app: App, path: str) -> object:
    response = Client(app).get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


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
        "(shop)/cart/page.py": PAGE,
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
    assert str(refusal(tree({f"x/{file}": source}))) == message


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
    assert str(refusal(tree({f"x/{file}": source}))) == message


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
    assert str(error) == (
        f"{name}({parameters}) in app/x/{file}: a handler takes (), (request) or "
        "(request, params), passed by position."
    )


@pytest.mark.parametrize(("file", "name"), [("route.py", "GET"), ("page.py", "Page")])
@pytest.mark.parametrize(("parameters", "arity"), [("", 0), ("request", 1), ("request, p", 2)])
def test_async_handlers_are_accepted_and_marked(
    tree: Tree, file: str, name: str, parameters: str, arity: int
) -> None:
    route = only_route(tree({f"x/{file}": f"async def {name}({parameters}):\n    pass\n"}))
    handler = route.handlers["GET"]
    assert (handler.is_async, handler.arity) == (True, arity)


# -- Importing route files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "cause", "detail"),
    [
        ("1 / 0\n", ZeroDivisionError, "ZeroDivisionError: division by zero"),
        ("raise ValueError('no DATABASE_URL')\n", ValueError, "ValueError: no DATABASE_URL"),
        (
            "import a_module_that_is_not_installed\n",
            ModuleNotFoundError,
            "ModuleNotFoundError: No module named 'a_module_that_is_not_installed'",
        ),
        ("def GET(:\n    pass\n", SyntaxError, "SyntaxError: "),
    ],
)
@pytest.mark.parametrize("file", ["api/x/route.py", "about/page.py"])
def test_a_file_that_fails_to_import_is_named_and_keeps_its_cause(
    tree: Tree, source: str, cause: type[Exception], detail: str, file: str
) -> None:
    error = refusal(tree({**routable("ok/route.py"), file: source}))
    assert str(error).startswith(f"app/{file} failed to import: {detail}")
    assert isinstance(error.__cause__, cause)


def test_a_helper_that_fails_to_import_names_the_route_file(tree: Tree) -> None:
    error = refusal(tree({
        "api/_lib/db.py": "raise ConnectionError('database is down')\n",
        "api/x/route.py": json_route("1", "from .._lib.db import connect"),
    }))
    assert str(error) == (
        "app/api/x/route.py failed to import: ConnectionError: database is down"
    )
    assert isinstance(error.__cause__, ConnectionError)


def test_each_route_file_is_imported_once(tree: Tree, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    source = (
        f"with open({str(log)!r}, 'a') as log:\n    log.write('imported\\n')\n\n"
        + json_route("'ok'")
    )
    app = App(tree({"api/x/route.py": source}))
    for _ in range(3):
        assert get_json(app, "/api/x") == "ok"
    assert log.read_text() == "imported\n"


@pytest.fixture
def forget_pkg() -> Iterator[None]:
    """Drop the test's own `pkg` package from `sys.modules` afterwards."""
    yield
    for name in [n for n in sys.modules if n == "pkg" or n.startswith("pkg.")]:
        del sys.modules[name]


@pytest.mark.usefixtures("forget_pkg")
def test_route_files_never_replace_the_users_package_attributes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text(
        "from pathlib import Path\n\nfrom microroute import App\n\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    write_tree(tmp_path / "pkg", {"api/x/route.py": json_route("'x'")})
    monkeypatch.syspath_prepend(str(tmp_path))

    pkg = importlib.import_module("pkg")

    assert isinstance(pkg.app, App)
    assert [name for name in sys.modules if name.startswith("pkg.")] == []
    [route] = pkg.app.routes
    assert module_of(route).__name__.startswith("_microroute_tree_")
    assert get_json(pkg.app, "/api/x") == "x"


def test_route_files_reach_colocated_helpers_with_relative_imports(tree: Tree) -> None:
    app = App(tree({
        "api/_lib/db.py": "PRODUCTS = ['Keyboard', 'Mouse']\n",
        "api/products/route.py": json_route("PRODUCTS", "from .._lib.db import PRODUCTS"),
        "api/products/[id]/route.py": json_route("PRODUCTS[0]", "from ..._lib.db import PRODUCTS"),
        "(shop)/_components/nav.py": "NAV = 'Home | Cart'\n",
        "(shop)/cart/route.py": json_route("NAV", "from .._components.nav import NAV"),
        "blog/[slug]/_format.py": "TITLE = 'Blog'\n",
        "blog/[slug]/route.py": json_route("TITLE", "from ._format import TITLE"),
    }))
    assert get_json(app, "/api/products") == ["Keyboard", "Mouse"]
    assert get_json(app, "/api/products/1") == "Keyboard"
    assert get_json(app, "/cart") == "Home | Cart"
    assert get_json(app, "/blog/hello") == "Blog"


def test_a_helper_is_one_module_shared_by_the_routes_of_one_app(tree: Tree) -> None:
    routes = loader.load_tree(tree({
        "api/_lib/db.py": "PRODUCTS = []\n",
        "api/a/route.py": json_route("PRODUCTS", "from .._lib.db import PRODUCTS"),
        "api/b/route.py": json_route("PRODUCTS", "from .._lib.db import PRODUCTS"),
    })).routes
    first, second = (module_of(route) for route in routes)
    assert first is not second
    assert first.PRODUCTS is second.PRODUCTS
    # The helper lives in the tree's private package too: `_microroute_tree_N.api._lib.db`.
    helper = sys.modules[first.__name__.removesuffix(".a.%route") + "._lib.db"]
    assert helper.__name__.startswith("_microroute_tree_")
    assert helper.PRODUCTS is first.PRODUCTS
    assert Path(helper.__file__ or "").parts[-3:] == ("api", "_lib", "db.py")


def test_no_init_file_in_the_tree_is_run_and_helper_folders_are_bare_packages(
    tree: Tree, tmp_path: Path
) -> None:
    ran = tmp_path / "ran.log"
    run = f"open({str(ran)!r}, 'a').write(__name__ + '\\n')\n"
    root = tree({
        "__init__.py": run,
        "api/__init__.py": run,
        "api/_lib/__init__.py": run + "CONNECT = 'from the init file'\n",
        "api/_lib/db.py": "CONNECT = 'from db.py'\n",
        "api/x/__init__.py": run,
        "api/x/route.py": json_route("CONNECT", "from .._lib.db import CONNECT"),
    })
    app = App(root)
    assert get_json(app, "/api/x") == "from db.py"
    assert not ran.exists()
    package = sys.modules[module_of(app.routes[0]).__name__.removesuffix(".x.%route") + "._lib"]
    assert package.__path__ == [str(root.resolve() / "api" / "_lib")]
    assert not hasattr(package, "CONNECT")


def test_packages_are_made_only_when_an_import_asks_for_them(tree: Tree) -> None:
    before = tree_modules()
    app = App(tree({
        "a/b/route.py": json_route("1"),
        "c/d/route.py": json_route("HELPER", "from .._lib.h import HELPER"),
        "c/_lib/h.py": "HELPER = 2\n",
    }))
    package = module_of(app.routes[0]).__name__.split(".")[0]
    made = {name.removeprefix(package) for name in tree_modules() - before}
    # Both route modules; the packages their relative import walked through,
    # and the helper; nothing for a/ and a/b/, which no import asked for.
    assert made == {"", ".c", ".c._lib", ".c._lib.h", ".a.b.%route", ".c.d.%route"}


def test_objects_of_classes_from_route_files_pickle_and_unpickle(tree: Tree) -> None:
    # pickle finds a class by its module's name, importing the packages above
    # it: the finder makes them even though no relative import asked first.
    app = App(tree({"x/route.py": (
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class Item:\n    name: str\n"
        "def GET():\n    pass\n"
    )}))
    item = module_of(app.routes[0]).Item("keyboard")
    assert pickle.loads(pickle.dumps(item)) == item


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


def test_two_apps_over_two_trees_never_share_a_module(tmp_path: Path) -> None:
    def app_named(name: str) -> App:
        return App(write_tree(tmp_path / name, {
            "api/_lib/db.py": f"NAME = {name!r}\n",
            "api/x/route.py": json_route("NAME", "from .._lib.db import NAME"),
        }))

    one, two = app_named("one"), app_named("two")
    module_one, module_two = module_of(one.routes[0]), module_of(two.routes[0])
    assert module_one is not module_two
    assert module_one.__name__ != module_two.__name__
    assert (module_one.NAME, module_two.NAME) == ("one", "two")
    assert (get_json(one, "/api/x"), get_json(two, "/api/x")) == ("one", "two")


def test_loading_one_tree_twice_gives_fresh_modules(tree: Tree) -> None:
    app_dir = tree({"x/route.py": "STATE = []\n\ndef GET():\n    pass\n"})
    first, second = only_route(app_dir), only_route(app_dir)
    assert module_of(first) is not module_of(second)
    assert module_of(first).STATE is not module_of(second).STATE


@pytest.mark.parametrize(
    "broken",
    [
        "raise RuntimeError('broken')\n",
        "from .._lib.missing import NOTHING\n",
        "def GET(a, b, c):\n    pass\n",
        "def get():\n    pass\n",
        "GET = 1\n",
    ],
)
def test_a_failed_load_leaves_no_tree_modules_behind(tree: Tree, broken: str) -> None:
    before = tree_modules()
    app_dir = tree({
        "_lib/helper.py": "VALUE = 1\n",
        "a/route.py": json_route("VALUE", "from .._lib.helper import VALUE"),  # loads first
        "z/route.py": broken,
    })
    refusal(app_dir)
    assert tree_modules() == before


def test_a_tree_refused_by_a_rule_imports_nothing(tree: Tree, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    source = f"with open({str(log)!r}, 'a') as log:\n    log.write('imported\\n')\n" + ROUTE
    before = tree_modules()
    refusal(tree({"a/route.py": source, "b/[id]/route.py": ROUTE, "b/[slug]/route.py": ROUTE}))
    assert not log.exists()
    assert tree_modules() == before


# -- Folder names that are not Python identifiers -------------------------------------


def test_folders_with_dots_and_spaces_load_and_serve(tree: Tree) -> None:
    app = App(tree({
        "v1.0/route.py": json_route("'v1.0'"),
        "v1.0/_shared.py": "USERS = {'7': 'Ada'}\n",
        "v1.0/users/[id]/route.py": json_route("USERS['7']", "from ..._shared import USERS"),
        "hello world/page.py": "def Page():\n    return '<h1>Hello, world</h1>'\n",
        "files/report.v2.final/route.py": json_route("'report'"),
    }))
    assert [route.pattern for route in app.routes] == [
        "/files/report.v2.final",
        "/hello world",
        "/v1.0",
        "/v1.0/users/[id]",
    ]
    assert get_json(app, "/v1.0") == "v1.0"
    assert get_json(app, "/v1.0/users/7") == "Ada"
    assert get_json(app, "/files/report.v2.final") == "report"
    page = Client(app).get("/hello%20world")
    assert (page.status_code, page.get_data(as_text=True)) == (200, "<h1>Hello, world</h1>")


@pytest.mark.parametrize(
    ("parent_file", "folder_file"),
    [("api/route.py", "api/route/route.py"), ("page.py", "page/route.py")],
)
def test_a_folder_named_like_a_route_file_keeps_its_relative_imports(
    tree: Tree, parent_file: str, folder_file: str
) -> None:
    # `api/route.py` and the folder `api/route/` must not become one module name.
    folder = folder_file.rsplit("/", 1)[0]
    app = App(tree({
        **routable(parent_file),
        f"{folder}/_geo.py": "DISTANCE = 42\n",
        folder_file: json_route("DISTANCE", "from ._geo import DISTANCE"),
    }))
    assert get_json(app, "/" + folder) == 42


def test_folders_whose_module_names_could_collide_keep_their_own_helpers(tree: Tree) -> None:
    # `a.b` is spelled `a%2Eb` in a module name: a real folder `a%2Eb` must not share it.
    app = App(tree({
        "a.b/_helper.py": "NAME = 'dot'\n",
        "a.b/route.py": json_route("NAME", "from ._helper import NAME"),
        "a%2Eb/_helper.py": "NAME = 'escaped'\n",
        "a%2Eb/route.py": json_route("NAME", "from ._helper import NAME"),
    }))
    names = {route.file: module_of(route).NAME for route in app.routes}
    assert names == {"app/a.b/route.py": "dot", "app/a%2Eb/route.py": "escaped"}


# -- Symlinks -------------------------------------------------------------------------------


def test_a_symlinked_folder_is_routed_like_a_folder(tree: Tree, tmp_path: Path) -> None:
    shared = write_tree(tmp_path / "shared", {
        "route.py": json_route("'docs'"),
        "_text.py": "TEXT = {'7': 'seven'}\n",
        "[id]/route.py": json_route("TEXT[params]", "from .._text import TEXT").replace(
            "def GET():", "def GET(request, params):\n    params = params['id']"),
    })
    app_dir = tree(routable("about/page.py"))
    (app_dir / "docs").symlink_to(shared, target_is_directory=True)  # out of the tree
    (app_dir / "guides").symlink_to(app_dir / "docs")  # a link to a link, inside it
    app = App(app_dir)
    assert [route.file for route in app.routes] == [
        "app/about/page.py", "app/docs/route.py", "app/docs/[id]/route.py",
        "app/guides/route.py", "app/guides/[id]/route.py",
    ]
    assert get_json(app, "/docs") == get_json(app, "/guides") == "docs"
    assert get_json(app, "/docs/7") == get_json(app, "/guides/7") == "seven"


def test_a_symlinked_route_file_is_read_like_a_file(tree: Tree, tmp_path: Path) -> None:
    source = tmp_path / "elsewhere.py"
    source.write_text(json_route("'linked'"))
    app_dir = tree(routable("about/page.py"))
    (app_dir / "api").mkdir()
    (app_dir / "api" / "route.py").symlink_to(source)
    assert get_json(App(app_dir), "/api") == "linked"


@pytest.mark.parametrize("target", [".", "..", "../..", "{app}", "{app}/blog"])
def test_a_symlink_back_up_the_tree_is_refused_naming_it(tree: Tree, target: str) -> None:
    app_dir = tree(routable("blog/x/page.py"))
    link_target = target.format(app=app_dir)
    (app_dir / "blog" / "x" / "loop").symlink_to(link_target, target_is_directory=True)
    assert str(refusal(app_dir)) == (
        f"The symlink app/blog/x/loop -> {link_target} leads back to a folder above it: it "
        "would be walked round and round. Link to another folder, or copy it."
    )


def test_a_loop_through_two_links_is_refused_naming_the_link_that_closes_it(
    tree: Tree, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    app_dir = tree(routable("a/page.py"))
    (app_dir / "a" / "out").symlink_to(outside)
    (outside / "back").symlink_to(app_dir / "a")
    assert str(refusal(app_dir)) == (
        f"The symlink app/a/out/back -> {app_dir / 'a'} leads back to a folder above it: it "
        "would be walked round and round. Link to another folder, or copy it."
    )


@pytest.mark.parametrize(
    "link", ["route.py", "blog/page.py", "blog/layout.py", "proxy.py", "docs", "blog/notes.txt"]
)
def test_a_symlink_to_nothing_is_refused_naming_it(tree: Tree, link: str) -> None:
    # It may have been a route file or a folder of them: a deploy that lost
    # its target should not start with those routes silently gone.
    app_dir = tree(routable("blog/x/page.py"))
    (app_dir / link).symlink_to("/no/such/file")
    assert str(refusal(app_dir)) == (
        f"The symlink app/{link} -> /no/such/file leads nowhere: its target does not exist."
    )


@pytest.mark.parametrize(
    ("links", "refused"),
    [({"self": "self"}, ["self -> self"]), ({"a": "b", "b": "a"}, ["a -> b", "b -> a"])],
    ids=["to-itself", "to-each-other"],
)
def test_links_that_lead_only_to_each_other_are_refused_naming_them(
    tree: Tree, links: dict[str, str], refused: list[str]
) -> None:
    # Following them fails with "Too many levels of symbolic links" (ELOOP):
    # a problem of the tree, named, never an OSError out of App().
    app_dir = tree(routable("blog/page.py"))
    for name, target in links.items():
        (app_dir / "blog" / name).symlink_to(target)
    problems = [
        f"The symlink app/blog/{link} leads round in a loop of links: it has no target."
        for link in refused
    ]
    several = f"The route tree has {len(problems)} problems:\n\n" if len(problems) > 1 else ""
    assert str(refusal(app_dir)) == several + "\n\n".join(problems)


@pytest.mark.parametrize("link", [".#route.py", "blog/.#page.py", "_old", "blog/_drafts"])
def test_a_hidden_or_private_symlink_to_nothing_is_left_alone(tree: Tree, link: str) -> None:
    # `.#route.py` is how Emacs marks a file it is editing: a link to nowhere.
    app_dir = tree(routable("blog/page.py"))
    (app_dir / link).symlink_to("/no/such/file")
    assert [route.file for route in App(app_dir).routes] == ["app/blog/page.py"]


def test_a_private_symlinked_folder_is_never_walked(tree: Tree, tmp_path: Path) -> None:
    broken = write_tree(tmp_path / "broken", {"route.py": "raise RuntimeError('not routed')\n"})
    app_dir = tree(routable("blog/page.py"))
    (app_dir / "_lib").symlink_to(broken)
    assert [route.file for route in App(app_dir).routes] == ["app/blog/page.py"]


def test_broken_symlinks_are_listed_with_the_other_problems(tree: Tree) -> None:
    app_dir = tree(routable("x/[]/route.py", "blog/page.py"))
    (app_dir / "blog" / "route.py").symlink_to("gone.py")
    (app_dir / "blog" / "self").symlink_to(".")
    assert str(refusal(app_dir)) == (
        "The route tree has 3 problems:\n\n"
        "The symlink app/blog/route.py -> gone.py leads nowhere: its target does not exist.\n\n"
        "The symlink app/blog/self -> . leads back to a folder above it: it would be walked "
        "round and round. Link to another folder, or copy it.\n\n"
        'Parameter names cannot be empty in route "/x/[]". (app/x/[]/route.py)'
    )


# -- The app folder itself ----------------------------------------------------------------


def test_a_missing_app_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-app"
    assert str(refusal(missing)) == f"Route directory not found: {missing.resolve()}"


def test_a_file_given_as_the_app_folder_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "app.py"
    file.write_text("")
    assert str(refusal(file)) == (
        f"{file.resolve()} is a file: App() takes the route folder that holds the page.py "
        'and route.py files, such as App(Path(__file__).parent / "app")'
    )


def test_an_empty_app_folder_loads_with_no_routes(tmp_path: Path) -> None:
    assert App(write_tree(tmp_path, {})).routes == []


def test_the_app_folder_may_be_given_as_a_string(tree: Tree) -> None:
    app_dir = tree(routable("about/page.py"))
    assert [route.file for route in App(str(app_dir)).routes] == ["app/about/page.py"]
