"""The real thing: one route tree served by every WSGI server in
`processes.SERVERS` (gunicorn's sync and threaded workers, waitress, uWSGI,
granian)
on 127.0.0.1, and the same HTTP-level contract asked of each.

A test client hands the app a tidy environ; a real server shows what arrives
over a socket: where the raw request target is (gunicorn's `RAW_URI`,
uWSGI's and waitress's `REQUEST_URI`), what the server makes of an escape it
cannot decode, whether it marks the end of a chunked body, what it refuses
before the app is called, and whether the response is valid HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import processes
import pytest

from helpers import ROOT, Server, write_tree

README = (ROOT / "README.md").read_text()
PUBLIC_FILE = bytes(range(256)) * 4096  # 1 MiB in public/: each server's file_wrapper sends it
MAX_BODY = 4096  # the served app's max_body_size: small, so a 413 is cheap to provoke

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
    "api/stream/route.py": """
        from microroute import Response

        def GET():
            return Response((b"part %d;" % n for n in range(1000)), content_type="text/plain")
    """,
    "about/page.py": """
        def Page():
            return "<h1>About</h1>"
    """,
    "api/echo/route.py": """
        from microroute import Response

        def GET(request):
            return Response.json(dict(request.cookies))

        def POST(request):
            return Response(request.text())
    """,
}


def served(name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The tree above under the server `name`, stopped afterwards."""
    root = tmp_path_factory.mktemp(name)
    package = root / "served"
    write_tree(package, ROUTES)
    (package / "public").mkdir()
    (package / "public" / "file.bin").write_bytes(PUBLIC_FILE)
    (package / "__init__.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        f"app = App(Path(__file__).parent / 'app', max_body_size={MAX_BODY})\n"
    )
    started = Server("served:app", root, root, server=name)
    yield started
    started.stop()
    assert "Traceback" not in started.log.read_text(), started.log.read_text()


