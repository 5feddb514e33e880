"""`microroute dev`, run for real: a child process on a free port, polled with
bounded waits, always stopped by its PID, while the test edits, adds and
removes the project's files (README, "The command line").

Every layout a project takes is served and reloaded: `app.py` beside `app/`,
`wsgi.py` with the project's `.venv` inside it, a package, a `src/` layout,
and a bare route folder.
"""

from __future__ import annotations

import http.client
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

import processes
import pytest

from helpers import BROWSER, ROOT, cli_env, free_port, project, stop_process, write_tree

T = TypeVar("T")


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


class Reply(NamedTuple):
    status: int
    content_type: str
    text: str

    def json(self) -> Any:
        assert self.content_type == "application/json", self
        return json.loads(self.text)


class DevServer:
    """`python -m microroute dev TARGET --host HOST --port PORT`, output to a log file."""

    def __init__(
        self, target: str, cwd: Path, log: Path, host: str | None,
        python: str = sys.executable, env: dict[str, str] | None = None,
    ) -> None:
        self.host, self.port, self.log = host or "127.0.0.1", free_port(), log
        command = [python, "-m", "microroute", "dev", target, "--port", str(self.port)]
        if host is not None:
            command += ["--host", host]
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                env={**cli_env(log.parent), **(env or {})},
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

    def start(
        target: str, cwd: Path, host: str | None = "127.0.0.1", **options: Any
    ) -> DevServer:
        server = DevServer(target, cwd, tmp_path / f"dev-{len(servers)}.log", host, **options)
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


# -- every layout a project takes ---------------------------------------------------


class Layout(NamedTuple):
    """A project on disk: where to run `dev`, its TARGET, its route folder,
    the folder of its helpers and how a route file at `depth` imports one."""

    cwd: Path
    target: str
    routes: Path
    helpers: Path
    importing: Callable[[str, int], str]
    options: dict[str, Any]


def absolute(package: str) -> Callable[[str, int], str]:
    return lambda helper, depth: f"from {package}{helper} import WORD"


def relative(helper: str, depth: int) -> str:
    return f"from {'.' * (depth + 1)}_lib.{helper} import WORD"


APP_MODULE = """
from pathlib import Path

from microroute import App

app = App(Path(__file__).parent / "app")
"""


def app_py_beside_app(root: Path) -> Layout:
    # The Flask file name beside the Next.js folder name: `import app` is app.py.
    (root / "app").mkdir(parents=True)
    (root / "app.py").write_text(APP_MODULE)
    return Layout(root, "app:app", root / "app", root, absolute(""), {})


def wsgi_py_with_a_venv_inside(root: Path) -> Layout:
    # The project's own .venv, holding the microroute and werkzeug it runs on:
    # they must never be reloaded (nor scanned).
    (root / "app").mkdir(parents=True)
    (root / "wsgi.py").write_text(APP_MODULE)
    venv = root / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True, timeout=60,
    )
    [site] = venv.glob("lib/python*/site-packages")
    import werkzeug

    for package in (ROOT / "microroute", Path(werkzeug.__file__).parent):
        shutil.copytree(package, site / package.name, ignore=shutil.ignore_patterns("__pycache__"))
    options = {"python": str(venv / "bin" / "python"), "env": {"PYTHONPATH": ""}}
    return Layout(root, "wsgi:app", root / "app", root, absolute(""), options)


def a_package(root: Path) -> Layout:
    (root / "shop/app").mkdir(parents=True)
    (root / "shop/__init__.py").write_text(APP_MODULE)
    return Layout(root, "shop:app", root / "shop/app", root / "shop", absolute("shop."), {})


def a_src_layout(root: Path) -> Layout:
    # src/ is importable the way `pip install -e .` makes it: on the path.
    (root / "src/shop/app").mkdir(parents=True)
    (root / "src/shop/__init__.py").write_text(APP_MODULE)
    (root / "pyproject.toml").write_text('[project]\nname = "shop"\nversion = "1"\n')
    env = {"PYTHONPATH": os.pathsep.join((str(ROOT), str(root / "src")))}
    return Layout(root, "shop:app", root / "src/shop/app", root / "src/shop", absolute("shop."),
                  {"env": env})


