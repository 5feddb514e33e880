"""The real thing: a route tree served by gunicorn on 127.0.0.1.

A test client hands the app a tidy environ; a real server shows what arrives
over a socket, such as how an encoded slash reaches the router (gunicorn's
RAW_URI) and whether the response is valid HTTP.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Server, write_tree

ROUTES = {
    "api/products/route.py": """
        from microroute import Response

        def GET():
            return Response.json([{"id": 1, "name": "Keyboard", "price": 999}])

        def POST(request):
            return Response.json({"created": request.json()}, status=201)
    """,
    "api/products/[id]/route.py": """
        from microroute import Response

        def GET(request, params):
            return Response.json({"id": params["id"]})
    """,
    "about/page.py": """
        def Page():
            return "<h1>About</h1>"
    """,
}


@pytest.fixture
def server(tmp_path: Path, serve: Callable[..., Server]) -> Server:
    package = tmp_path / "served"
    write_tree(package, ROUTES)
    (package / "__init__.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    return serve("served:app", cwd=tmp_path)


def test_get_list(server: Server) -> None:
    status, headers, body = server.request("GET", "/api/products")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == [{"id": 1, "name": "Keyboard", "price": 999}]
    assert int(headers["Content-Length"]) == len(body)


def test_post_creates(server: Server) -> None:
    payload = json.dumps({"name": "Cable"}).encode()
    status, _, body = server.request(
        "POST", "/api/products", payload, {"Content-Type": "application/json"}
    )
    assert status == 201
    assert json.loads(body) == {"created": {"name": "Cable"}}


def test_malformed_json_is_a_400(server: Server) -> None:
    status, _, body = server.request("POST", "/api/products", b"{oops")
    assert status == 400
    assert json.loads(body)["error"].startswith("Malformed JSON")


def test_404_and_405_with_allow(server: Server) -> None:
    status, _, body = server.request("GET", "/nope")
    assert (status, json.loads(body)) == (404, {"error": "Not Found"})
    status, headers, _ = server.request("DELETE", "/api/products")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD, OPTIONS, POST"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/api/products/a%2Fb", "a/b"), ("/api/products/%2541", "%41"),
     ("/api/products/caf%C3%A9", "café"), ("/api/products/%25ZZ", "%ZZ")],
)
def test_encoded_segments_arrive_decoded_exactly_once(
    server: Server, target: str, expected: str
) -> None:
    status, _, body = server.request("GET", target)
    assert status == 200
    assert json.loads(body) == {"id": expected}


def test_malformed_escape_is_a_400(server: Server) -> None:
    status, _, body = server.request("GET", "/api/products/%ZZ")
    assert status == 400
    assert "percent-escape" in json.loads(body)["error"]


def test_trailing_slash_redirects(server: Server) -> None:
    status, headers, _ = server.request("GET", "/about/?x=1")
    assert status == 308
    assert headers["Location"] == "/about?x=1"


def test_head_and_options(server: Server) -> None:
    status, headers, body = server.request("HEAD", "/about")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len("<h1>About</h1>"))
    status, headers, body = server.request("OPTIONS", "/api/products")
    assert (status, body) == (204, b"")
    assert headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_unknown_method_is_a_501(server: Server) -> None:
    # urllib refuses nothing, but say it on a raw socket to be sure of the bytes.
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
        connection.sendall(b"FOO /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := connection.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 501 ")


@pytest.mark.parametrize(
    ("script_name", "target", "location"),
    [
        ("/", "/evil.com/", "/evil.com"),
        ("/", "/about/?x=1", "/about?x=1"),
        ("/", "//evil.com/", "/evil.com"),
        ("//evil.com", "//evil.com/about/", "/evil.com/about"),
        ("/\\evil.com", "/\\evil.com/about/", "/%5Cevil.com/about"),
    ],
)
def test_a_308_stays_on_the_site_whatever_script_name_the_client_sends(
    server: Server, script_name: str, target: str, location: str
) -> None:
    # gunicorn takes SCRIPT_NAME from a request header sent from 127.0.0.1.
    status, headers, _ = server.request("GET", target, headers={"SCRIPT_NAME": script_name})
    assert status == 308
    assert headers["Location"] == location


@pytest.mark.parametrize(
    ("target", "location"),
    [("/\\evil.com", "/evil.com"), ("/\\evil.com/", "/evil.com"), ("/about\\", "/about"),
     ("/%5Cevil.com/", "/%5Cevil.com")],
)
def test_a_raw_backslash_redirects_as_a_slash(server: Server, target: str, location: str) -> None:
    status, headers, _ = server.request("GET", target)
    assert status == 308
    assert headers["Location"] == location


def test_an_encoded_backslash_stays_in_its_segment(server: Server) -> None:
    status, _, body = server.request("GET", "/api/products/a%5Cb")
    assert (status, json.loads(body)) == (200, {"id": "a\\b"})
