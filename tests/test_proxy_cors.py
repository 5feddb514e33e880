"""The proxy a site writes for its API (README, "The proxy: around every
request"): CORS, limited by `config = {"matcher": ["/api/:path*"]}`. It answers
the preflight itself and marks every `/api` answer, the framework's own 404,
405, 308 and 500 included; the matcher keeps it off every other path.

Requests go through werkzeug's `Client` over `wsgiref.validate` (conftest).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from wsgiref.validate import WSGIWarning

import pytest
from werkzeug.test import Client

from helpers import MakeClient, fetch, page

ORIGIN = "https://shop.example"

CORS_PROXY = """
from microroute import Response

ALLOWED_ORIGINS = {"https://shop.example"}
config = {"matcher": ["/api/:path*"]}

def proxy(request, handle):
    origin = request.headers.get("Origin")
    allowed = origin in ALLOWED_ORIGINS
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        # The preflight: answered here, before any route sees it.
        response = Response("", status=204)
        if allowed:
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            response.headers["Access-Control-Max-Age"] = "600"
    else:
        response = handle(request)
    if allowed:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers.add("Vary", "Origin")
    return response
"""

API_SITE = {
    "proxy.py": CORS_PROXY,
    "about/page.py": page("about"),
    "api/items/route.py": """
        from microroute import HTTPError, Response

        def GET(request):
            if request.query.get("fail") == "crash":
                raise RuntimeError("the handler broke")
            if request.query.get("fail") == "teapot":
                raise HTTPError(418, "short and stout")
            return Response.json(["hat"])

        def POST(request):
            return Response.json(request.json(), status=201)
    """,
}


@pytest.fixture
def api(make_client: MakeClient) -> Client:
    return make_client(API_SITE)


def from_shop(
    client: Client, method: str, path: str, **options: object
) -> tuple[int, dict[str, str]]:
    """A request from the shop's origin: its status and headers."""
    headers = {"Origin": ORIGIN, **options.pop("headers", {})}  # type: ignore[dict-item]
    with warnings.catch_warnings():
        # wsgiref.validate warns of a method it does not know ("FOO"): that is the point.
        warnings.simplefilter("ignore", WSGIWarning)
        response = fetch(client, method, path, headers=headers, **options)
    return response.status_code, {name: value for name, value in response.headers.items()}


def test_the_preflight_is_answered_by_the_proxy(api: Client) -> None:
    status, headers = from_shop(
        api, "OPTIONS", "/api/items",
        headers={"Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, PATCH, DELETE"
    assert headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert "Allow" not in headers  # not the route's automatic OPTIONS


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/items", 200),
        ("POST", "/api/items", 201),
        ("GET", "/api/nothing-here", 404),  # the framework's own 404
        ("DELETE", "/api/items", 405),  # the framework's own 405
        ("GET", "/api/items/", 308),  # the framework's own redirect
        ("GET", "/api/items?fail=teapot", 418),  # a handler's HTTPError
        ("GET", "/api/items?fail=crash", 500),  # a handler's crash
        ("FOO", "/api/items", 501),  # a method HTTP does not know
    ],
)
def test_every_api_answer_gets_the_cors_header(
    api: Client, method: str, path: str, status: int
) -> None:
    got, headers = from_shop(api, method, path, json={"name": "hat"} if method == "POST" else None)
    assert got == status
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert headers["Vary"] == "Origin"


def test_the_framework_keeps_its_own_headers_under_the_proxy(api: Client) -> None:
    status, headers = from_shop(api, "DELETE", "/api/items")
    assert (status, headers["Allow"]) == (405, "GET, HEAD, OPTIONS, POST")


def test_an_origin_not_allowed_gets_no_cors_header(api: Client) -> None:
    response = fetch(api, "GET", "/api/items", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_marked_framework_answer_is_not_marked_for_everyone(api: Client) -> None:
    # The framework builds its own 404 once and sends it many times: the
    # proxy is handed a copy of it to change, never the one all requests share.
    for _ in range(2):
        status, headers = from_shop(api, "GET", "/api/nothing-here")
        assert status == 404
        vary = fetch(api, "GET", "/api/nothing-here").headers.get_all("Vary")
        assert vary == ["Accept", "Origin"]  # the framework's own, and the proxy's once
    outside = fetch(api, "GET", "/nothing-here", headers={"Origin": ORIGIN})
    assert outside.status_code == 404
    assert "Access-Control-Allow-Origin" not in outside.headers
    assert outside.headers.get_all("Vary") == ["Accept"]


def test_the_matcher_leaves_other_paths_alone(api: Client) -> None:
    status, headers = from_shop(api, "GET", "/about")
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers
    assert "Vary" not in headers
    # The route's own automatic OPTIONS, outside the matcher.
    status, headers = from_shop(api, "OPTIONS", "/about",
                                headers={"Access-Control-Request-Method": "GET"})
    assert (status, headers["Allow"]) == (204, "GET, HEAD, OPTIONS")


def test_the_matcher_leaves_public_files_alone(make_client: MakeClient, tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public" / "site.css").write_text("body { color: teal }")
    client = make_client(API_SITE)  # its app folder is tmp_path / "app": public/ is beside it
    status, headers = from_shop(client, "GET", "/site.css")
    assert (status, headers["Content-Type"]) == (200, "text/css; charset=utf-8")
    assert "Access-Control-Allow-Origin" not in headers
    # A proxy without a matcher runs before public files too (README, "The proxy:
    # around every request").
    everywhere = CORS_PROXY.replace('config = {"matcher": ["/api/:path*"]}', "")
    client = make_client(API_SITE | {"proxy.py": everywhere})
    status, headers = from_shop(client, "GET", "/site.css")
    assert (status, headers["Access-Control-Allow-Origin"]) == (200, ORIGIN)


def test_the_matcher_sees_the_path_the_router_sees(api: Client) -> None:
    # "/api%2Fitems" is one segment, "api/items": the router serves nothing
    # there, and the proxy, seeing the same segment, does not run either.
    response = fetch(api, "GET", "/api%2Fitems", headers={"Origin": ORIGIN})
    assert response.status_code == 404
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_path_the_router_refuses_is_judged_loosely_by_the_matcher(
    make_client: MakeClient,
) -> None:
    source = (
        "config = {'matcher': '/admin/:rest*'}\n\n"
        "def proxy(request, handle):\n"
        "    response = handle(request)\n"
        "    response.headers['X-Guarded'] = 'yes'\n"
        "    return response\n"
    )
    client = make_client({"proxy.py": source, "admin/page.py": page("admin"),
                          "about/page.py": page("about")})
    guarded = fetch(client, "GET", "/admin/%ZZ")  # a malformed escape: the router's 400
    assert (guarded.status_code, guarded.headers.get("X-Guarded")) == (400, "yes")
    outside = fetch(client, "GET", "/about/%ZZ")
    assert outside.status_code == 400
    assert "X-Guarded" not in outside.headers
