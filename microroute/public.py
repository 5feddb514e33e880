"""`public/`: files served as they are, from the site's root, as in Next.js.

    demo_app/public/favicon.ico       GET /favicon.ico
    demo_app/public/css/site.css      GET /css/site.css

The folder is listed once, at start-up, like the route tree: each file
becomes a `Route` of kind "public" whose GET sends the file, and the router
holds them beside the pages and routes. So a public file is found the way a
static route is (one dict lookup), wins over a `[dynamic]` route or a
catch-all that would also match it, and costs a request for anything else
nothing at all: no per-request look at the disk.

What is never served: hidden files and folders (a name starting with "."),
and a symlink whose target lies outside the folder. Paths that try to
climb out (`..`, `%2e%2e`, an encoded `/` or `\\`, NUL) name no listed
file, so they are 404s by construction, not by a check that could be
forgotten. (Which is why werkzeug's `safe_join` is not needed here: no
request path is ever joined to a folder. werkzeug does the rest of what it
does well: the type table, dates, `Range` and entity-tag parsing.)

A file's answer (`PublicFile.__call__`): its type from its extension,
`Content-Length`, `Last-Modified`, an `ETag` (from its modification time
and size, as nginx makes them), `Cache-Control: public, max-age=0`; a 304
when the client's copy is current (`Response.make_conditional`), one byte
range as a 206, an unsatisfiable one a 416. The body is a `FileBody`: the
server's `wsgi.file_wrapper` sends it where it has one.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from werkzeug.http import http_date, parse_range_header
from werkzeug.utils import get_content_type

from . import conditional
from .errors import HTTPError, RouteError, error_response
from .headers import Headers
from .request import Request
from .response import FileBody, Response
from .routes import Handler, Route, RouteKind, make_route
from .segments import STATIC, Segment

# Python's own table only, not the machine's /etc/mime.types: the same
# file gets the same type on every server. Plus the web's types that older
# Pythons lack.
_TYPES = mimetypes.MimeTypes()
for _type, _extension in (
    ("text/javascript", ".js"), ("text/javascript", ".mjs"), ("font/woff", ".woff"),
    ("font/woff2", ".woff2"), ("image/webp", ".webp"), ("image/avif", ".avif"),
    ("application/manifest+json", ".webmanifest"), ("application/wasm", ".wasm"),
    # What browsers sniff an icon as (WHATWG MIME Sniffing), and what nginx and
    # Next.js send for favicon.ico; Python says image/vnd.microsoft.icon.
    ("image/x-icon", ".ico"),
):
    _TYPES.add_type(_type, _extension)


def content_type(filename: str) -> str:
    """The `Content-Type` a file is served with, from its extension; text
    types are UTF-8: `content_type("site.css")` -> `"text/css; charset=utf-8"`."""
    mimetype, encoding = _TYPES.guess_type(filename, strict=False)
    if mimetype is None or encoding is not None:
        # Unknown, or compressed (`.tar.gz`): bytes to download, never to run.
        return "application/octet-stream"
    return get_content_type(mimetype, "utf-8")


def load_public(public_dir: str | os.PathLike[str]) -> list[Route]:
    """A route for each file under `public_dir` (none if there is no such
    folder), sorted by URL: `public/css/site.css` is served at `/css/site.css`."""
    root = os.path.realpath(public_dir)
    if not os.path.isdir(root):
        return []
    shown = Path(public_dir).name
    files: list[Route] = []

    def visit(folder: str, names: tuple[str, ...], above: tuple[str, ...]) -> None:
        # `above`: the real paths of the folders on the way here, so that a
        # symlink back up the tree is not followed round and round.
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or "\\" in entry.name:
                    # Hidden (`.env`, `.git/`): never served. A backslash in a
                    # name cannot be asked for: paths treat it as a slash.
                    continue
                target = os.path.realpath(entry.path)
                if os.path.commonpath((root, target)) != root:
                    continue  # a symlink out of public/
                if entry.is_dir():
                    if target not in above:
                        visit(entry.path, (*names, entry.name), (*above, target))
                elif entry.is_file():
                    files.append(_route((*names, entry.name), target, shown))

    visit(root, (), (root,))
    return sorted(files, key=lambda route: route.pattern)


def _route(names: tuple[str, ...], path: str, shown: str) -> Route:
    pattern = "/" + "/".join(names)
    file = "/".join((shown, *names))
    serve = PublicFile(path, content_type(names[-1]))
    handler = Handler(serve, 1, False, "GET", file)
    segments = tuple(Segment(STATIC, name) for name in names)
    return make_route(pattern, file, RouteKind.PUBLIC, segments, {"GET": handler})


def check_conflicts(public: list[Route], routes: list[Route]) -> None:
    """Refuse a public file at the URL of a page or route, as Next.js does,
    naming both files; every conflict at once."""
    # Only routes without parameters have a URL a file can have: a file
    # named `[id]` is a file, not the pattern of `app/[id]/page.py`.
    routed = {
        route.pattern: route
        for route in routes
        if all(segment.kind is STATIC for segment in route.segments)
    }
    problems = [
        f"A conflicting public file and {routed[file.pattern].kind} file was found for path "
        f"{file.pattern}: {file.file} and {routed[file.pattern].file}"
        for file in public
        if file.pattern in routed
    ]
    if problems:
        raise RouteError("\n".join(problems))


class PublicFile:
    """The GET handler of one public file: `PublicFile(path, "text/css; charset=utf-8")`."""

    __slots__ = ("content_type", "path")

    def __init__(self, path: str, content_type: str) -> None:
        self.path = path
        self.content_type = content_type

    def __call__(self, request: Request) -> Response:
        try:
            file = open(self.path, "rb")  # noqa: SIM115 (closed by the response body)
        except OSError:  # removed since start-up
            raise HTTPError(404) from None
        try:
            stat = os.fstat(file.fileno())
            size = stat.st_size
            etag = f'"{stat.st_mtime_ns:x}-{size:x}"'
            last_modified = http_date(stat.st_mtime)
            response = Response(FileBody(file, size), 200)
            # Speed: headers made here, valid by construction, are not checked
            # one by one as a handler's are: that checking was a fifth of a
            # small file's cost (benchmarks/bench_public.py).
            response.headers = Headers.trusted([
                ("Content-Type", self.content_type),
                ("Accept-Ranges", "bytes"),
                ("Cache-Control", "public, max-age=0"),
                ("ETag", etag),
                ("Last-Modified", last_modified),
                ("X-Content-Type-Options", "nosniff"),
            ])
            if response.make_conditional(request).status == 304:
                return response
            if request.method == "GET" and "HTTP_RANGE" in request.environ:
                return _ranged(response, request, size, etag, last_modified)
            return response
        except BaseException:
            file.close()
            raise


def _ranged(
    response: Response, request: Request, size: int, etag: str, modified: str
) -> Response:
    """A 206 with the one range asked for, a 416 if it lies outside the file,
    or the whole file: for several ranges, a `Range` that does not parse, or
    an `If-Range` naming another version (RFC 9110 §14.2 lets a server
    ignore what it does not serve)."""
    environ = request.environ
    asked = parse_range_header(environ["HTTP_RANGE"])
    if asked is None or asked.units != "bytes" or len(asked.ranges) != 1:
        return response
    if not conditional.if_range_matches(environ, etag, modified):
        return response
    part = asked.range_for_length(size)
    assert isinstance(response.body, FileBody)
    if part is None:
        response.body.close()
        return error_response(
            environ, 416, f"The range asked for lies outside the file ({size} bytes).",
            {"Content-Range": f"bytes */{size}"},
        )
    start, stop = part
    response.body = FileBody(response.body.file, size, start, stop - start)
    response.status = 206
    response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return response
