"""Which files make up a project and noticing their changes (microroute/watch.py),
and what `dev`'s app does with them (microroute/dev.py), in-process: a request
costs no look at the disk, and a reload drops the project's own modules only.
`dev` served for real, in every layout, is tests/test_dev.py."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

import microroute
from helpers import write_tree
from microroute.dev import DevApp, outermost, project_folder
from microroute.watch import Watcher, is_project_folder, snapshot

ROUTE = "from microroute import Response\n\ndef GET():\n    return Response.json('hi')\n"


def files_in(root: Path, names: list[str]) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("X = 1\n")


def test_a_snapshot_holds_the_projects_files_and_skips_what_is_not_its_code(
    tmp_path: Path,
) -> None:
    files_in(tmp_path, [
        "wsgi.py", "app/page.py", "app/_lib/db.py", "public/site.css", "README.md",
        "env/pyvenv.cfg", "env/lib/site-packages/werkzeug/__init__.py",  # a venv, any name
        ".venv/lib/x.py", ".git/HEAD", "app/__pycache__/page.cpython-311.pyc",
        "node_modules/react/index.js", "lib/site-packages/y.py",
    ])
    assert sorted(os.path.relpath(path, tmp_path) for path in snapshot(str(tmp_path))) == [
        "README.md", "app/_lib/db.py", "app/page.py", "public/site.css", "wsgi.py",
    ]


def test_a_folder_is_judged_by_its_name_and_by_holding_pyvenv_cfg(tmp_path: Path) -> None:
    files_in(tmp_path, ["tools/pyvenv.cfg"])
    assert [is_project_folder(str(tmp_path / name)) for name in ("app", "tools", ".x")] == [
        True, False, False,
    ]


def test_a_snapshot_changes_with_an_edit_of_the_same_size_in_the_same_tick(
    tmp_path: Path,
) -> None:
    file = tmp_path / "page.py"
    file.write_text("A = 1\n")
    before = snapshot(str(tmp_path))
    file.write_text("A = 2\n")
    status = file.stat()
    os.utime(file, ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    assert snapshot(str(tmp_path)) != before


@pytest.fixture
def watching(tmp_path: Path) -> Iterator[tuple[Watcher, threading.Event]]:
    changed = threading.Event()
    watcher = Watcher([str(tmp_path)], changed.set, interval=0.05)
    watcher.start()
    yield watcher, changed
    watcher.stop()


def test_the_watcher_calls_back_on_an_added_edited_and_removed_file(
    tmp_path: Path, watching: tuple[Watcher, threading.Event]
) -> None:
    watcher, changed = watching
    for change in (
        lambda: (tmp_path / "new.py").write_text("A = 1\n"),
        lambda: (tmp_path / "new.py").write_text("A = 22\n"),
        lambda: (tmp_path / "new.py").unlink(),
    ):
        changed.clear()
        change()
        assert changed.wait(10), "the watcher did not notice"
    assert watcher.files == {}


def test_the_watcher_ignores_virtualenvs_and_hidden_folders(
    tmp_path: Path, watching: tuple[Watcher, threading.Event]
) -> None:
    _, changed = watching
    files_in(tmp_path, ["venv/pyvenv.cfg", "venv/lib/a.py", ".git/HEAD", "node_modules/x.js"])
    (tmp_path / "venv/lib/a.py").write_text("A = 2\n")
    assert not changed.wait(0.5)
    (tmp_path / "wsgi.py").write_text("")  # while a change of the project's own is seen
    assert changed.wait(10)


# -- DevApp, in-process ---------------------------------------------------------------


def test_a_request_to_the_dev_app_never_looks_at_the_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app_dir = write_tree(tmp_path, {"hello/route.py": ROUTE})
    files_in(tmp_path / "app", [f"_lib/module_{number}.py" for number in range(300)])
    app = DevApp(str(app_dir), interval=3600)  # the watcher never runs during the test
    client = Client(app)
    assert client.get("/hello").get_json() == "hi"  # warm: anything lazy is done
    looks: list[str] = []
    for name in ("stat", "lstat", "scandir", "listdir", "walk"):
        real = getattr(os, name)
        monkeypatch.setattr(
            os, name, lambda *args, _real=real, _name=name, **kw: (
                looks.append(_name), _real(*args, **kw))[1]
        )
    for _ in range(5):
        assert client.get("/hello").get_json() == "hi"
    monkeypatch.undo()
    assert looks == []


def test_a_reload_drops_the_projects_modules_and_no_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "site"
    write_tree(project, {"hello/route.py": ROUTE})
    (project / "mr_wsgi_h14.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    files_in(project, ["mr_helper_h14.py", ".venv/pyvenv.cfg"])
    site = project / ".venv/lib/site-packages"
    files_in(site, ["mr_vendored_h14.py"])
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(project))
    names = ("mr_wsgi_h14", "mr_helper_h14", "mr_vendored_h14")
    try:
        import mr_helper_h14  # noqa: F401
        import mr_vendored_h14  # noqa: F401

        framework = {name: module for name, module in sys.modules.items()
                     if name.startswith("microroute")}
        app = DevApp("mr_wsgi_h14:app", interval=3600)
        assert project_folder("mr_wsgi_h14:app") == project.resolve()
        assert app.current[0] is not None, app.current[1]
        assert "mr_helper_h14" not in sys.modules  # the project's: dropped
        assert "mr_vendored_h14" in sys.modules  # installed in its .venv: kept
        assert all(sys.modules[name] is module for name, module in framework.items())
        assert sys.modules["microroute"] is microroute
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_project_folder_of_each_kind_of_target(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    files_in(tmp_path, ["mr_pkg_h14/__init__.py", "mr_mod_h14.py", "routes/page.py"])
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert project_folder("mr_pkg_h14:app") == (tmp_path / "mr_pkg_h14").resolve()
    assert project_folder("mr_mod_h14") == tmp_path.resolve()
    assert project_folder("routes") == (tmp_path / "routes").resolve()
    with pytest.raises(SystemExit, match="cannot find the module 'mr_none_h14'"):
        project_folder("mr_none_h14:app")


def test_the_folders_watched_are_the_outermost_ones(tmp_path: Path) -> None:
    shop, public = tmp_path / "shop", tmp_path / "public"
    assert outermost([shop, shop / "app", None, public, shop, tmp_path / "shopping"]) == [
        str(shop.resolve()), str(public.resolve()), str((tmp_path / "shopping").resolve()),
    ]