@pytest.fixture(scope="module", params=sorted(processes.SERVERS))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Server]:
    """The tree above under each server in turn: started once per server."""
    yield from served(request.param, tmp_path_factory)


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The tree above under gunicorn alone, for what only gunicorn does."""
    yield from served("gunicorn", tmp_path_factory)


def error_of(body: bytes) -> str:
    message: str = json.loads(body)["error"]
    return message


def test_get_list(server: Server) -> None:
    status, headers, body = server.request("GET", "/api/products")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == [{"id": 1, "name": "Keyboard", "price": 999}]
    assert int(headers["Content-Length"]) == len(body)


def test_post_creates(server: Server) -> None:
    payload = json.dumps({"name": "Câble"}).encode()
    status, _, body = server.request(
        "POST", "/api/products", payload, {"Content-Type": "application/json"}
    )
    assert status == 201
    assert json.loads(body) == {"created": {"name": "Câble"}}


def test_malformed_json_is_a_400(server: Server) -> None:
    status, _, body = server.request("POST", "/api/products", b"{oops")
    assert status == 400
    assert error_of(body).startswith("Malformed JSON")


def test_a_body_over_the_limit_is_a_413(server: Server) -> None:
    status, _, body = server.request("POST", "/api/products", b"[" + b"1," * MAX_BODY + b"1]")
    assert status == 413
    assert error_of(body) == f"The request body is larger than {MAX_BODY} bytes."


def test_404_and_405_with_allow(server: Server) -> None:
    status, _, body = server.request("GET", "/nope")
    assert (status, json.loads(body)) == (404, {"error": "Not Found"})
    status, headers, _ = server.request("DELETE", "/api/products")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    status, headers, _ = server.request("POST", "/about")
    assert status == 405
    assert headers["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize(
    ("target", "expected"),
    [("/api/products/a%2Fb", "a/b"), ("/api/products/%2541", "%41"),
     ("/api/products/caf%C3%A9", "café"), ("/api/products/%25ZZ", "%ZZ"),
     ("/api/products/a%5Cb", "a\\b")],
)
def test_encoded_segments_arrive_decoded_exactly_once(
    server: Server, target: str, expected: str
) -> None:
    status, _, body = server.request("GET", target)
    if not server.kind.raw_target and ("/" in expected or "\\" in expected):
        # Without the raw target the decoded `a/b` is two segments (no such
        # route), and a decoded `\` is a raw one, which is read as a `/`.
        assert status == 404
        return
    assert status == 200
    assert json.loads(body) == {"id": expected}


@pytest.mark.parametrize(
    "target",
    # Each server makes its own PATH_INFO of these (gunicorn keeps "%ZZ",
    # uWSGI decodes it to a NUL and drops a "%" at the end): the raw target
    # tells, and says 400.
    ["/api/products/%ZZ", "/api/products/%zz", "/api/products/%Z1", "/api/products/a%",
     "/api/products/a%4", "/api/products/%ZZ?q=1"],
)
def test_a_malformed_escape_is_a_400(server: Server, target: str) -> None:
    status, _, body = server.request("GET", target)
    if not server.kind.raw_target:
        # granian keeps what it cannot decode as it came, and microroute cannot
        # tell it from an escaped "%" (`%25ZZ`): the handler gets the text.
        segment = target.partition("?")[0].removeprefix("/api/products/")
        assert (status, json.loads(body)) == (200, {"id": segment})
        return
    assert status == 400
    assert error_of(body).startswith("Malformed percent-escape in the path: %")


@pytest.mark.parametrize(
    ("target", "location"),
    [("/about/?x=1", "/about?x=1"), ("/api//products?x=%41", "/api/products?x=%41"),
     ("/api/products/a%2Fb/", "/api/products/a%2Fb")],
)
def test_stray_slashes_are_a_308(server: Server, target: str, location: str) -> None:
    status, headers, _ = server.request("GET", target)
    assert status == 308
    if not server.kind.raw_target:  # the escape is gone before microroute sees the path
        location = location.replace("%2F", "/")
    assert headers["Location"] == location


@pytest.mark.parametrize(
    ("target", "location"),
    [("/\\evil.com", "/evil.com"), ("/\\evil.com/", "/evil.com"), ("/about\\", "/about"),
     ("/%5Cevil.com/", "/%5Cevil.com")],
)
def test_a_raw_backslash_redirects_as_a_slash(server: Server, target: str, location: str) -> None:
    status, headers, _ = server.request("GET", target)
    assert status == 308
    if not server.kind.raw_target:  # a decoded `%5C` is a raw `\`: a slash, still on the site
        location = location.replace("%5C", "")
    assert headers["Location"] == location


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
    gunicorn: Server, script_name: str, target: str, location: str
) -> None:
    # gunicorn (alone of these servers) takes SCRIPT_NAME from a request
    # header sent from 127.0.0.1.
    status, headers, _ = gunicorn.request("GET", target, headers={"SCRIPT_NAME": script_name})
    assert status == 308
    assert headers["Location"] == location


def test_head_and_options(server: Server) -> None:
    status, headers, body = server.request("HEAD", "/about")
    assert (status, body) == (200, b"")
    assert headers["Content-Length"] == str(len("<h1>About</h1>"))
    status, headers, body = server.request("OPTIONS", "/api/products")
    assert (status, body) == (204, b"")
    assert headers["Allow"] == "GET, HEAD, OPTIONS, POST"


def test_unknown_method_is_a_501(server: Server) -> None:
    reply = server.send(b"FOO /about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 501 ")
    assert b'{"error":"Method FOO is not implemented."}' in reply


def test_a_cookie_header_that_is_not_utf8_is_read_with_replacement(server: Server) -> None:
    status, _, body = server.request("GET", "/api/echo", headers={"Cookie": "f=caf\xe9; g=ok"})
    if not server.kind.keeps_non_ascii_headers:  # granian hands over an empty Cookie
        assert (status, json.loads(body)) == (200, {})
        return
    assert (status, json.loads(body)) == (200, {"f": "caf\ufffd", "g": "ok"})


def test_a_utf7_body_echoed_back_is_a_415_not_a_500(server: Server) -> None:
    # "+2AA-" in UTF-7 is a lone surrogate, which no response can carry.
    status, _, body = server.request(
        "POST", "/api/echo", b"+2AA-", {"Content-Type": "text/plain; charset=utf-7"}
    )
    assert status == 415
    assert "utf-7" in error_of(body)


def test_a_response_http_cannot_carry_is_our_json_500_not_the_servers(
    serve: Callable[..., Server], tmp_path: Path
) -> None:
    # gunicorn would send its own HTML 500 (ignoring Accept, skipping our
    # log line) for a header with a \x0b, and put a wrong length on the wire.
    package = tmp_path / "refusing"
    write_tree(package, {"api/refused/route.py": """
        from microroute import Response

        def GET(request):
            if request.query["kind"] == "header":
                return Response("x", headers={"X-Echo": "a\\x0bb"})
            return Response("hello", headers={"Content-Length": "999"})
    """})
    (package / "__init__.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    server = serve("refusing:app", cwd=tmp_path)
    for kind in ("header", "length"):
        status, headers, body = server.request("GET", f"/api/refused?kind={kind}")
        assert status == 500
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {"error": "Internal Server Error"}
        assert int(headers["Content-Length"]) == len(body)
    log = server.log.read_text()
    assert "Header X-Echo must not contain a control character" in log
    assert "Header Content-Length 999 is not the body's length, 5 bytes" in log


def test_options_asterisk_answers_for_the_server_as_a_whole(server: Server) -> None:
    # RFC 9110 §9.3.7: every method the framework routes, not the root page's.
    reply = server.send(b"OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head = reply.decode("latin-1").lower()
    assert head.startswith("http/1.1 204 ")
    assert "\r\nallow: delete, get, head, options, patch, post, put\r\n" in head


def test_a_streamed_response_arrives_whole(server: Server) -> None:
    status, headers, body = server.request("GET", "/api/stream")
    assert status == 200
    assert headers["Content-Type"] == "text/plain"
    assert body == b"".join(b"part %d;" % n for n in range(1000))


def status_line(reply: bytes) -> bytes:
    return reply.partition(b"\r\n")[0]


CHUNKED_POST = (b"POST /api/products HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Connection: close\r\n\r\n5\r\n[1,2]\r\n0\r\n\r\n")


def test_a_public_file_arrives_whole_and_in_parts(server: Server) -> None:
    status, headers, body = server.request("GET", "/file.bin")
    assert (status, len(body), body == PUBLIC_FILE) == (200, len(PUBLIC_FILE), True)
    assert headers["Content-Length"] == str(len(PUBLIC_FILE))
    size = len(PUBLIC_FILE)
    for asked, part in (("bytes=1000-1999", PUBLIC_FILE[1000:2000]),
                        ("bytes=-70000", PUBLIC_FILE[-70000:])):  # to the end
        status, headers, body = server.request("GET", "/file.bin", headers={"Range": asked})
        assert (status, len(body), body == part) == (206, len(part), True), asked
        start = size - len(part) if asked.startswith("bytes=-") else 1000
        assert headers["Content-Range"] == f"bytes {start}-{start + len(part) - 1}/{size}"
    etag = {name.lower(): value for name, value in headers.items()}["etag"]  # waitress: "Etag"
    status, _, body = server.request("GET", "/file.bin", headers={"If-None-Match": etag})
    assert (status, body) == (304, b"")


def test_a_chunked_body_is_read_where_the_server_decodes_it_else_a_411(server: Server) -> None:
    reply = server.send(CHUNKED_POST)
    if server.kind.decodes_chunked_bodies:
        assert status_line(reply) == b"HTTP/1.1 201 Created"
        assert reply.endswith(b'{"created":[1,2]}')
    else:  # uWSGI hands over the chunks' framing as it came, and no end
        assert status_line(reply) == b"HTTP/1.1 411 Length Required"
        assert b"send the body with a Content-Length" in reply


def test_transfer_encoding_and_content_length_together_never_read_the_framing(
    server: Server,
) -> None:
    # RFC 9112 6.1: the chunks win, or the request is refused. uWSGI would
    # hand the app the first 5 bytes of the framing ("5\r\n[1") as the body.
    reply = server.send(CHUNKED_POST.replace(b"Host: x\r\n", b"Host: x\r\nContent-Length: 5\r\n"))
    if status_line(reply) == b"HTTP/1.1 201 Created":
        assert reply.endswith(b'{"created":[1,2]}')
    else:
        assert status_line(reply) == b"HTTP/1.1 400 Bad Request"
        assert b"Malformed JSON" not in reply


@pytest.mark.parametrize(
    ("malformed", "request_head", "ours"),
    [("method", b"get /about HTTP/1.1\r\n", b'{"error":"Method get is not implemented."}'),
     ("length", b"POST /api/products HTTP/1.1\r\nContent-Length: abc\r\n",
      b'{"error":"Invalid Content-Length: \'abc\'"}')],
)
def test_a_malformed_request_is_refused_by_the_server_or_by_the_app(
    server: Server, malformed: str, request_head: bytes, ours: bytes
) -> None:
    reply = server.send(request_head + b"Host: x\r\nConnection: close\r\n\r\n")
    if malformed in server.kind.refuses:  # the server's own 400, in its own words
        assert status_line(reply).split(b" ")[1] == b"400"
        assert ours not in reply
    else:  # the app's 501 or 400
        assert status_line(reply).split(b" ")[1] in (b"400", b"501")
        assert reply.endswith(ours)


@pytest.mark.parametrize("name", sorted(processes.SERVERS))
def test_the_demo_under_every_server(
    name: str, serve: Callable[..., Server], tmp_path: Path
) -> None:
    env = {"MICROROUTE_DEMO_DB": str(tmp_path / "demo.sqlite3"), "MICROROUTE_DEMO_ADMIN_TOKEN": ""}
    server = serve("demo_app:app", env=env, server=name)
    status, _, body = server.request("GET", "/api/products/1")
    assert (status, json.loads(body)["name"]) == (200, "Keyboard")
    # uWSGI's PATH_INFO says "/api/products/\x00" here: the raw target says 400.
    # granian has no raw target: "%ZZ" reaches the demo, which knows no such id.
    status, _, body = server.request("GET", "/api/products/%ZZ")
    if server.kind.raw_target:
        assert (status, error_of(body)) == (400, "Malformed percent-escape in the path: %ZZ")
    else:
        assert (status, error_of(body)) == (404, "No product '%ZZ'.")
    status, headers, body = server.request(
        "POST", "/api/products", json.dumps({"name": "Monitor", "price": 1}).encode()
    )
    assert (status, headers["Location"]) == (201, "/api/products/3")


@pytest.mark.parametrize("name", sorted(processes.SERVERS))
def test_the_readme_describes_every_server(name: str) -> None:
    """The README's server table has a row for each server, saying what the
    server does before the app sees a request, as the tests found it."""
    rows = [line for line in README.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, f"README: no row (or several) for {name} in the server table"
    *_, chunked, refusals = rows[0].strip("| ").split(" | ")
    kind = processes.SERVERS[name]
    assert chunked.startswith("read") if kind.decodes_chunked_bodies else "411" in chunked
    assert ("own 400" in refusals) == bool(kind.refuses)
    assert ("microroute's" in refusals) == (kind.refuses != processes.BOTH)


CRASHING = {
    "api/crash/route.py": """
        def GET(request):
            raise RuntimeError("boom")

        def POST(request):
            return request.json()
    """,
}


@pytest.mark.parametrize("name", sorted(processes.SERVERS))
def test_no_answer_ever_shows_the_environ(name: str, serve: Callable[..., Server],
                                         tmp_path: Path) -> None:
    # granian copies the server's whole process environment into each request's
    # environ: anything that showed environ would show the server's secrets.
    secret = "s3cret-" + "x" * 16
    package = tmp_path / "leaky"
    write_tree(package, CRASHING)
    (package / "__init__.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app', debug=True)\n"
    )
    server = serve("leaky:app", cwd=tmp_path, env={"MICROROUTE_TEST_SECRET": secret},
                   server=name)
    answers = []
    for accept in ("application/json", "text/html"):
        headers = {"Accept": accept}
        answers += [
            server.request("GET", "/api/crash", headers=headers),  # 500, debug page
            server.request("GET", "/nowhere", headers=headers),  # 404
            server.request("PUT", "/api/crash", headers=headers),  # 405
            server.request("POST", "/api/crash", b"{", headers=headers),  # 400
        ]
    assert sorted({status for status, _, _ in answers}) == [400, 404, 405, 500]
    for _, headers, body in answers:
        assert secret.encode() not in body
        assert secret not in json.dumps(headers)
