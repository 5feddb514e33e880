"""`microroute dev`: werkzeug's development server, loading the project again
whenever one of its files is added, edited or removed.

    microroute dev shop:app          # shop/__init__.py, or shop.py, and its app/
    microroute dev app               # a bare route folder

The project is the target's top-level package (`shop/`, `src/shop/`), the
folder that holds its module (`app.py`, `wsgi.py`), or the route folder
itself; and wherever the app's route folder and `public/` are, if outside
it (`microroute dev app` serves `public/` beside `app/`). A `watch.Watcher`
looks at their files in the background; on a change, the project's own
modules are dropped from `sys.modules` and the target is imported again, in
this same process. Installed packages are never dropped, even from a `.venv`
inside the project, and neither is microroute: the `App` class the new app
is made of must stay the one `targets` checks for.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .app import App
from .errors import error_response
from .response import StartResponse
from .targets import is_route_folder, load_target


def serve(target: str, host: str, port: int) -> int:
    """Run werkzeug's development server on a `DevApp` of TARGET."""
    from werkzeug.serving import run_simple

    sys.dont_write_bytecode = True  # else an edit within the same second runs stale .pyc
    app = DevApp(target)
    app.watcher.start()
    run_simple(host, port, app, threaded=True)
    return 0


class DevApp:
    """Serves TARGET, loading it again whenever a file of its project changes.

    While the project cannot load (a `RouteError`, an import or syntax error)
    every request gets a page saying why, and the terminal says it too; the
    next good edit brings the app back. A request only reads which app is
    current: the looking and the loading happen in the watcher's thread.

        app = DevApp("shop:app")
        app.watcher.start()          # then serve `app` with any WSGI server
    """

    def __init__(self, target: str, interval: float = 0.3) -> None:
        from .watch import Watcher

        self.target = target
        self.folder = project_folder(target)
        self.watcher = Watcher([str(self.folder)], self.reload, interval)
        self._lock = threading.Lock()
        self._loaded: set[str] = set()
        # One tuple, swapped whole, so a request never sees a new app with an old error.
        self.current: tuple[App | None, str] = (None, "")
        self.reload()  # now, so the terminal tells at once whether the project is good

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        app, error = self.current
        if app is None:
            return error_response(environ, 500, error)(environ, start_response)
        return app(environ, start_response)

    def reload(self) -> None:
        """Import the target again, fresh from disk; keep the app, or why it failed."""
        with self._lock:
            files = {os.path.realpath(path) for path in self.watcher.files}
            self._forget_project_modules(files | self._loaded)
            importlib.invalidate_caches()  # a module added within the folder's mtime tick
            try:
                app = load_target(self.target)
            except Exception as error:  # whatever the user's code raised: show it, keep serving
                self.current = (None, f"{type(error).__name__}: {error}")
                print(f"microroute dev: {self.current[1]}", file=sys.stderr)
                return
            finally:
                self._loaded = files
            app.debug = True  # tracebacks in the browser: this is a developer's server
            self.current = (app, "")
            folders = outermost([self.folder, app.app_dir, app.public_dir])
            if folders != self.watcher.roots:
                self.watcher.watch(folders)
            print(f"microroute dev: serving {len(app.routes)} routes", file=sys.stderr)

    @staticmethod
    def _forget_project_modules(files: set[str]) -> None:
        """Drop every module loaded from one of the project's `files`, so that
        importing the target again runs them afresh; and drop no other."""
        folders = {os.path.dirname(file) for file in files}
        for name, module in list(sys.modules.items()):
            if name == "microroute" or name.startswith("microroute."):
                continue  # even when its source is inside the project (working on microroute)
            file = getattr(module, "__file__", None)
            if file is not None:
                mine = os.path.realpath(file) in files
            else:  # a namespace package, or a route tree's bare package: judged by its folders
                spec = getattr(module, "__spec__", None)
                places = list(getattr(spec, "submodule_search_locations", None) or [])
                mine = bool(places) and all(os.path.realpath(p) in folders for p in places)
            if mine:
                del sys.modules[name]


def outermost(folders: Iterable[Path | None]) -> list[str]:
    """The folders to watch for all of `folders`: none inside another.

    >>> outermost([Path("shop"), Path("shop/app"), Path("public")])
    ['/home/ada/shop', '/home/ada/public']
    """
    resolved = [str(folder.resolve()) for folder in folders if folder is not None]
    return [
        folder for index, folder in enumerate(resolved)
        if folder not in resolved[:index]
        and not any(folder.startswith(other + os.sep) for other in resolved)
    ]


def project_folder(target: str) -> Path:
    """The folder whose files make up TARGET's project (see the top).

    >>> project_folder("app")               # a route folder
    PosixPath('/home/ada/shop/app')
    >>> project_folder("shop:app")          # /home/ada/src/shop/__init__.py
    PosixPath('/home/ada/src/shop')
    >>> project_folder("wsgi:app")          # /home/ada/site/wsgi.py
    PosixPath('/home/ada/site')
    """
    if is_route_folder(target):
        return Path(target).resolve()
    top = target.partition(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise SystemExit(f"microroute dev: cannot find the module {top!r}")
    if spec.origin and os.path.isfile(spec.origin):
        # shop/__init__.py -> shop/ (not the folder above it, which may hold
        # every other project of its owner); wsgi.py -> the folder it is in.
        return Path(spec.origin).resolve().parent
    locations = list(spec.submodule_search_locations or [])
    if locations:  # a namespace package: a folder without __init__.py
        return Path(locations[0]).resolve()
    raise SystemExit(f"microroute dev: {top!r} is not a module of files it could watch")
