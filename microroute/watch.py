"""Which files make up a project, and noticing when they change (for `microroute dev`).

    snapshot("/home/ada/shop")      {"/home/ada/shop/app.py": (mtime_ns, size), ...}
    Watcher(["/home/ada/shop"], on_change).start()

A project's files are every file below its folder except the folders that
are not the project's own code: virtualenvs (a folder holding `pyvenv.cfg`,
whatever it is called), hidden folders (`.git`, `.venv`), `__pycache__` and
`node_modules`. Those can hold tens of thousands of files that the project
never edits, and their modules (microroute, werkzeug) must never be reloaded.

The watcher looks in a background thread, at a short interval, so a request
never pays for looking: with 10,000 files in a project's `.venv`, a scan per
request cost 59 ms; now a request costs what it costs without `dev`.
(werkzeug's own reloader polls the same way, by `stat`, in a thread; it
restarts the whole process on a change, which cannot notice a route file
that nothing has imported yet, so `dev` reloads in-process instead.)
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence

Snapshot = dict[str, tuple[int, int]]

NOT_THE_PROJECTS = frozenset({"__pycache__", "node_modules", "site-packages"})


def is_project_folder(path: str) -> bool:
    """Whether a folder holds the project's own code (see the top).

    >>> is_project_folder("shop/.venv"), is_project_folder("shop/app")
    (False, True)
    """
    name = os.path.basename(path)
    return not (
        name.startswith(".")
        or name in NOT_THE_PROJECTS
        or os.path.isfile(os.path.join(path, "pyvenv.cfg"))
    )


def snapshot(*roots: str) -> Snapshot:
    """Every file of the project below each of `roots` (a folder that does not
    exist has none), with when it last changed and its size (two saves within
    one tick of a coarse clock still differ in size).

    Every file, not only `.py`: a page may read a template beside it, and
    `public/` files are served as they are on disk.
    """
    found: Snapshot = {}
    for directory, subfolders, files in (step for root in roots for step in os.walk(root)):
        subfolders[:] = [
            name for name in subfolders if is_project_folder(os.path.join(directory, name))
        ]
        for name in files:
            path = os.path.join(directory, name)
            with contextlib.suppress(OSError):  # removed while we looked
                status = os.stat(path)
                found[path] = (status.st_mtime_ns, status.st_size)
    return found


class Watcher:
    """Calls `on_change()` from a background thread whenever a file of the
    project below one of `roots` is added, edited or removed, looking every
    `interval` seconds.

        watcher = Watcher(["/home/ada/shop"], reload)
        watcher.start()
        ...
        watcher.stop()
    """

    def __init__(
        self, roots: Sequence[str], on_change: Callable[[], None], interval: float = 0.3
    ) -> None:
        self.on_change = on_change
        self.interval = interval
        self.watch(roots)
        self._stopped = threading.Event()
        # A daemon: Ctrl-C on the server ends the process without waiting for it.
        self._thread = threading.Thread(target=self._run, name="microroute-watch", daemon=True)

    def watch(self, roots: Sequence[str]) -> None:
        """Look below `roots` from now on (their files as they are now are no change)."""
        self.roots = list(roots)
        self.files = snapshot(*self.roots)

    def start(self) -> None:
        """Start looking, in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop looking (waits for the thread, at most one interval)."""
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            files = snapshot(*self.roots)
            if files != self.files:
                self.files = files
                self.on_change()
