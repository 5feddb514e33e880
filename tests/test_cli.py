"""The `microroute` command, run for real as a subprocess (README, "The command line").

    microroute routes TARGET    the route table, `File | Becomes | Returns`, in match order
    microroute check TARGET     exit 0 with an OK line, or 1 with the RouteError message
    microroute --version        the version

TARGET is `module:app`, a module (its `app`), or a route folder. Every command
runs as `python -m microroute ...` in a child process, with `PYTHONPATH` holding
the repository. `dev` is tested in test_dev.py, `new` in test_scaffold.py.
"""

from __future__ import annotations

import configparser
import importlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT, SHOP_MODULE, cli_env, project, run_cli, write_tree

DEMO_TABLE = """\
File                           | Becomes                      | Returns
-------------------------------+------------------------------+----------------------------------
app/page.py                    | A web page at /              | HTML
app/about/page.py              | A web page at /about         | HTML
app/api/books/route.py         | An API at /api/books         | Response: GET
app/api/health/route.py        | An API at /api/health        | Response: GET
app/api/hello/route.py         | An API at /api/hello         | Response: GET
app/api/products/route.py      | An API at /api/products      | Response: GET, POST
app/api/products/[id]/route.py | An API at /api/products/[id] | Response: DELETE, GET, PATCH, PUT
app/products/page.py           | A web page at /products      | HTML
public/favicon.ico             | A file at /favicon.ico       | the file: image/x-icon
public/products.js             | A file at /products.js       | the file: text/javascript
public/styles.css              | A file at /styles.css        | the file: text/css
"""

PAGE = "def Page():\n    return '<h1>hi</h1>'\n"
ROUTE = "from microroute import Response\n\ndef GET():\n    return Response('x')\n"

SHOP = {
    # Written in an order unlike the match order: the table must not follow it.
    "docs/[[...slug]]/page.py": PAGE,
    "blog/[...slug]/page.py": PAGE,
    "api/products/[id]/route.py": ROUTE + (
        "\ndef PUT():\n    return Response('x')\n\ndef DELETE():\n    return Response('x')\n"
    ),
    "api/products/featured/route.py": ROUTE,
    "api/products/route.py": ROUTE + "\ndef POST():\n    return Response('x')\n",
    "(shop)/cart/page.py": PAGE,
    "about/page.py": PAGE,
    "page.py": PAGE,
    "_lib/helpers.py": "X = 1\n",
    "_old/[id]/route.py": ROUTE,  # private: never listed
}

SHOP_TABLE = """\
File                               | Becomes                          | Returns
-----------------------------------+----------------------------------+---------------------------
app/page.py                        | A web page at /                  | HTML
app/about/page.py                  | A web page at /about             | HTML
app/api/products/route.py          | An API at /api/products          | Response: GET, POST
app/api/products/featured/route.py | An API at /api/products/featured | Response: GET
app/api/products/[id]/route.py     | An API at /api/products/[id]     | Response: DELETE, GET, PUT
app/blog/[...slug]/page.py         | A web page at /blog/[...slug]    | HTML
app/(shop)/cart/page.py            | A web page at /cart              | HTML
app/docs/[[...slug]]/page.py       | A web page at /docs/[[...slug]]  | HTML
"""

# -- routes ----------------------------------------------------------------------


