"""What the tests share, imported by name (tests/ is on pytest's pythonpath).

Plain functions, classes and values, where conftest.py holds only fixtures and
hooks: a test imports what it uses by name (`from helpers import fetch`), so a
reader finds where it comes from.

- route trees on disk: `write_tree`, `JSON_ROUTE`, the app tests' `SITE`;
  for the loader's tests, `routable`, `json_route`, and `module_of` (the
  module a route's handler came from);
- requests through werkzeug's test `Client`: `fetch`, `browse`, `BROWSER`,
  the reader of the framework's JSON error body, `error_message`, and the
  stand-ins `Legacy` (another WSGI app) and `Stream` (a body that records
  being closed);
- a real server on loopback: `Server` (gunicorn, waitress, uWSGI...), started
  with `benchmarks/processes.py`, which the benchmarks start theirs with;
- the command line: `run_cli`, `cli_env`;
- a file nobody can write: `unwritable`.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import types
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from wsgiref.validate import WSGIWarning

import processes
import pytest
from werkzeug.test import Client, TestResponse

from microroute import App, RouteError
from microroute.routes import Route

ROOT = Path(__file__).resolve().parent.parent


# The benchmarks' modules (benchmarks/ is on pytest's `pythonpath`, setup.cfg):
# the servers, PostgreSQL and nginx the tests start are the benchmarks' own.
free_port = processes.free_port
stop_process = processes.stop


# -- route trees, the command line, a real server ----------------------------------


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{"api/x/route.py": source}` under `root/app`; return that folder."""
    app_dir = root / "app"
    app_dir.mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        path = app_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return app_dir


