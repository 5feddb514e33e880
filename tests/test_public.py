"""`public/`: files served from the site's root (microroute/public.py).

Each test sends the request: through werkzeug's `Client` under
`wsgiref.validate` (PEP 3333), and over a real gunicorn where how the bytes
arrive matters (encoded slashes, `wsgi.file_wrapper`).
"""

from __future__ import annotations

import builtins
import io
import os
import sys
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.util import FileWrapper
from wsgiref.validate import validator

import pytest
from werkzeug.http import http_date
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client, EnvironBuilder

from helpers import BufferedClient, Server, write_tree
from microroute import App, RouteError
from microroute.cli import main as cli_main

CSS = "body { color: #222; }\n/* 40 bytes of a stylesheet, give or take */\n"
ROUTES = {
    "about/page.py": "def Page():\n    return '<h1>About</h1>'\n",
    "api/hello/route.py": (
        "from microroute import Response\n\n"
        "def GET():\n    return Response.json({'hello': 'world'})\n"
    ),
    # Would match every path the public files are at: the files must win.
    "[...slug]/page.py": (
        "def Page(request, params):\n    return 'caught ' + '/'.join(params['slug'])\n"
    ),
}


def write_public(root: Path, files: dict[str, bytes | str]) -> Path:
    public = root / "public"
    for name, content in files.items():
        path = public / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    return public


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A project: app/ (with a catch-all page), public/, and a secret beside them."""
    write_tree(tmp_path, ROUTES)
    write_public(tmp_path, {
        "css/site.css": CSS,
        "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "robots.txt": "User-agent: *\n",
        ".env": "SECRET=never-served\n",
        ".git/config": "[never-served]\n",
        "data/blob.xyz": b"\x00\x01",
        "a\\b.txt": "never-served: a name no URL can spell",
    })
    (tmp_path / "secret.txt").write_text("never-served\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.txt").write_text("never-served\n")
    public = tmp_path / "public"
    (public / "out.txt").symlink_to(tmp_path / "secret.txt")
    (public / "outdir").symlink_to(tmp_path / "outside")
    (public / "styles").symlink_to(public / "css")  # inside: served
    (public / "css" / "loop").symlink_to(public)  # back up the tree: not followed
    return tmp_path


@pytest.fixture
def client(site: Path) -> Client:
    return BufferedClient(validator(App(site / "app")))


def test_a_file_is_served_with_its_type_length_dates_and_cache_policy(
    client: Client, site: Path
) -> None:
    response = client.get("/css/site.css")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == CSS
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert response.headers["Content-Length"] == str(len(CSS.encode()))
    assert response.headers["Cache-Control"] == "public, max-age=0"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["ETag"].startswith('"')
    modified = os.stat(site / "public" / "css" / "site.css").st_mtime
    assert response.headers["Last-Modified"] == http_date(modified)
    png = client.get("/logo.png")
    assert png.headers["Content-Type"] == "image/png"  # not text: no charset
    assert png.data.startswith(b"\x89PNG")
    blob = client.get("/data/blob.xyz")
    assert blob.headers["Content-Type"] == "application/octet-stream"
    assert blob.headers["X-Content-Type-Options"] == "nosniff"


def test_if_none_match_and_if_modified_since_give_a_304(client: Client) -> None:
    first = client.get("/css/site.css")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get("/css/site.css", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert "Content-Type" not in again.headers and "Content-Length" not in again.headers
    by_date = client.get("/css/site.css", headers={"If-Modified-Since": modified})
    assert by_date.status_code == 304
    older = http_date(0)
    assert client.get("/css/site.css", headers={"If-Modified-Since": older}).status_code == 200
    other = client.get("/css/site.css", headers={"If-None-Match": '"another"'})
    assert other.status_code == 200 and other.get_data(as_text=True) == CSS


def test_one_range_gives_a_206_with_content_range(client: Client) -> None:
    response = client.get("/css/site.css", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206
    assert response.data == CSS.encode()[:10]
    assert response.headers["Content-Range"] == f"bytes 0-9/{len(CSS)}"
    assert response.headers["Content-Length"] == "10"
    tail = client.get("/css/site.css", headers={"Range": "bytes=-5"})
    assert (tail.status_code, tail.data) == (206, CSS.encode()[-5:])


def test_an_unsatisfiable_range_is_a_416(client: Client) -> None:
    response = client.get("/css/site.css", headers={"Range": "bytes=999999-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(CSS)}"
    assert "outside the file" in response.get_json()["error"]


@pytest.mark.parametrize(
    "headers",
    [{"Range": "bytes=0-1,4-5"},  # several ranges: the whole file
     {"Range": "lines=1-2"},  # a unit we do not serve
     {"Range": "bytes=0-9", "If-Range": '"an-older-version"'},  # the file changed
     {"Range": "bytes=0-9", "If-Range": "Tue, 01 Jan 1980 00:00:00 GMT"}],
)
def test_a_range_it_does_not_serve_gives_the_whole_file(
    client: Client, headers: dict[str, str]
) -> None:
    response = client.get("/css/site.css", headers=headers)
    assert (response.status_code, response.get_data(as_text=True)) == (200, CSS)


def test_if_range_naming_this_version_gives_the_range(client: Client) -> None:
    first = client.get("/css/site.css")
    for if_range in (first.headers["ETag"], first.headers["Last-Modified"]):
        response = client.get("/css/site.css", headers={"Range": "bytes=0-3", "If-Range": if_range})
        assert (response.status_code, response.data) == (206, CSS.encode()[:4])


def test_head_sends_the_headers_without_the_body(client: Client) -> None:
    response = client.head("/css/site.css", headers={"Range": "bytes=0-3"})
    assert response.status_code == 200  # a Range means nothing to HEAD
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(CSS))
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"


def test_other_methods_are_405_options_204_unknown_501(client: Client) -> None:
    post = client.post("/css/site.css", data=b"x")
    assert post.status_code == 405
    assert post.headers["Allow"] == "GET, HEAD, OPTIONS"
    options = client.options("/css/site.css")
    assert (options.status_code, options.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")

def test_an_unknown_method_on_a_file_is_a_501(site: Path) -> None:
    # (Not under wsgiref.validate, which warns about any method it does not know.)
    assert BufferedClient(App(site / "app")).open("/css/site.css", method="FOO").status_code == 501


def test_a_file_is_served_before_a_catch_all_that_also_matches(client: Client) -> None:
    assert client.get("/robots.txt").get_data(as_text=True) == "User-agent: *\n"
    assert client.get("/css/site.css").get_data(as_text=True) == CSS
    # Beside them, the catch-all still gets what no file is at.
    assert client.get("/css/other.css").get_data(as_text=True) == "caught css/other.css"
    assert client.get("/about").get_data(as_text=True) == "<h1>About</h1>"


def test_a_symlink_inside_public_is_served_and_one_leading_out_is_not(client: Client) -> None:
    assert client.get("/styles/site.css").get_data(as_text=True) == CSS
    for path in ("/out.txt", "/outdir/x.txt"):
        response = client.get(path)
        assert "never-served" not in response.get_data(as_text=True)
        assert response.get_data(as_text=True) == "caught " + path[1:]  # not a file


def test_files_are_served_under_a_mount_prefix(site: Path) -> None:
    shop = DispatcherMiddleware(_not_found, {"/shop": App(site / "app")})
    response = BufferedClient(shop).get("/shop/css/site.css")
    assert (response.status_code, response.get_data(as_text=True)) == (200, CSS)
    assert BufferedClient(shop).get("/css/site.css").status_code == 404  # not ours


def _not_found(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"the main site has no such page"]


# Python's audit events for looking at the disk (os.stat raises none; a
# lookup that stat()ed would also have to open or list to serve anything).
_FILE_EVENTS = frozenset({"open", "os.scandir", "os.listdir"})
_recording: list[list[str]] = []
_installed: list[bool] = []


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    # Installed once for the session (an audit hook cannot be removed),
    # and records only while a test asks it to.
    if _recording and event in _FILE_EVENTS:
        _recording[-1].append(f"{event} {arguments[0]!r}")


def test_a_route_request_looks_at_no_file(site: Path) -> None:
    if not _installed:
        sys.addaudithook(_audit)
        _installed.append(True)
    client = BufferedClient(App(site / "app"))
    client.get("/about")  # warm: anything imported lazily is imported now
    _recording.append([])
    try:
        for path in ("/about", "/api/hello", "/css/other.css", "/nowhere/at/all",
                     "/css%2Fsite.css", "/.env"):
            client.get(path)
        touched = list(_recording[-1])
        client.get("/css/site.css")  # a public file is opened, of course: the hook works
        opened = _recording[-1][len(touched):]
    finally:
        _recording.pop()
    assert touched == []
    assert any("site.css" in event for event in opened)


def test_files_added_after_start_up_are_not_served(site: Path) -> None:
    app = App(site / "app", public_dir=site / "public")
    (site / "public" / "late.txt").write_text("late")
    assert BufferedClient(app).get("/late.txt").get_data(as_text=True) == "caught late.txt"


def test_a_file_removed_after_start_up_is_a_404(site: Path) -> None:
    app = App(site / "app")
    (site / "public" / "robots.txt").unlink()
    assert BufferedClient(app).get("/robots.txt").status_code == 404


def test_public_dir_points_elsewhere_or_nowhere(site: Path, tmp_path: Path) -> None:
    elsewhere = write_public(tmp_path / "static", {"hello.txt": "hello"})
    moved = BufferedClient(App(site / "app", public_dir=elsewhere))
    assert moved.get("/hello.txt").get_data(as_text=True) == "hello"
    assert moved.get("/robots.txt").get_data(as_text=True) == "caught robots.txt"
    off = BufferedClient(App(site / "app", public_dir=None))
    assert off.get("/robots.txt").get_data(as_text=True) == "caught robots.txt"


def test_a_public_file_at_the_url_of_a_page_or_route_is_refused(tmp_path: Path) -> None:
    write_tree(tmp_path, ROUTES)
    write_public(tmp_path, {"about": "a file", "api/hello": "another"})
    with pytest.raises(RouteError) as raised:
        App(tmp_path / "app")
    assert str(raised.value) == (
        "A conflicting public file and page file was found for path /about: "
        "public/about and app/about/page.py\n"
        "A conflicting public file and route file was found for path /api/hello: "
        "public/api/hello and app/api/hello/route.py"
    )


def test_a_file_named_like_a_dynamic_folder_is_a_file(tmp_path: Path) -> None:
    write_tree(tmp_path, ROUTES)
    write_public(tmp_path, {"[...slug]": "brackets and all"})
    client = BufferedClient(App(tmp_path / "app"))
    assert client.get("/[...slug]").get_data(as_text=True) == "brackets and all"
    assert client.get("/other").get_data(as_text=True) == "caught other"


def test_routes_lists_public_files(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["routes", str(site / "app")]) == 0
    table = capsys.readouterr().out
    rows = [[cell.strip() for cell in line.split("|")] for line in table.splitlines()]
    assert ["public/css/site.css", "A file at /css/site.css", "the file: text/css"] in rows
    assert ["app/about/page.py", "A web page at /about", "HTML"] in rows
    assert ".env" not in table and ".git" not in table and "out.txt" not in table
    assert "/css/loop" not in table


# What must never be a file: each path, over a real server, as the client sent it.
NEVER_FILES = [
    "/.env", "/.git/config", "/css/.%2e/.env",
    "/../secret.txt", "/css/../../secret.txt",
    "/%2e%2e/secret.txt", "/css/%2e%2e/%2e%2e/secret.txt", "/%2E%2E/secret.txt",
    "/css%2Fsite.css", "/css%2fsite.css", "/css%5Csite.css", "/a%5Cb.txt", "/a%5cb.txt",
    "/css/site.css%00", "/robots.txt%00.png",
    "/out.txt", "/outdir/x.txt", "/css/loop/robots.txt",
]


def start_site(site: Path, serve: Callable[..., Server]) -> Server:
    """gunicorn serving the site, through a wrapper that logs which iterable
    the app gave back: gunicorn's own FileWrapper, or ours."""
    package = site / "served"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from microroute import App\n"
        f"inner = App({str(site / 'app')!r})\n"
        "def app(environ, start_response):\n"
        "    body = inner(environ, start_response)\n"
        "    print('answered with', type(body).__module__, type(body).__name__, flush=True)\n"
        "    return body\n"
    )
    return serve("served:app", cwd=site)


