"""`microroute.packages`: route files imported by path, into private packages.

Each `App` imports its tree under a package of its own
(`_microroute_tree_1.api.products.%route`), so relative imports reach the
helpers beside a route, a user's own package is never touched, and two apps
never share a module (README, "Decisions where the contract is silent":
route modules). The module's own functions first, then the same through `App`.
"""

from __future__ import annotations

import importlib
import pickle
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from helpers import MINIMAL_ROUTE, get_json, json_route, module_of, routable, write_tree
from microroute import App, RouteError, packages

Tree = Callable[[dict[str, str]], Path]


def tree_modules() -> set[str]:
    return {name for name in sys.modules if name.startswith("_microroute_tree_")}


def refused(app_dir: Path) -> RouteError:
    with pytest.raises(RouteError) as caught:
        App(app_dir)
    return caught.value


# -- The module's own functions ------------------------------------------------------


def test_each_tree_gets_a_package_never_used_before() -> None:
    first, second = packages.new_tree("/srv/one/app"), packages.new_tree("/srv/one/app")
    try:
        assert first != second
        assert first.startswith("_microroute_tree_") and second.startswith("_microroute_tree_")
        # First on the path, so that no other finder answers for a folder of a tree.
        assert sys.meta_path[0] is packages._FINDER
    finally:
        packages.forget(first)
        packages.forget(second)


@pytest.mark.parametrize(
    ("folders", "filename", "module"),
    [
        ((), "route.py", "P.%route"),
        (("api", "products"), "route.py", "P.api.products.%route"),
        (("blog", "[slug]"), "page.py", "P.blog.[slug].%page"),
        (("v1.0",), "route.py", "P.v1%2E0.%route"),  # a dot would split the name
        (("a%2Eb",), "route.py", "P.a%252Eb.%route"),  # "%" first: never `v1.0`'s name
        (("route",), "route.py", "P.route.%route"),  # a folder `route/` is not `route.py`
        (("(shop)", "_lib"), "layout.py", "P.(shop)._lib.%layout"),
    ],
)
def test_a_file_of_the_tree_has_a_module_name_no_other_file_has(
    folders: tuple[str, ...], filename: str, module: str
) -> None:
    assert packages.module_name("P", folders, filename) == module


def test_import_file_runs_the_file_as_the_module_named(tmp_path: Path) -> None:
    path = tmp_path / "route.py"
    path.write_text("VALUE = __name__\n")
    try:
        module = packages.import_file("_microroute_test_import.%route", str(path))
        assert module is sys.modules["_microroute_test_import.%route"]
        assert (module.VALUE, module.__file__) == ("_microroute_test_import.%route", str(path))
        assert module.__spec__ is not None and module.__spec__.origin == str(path)
        assert module.__package__ == "_microroute_test_import"
    finally:
        sys.modules.pop("_microroute_test_import.%route", None)


def test_a_file_that_raises_is_not_left_in_sys_modules(tmp_path: Path) -> None:
    path = tmp_path / "route.py"
    path.write_text("raise LookupError('no database')\n")
    with pytest.raises(LookupError, match="no database"):
        packages.import_file("_microroute_test_import.%route", str(path))
    assert "_microroute_test_import.%route" not in sys.modules


def test_forget_drops_a_trees_modules_and_no_other(tmp_path: Path) -> None:
    package = packages.new_tree(str(tmp_path))
    neighbour = package + "0"  # `_microroute_tree_1` and `_microroute_tree_10`
    names = [package, f"{package}.api", f"{package}.api.%route", neighbour, f"{neighbour}.x"]
    for name in names:
        sys.modules[name] = types.ModuleType(name)
    try:
        packages.forget(package)
        assert [name for name in names if name in sys.modules] == [neighbour, f"{neighbour}.x"]
        # And its folder is no longer found as a package.
        assert packages._FINDER.find_spec(f"{package}.api") is None
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_the_finder_makes_a_bare_package_of_a_folder_of_a_tree_and_nothing_else(
    tmp_path: Path,
) -> None:
    app_dir = write_tree(tmp_path, {"api/_lib/db.py": "", "api/x/route.py": ""})
    package = packages.new_tree(str(app_dir))
    try:
        spec = packages._FINDER.find_spec(f"{package}.api._lib")
        assert spec is not None and spec.submodule_search_locations == [
            str(app_dir / "api" / "_lib")
        ]
        # A module beside the route files is left to the standard finder;
        # a name outside every tree is some other finder's.
        assert packages._FINDER.find_spec(f"{package}.api._lib.db") is None
        assert packages._FINDER.find_spec("json") is None
    finally:
        packages.forget(package)

# -- Importing route files ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "cause", "as_told"),
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
    tree: Tree, source: str, cause: type[Exception], as_told: str, file: str
) -> None:
    error = refused(tree({**routable("ok/route.py"), file: source}))
    assert str(error).startswith(f"app/{file} failed to import: {as_told}")
    assert isinstance(error.__cause__, cause)


def test_a_helper_that_fails_to_import_names_the_route_file(tree: Tree) -> None:
    error = refused(tree({
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
    routes = App(tree({
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
    [first], [second] = App(app_dir).routes, App(app_dir).routes
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
    refused(app_dir)
    assert tree_modules() == before


def test_a_tree_refused_by_a_rule_imports_nothing(tree: Tree, tmp_path: Path) -> None:
    log = tmp_path / "imports.log"
    source = f"with open({str(log)!r}, 'a') as log:\n    log.write('imported\\n')\n"
    before = tree_modules()
    refused(tree({
        "a/route.py": source + MINIMAL_ROUTE,
        **routable("b/[id]/route.py", "b/[slug]/route.py"),
    }))
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
