"""The `microroute` command, run for real as a subprocess (SPEC §7, the CLI issue).

    microroute routes TARGET    the route table, `File | Becomes | Returns`, in match order
    microroute check TARGET     exit 0 with an OK line, or 1 with the RouteError message
    microroute dev TARGET       werkzeug's development server, picking up every edit

TARGET is `module:app`, a module (its `app`), or a route folder. Every command
runs as `python -m microroute ...` in a child process, with `PYTHONPATH` holding
the repository; the dev server is started on a free port, polled with bounded
waits and always stopped by its PID.
"""

from __future__ import annotations

import configparser
import http.client
import importlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import pytest

from conftest import ROOT, free_port, processes, stop_process, write_tree

T = TypeVar("T")

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

DEMO_TABLE = """\
File                           | Becomes                      | Returns
-------------------------------+------------------------------+------------------------------
app/page.py                    | A web page at /              | HTML
app/about/page.py              | A web page at /about         | HTML
app/api/books/route.py         | An API at /api/books         | JSON: GET
app/api/hello/route.py         | An API at /api/hello         | JSON: GET
app/api/products/route.py      | An API at /api/products      | JSON: GET, POST
app/api/products/[id]/route.py | An API at /api/products/[id] | JSON: DELETE, GET, PATCH, PUT
app/products/page.py           | A web page at /products      | HTML
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
-----------------------------------+----------------------------------+-----------------------
app/page.py                        | A web page at /                  | HTML
app/about/page.py                  | A web page at /about             | HTML
app/api/products/route.py          | An API at /api/products          | JSON: GET, POST
app/api/products/featured/route.py | An API at /api/products/featured | JSON: GET
app/api/products/[id]/route.py     | An API at /api/products/[id]     | JSON: DELETE, GET, PUT
app/blog/[...slug]/page.py         | A web page at /blog/[...slug]    | HTML
app/(shop)/cart/page.py            | A web page at /cart              | HTML
app/docs/[[...slug]]/page.py       | A web page at /docs/[[...slug]]  | HTML
"""

# A project the way a user lays it out: a module beside its route folder.
SHOP_MODULE = """
from pathlib import Path

from microroute import App

app = App(Path(__file__).parent / "app")
VERSION = "1.0"
"""


# -- helpers ---------------------------------------------------------------------