@pytest.mark.slow
def test_nothing_outside_public_is_ever_a_file(site: Path, serve: Callable[..., Server]) -> None:
    server = start_site(site, serve)
    for path in NEVER_FILES:
        status, _, body = server.request("GET", path)
        assert b"never-served" not in body, path
        assert CSS.encode() not in body, path  # an encoded slash does not reach a file
        assert status in (400, 404) or body.startswith(b"caught"), (path, status, body)
    status, _, body = server.request("GET", "/css/site.css")  # the file itself is there
    assert (status, body) == (200, CSS.encode())


@pytest.mark.slow
def test_gunicorn_sends_the_file_with_its_file_wrapper(
    site: Path, serve: Callable[..., Server]
) -> None:
    big = os.urandom(3 << 20)
    (site / "public" / "big.bin").write_bytes(big)
    server = start_site(site, serve)
    status, headers, body = server.request("GET", "/big.bin")
    assert (status, len(body), body == big) == (200, len(big), True)
    assert headers["Content-Length"] == str(len(big))
    assert "answered with gunicorn.http.wsgi FileWrapper" in server.log.read_text()
    status, headers, body = server.request("GET", "/big.bin", headers={"Range": "bytes=10-19"})
    assert (status, body, headers["Content-Range"]) == (206, big[10:20], f"bytes 10-19/{len(big)}")
    assert "answered with microroute.response FileBody" in server.log.read_text()
    # A range to the end is read by us too (uWSGI's wrapper would send from the start).
    status, headers, body = server.request("GET", "/big.bin", headers={"Range": "bytes=-100000"})
    assert (status, len(body), body == big[-100000:]) == (206, 100000, True)
    assert server.log.read_text().count("answered with gunicorn.http.wsgi FileWrapper") == 1