def test_routes_prints_the_demo_table() -> None:
    result = run_cli("routes", "demo_app:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout == DEMO_TABLE
    assert result.stderr == ""


def test_routes_works_from_any_folder_with_the_project_on_the_path(tmp_path: Path) -> None:
    result = run_cli("routes", "demo_app:app", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, DEMO_TABLE)


@pytest.mark.parametrize("target", ["shop:app", "shop", "app", "./app/", "{root}/app"])
def test_routes_on_every_kind_of_target(tmp_path: Path, target: str) -> None:
    # The project folder is importable because it is the working directory (as
    # with gunicorn): no PYTHONPATH entry for it.
    root = project(tmp_path / "proj", SHOP)
    result = run_cli("routes", target.format(root=root), cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == SHOP_TABLE


def test_routes_on_a_package_without_attribute(tmp_path: Path) -> None:
    package = tmp_path / "lib" / "catalog"
    write_tree(package, SHOP)
    (package / "__init__.py").write_text(textwrap.dedent(SHOP_MODULE))
    # Run from elsewhere: `catalog` is then only a module name, not a folder here.
    result = subprocess.run(
        [sys.executable, "-m", "microroute", "routes", "catalog"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**cli_env(), "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp_path / 'lib'}"},
    )
    assert (result.returncode, result.stdout) == (0, SHOP_TABLE), result.stderr


def test_routes_on_a_package_in_the_working_directory_reads_its_app() -> None:
    result = run_cli("routes", "demo_app")
    assert (result.returncode, result.stdout) == (0, DEMO_TABLE)


def test_routes_is_deterministic(tmp_path: Path) -> None:
    first = project(tmp_path / "one", SHOP)
    # The same tree written in the reverse order, in another folder.
    second = project(tmp_path / "two", dict(reversed(SHOP.items())))
    outputs = [run_cli("routes", "app", cwd=root).stdout for root in (first, first, second)]
    assert outputs == [SHOP_TABLE] * 3


def test_routes_on_an_empty_tree_prints_the_header(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    result = run_cli("routes", "app", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines()[0].split(" | ") == ["File", "Becomes", "Returns"]
    assert len(result.stdout.splitlines()) == 2


# -- check -----------------------------------------------------------------------


@pytest.mark.parametrize("target", ["shop:app", "shop", "app"])
def test_check_passes_a_valid_tree(tmp_path: Path, target: str) -> None:
    root = project(tmp_path, SHOP)
    result = run_cli("check", target, cwd=root)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("OK: 8 routes in ")  # the private _old/[id] is not counted
    assert line.endswith("app")  # the route folder it checked
    assert result.stderr == ""


def test_check_passes_the_demo() -> None:
    result = run_cli("check", "demo_app:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 8 routes in ")


BROKEN = {
    "page-and-route": (
        {"x/page.py": PAGE, "x/route.py": ROUTE},
        "RouteError: Conflicting route and page at /x: app/x/page.py, app/x/route.py",
    ),
    "import-error": (
        {"api/route.py": "import no_such_module_xyz\n" + ROUTE},
        "RouteError: app/api/route.py failed to import: ModuleNotFoundError: "
        "No module named 'no_such_module_xyz'",
    ),
    "syntax-error": (
        {"api/route.py": "def GET(:\n"},
        "RouteError: app/api/route.py failed to import: SyntaxError",
    ),
    "lowercase-handler": (
        {"api/route.py": "def get():\n    return None\n"},
        "Found 'get': names are case-sensitive, so write 'def GET'.",
    ),
    "ambiguous": (
        {"blog/[id]/page.py": PAGE, "blog/[slug]/page.py": PAGE},
        'Ambiguous route pattern "/blog/[*]"',
    ),
}


@pytest.mark.parametrize("command", ["check", "routes"])
@pytest.mark.parametrize("target", ["app", "shop:app"])
@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_tree_exits_1_with_the_route_error(
    tmp_path: Path, command: str, target: str, case: str
) -> None:
    files, message = BROKEN[case]
    root = project(tmp_path, {"page.py": PAGE, **files})
    result = run_cli(command, target, cwd=root)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stderr.startswith("RouteError: ")
    assert "Traceback" not in result.stderr  # a message for CI logs, not a crash
    assert result.stdout == ""


# -- bad targets -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("no_such_module_xyz:app", "no_such_module_xyz"),
        ("no_such_module_xyz", "no_such_module_xyz"),
        ("shop:VERSION", "shop:VERSION is a str, not a microroute App"),
        ("shop:nothing", "nothing"),
        ("no/such/folder", "no/such/folder"),
        ("shop.py", "shop.py is a file: name its module and app (shop:app)"),
    ],
)
@pytest.mark.parametrize("command", ["check", "routes"])
def test_a_bad_target_exits_non_zero_with_a_message(
    tmp_path: Path, command: str, target: str, expected: str
) -> None:
    result = run_cli(command, target, cwd=project(tmp_path, SHOP))
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("source", "expected"),
    [("def broken(:\n", "SyntaxError"), ("raise ValueError('no config')\n", "no config")],
)
def test_a_module_that_fails_to_import_exits_non_zero(
    tmp_path: Path, source: str, expected: str
) -> None:
    (tmp_path / "broken.py").write_text(source)
    result = run_cli("check", "broken:app", cwd=tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr
    assert result.stdout == ""


# -- help, usage, the console script -----------------------------------------------


def test_version_prints_the_version() -> None:
    from microroute import __version__

    result = run_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"microroute {__version__}\n", ""
    )


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: microroute")
    for command in ("new", "routes", "check", "dev", "--version"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "options"),
    [("new", ["name"]), ("routes", ["target"]), ("check", ["target", "--strict"]),
     ("dev", ["target", "--host", "--port"])],
)
def test_each_command_has_help(command: str, options: list[str]) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: microroute {command}")
    for word in options:
        assert word in result.stdout


@pytest.mark.parametrize(
    "arguments",
    [[], ["serve", "demo_app:app"], ["routes"], ["dev", "demo_app:app", "--port", "http"]],
    ids=["nothing", "unknown-command", "no-target", "bad-port"],
)
def test_bad_usage_exits_2_with_the_usage(arguments: list[str]) -> None:
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert "usage: microroute" in result.stderr
    assert result.stdout == ""


def test_the_console_script_is_declared() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    scripts = config["options.entry_points"]["console_scripts"].strip().splitlines()
    assert "microroute = microroute.cli:main" in [line.strip() for line in scripts]
    module, _, name = "microroute.cli:main".partition(":")
    assert callable(getattr(importlib.import_module(module), name))


def test_the_classifiers_claim_no_other_framework() -> None:
    # microroute is not a Flask extension (it once said `Framework :: Flask`),
    # and PyPI has no `Framework ::` classifier for it.
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    classifiers = config["metadata"]["classifiers"].strip().splitlines()
    assert "Topic :: Internet :: WWW/HTTP :: WSGI :: Application" in classifiers
    assert [line for line in classifiers if line.startswith("Framework ::")] == []


def test_the_installed_console_script_works_where_installed() -> None:
    script = shutil.which("microroute", path=str(Path(sys.executable).parent))
    if script is None:  # not installed in this venv: the `-m` tests above cover the CLI
        result = run_cli("routes", "demo_app:app")
    else:
        result = subprocess.run(
            [script, "routes", "demo_app:app"],
            cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60,
        )
    assert (result.returncode, result.stdout) == (0, DEMO_TABLE), result.stderr


def test_main_returns_the_exit_status_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from microroute.cli import main

    monkeypatch.setattr(sys, "path", list(sys.path))  # main() puts the cwd on it
    assert main(["routes", str(ROOT / "demo_app" / "app")]) == 0
    assert capsys.readouterr().out == DEMO_TABLE
