"""`microroute new NAME` (microroute/scaffold.py; README, "Your own project"):
a project that tests green and serves as created, over a real gunicorn on
127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import ROOT, Server, cli_env, run_cli

FILES = [
    "README.md", "__init__.py", "app/api/hello/route.py", "app/layout.py", "app/page.py",
    "public/styles.css", "tests/__init__.py", "tests/test_app.py",
]


def test_new_makes_a_project_whose_tests_pass_and_that_gunicorn_serves(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    created = run_cli("new", "shop", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert "gunicorn shop:app" in created.stdout
    project = tmp_path / "shop"
    assert sorted(
        path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()
    ) == FILES
    readme = (project / "README.md").read_text()
    for command in ("gunicorn shop:app", "microroute dev shop:app", "pytest shop"):
        assert command in readme

    # Its own tests, as its README says to run them, from the folder that holds it.
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "shop", "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=120,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout

    # No likely mistakes in what it made.
    checked = run_cli("check", "--strict", "shop", cwd=tmp_path)
    assert (checked.returncode, checked.stderr) == (0, ""), checked.stderr
    assert checked.stdout.startswith("OK: 2 routes in ")

    server = serve("shop:app", cwd=tmp_path)
    status, headers, body = server.request("GET", "/")
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert b"<h1>shop</h1>" in body and b"href='/styles.css'" in body
    assert server.request("GET", "/api/hello?name=Ada")[2] == b'{"message":"Hello, Ada!"}'
    status, _, body = server.request("GET", "/api/hello?name=" + "x" * 51)
    assert (status, body) == (400, b'{"error":"name must be 1 to 50 printable characters"}')
    assert server.request("GET", "/api/hello?name=%00")[0] == 400
    status, headers, body = server.request("GET", "/styles.css")  # from public/
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert body == (project / "public/styles.css").read_bytes()
    assert server.request("GET", "/nowhere")[0] == 404


def test_new_makes_typed_files_that_mypy_strict_accepts(tmp_path: Path) -> None:
    # The demo's handlers are typed for a learner to copy; a new project's are too.
    assert run_cli("new", "shop", cwd=tmp_path).returncode == 0
    env = {**cli_env(), "MYPYPATH": str(ROOT)}  # microroute from this checkout
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "shop/app", "shop/__init__.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("Success: no issues found in 4 source files")


def test_new_refuses_an_existing_folder_and_leaves_it_alone(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "mine.txt").write_text("keep")
    result = run_cli("new", "shop", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"microroute new: {tmp_path / 'shop'} already exists: " \
        "pick another name, or another place\n"
    assert [path.name for path in (tmp_path / "shop").iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("my-shop", "'my-shop' is not a Python name: use letters, digits and _ (my_shop)"),
        ("2shop", "'2shop' is not a Python name"),
        ("../shop", "'../shop' is not a Python name"),
        ("class", "'class' is a Python keyword"),
        ("match", "'match' is a Python keyword"),
        ("json", "'json' would hide the standard library's json module"),
        ("asyncio", "'asyncio' would hide the standard library's asyncio module"),
        ("test", "'test' would hide the module already installed at "),
        ("microroute", "'microroute' would hide the microroute package it runs on"),
        ("Werkzeug", "'Werkzeug' would hide the werkzeug package it runs on"),
        ("hypothesis", "'hypothesis' would hide the module already installed at "),
    ],
)
def test_new_refuses_a_name_python_cannot_import_or_that_hides_a_module(
    tmp_path: Path, name: str, message: str
) -> None:
    result = run_cli("new", name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"microroute new: {message}")
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []
