"""The `microroute` command: look at a route tree, check it, serve it while you edit.

    microroute routes demo_app:app      the route table, as the Next.js docs teach it
    microroute check demo_app/app       exit 1 with the RouteError if the tree is broken
    microroute dev demo_app:app         werkzeug's development server, reloading

TARGET is `module:attribute` (an `App`, as gunicorn takes it), a module (its
`app`), or a route folder.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .app import App
from .errors import error_response
from .loader import Route
from .public import content_type
from .response import StartResponse


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(prog="microroute", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("routes", "print the route table in match order"),
        ("check", "load the tree: exit 0 if valid, 1 with the error if not"),
        ("dev", "serve with werkzeug's development server, picking up edits"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("target", help="module:app, a module, or a route folder")
        if name == "dev":
            command.add_argument("--host", default="127.0.0.1")
            command.add_argument("--port", type=int, default=3000)
    arguments = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())  # as gunicorn does: the project is importable
    if arguments.command == "dev":
        return serve(arguments.target, arguments.host, arguments.port)
    try:
        app = load_target(arguments.target)
    except Exception as error:  # the user's code may raise anything: one clean line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if arguments.command == "routes":
        print(route_table([*app.routes, *app.public]))
    else:
        print(f"OK: {len(app.routes)} routes in {app.app_dir}")
    return 0


def load_target(target: str) -> App:
    """The `App` a TARGET names: a route folder, `module:attribute`, or a module's `app`."""
    if _is_route_folder(target):
        return App(target)
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    app = getattr(module, attribute or "app")
    if not isinstance(app, App):
        raise TypeError(f"{target} is a {type(app).__name__}, not a microroute App")
    return app


def _is_route_folder(target: str) -> bool:
    # `demo_app` is a package (a module to import), `demo_app/app` a folder.
    folder = Path(target)
    return folder.is_dir() and (os.sep in target or not (folder / "__init__.py").is_file())


def route_table(routes: Iterable[Route]) -> str:
    """`File | Becomes | Returns`, one row a route, columns aligned.

    app/about/page.py          | A web page at /about    | HTML
    app/api/products/route.py  | An API at /api/products | JSON: GET, POST
    public/css/site.css        | A file at /css/site.css | the file: text/css
    """
    rows = [("File", "Becomes", "Returns")]
    for route in routes:
        if route.kind == "page":
            rows.append((route.file, f"A web page at {route.pattern}", "HTML"))
        elif route.kind == "public":
            kind = content_type(route.pattern).partition(";")[0]
            rows.append((route.file, f"A file at {route.pattern}", f"the file: {kind}"))
        else:
            methods = ", ".join(route.methods)
            rows.append((route.file, f"An API at {route.pattern}", f"JSON: {methods}"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def serve(target: str, host: str, port: int) -> int:
    """Run werkzeug's development server on a `DevApp`."""
    from werkzeug.serving import run_simple

    sys.dont_write_bytecode = True  # else an edit within the same second runs stale .pyc
    app = DevApp(target)
    app.refresh()  # load now, so the terminal tells at once whether the tree is good
    run_simple(host, port, app, threaded=True)
    return 0


class DevApp:
    """Serves TARGET, loading it again whenever a Python file of its project
    is added, edited or removed. While the tree cannot load (a `RouteError`,
    an import or syntax error) every request gets a page saying why, and the
    terminal says it too; the next good edit brings the app back.

    Loading in the same process, rather than restarting it, is what lets an
    added file be noticed: a reloader watching loaded modules cannot see a
    file nothing has imported yet.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.folder = _project_folder(target)
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[int, int]] | None = None
        self._app: App | None = None
        self._error = ""

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        app, error = self.refresh()
        if app is None:
            response = error_response(environ, 500, error)
            return response(environ, start_response)
        return app(environ, start_response)

    def refresh(self) -> tuple[App | None, str]:
        """Load the target again if any of its files changed; the app, or why not."""
        with self._lock:
            seen = _python_files(self.folder)
            if seen != self._seen:
                self._seen = seen
                self._load()
            return self._app, self._error

    def _load(self) -> None:
        _forget_modules(self.folder)
        try:
            self._app = load_target(self.target)
        except Exception as error:  # whatever the user's code raised: show it, keep serving
            self._app, self._error = None, f"{type(error).__name__}: {error}"
            print(f"microroute dev: {self._error}", file=sys.stderr)
            return
        self._app.debug = True  # tracebacks in the browser: this is a developer's server
        self._error = ""
        print(f"microroute dev: serving {len(self._app.routes)} routes", file=sys.stderr)


def _project_folder(target: str) -> Path:
    """The folder to watch: the route folder itself, or the target module's package."""
    if _is_route_folder(target):
        return Path(target).resolve()
    module_name = target.partition(":")[0]
    top = module_name.split(".")[0]
    for entry in sys.path:
        base = Path(entry or os.getcwd())
        if (base / top).is_dir():
            return (base / top).resolve()
        if (base / f"{top}.py").is_file():
            return base.resolve()
    raise SystemExit(f"microroute dev: cannot find the module {module_name!r}")


def _python_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every .py file below `folder`, with when it last changed and its size
    (two saves within one tick of a coarse clock still differ in size)."""
    found = {}
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if name != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with contextlib.suppress(FileNotFoundError):  # removed while we looked
                    status = os.stat(path)
                    found[path] = (status.st_mtime_ns, status.st_size)
    return found


def _forget_modules(folder: Path) -> None:
    # So that importing the target again runs the edited files, not cached ones.
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve().is_relative_to(folder):
            del sys.modules[name]

