"""The README is the first lesson: every Python block in it runs here.

A block whose first line names a file (`# app/api/hello/route.py`) goes into
a route tree, which is then served and asked what the README says it
answers; any other block is run as it stands. A block this file does not
know how to check fails the test, so the lesson cannot rot.
"""

from __future__ import annotations

import http.server
import io
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from helpers import ROOT, write_tree
from microroute import App, HTTPError

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
FILE_HEADER = re.compile(r"# (app/\S+\.py)\n")


def file_blocks() -> dict[str, str]:
    """`{"api/hello/route.py": source}` for every block that names its file."""
    files = {}
    for block in BLOCKS:
        header = FILE_HEADER.match(block)
        if header:
            name = header.group(1).removeprefix("app/")
            assert name not in files, f"the README shows {name} twice"
            files[name] = block
    return files


SNIPPETS = [block for block in BLOCKS if not FILE_HEADER.match(block)]


def test_the_readme_has_lessons_in_both_kinds_of_block() -> None:
    assert len(file_blocks()) >= 7
    assert len(SNIPPETS) >= 3


@pytest.fixture
def lesson(tmp_path: Path) -> Client:
    return Client(App(write_tree(tmp_path, file_blocks())))


def test_a_get_endpoint(lesson: Client) -> None:
    response = lesson.get("/api/hello")
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.get_json() == {"message": "Hi!"}


def test_the_products_round_trip(lesson: Client) -> None:
    assert lesson.get("/api/products").get_json() == [
        {"id": 1, "name": "Keyboard", "price": 999}
    ]
    assert lesson.get("/api/products?limit=0").get_json() == []
    for bad in ("abc", "-1", "1.5", "9" * 5000):  # the client's mistake: a 400, never a 500
        response = lesson.get(f"/api/products?limit={bad}")
        assert (response.status_code, response.get_json()) == (
            400, {"error": "limit must be a whole number, 0 or more"}
        )
    created = lesson.post("/api/products", json={"name": "Mouse"})
    assert (created.status_code, created.get_json()) == (201, {"created": {"name": "Mouse"}})
    assert lesson.post("/api/products", data="{oops").status_code == 400
    assert lesson.get("/api/products/1").get_json()["name"] == "Keyboard"
    missing = lesson.get("/api/products/2")
    assert (missing.status_code, missing.get_json()) == (404, {"error": "No product 2"})


def test_a_page_inside_its_layout(lesson: Client) -> None:
    response = lesson.get("/about")
    assert response.content_type == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert page.startswith("<!doctype html>")
    assert "<nav><a href='/'>Home</a></nav><h1>About</h1>" in page


def test_the_not_found_page_is_for_browsers(lesson: Client) -> None:
    browser = lesson.get("/nowhere", headers={"Accept": "text/html"})
    assert browser.status_code == 404
    assert "<h1>Nothing at /nowhere</h1>" in browser.get_data(as_text=True)
    api = lesson.get("/nowhere")
    assert (api.status_code, api.get_json()) == (404, {"error": "Not Found"})


def test_the_proxy_answers_before_routing(lesson: Client) -> None:
    response = lesson.get("/admin/settings")
    assert (response.status_code, response.headers["Location"]) == (307, "/login")
    lesson.set_cookie("session", "abc")
    assert lesson.get("/admin/settings").status_code == 404  # let through: no such route