def cli_env(tmp_path: Path | None = None) -> dict[str, str]:
    """The environment of a child process: the repository importable, and
    bytecode written (to a private cache) as it would be on a user's machine."""
    env = {**os.environ}
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(ROOT), env.get("PYTHONPATH", "")) if part
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tmp_path is not None:
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_cli(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m microroute ARGUMENTS`, to completion (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "microroute", *arguments],
        cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60,
    )


def project(root: Path, files: dict[str, str] = SHOP) -> Path:
    """`root/shop.py` (its `app`) over the route folder `root/app`; returns root."""
    write_tree(root, files)
    (root / "shop.py").write_text(textwrap.dedent(SHOP_MODULE))
    return root


def put(path: Path, source: str) -> None:
    """Write a file, making sure its mtime moves even on a coarse-clocked filesystem."""
    before = path.stat().st_mtime_ns if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    if before is not None and path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def until(probe: Callable[[], T], ok: Callable[[T], bool], timeout: float = 15.0) -> T:
    """Call `probe` until `ok` holds of its value (bounded); return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if ok(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout}s")
        time.sleep(0.1)


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
    root = project(tmp_path / "proj")
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
    first = project(tmp_path / "one")
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
    root = project(tmp_path)
    result = run_cli("check", target, cwd=root)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("OK: 8 routes in ")  # the private _old/[id] is not counted
    assert line.endswith("app")  # the route folder it checked
    assert result.stderr == ""


def test_check_passes_the_demo() -> None:
    result = run_cli("check", "demo_app:app")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 7 routes in ")


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
    ],
)
@pytest.mark.parametrize("command", ["check", "routes"])
def test_a_bad_target_exits_non_zero_with_a_message(
    tmp_path: Path, command: str, target: str, expected: str
) -> None:
    result = run_cli(command, target, cwd=project(tmp_path))
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


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: microroute")
    for command in ("routes", "check", "dev"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("command", "options"), [("routes", []), ("check", []), ("dev", ["--host", "--port"])]
)
def test_each_command_has_help(command: str, options: list[str]) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: microroute {command}")
    for word in ("target", *options):
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


# -- dev -------------------------------------------------------------------------


class Reply(NamedTuple):
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        assert self.content_type == "application/json", self
        return json.loads(self.text)


class DevServer:
    """`python -m microroute dev TARGET --host HOST --port PORT`, output to a log file."""

    def __init__(self, target: str, cwd: Path, log: Path, host: str | None) -> None:
        self.host, self.port, self.log = host or "127.0.0.1", free_port(), log
        command = [sys.executable, "-m", "microroute", "dev", target, "--port", str(self.port)]
        if host is not None:
            command += ["--host", host]
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                env=cli_env(log.parent),
            )

    def wait_until_up(self) -> DevServer:
        if not processes.wait_until_listening(self.process, self.port, self.host):
            raise AssertionError(f"the dev server did not answer:\n{self.output()}")
        return self

    def get(self, path: str, accept: str | None = None) -> Reply:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Accept": accept} if accept else {})
            response = connection.getresponse()
            return Reply(
                response.status, response.getheader("Content-Type", ""), response.read().decode()
            )
        finally:
            connection.close()

    def until(self, path: str, ok: Callable[[Reply], bool], accept: str | None = None) -> Reply:
        try:
            return until(lambda: self.get(path, accept), ok)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- dev server output:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Callable[..., DevServer]]:
    """`dev("app", cwd=project)` -> a running dev server, stopped by PID afterwards."""
    servers: list[DevServer] = []

    def start(target: str, cwd: Path, host: str | None = "127.0.0.1") -> DevServer:
        server = DevServer(target, cwd, tmp_path / f"dev-{len(servers)}.log", host)
        servers.append(server)
        return server.wait_until_up()

    yield start
    for server in servers:
        server.stop()


HELLO = """
from microroute import Response

def GET():
    return Response.json({"hello": "world"})
"""

DEV_TREE = {
    "hello/route.py": HELLO,
    "about/page.py": "def Page():\n    return '<h1>one</h1>'\n",
    "data/route.py": (
        "from microroute import Response\n"
        "from .._lib.store import ITEMS\n\n"
        "def GET():\n    return Response.json(ITEMS)\n"
    ),
    "_lib/store.py": "ITEMS = ['hat']\n",
}


def status_is(status: int) -> Callable[[Reply], bool]:
    return lambda reply: reply.status == status


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return write_tree(tmp_path, DEV_TREE)


def test_dev_picks_up_added_edited_and_removed_files(
    dev: Callable[..., DevServer], app_dir: Path
) -> None:
    server = dev("app", cwd=app_dir.parent)
    assert server.get("/hello").json() == {"hello": "world"}
    assert server.get("/about").text == "<h1>one</h1>"

    # An added route file is served.
    assert server.get("/api/new").status == 404
    put(app_dir / "api/new/route.py", HELLO.replace("world", "new"))
    assert server.until("/api/new", status_is(200)).json() == {"hello": "new"}

    # Edits to a page, several in a row within the same second and of the same
    # length (what stale bytecode would hide).
    for word in ("two", "six", "ten"):
        put(app_dir / "about/page.py", f"def Page():\n    return '<h1>{word}</h1>'\n")
        assert server.until("/about", lambda reply, w=word: w in reply.text).text == (
            f"<h1>{word}</h1>"
        )

    # An edited route, and an edited helper that a route imports.
    put(app_dir / "hello/route.py", HELLO.replace("world", "again"))
    assert server.until("/hello", lambda r: "again" in r.text).json() == {"hello": "again"}
    put(app_dir / "_lib/store.py", "ITEMS = ['hat', 'scarf']\n")
    assert server.until("/data", lambda r: "scarf" in r.text).json() == ["hat", "scarf"]

    # An added layout wraps the pages.
    put(app_dir / "layout.py", "def Layout(children):\n    return f'<main>{children}</main>'\n")
    assert server.until("/about", lambda r: "<main>" in r.text).text == "<main><h1>ten</h1></main>"

    # A removed route file is a 404, the others are still served.
    (app_dir / "hello/route.py").unlink()
    assert server.until("/hello", status_is(404)).json() == {"error": "Not Found"}
    assert server.get("/api/new").status == 200
    assert "microroute dev: serving" in server.output()


def test_dev_shows_a_syntax_error_until_it_is_fixed(
    dev: Callable[..., DevServer], app_dir: Path
) -> None:
    server = dev("app", cwd=app_dir.parent)
    assert server.get("/hello").status == 200
    broken = app_dir / "api/broken/route.py"
    put(broken, "from microroute import Response\n\ndef GET(:\n    return Response('x')\n")
    problem = "RouteError: app/api/broken/route.py failed to import: SyntaxError"

    # Every request, matched or not, gets the error: JSON for an API client...
    for path in ("/hello", "/about", "/api/broken", "/nowhere"):
        reply = server.until(path, status_is(500))
        assert reply.json()["error"].startswith(problem)
    # ... and an HTML page for a browser.
    page = server.get("/about", accept=BROWSER)
    assert page.status == 500
    assert page.content_type.startswith("text/html")
    assert problem in page.text
    assert "<h1>one</h1>" not in page.text
    # The terminal says it too.
    assert f"microroute dev: {problem}" in server.output()

    # Fixed: everything is back, the new route included.
    put(broken, HELLO.replace("world", "fixed"))
    assert server.until("/api/broken", status_is(200)).json() == {"hello": "fixed"}
    assert server.get("/hello").json() == {"hello": "world"}
    assert server.get("/about", accept=BROWSER).text == "<h1>one</h1>"


def test_dev_shows_a_route_error_until_it_is_fixed(
    dev: Callable[..., DevServer], app_dir: Path
) -> None:
    server = dev("app", cwd=app_dir.parent)
    assert server.get("/hello").status == 200
    conflict = app_dir / "hello/page.py"
    put(conflict, "def Page():\n    return 'clash'\n")
    message = (
        "RouteError: Conflicting route and page at /hello: app/hello/page.py, app/hello/route.py"
    )
    assert server.until("/hello", status_is(500)).json() == {"error": message}
    page = server.get("/about", accept=BROWSER)
    assert (page.status, message in page.text) == (500, True)
    assert f"microroute dev: {message}" in server.output()

    conflict.unlink()
    assert server.until("/hello", status_is(200)).json() == {"hello": "world"}
    assert server.get("/about").text == "<h1>one</h1>"


def test_dev_starts_on_a_broken_tree_and_recovers(
    dev: Callable[..., DevServer], app_dir: Path
) -> None:
    route = app_dir / "hello/route.py"
    put(route, "import no_such_module_xyz\n" + HELLO)
    server = dev("app", cwd=app_dir.parent)
    reply = server.get("/hello")
    assert reply.status == 500
    assert "No module named 'no_such_module_xyz'" in reply.json()["error"]
    put(route, HELLO)
    assert server.until("/hello", status_is(200)).json() == {"hello": "world"}


def test_dev_shows_a_handlers_traceback(dev: Callable[..., DevServer], app_dir: Path) -> None:
    put(app_dir / "boom/route.py", "def GET():\n    raise RuntimeError('kaboom')\n")
    server = dev("app", cwd=app_dir.parent)
    body = server.get("/boom").json()
    assert body["error"] == "Internal Server Error"
    assert "RuntimeError: kaboom" in body["traceback"]  # a developer's server: debug on
    assert "RuntimeError: kaboom" in server.output()


def test_dev_serves_a_module_target_and_reloads_it(
    dev: Callable[..., DevServer], tmp_path: Path
) -> None:
    root = project(tmp_path / "proj", DEV_TREE)
    server = dev("shop:app", cwd=root)
    assert server.get("/hello").json() == {"hello": "world"}
    put(root / "app/hello/route.py", HELLO.replace("world", "module"))
    assert server.until("/hello", lambda r: "module" in r.text).json() == {"hello": "module"}
    # The module itself is reloaded too: here it now mounts no tree at all.
    put(root / "shop.py", "app = 'not an app'\n")
    reply = server.until("/hello", status_is(500))
    assert "not a microroute App" in reply.json()["error"]


def test_dev_honours_host(dev: Callable[..., DevServer], app_dir: Path) -> None:
    server = dev("app", cwd=app_dir.parent, host="127.0.0.2")
    assert server.get("/hello").json() == {"hello": "world"}
    assert f"Running on http://127.0.0.2:{server.port}" in server.output()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", server.port), 2):
        pass  # bound to 127.0.0.2 only: nothing listens on 127.0.0.1


@pytest.mark.parametrize("host", ["127.0.0.1", None], ids=["explicit", "default"])
def test_dev_on_loopback(dev: Callable[..., DevServer], app_dir: Path, host: str | None) -> None:
    server = dev("app", cwd=app_dir.parent, host=host)
    assert server.get("/hello").status == 200
    assert f"Running on http://127.0.0.1:{server.port}" in server.output()


def test_dev_with_a_missing_module_exits_with_a_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "microroute", "dev", "no_such_module_xyz:app",
         "--port", str(free_port())],
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "no_such_module_xyz" in result.stderr
