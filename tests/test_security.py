"""Attacks and faults: what a hostile or broken client (or handler) gets.

Each test names the guarantee it proves; README "Guarantees" points here.
In-process through the validated `Client`, and over a real socket where the
bytes on the wire are the point.
"""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from werkzeug.test import Client

from helpers import BROWSER, ROOT, Server, write_tree
from microroute import App

TREE = {
    "api/items/[id]/route.py": """
        from microroute import Response

        def GET(request, params):
            return Response.json({"id": params["id"]})
    """,
    "api/_lib/secrets.py": "TOKEN = 'never-served'\n",
    "about/page.py": """
        def Page():
            return "<h1>About</h1>"
    """,
    "api/boom/route.py": """
        def GET():
            raise RuntimeError("secret detail in /srv/app/api/boom/route.py")
    """,
    "api/split/route.py": """
        from microroute import Response

        def GET(request):
            response = Response("hi")
            response.headers["X-Echo"] = request.query.get("v", "")
            return response
    """,
    "api/stream/route.py": """
        from microroute import Response

        def GET():
            def body():
                yield b"first part, "
                raise RuntimeError("the body failed half-way")
            return Response(body(), content_type="text/plain")
    """,
}


@pytest.fixture
def app(tmp_path: Path) -> App:
    return App(write_tree(tmp_path, TREE))


def get(app: App, path: str, **kwargs: object) -> tuple[int, str, dict[str, str], str]:
    """GET through the test client; (status, body, headers, what went to wsgi.errors)."""
    errors = io.StringIO()
    response = Client(app).get(path, errors_stream=errors, buffered=True, **kwargs)
    return response.status_code, response.get_data(as_text=True), dict(response.headers), \
        errors.getvalue()


@pytest.mark.parametrize(
    "path",
    ["/api/items/route.py/x", "/api/_lib/secrets.py", "/_lib/x", "/api/_lib/secrets",
     "/../setup.cfg", "/%2e%2e/setup.cfg", "/api/%2e%2e/%2e%2e/setup.cfg", "/app/about/page.py"],
)
def test_nothing_but_routes_and_pages_is_ever_served(app: App, path: str) -> None:
    status, body, _, _ = get(app, path)
    assert status == 404
    assert "never-served" not in body and "[section]" not in body


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/<script>alert(1)</script>"), ("POST", "/about?<script>=1"),
     ("GET", "/about/%3Cscript%3E")],
)
def test_html_error_pages_reflect_nothing_unescaped(app: App, method: str, path: str) -> None:
    response = Client(app).open(path, method=method, headers={"Accept": BROWSER}, buffered=True)
    assert response.status_code in (404, 405)
    assert response.content_type == "text/html; charset=utf-8"
    assert "<script>" not in response.get_data(as_text=True)


def test_an_unknown_method_reflected_in_html_is_escaped(app: App) -> None:
    response = Client(app).open("/about", method="X<B>", headers={"Accept": BROWSER}, buffered=True)
    assert response.status_code == 501
    page = response.get_data(as_text=True)
    assert "X&lt;B&gt;" in page and "<B>" not in page


def test_a_crash_shows_no_traceback_source_or_path(app: App) -> None:
    for headers in ({}, {"Accept": BROWSER}):
        status, body, _, log = get(app, "/api/boom", headers=headers)
        assert status == 500
        for leak in ("Traceback", "RuntimeError", "secret detail", "/srv/app", "route.py"):
            assert leak not in body
        assert "RuntimeError: secret detail" in log  # the server's log has it all


def test_a_crash_log_line_cannot_be_forged_by_the_path(tmp_path: Path) -> None:
    # The method and path are the client's: quoted in the log, so a newline
    # in them cannot start a line of its own.
    app = App(write_tree(tmp_path, {"crash/[...any]/route.py": "def GET():\n    raise KeyError\n"}))
    forged = "microroute: error in 'GET' '/forged'"
    status, _, _, log = get(app, "/crash/x%0A" + forged.replace(" ", "%20"))
    assert status == 500
    [first, *_] = log.splitlines()
    assert first == f"microroute: error in 'GET' {'/crash/x' + chr(10) + forged!r}"
    assert forged not in log.splitlines()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    status, body, _, _ = get(App(write_tree(tmp_path, TREE), debug=True), "/api/boom")
    assert status == 500
    assert "RuntimeError: secret detail" in json.loads(body)["traceback"]


@pytest.mark.parametrize("value", ["a\r\nSet-Cookie: owned=1", "a\nb", "a\rb"])
def test_a_header_with_cr_or_lf_raises_at_the_handler(app: App, value: str) -> None:
    status, body, headers, log = get(app, "/api/split", query_string={"v": value})
    assert status == 500
    assert "owned" not in json.dumps(headers) and "X-Echo" not in headers
    assert "must not contain a control character" in log  # raised where the handler set it


def test_json_responses_forbid_sniffing(app: App) -> None:
    for path in ("/api/items/1", "/nope"):
        _, _, headers, _ = get(app, path)
        assert headers["Content-Type"] == "application/json"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_a_body_failing_half_way_is_logged_and_the_worker_serves_on(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    package = tmp_path / "hostile"
    write_tree(package, TREE)
    (package / "__init__.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    server = serve("hostile:app", cwd=tmp_path)  # one worker: it must survive
    # gunicorn listens before its worker is up: wait for an answer from it.
    assert server.request("GET", "/api/items/1")[0] == 200
    workers = server.worker_pids()
    assert len(workers) == 1
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk
    # The client is never told a truncated body is whole: no final empty chunk.
    assert b"first part, " in reply
    assert not reply.endswith(b"0\r\n\r\n")
    status, _, body = server.request("GET", "/api/items/7")
    assert (status, json.loads(body)) == (200, {"id": "7"})
    assert server.worker_pids() == workers  # the same worker, still alive
    assert "the body failed half-way" in server.log.read_text()


def test_the_demo_serves_no_file_of_its_own_source(serve: Callable[..., Server],
                                                   tmp_path: Path) -> None:
    server = serve("demo_app:app", env={"MICROROUTE_DEMO_DB": str(tmp_path / "db.sqlite3")})
    for path in ("/api/products/route.py", "/_lib/x", "/checks.py", "/demo_app/checks.py",
                 "/%2e%2e/setup.cfg", "/store.py", "/demo_app/store.py"):
        status, _, body = server.request("GET", path)
        assert status == 404, path
        assert b"import" not in body
    # They exist; they are just never served.
    for source in ("setup.cfg", "demo_app/checks.py", "demo_app/store.py",
                   "demo_app/app/api/products/route.py"):
        assert ROOT.joinpath(source).is_file(), source