def a_bare_route_folder(root: Path) -> Layout:
    (root / "app/_lib").mkdir(parents=True)
    return Layout(root, "app", root / "app", root / "app/_lib", relative, {})


def greeting_route(layout: Layout, helper: str, depth: int, version: int) -> str:
    return (
        f"{layout.importing(helper, depth)}\n"
        "from microroute import Response\n\n"
        f"def GET():\n    return Response.json({{'word': WORD, 'v': {version}}})\n"
    )


@pytest.mark.parametrize(
    "make_layout",
    [app_py_beside_app, wsgi_py_with_a_venv_inside, a_package, a_src_layout, a_bare_route_folder],
    ids=["app.py+app", "wsgi.py+.venv", "package", "src", "route-folder"],
)
def test_dev_reloads_route_files_and_helpers_in_every_layout(
    dev: Callable[..., DevServer], tmp_path: Path, make_layout: Callable[[Path], Layout]
) -> None:
    layout = make_layout(tmp_path / "project")
    put(layout.helpers / "greeting.py", "WORD = 'one'\n")
    put(layout.routes / "hello/route.py", greeting_route(layout, "greeting", 1, 1))
    put(layout.routes / "where/route.py", (
        "import microroute\nfrom microroute import Response\n\n"
        "def GET():\n    return Response.json(microroute.__file__)\n"
    ))
    server = dev(layout.target, cwd=layout.cwd, **layout.options)
    assert server.get("/hello").json() == {"word": "one", "v": 1}
    if layout.target == "wsgi:app":  # the microroute of the project's own .venv
        assert "/.venv/lib/" in server.get("/where").json()

    # An edited route file, and an edited helper it imports.
    put(layout.routes / "hello/route.py", greeting_route(layout, "greeting", 1, 2))
    assert server.until("/hello", lambda r: '"v":2' in r.text).json() == {"word": "one", "v": 2}
    put(layout.helpers / "greeting.py", "WORD = 'two'\n")
    assert server.until("/hello", lambda r: "two" in r.text).json() == {"word": "two", "v": 2}

    # An added helper and an added route file that imports it; then an edit to it.
    put(layout.helpers / "extra.py", "WORD = 'added'\n")
    put(layout.routes / "api/new/route.py", greeting_route(layout, "extra", 2, 1))
    assert server.until("/api/new", status_is(200)).json() == {"word": "added", "v": 1}
    put(layout.helpers / "extra.py", "WORD = 'edited'\n")
    assert server.until("/api/new", lambda r: "edited" in r.text).json()["word"] == "edited"

    # A removed route file is a 404; a removed helper is missed (not served
    # from a stale module) until it is back.
    (layout.routes / "api/new/route.py").unlink()
    assert server.until("/api/new", status_is(404)).json() == {"error": "Not Found"}
    (layout.helpers / "greeting.py").unlink()
    assert "greeting" in server.until("/hello", status_is(500)).json()["error"]
    put(layout.helpers / "greeting.py", "WORD = 'back'\n")
    assert server.until("/hello", status_is(200)).json() == {"word": "back", "v": 2}
    assert "not a microroute App" not in server.output()


@pytest.mark.parametrize("target", ["app", "shop:app"])
def test_dev_picks_up_public_files_beside_the_route_folder(
    dev: Callable[..., DevServer], tmp_path: Path, target: str
) -> None:
    # `microroute dev app` watches app/ and the public/ beside it.
    root = project(tmp_path / "proj", DEV_TREE)
    put(root / "public/site.css", "body { color: red }\n")
    server = dev(target, cwd=root)
    assert server.get("/site.css").text == "body { color: red }\n"
    put(root / "public/logo.txt", "a new file\n")
    assert server.until("/logo.txt", status_is(200)).text == "a new file\n"
    (root / "public/site.css").unlink()
    assert server.until("/site.css", status_is(404)).status == 404