def test_the_proxy_adds_cors_to_every_api_answer(lesson: Client) -> None:
    shop = {"Origin": "https://shop.example"}
    preflight = lesson.options("/api/products", headers={
        **shop, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    for path, status in [("/api/products", 200), ("/api/nowhere", 404)]:
        response = lesson.get(path, headers=shop)
        assert response.status_code == status
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in lesson.get("/about", headers=shop).headers
    other = lesson.get("/api/products", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_a_pages_404_renders_the_not_found_page(lesson: Client) -> None:
    found = lesson.get("/products/1")
    assert "<h1>Keyboard</h1>" in found.get_data(as_text=True)
    browser = lesson.get("/products/2", headers={"Accept": "text/html"})
    assert browser.status_code == 404
    assert "<h1>Nothing at /products/2</h1>" in browser.get_data(as_text=True)
    api = lesson.get("/products/2")
    assert (api.status_code, api.get_json()) == (404, {"error": "No product 2"})


def test_the_error_page_answers_a_failing_page(tmp_path: Path) -> None:
    failing = {"broken/page.py": "def Page():\n    raise RuntimeError('broken')\n"}
    client = Client(App(write_tree(tmp_path, {**file_blocks(), **failing})))
    log = io.StringIO()
    response = client.get("/broken", headers={"Accept": "text/html"}, errors_stream=log)
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "<nav><a href='/'>Home</a></nav><h1>Something went wrong</h1>" in page
    assert "RuntimeError: broken" in log.getvalue()
    assert "RuntimeError" not in page


def test_conditional_get_answers_304_when_the_client_has_it(lesson: Client) -> None:
    first = lesson.get("/api/catalogue")
    assert (first.status_code, first.get_json()) == (200, {"version": 3})
    again = lesson.get("/api/catalogue", headers={"If-None-Match": first.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")


class _Prices(http.server.BaseHTTPRequestHandler):
    """The other server the README's async example calls: /prices/<n>, after 0.2 s."""

    def do_GET(self) -> None:
        time.sleep(0.2)
        number = int(self.path.rpartition("/")[2])
        body = json.dumps({"cents": number * 100}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments: Any) -> None:
        pass


def test_an_async_handler_calls_another_server_for_all_ids_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Prices)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("PRICES_API", f"http://127.0.0.1:{server.server_port}")
        client = Client(App(write_tree(tmp_path, file_blocks())))  # reads PRICES_API
        started = time.perf_counter()
        answer = client.get("/api/prices?ids=1,2,3,4,5", buffered=True)
        elapsed = time.perf_counter() - started
        assert answer.get_json() == {str(n): {"cents": n * 100} for n in range(1, 6)}
        assert elapsed < 0.9  # five 0.2 s calls together; one after another: 1 s
        bad = client.get("/api/prices?ids=1,../admin", buffered=True)
        assert (bad.status_code, bad.get_json()) == (
            400, {"error": "ids must be numbers, separated by commas"})
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("source", SNIPPETS, ids=lambda source: source.splitlines()[0][:40])
def test_every_other_block_runs(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the embedding examples name demo_app/app
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(source, "README.md", "exec"), namespace)
    app = namespace.get("app")
    if "def test_" in source:  # a test of one's own routes: run each, as pytest would
        tests = [value for name, value in namespace.items() if name.startswith("test_")]
        assert tests
        for test in tests:
            test()
    elif "Flask" in source:
        client = Client(app)
        assert client.get("/old").get_data(as_text=True) == "still served by Flask"
        assert client.get("/api/hello").get_json() == {"message": "Hi!"}
    elif "DispatcherMiddleware" in source:
        client = Client(app)
        assert client.get("/").get_data(as_text=True) == "the main site"
        assert client.get("/shop/api/hello").get_json() == {"message": "Hi!"}
        redirect = client.get("/shop/about/")
        assert (redirect.status_code, redirect.headers["Location"]) == (308, "/shop/about")
    elif "def check_price" in source:
        namespace["check_price"](5)  # fine: no error
        with pytest.raises(HTTPError) as raised:
            namespace["check_price"](-1)
        assert (raised.value.status, raised.value.details) == (
            422, {"fields": {"price": "must be ≥ 0"}}
        )
    elif "errors=" in source:  # exceptions of one's own, each mapped to its answer
        for kind, answer in app.errors.items():
            assert app.answer_for(kind("why")) is answer
        assert app.answer_for(ValueError("not mapped")) is None
    elif "Response(" in source:
        response = namespace["response"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Set-Cookie"].startswith("session=abc")
    else:
        pytest.fail(f"test_readme.py does not know how to check this block:\n{source}")


def guarantee_references() -> list[tuple[str, str | None]]:
    """`(file, test or None)` for every test the Guarantees table names: a cell
    `tests/test_a.py::test_x`, `::test_y` names test_x and test_y of test_a.py."""
    table = README.split("\n## Guarantees\n")[1].split("\n## ")[0]
    references: list[tuple[str, str | None]] = []
    for row in (line for line in table.splitlines() if line.startswith("|")):
        proof = row.rsplit("|", 2)[1]  # the last cell
        file = None
        for name in re.findall(r"`(tests/\w+\.py|tests/\w+\.py::\w+|::\w+)`", proof):
            path, _, test = name.partition("::")
            file = path or file
            assert file is not None, f"{name} names no file: {row}"
            references.append((file, test or None))
    return references


def test_every_test_the_guarantees_table_names_exists() -> None:
    # A renamed or deleted test must not leave a promise proved by nothing.
    references = guarantee_references()
    assert len(references) > 50
    for file, test in references:
        path = ROOT / file
        assert path.is_file(), f"the Guarantees table names {file}, which does not exist"
        if test is not None:
            assert re.search(rf"^(async )?def {test}\(", path.read_text(), re.MULTILINE), (
                f"the Guarantees table names {file}::{test}, which does not exist"
            )