def _serve(app: App, path: str, file_wrapper: Any = None) -> tuple[str, Iterable[bytes]]:
    environ = EnvironBuilder(path=path).get_environ()
    if file_wrapper is not None:
        environ["wsgi.file_wrapper"] = file_wrapper
    started: list[str] = []
    body = app(environ, lambda status, headers, exc_info=None: started.append(status))
    return started[0], body


def test_a_5_mib_file_is_never_read_whole_into_memory(site: Path) -> None:
    size = 5 << 20
    (site / "public" / "video.mp4").write_bytes(os.urandom(size))
    app = App(site / "app")
    for wrapper in (None, FileWrapper):
        tracemalloc.start()
        try:
            status, body = _serve(app, "/video.mp4", wrapper)
            sent = 0
            for chunk in body:
                sent += len(chunk)
            getattr(body, "close", lambda: None)()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert (status, sent) == ("200 OK", size)
        assert peak < 1 << 20, f"{peak} bytes at the peak, with {wrapper}"


def test_the_file_wrapper_is_used_where_the_server_has_one(site: Path) -> None:
    status, body = _serve(App(site / "app"), "/css/site.css", FileWrapper)
    assert isinstance(body, FileWrapper)
    assert b"".join(body) == CSS.encode()
    body.close()
    # A part of the file is read by us: wrappers send to the end (uWSGI's from the start).
    environ = EnvironBuilder(path="/css/site.css", headers={"Range": "bytes=0-3"}).get_environ()
    environ["wsgi.file_wrapper"] = FileWrapper
    chunks = App(site / "app")(environ, lambda *args: None)
    assert not isinstance(chunks, FileWrapper)
    assert b"".join(chunks) == CSS.encode()[:4]
    getattr(chunks, "close", lambda: None)()


def test_the_file_is_closed_after_head_304_and_416(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[io.BufferedReader] = []
    original = builtins.open

    def recording_open(*args: Any, **kwargs: Any) -> Any:
        file = original(*args, **kwargs)
        opened.append(file)
        return file

    client = BufferedClient(App(site / "app"))
    etag = client.get("/css/site.css").headers["ETag"]
    monkeypatch.setattr(builtins, "open", recording_open)
    client.head("/css/site.css")
    client.get("/css/site.css", headers={"If-None-Match": etag})
    client.get("/css/site.css", headers={"Range": "bytes=999999-"})
    monkeypatch.undo()
    assert len(opened) == 3
    assert all(file.closed for file in opened)