class BufferedClient(Client):
    """A test client that reads each answer whole and closes the app's
    iterator, as a server does (`wsgiref.validate` insists, and a file body
    left open would be a ResourceWarning): `BufferedClient(app).get("/")`."""

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """Inside the block, no process can open `path` for writing; afterwards it
    is writable again, with the -wal and -shm companions SQLite may have made.

    Permission bits bind everyone but root, and the tests may run as root: then
    the file is made immutable (`chattr +i`, which binds root too; it needs
    CAP_LINUX_IMMUTABLE and a filesystem that keeps the flag, such as ext4).
    """
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            # SQLite gives the companions it creates the database's mode.
            for file in path.parent.glob(path.name + "*"):
                file.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("no `chattr` on PATH (Debian: apt-get install e2fsprogs)")
    made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                          timeout=10)
    if made.returncode != 0:
        pytest.skip(f"cannot make a file unwritable for root: chattr +i: {made.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True, timeout=10)


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


# A project the way a user lays it out: a module beside its route folder.
SHOP_MODULE = """
from pathlib import Path

from microroute import App

app = App(Path(__file__).parent / "app")
VERSION = "1.0"
"""


def project(root: Path, files: dict[str, str]) -> Path:
    """`root/shop.py` (its `app`) over the route folder `root/app`, holding
    `files`; returns root."""
    write_tree(root, files)
    (root / "shop.py").write_text(textwrap.dedent(SHOP_MODULE))
    return root


def run_cli(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m microroute ARGUMENTS`, to completion (bounded)."""
    return subprocess.run(
        [sys.executable, "-m", "microroute", *arguments],
        cwd=cwd, env=cli_env(), capture_output=True, text=True, timeout=60,
    )


JSON_ROUTE = """
from microroute import Response

def GET(request, params):
    return Response.json({"params": params, "path": request.path})
"""


class Server:
    """A real WSGI server on loopback (gunicorn unless `server` names another
    of `processes.SERVERS`), started and stopped by PID."""

    def __init__(self, target: str, cwd: Path, log_dir: Path, workers: int = 1,
                 env: dict[str, str] | None = None, server: str = "gunicorn",
                 config: Path | None = None, arguments: list[str] | None = None) -> None:
        self.name = server
        self.kind = processes.SERVERS[server]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / f"{server}-{self.port}.log"
        command = self.kind.command(target, self.port, workers)
        if config is not None:  # gunicorn's config file (deploy/gunicorn.conf.py); flags win
            assert command[1:3] == ["-m", "gunicorn"], "a config file is for gunicorn"
            command[3:3] = ["--config", str(config)]
        command += arguments or []  # the server's own flags: gunicorn's --preload, say
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {}), "PYTHONPATH": f"{ROOT}:{cwd}"},
            )
        if not processes.wait_until_listening(self.process, self.port):
            self.stop()
            raise RuntimeError(f"{server} did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process)

    def worker_pids(self) -> list[int]:
        return list(processes.worker_pids(self.process.pid))

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request over a real socket; returns status, headers, body (any status)."""
        request = urllib.request.Request(
            self.url + path, data=body, method=method, headers=headers or {}
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=10) as response:
                return response.status, ResponseHeaders(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, ResponseHeaders(error.headers), error.read()

    def send(self, raw: bytes) -> bytes:
        """`raw` bytes on a new connection (they should close it); all the reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as connection:
            connection.sendall(raw)
            reply = b""
            while chunk := connection.recv(65536):
                reply += chunk
        return reply


class ResponseHeaders(dict[str, str]):
    """Response headers, looked up whatever the case of their names: servers
    may send `content-type` (granian does), and HTTP says it is the same header."""

    def __init__(self, headers: Any) -> None:
        super().__init__((name.lower(), value) for name, value in headers.items())

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(name.lower())

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(name.lower(), default)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# -- requests through the test client ------------------------------------------


MakeClient = Callable[..., Client]
Tree = Callable[[dict[str, str]], Path]

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML = "text/html; charset=utf-8"
MiB = 1 << 20


def fetch(client: Client, method: str, path: str, **options: Any) -> TestResponse:
    """One request; the response is read whole and the app's iterator closed."""
    options.setdefault("errors_stream", io.StringIO())
    return client.open(path, method=method, buffered=True, **options)


def browse(client: Client, path: str, method: str = "GET", **options: Any) -> TestResponse:
    """A request from a browser: `Accept` ranks text/html first."""
    return fetch(client, method, path, headers={"Accept": BROWSER}, **options)


def error_message(response: TestResponse, status: int) -> str:
    """Check that `response` is the JSON error `status`; return its message."""
    assert response.status_code == status, response.data
    assert response.content_type == "application/json"
    body = response.get_json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str) and body["error"]
    return str(body["error"])


def raw_target(target: str) -> dict[str, str]:
    """Environ keys for a target werkzeug's builder misreads (`//about` as a host)."""
    return {"PATH_INFO": target, "REQUEST_URI": target, "RAW_URI": target}


def unknown_method(method: str) -> contextlib.AbstractContextManager[object]:
    """Expect wsgiref.validate's warning about a method it does not know: here
    such a method is the point of the test."""
    if method in ("GET", "HEAD", "POST", "OPTIONS", "PATCH", "PUT", "DELETE", "TRACE"):
        return contextlib.nullcontext()
    return pytest.warns(WSGIWarning, match="Unknown REQUEST_METHOD")


class UnreadableBody:
    """A `wsgi.input` that fails the test if anything reads it."""

    def read(self, *args: object) -> bytes:
        raise AssertionError("the request body was read")

    readline = readlines = read

    def __iter__(self) -> Iterable[bytes]:
        raise AssertionError("the request body was read")


def unread_body(length: int) -> dict[str, object]:
    """Environ overrides declaring a body of `length` bytes that must not be read."""
    return {"wsgi.input": UnreadableBody(), "CONTENT_LENGTH": str(length)}


class Legacy:
    """A plain WSGI app standing in for an existing project; records what it gets."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        self.seen.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"])
        )
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"legacy"]

    @property
    def paths(self) -> list[str]:
        """The paths it was asked for, in order."""
        return [path for _, path, _ in self.seen]


class Stream:
    """A streamed body (an app's iterable) that records whether it was closed."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


# -- route files ----------------------------------------------------------------


def page(html: str) -> str:
    return f"def Page():\n    return {html!r}\n"


def layout(tag: str) -> str:
    """A layout wrapping its children in `<tag>...</tag>`."""
    return f"def Layout(children, request):\n    return f'<{tag}>{{children}}</{tag}>'\n"


def not_found(html: str) -> str:
    return f"def NotFound(request):\n    return {html!r}\n"


def text_route(body: str) -> str:
    return (
        "from microroute import Response\n\n"
        f"def GET():\n    return Response({body!r})\n\n"
        f"def POST():\n    return Response({body!r})\n"
    )


MINIMAL_ROUTE = "def GET():\n    return None\n"
MINIMAL_PAGE = "def Page():\n    return '<h1>Hello</h1>'\n"


def routable(*paths: str) -> dict[str, str]:
    """`routable("blog/[id]/page.py", "api/route.py")` -> each file with a minimal handler."""
    return {path: MINIMAL_PAGE if path.endswith("page.py") else MINIMAL_ROUTE for path in paths}


def json_route(value: str, imports: str = "") -> str:
    """A route file whose GET answers `Response.json(<value>)`, after `imports`."""
    return (
        f"from microroute import Response\n{imports}\n\n"
        f"def GET():\n    return Response.json({value})\n"
    )


def module_of(route: Route, method: str = "GET") -> types.ModuleType:
    """The module a route's handler was imported as (`_microroute_tree_1.x.%route`)."""
    return sys.modules[route.handlers[method].function.__module__]


def get_json(app: App, path: str) -> object:
    """`GET path`'s JSON body, after checking that the answer is a 200."""
    response = Client(app).get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def refusal(app_dir: Path) -> str:
    """The message of the RouteError that `App(app_dir)` raises."""
    with pytest.raises(RouteError) as caught:
        App(app_dir)
    return str(caught.value)


# The app tests' site (tests/test_app*.py): a route or page for each thing they ask.
SITE = {
    "page.py": """
        def Page():
            return "<h1>Home</h1>"
    """,
    "about/page.py": """
        def Page():
            return "<h1>About</h1>"
    """,
    "plain/page.py": """
        from microroute import Response

        def Page():
            return Response("not html", status=202, headers={"X-Page": "yes"})
    """,
    "api/products/route.py": """
        from microroute import Response

        def GET():
            products = [{"id": 1, "name": "Keyboard"}]
            return Response.json(products, status=203, headers={"X-Kind": "list"})

        def POST(request):
            return Response.json({"created": request.json()}, status=201)
    """,
    # POST only, and never reads the body.
    "api/upload/route.py": """
        from microroute import Response

        def POST():
            return Response("accepted")
    """,
    "api/form/route.py": """
        from microroute import Response

        def POST(request):
            return Response.json(dict(request.form()))
    """,
    "everything/route.py": """
        from microroute import Response

        def GET():
            return Response("get")

        def PUT():
            return Response("put")

        def PATCH():
            return Response("patch")

        def DELETE():
            return Response("delete")
    """,
    "custom/route.py": """
        from microroute import Response

        def GET():
            return Response("full body")

        def HEAD():
            return Response("", headers={"X-Handler": "HEAD"})

        def OPTIONS():
            return Response.json({"methods": ["GET"]}, headers={"X-Handler": "OPTIONS"})
    """,
    "boom/route.py": """
        def GET():
            raise RuntimeError("secret <detail>")
    """,
    "fail/route.py": """
        from microroute import HTTPError

        def GET(request):
            query = request.query
            headers = {"Retry-After": query["retry"]} if "retry" in query else None
            raise HTTPError(int(query["status"]), query["message"], headers)
    """,
    "cookies/route.py": """
        from microroute import Response

        def GET():
            response = Response.json({"ok": True})
            response.set_cookie("session", "abc", httponly=True)
            response.set_cookie("theme", "dark")
            return response
    """,
    "echo/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json({"path": request.path, "url": request.url})
    """,
    # Responses HTTP cannot carry, made at the handler or changed after.
    "refused/route.py": """
        from microroute import Response

        def GET(request):
            kind, value = request.query["kind"], request.query.get("v", "")
            if kind == "header":
                return Response("x", headers={"X-Echo": value})
            if kind == "length":
                return Response("hello", headers={"Content-Length": value})
            if kind == "late-length":
                response = Response("hello")
                response.headers["Content-Length"] = value
                return response
            if kind == "status":
                return Response("x", status=int(value) if value.isdigit() else value)
            if kind == "late-status":
                response = Response("x")
                response.status = int(value) if value.isdigit() else value
                return response
            if kind == "late-body":
                response = Response("x")
                response.body = {"dict": {"a": 1}, "list": ["a"], "int": 123}.get(value, value)
                return response
            return Response([value])
    """,
    "items/[id]/route.py": JSON_ROUTE,
    "blog/[...slug]/route.py": JSON_ROUTE,
    "docs/[[...slug]]/route.py": JSON_ROUTE,
    "(shop)/cart/route.py": JSON_ROUTE,
    "%5Fnext/route.py": JSON_ROUTE,
    "hello world/route.py": JSON_ROUTE,
    "x/[c]/deep/route.py": JSON_ROUTE,
    "[a]/b/route.py": JSON_ROUTE,
    "_lib/x/route.py": JSON_ROUTE,
    "_lib/helpers.py": "SECRET = 1\n",
}
