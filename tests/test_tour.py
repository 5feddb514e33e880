"""docs/tour.md, the guided tour, kept true: every name it shows exists, and
the request and the start-up it follows call what it says, in that order.

The order is not taken on trust: one real request (and one real start-up)
is traced with `sys.setprofile`, which sees every Python function call, and
the functions the tour's numbered steps name must come in the trace in the
order the steps tell. A step renamed, moved or dropped in the code fails
here, naming it; so does a file the request newly passes through that the
tour's count leaves out.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import io
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from werkzeug.test import Client

import microroute
from demo_app.store import DATABASE_URL_ENV_VAR, DB_ENV_VAR, default_store
from helpers import ROOT, write_tree
from microroute import App, segments

TOUR = (ROOT / "docs" / "tour.md").read_text()
PACKAGE = Path(microroute.__file__).parent
MODULES = {
    module.name: importlib.import_module(f"microroute.{module.name}")
    for module in pkgutil.iter_modules([str(PACKAGE)])
    if module.name != "__main__"  # (which runs the command line)
}
# A dotted name in code font: `paths.split`, `App.__call__`, `loader.Proxy.runs_for`.
# (Not a file's name: `app.py`.)
DOTTED = re.compile(r"`([A-Za-z_]\w*(?:\.\w+)+)(?<!\.py)(?<!\.md)`")
# A file of the repository in code font: `microroute/app.py`, `docs/tour.md`.
FILE = re.compile(r"`((?:microroute|demo_app|tests|benchmarks|docs)/[^`\s]+)`")
STEP = re.compile(r"^\*\*(\d+)\. (.*?)\*\*", re.MULTILINE | re.DOTALL)
NUMBERS = {"four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def section(title: str) -> str:
    """The tour's text under the heading `title`, up to the next heading."""
    start = TOUR.index(f"\n{title}\n")
    following = re.search(r"\n#{2,3} ", TOUR[start + 1 :])
    return TOUR[start : start + 1 + following.start()] if following else TOUR[start:]


def _classes() -> dict[str, type]:
    """Every class defined in microroute, by its name (which is unique)."""
    classes: dict[str, type] = {}
    for module in MODULES.values():
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                assert name not in classes, f"two classes named {name}: the tour cannot say which"
                classes[name] = value
    return classes


CLASSES = _classes()


def resolve(name: str) -> object | None:
    """What a dotted name of the tour is in microroute; None if it names
    something else (`functools.cached_property`). A name that starts like one
    of microroute's and names nothing fails the test."""
    first, *rest = name.split(".")
    owner: Any = MODULES.get(first) or CLASSES.get(first)
    if owner is None:
        return None
    for part in rest:
        try:
            owner = inspect.getattr_static(owner, part)
        except AttributeError:
            # An attribute set on each instance (`Request.params`, `Router.by_path`).
            assert inspect.isclass(owner) and re.search(
                rf"self\.{part}\b(: [^=]+)? =", inspect.getsource(owner)
            ), f"docs/tour.md names `{name}`, which microroute does not have"
            return part
    return owner


def qualified(name: str) -> str:
    """`App.__call__` -> "app.App.__call__", as the trace names a function."""
    value = resolve(name)
    assert value is not None, f"`{name}` is not microroute's"
    function = getattr(value, "fget", None) or getattr(value, "func", None) or value
    function = getattr(function, "__func__", function)  # a classmethod's
    if inspect.isclass(function):
        function = function.__init__
    module = function.__module__.removeprefix("microroute.")
    return f"{module}.{function.__qualname__}"


def steps(title: str) -> list[list[str]]:
    """The names each numbered step of a section shows in its bold title, in order."""
    found = STEP.findall(section(title))
    assert [int(number) for number, _ in found] == list(range(1, len(found) + 1)), (
        f"the steps of {title!r} are not numbered 1, 2, 3..."
    )
    named = [[name for name in DOTTED.findall(text) if resolve(name)] for _, text in found]
    assert all(named), f"a step of {title!r} names no function of microroute"
    return named


@contextlib.contextmanager
def traced() -> Iterator[list[str]]:
    """Every call of a microroute function while inside: ["app.App.__call__", ...]."""
    calls: list[str] = []

    def profile(frame: FrameType, event: str, argument: object) -> None:
        code = frame.f_code
        if event == "call" and code.co_filename.startswith(str(PACKAGE)):
            qualname = getattr(code, "co_qualname", code.co_name)  # (3.11+)
            calls.append(f"{Path(code.co_filename).stem}.{qualname}")

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


def assert_called_in_order(claimed: list[list[str]], calls: list[str]) -> None:
    position = 0
    for number, names in enumerate(claimed, start=1):
        for name in names:
            function = qualified(name)
            try:
                position = calls.index(function, position) + 1
            except ValueError:
                earlier = function in calls[:position]
                pytest.fail(
                    f"step {number} of docs/tour.md names `{name}`, which "
                    + ("is called, but before the steps above it" if earlier else "is not called")
                    + ". What was called, in order:\n  " + "\n  ".join(_distinct(calls))
                )


def _distinct(calls: list[str]) -> list[str]:
    return [call for index, call in enumerate(calls) if call not in calls[:index]]


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    """The demo app, as gunicorn serves it, over a fresh SQLite database."""
    monkeypatch.setenv(DB_ENV_VAR, str(tmp_path / "demo.sqlite3"))
    monkeypatch.setenv(DATABASE_URL_ENV_VAR, "")
    default_store.cache_clear()
    from demo_app import app

    try:
        yield Client(app)
    finally:
        if default_store.cache_info().currsize:
            default_store().close()  # this thread's connection
        default_store.cache_clear()


def test_every_name_the_tour_shows_exists() -> None:
    names = DOTTED.findall(TOUR)
    assert len([name for name in names if resolve(name)]) > 60
    for path in FILE.findall(TOUR):
        assert (ROOT / path).exists(), f"docs/tour.md names {path}, which does not exist"


def test_the_request_calls_what_the_tour_says_in_its_order(demo: Client) -> None:
    claimed = steps("## One request: `GET /api/products/1`")
    with traced() as calls:
        response = demo.get("/api/products/1")
    assert response.status_code == 200
    assert response.get_json() == {"id": 1, "name": "Keyboard", "price": 999}
    assert_called_in_order(claimed, calls)


def test_the_tour_counts_the_files_the_request_passes_through(demo: Client) -> None:
    with traced() as calls:
        demo.get("/api/products/1")
    files = {f"{call.split('.')[0]}.py" for call in calls}
    count = section("### How many files the request passes through")
    named = set(re.findall(r"`(\w+\.py)`", count.split("In a tree without")[0]))
    assert named == files, f"the request passes through {sorted(files)}"
    word = re.search(r"\*\*(\w+)\*\* files", count)
    assert word is not None and NUMBERS[word.group(1)] == len(files)


def test_the_tour_counts_the_files_without_a_proxy(tmp_path: Path) -> None:
    route = (
        "from microroute import Response\n\n"
        "def GET(request, params):\n    return Response.json(params)\n"
    )
    client = Client(App(write_tree(tmp_path, {"api/products/[id]/route.py": route})))
    with traced() as calls:
        assert client.get("/api/products/1").get_json() == {"id": "1"}
    files = {call.split(".")[0] for call in calls}
    without = re.search(r"In a tree\s+without a proxy, it is (\w+)\b", TOUR)
    assert without is not None and NUMBERS[without.group(1)] == len(files), sorted(files)


def test_the_start_up_calls_what_the_tour_says_in_its_order() -> None:
    claimed = steps("## One start-up: `App(app_dir)`")
    segments.parse.cache_clear()  # as in a new process: each folder name parsed afresh
    with traced() as calls:
        App(ROOT / "demo_app" / "app")
    assert_called_in_order(claimed, calls)


def test_the_tours_way_to_watch_a_request_shows_it(demo: Client) -> None:
    (source,) = re.findall(r"```python\n(.*?)```", TOUR, flags=re.DOTALL)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "docs/tour.md", "exec"), {"__name__": "tour"})
    lines = printed.getvalue().splitlines()
    assert lines[0] == "app.py App.__call__"
    assert "router.py Router.find" in lines


def test_the_readme_sends_its_reader_on_the_tour() -> None:
    readme = (ROOT / "README.md").read_text()
    for heading in ("### The round trip, step by step", "## The code"):
        text = readme.split(f"\n{heading}\n")[1].split("\n## ")[0]
        assert "docs/tour.md" in text, f"README's {heading!r} does not link the tour"
