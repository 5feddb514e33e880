"""`proxy.py` at the root of the tree (README, "The proxy: around every request").

`proxy(request)` runs before routing: a `Response` answers the request, `None`
lets it through. `proxy(request, handle)` wraps everything after it: it may
change or replace any answer, the framework's own and the fallback's too, and
may be `async def`. (A CORS proxy limited by a matcher: test_proxy_cors.py.)

Requests go through werkzeug's `Client` over `wsgiref.validate` (conftest).
"""

from __future__ import annotations

import io

import pytest
from werkzeug.test import Client

from helpers import (
    BROWSER,
    HTML,
    Legacy,
    MakeClient,
    Tree,
    browse,
    error_message,
    fetch,
    page,
    refusal,
)
from microroute import App

# -- proxy.py --------------------------------------------------------------------


PROXY = """
from microroute import HTTPError, Response

def proxy(request):
    if request.headers.get("X-Maintenance"):
        return Response("down for maintenance", status=503, headers={"Retry-After": "60"})
    if request.path == "/old-about":
        return Response.redirect("/about", 308)
    if request.path.startswith("/admin") and request.headers.get("Authorization") != "Bearer ok":
        raise HTTPError(401, "Sign in first")
    if request.headers.get("X-Echo"):
        return Response.json({
            "path": request.path,
            "method": request.method,
            "echo": request.headers["x-echo"],
            "query": request.query.get("q"),
        })
    return None
"""

PROXIED_SITE = {
    "proxy.py": PROXY,
    "about/page.py": page("about"),
    "admin/page.py": page("admin area"),
    "api/items/route.py": """
        from microroute import Response

        def GET():
            return Response.json(["hat"])

        def POST(request):
            return Response.json({"handler saw": request.json()}, status=201)
    """,
}


@pytest.fixture
def proxied(make_client: MakeClient) -> Client:
    return make_client(PROXIED_SITE)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/about"),
        ("GET", "/api/items"),
        ("GET", "/no/route/here"),  # no route: still the proxy's answer, not a 404
        ("DELETE", "/about"),  # a 405 for the router: the proxy answers first
        ("POST", "/about/"),  # before the 308 too
    ],
)
def test_a_proxy_response_answers_before_routing(proxied: Client, method: str, path: str) -> None:
    response = fetch(proxied, method, path, headers={"X-Maintenance": "1"})
    assert response.status_code == 503
    assert response.text == "down for maintenance"
    assert response.headers["Retry-After"] == "60"


def test_a_proxy_returning_none_lets_the_request_through(proxied: Client) -> None:
    assert fetch(proxied, "GET", "/about").text == "about"
    assert fetch(proxied, "GET", "/api/items").get_json() == ["hat"]
    assert error_message(fetch(proxied, "GET", "/nowhere"), 404) == "Not Found"
    assert fetch(proxied, "DELETE", "/about").status_code == 405


def test_a_proxy_can_redirect(proxied: Client) -> None:
    response = fetch(proxied, "GET", "/old-about")
    assert response.status_code == 308
    assert response.headers["Location"] == "/about"
    assert response.data == b""


def test_a_proxy_sees_the_path_method_headers_and_query(proxied: Client) -> None:
    response = fetch(proxied, "PATCH", "/anything/at/all?q=42", headers={"X-Echo": "hi"})
    assert response.status_code == 200
    assert response.get_json() == {
        "path": "/anything/at/all", "method": "PATCH", "echo": "hi", "query": "42"
    }


def test_a_proxy_raising_http_error_401_gives_401(proxied: Client) -> None:
    assert error_message(fetch(proxied, "GET", "/admin"), 401) == "Sign in first"
    html = browse(proxied, "/admin")
    assert html.status_code == 401
    assert html.content_type == HTML
    assert "Sign in first" in html.text
    allowed = fetch(proxied, "GET", "/admin", headers={"Authorization": "Bearer ok"})
    assert allowed.text == "admin area"


def test_reading_the_body_in_the_proxy_leaves_it_for_the_handler(
    make_client: MakeClient,
) -> None:
    client = make_client({
        **PROXIED_SITE,
        "proxy.py": """
            from microroute import Response

            def proxy(request):
                if request.method == "POST" and request.json().get("forbidden"):
                    return Response.json({"error": "refused by the proxy"}, status=403)
                return None
        """,
    })
    refused = fetch(client, "POST", "/api/items", json={"forbidden": True})
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "refused by the proxy"}
    passed = fetch(client, "POST", "/api/items", json={"name": "scarf"})
    assert passed.status_code == 201
    assert passed.get_json() == {"handler saw": {"name": "scarf"}}


@pytest.mark.parametrize(
    "source",
    [
        """
        import asyncio
        from microroute import Response

        async def proxy(request):
            await asyncio.sleep(0)
            if request.path == "/blocked":
                return Response("no", status=403)
            return None
        """,
        """
        from microroute import Response

        def proxy(request, /):
            return Response("no", status=403) if request.path == "/blocked" else None
        """,
    ],
    ids=["async", "positional-only"],
)
def test_proxy_signatures_that_work(make_client: MakeClient, source: str) -> None:
    client = make_client({"proxy.py": source, "about/page.py": page("about")})
    blocked = fetch(client, "GET", "/blocked")
    assert (blocked.status_code, blocked.text) == (403, "no")
    assert fetch(client, "GET", "/about").text == "about"


def test_a_proxy_with_no_parameter_works(make_client: MakeClient) -> None:
    client = make_client({
        "proxy.py": "from microroute import Response\n\n"
                    "def proxy():\n    return Response('closed', status=503)\n",
        "about/page.py": page("about"),
    })
    assert fetch(client, "GET", "/about").text == "closed"


@pytest.mark.parametrize(
    ("returned", "type_name"), [("'ok'", "str"), ("{'a': 1}", "dict"), ("True", "bool")]
)
def test_a_proxy_returning_anything_else_is_a_500_naming_the_file(
    make_client: MakeClient, returned: str, type_name: str
) -> None:
    client = make_client({
        "proxy.py": f"def proxy(request):\n    return {returned}\n",
        "about/page.py": page("about"),
    })
    log = io.StringIO()
    response = fetch(client, "GET", "/about", errors_stream=log)
    assert error_message(response, 500) == "Internal Server Error"
    assert f"app/proxy.py: proxy() returned {type_name}" in log.getvalue()


def test_a_proxy_that_raises_is_a_500_with_the_traceback_in_the_log(
    make_client: MakeClient,
) -> None:
    client = make_client({
        "proxy.py": "def proxy(request):\n    raise RuntimeError('proxy broke')\n",
        "about/page.py": page("about"),
    })
    log = io.StringIO()
    response = fetch(client, "GET", "/about", errors_stream=log)
    assert error_message(response, 500) == "Internal Server Error"
    assert "RuntimeError: proxy broke" in log.getvalue()
    assert "proxy.py" in log.getvalue()


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def proxy(request, handle, extra):\n    return None\n", "app/proxy.py"),
        ("def middleware(request):\n    return None\n", "app/proxy.py defines no proxy"),
        ("def Proxy(request):\n    return None\n", "Found 'Proxy'"),
        ("def proxy(request:\n", "app/proxy.py failed to import: SyntaxError"),
    ],
    ids=["three-params", "missing", "capitalized", "syntax-error"],
)
def test_a_bad_proxy_is_a_route_error_naming_the_file(
    tree: Tree, source: str, expected: str
) -> None:
    assert expected in refusal(tree({"proxy.py": source, "about/page.py": page("about")}))


def test_proxy_with_a_fallback_runs_first_then_none_reaches_the_fallback(
    make_client: MakeClient,
) -> None:
    legacy = Legacy()
    client = make_client(PROXIED_SITE, fallback=legacy)
    # The proxy runs first, for the fallback's paths too.
    blocked = fetch(client, "GET", "/legacy", headers={"X-Maintenance": "1"})
    assert blocked.status_code == 503
    assert legacy.paths == []
    # None: an unmatched path goes on to the fallback, a matched one to its route.
    assert fetch(client, "GET", "/legacy").text == "legacy"
    assert legacy.paths == ["/legacy"]
    assert fetch(client, "GET", "/about").text == "about"
    assert legacy.paths == ["/legacy"]


def test_a_proxy_below_the_root_is_only_a_helper(make_client: MakeClient) -> None:
    client = make_client({
        # Would block everything, if it were a proxy; and its signature is not a proxy's.
        "api/proxy.py": (
            "from microroute import Response\n\n"
            "TARGET = 'upstream'\n\n"
            "def proxy(a, b, c):\n    return Response('blocked', status=403)\n"
        ),
        "api/items/route.py": (
            "from microroute import Response\n"
            "from ..proxy import TARGET\n\n"
            "def GET():\n    return Response(TARGET)\n"
        ),
    })
    response = fetch(client, "GET", "/api/items")
    assert (response.status_code, response.text) == (200, "upstream")
    assert fetch(client, "GET", "/api/proxy").status_code == 404


def test_a_tree_without_proxy_has_none(tree: Tree) -> None:
    assert App(tree({"about/page.py": page("about")})).proxy is None


# -- replacing, timing, and the fallback -----------------------------------------


WRAPPING = """
import time
from microroute import Response

def proxy(request, handle):
    started = time.perf_counter()
    response = handle(request)
    if response.status == 404 and request.path.startswith("/old/"):
        return Response.redirect("/about", 308)  # replaced
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    response.headers["X-Frame-Options"] = "DENY"
    return response
"""


def test_a_proxy_adds_headers_to_a_page_and_can_replace_an_answer(make_client: MakeClient) -> None:
    client = make_client({"proxy.py": WRAPPING, "about/page.py": page("about")})
    about = fetch(client, "GET", "/about")
    assert (about.status_code, about.text) == (200, "about")
    assert about.headers["X-Frame-Options"] == "DENY"
    assert about.headers["Server-Timing"].startswith("app;dur=")
    moved = fetch(client, "GET", "/old/about")
    assert (moved.status_code, moved.headers["Location"]) == (308, "/about")
    assert "X-Frame-Options" not in moved.headers
    html_404 = fetch(client, "GET", "/missing", headers={"Accept": BROWSER})
    assert (html_404.status_code, html_404.headers["X-Frame-Options"]) == (404, "DENY")


def test_a_proxy_wraps_the_fallback_answer_too(make_client: MakeClient) -> None:
    client = make_client({"proxy.py": WRAPPING, "about/page.py": page("about")},
                         fallback=Legacy())
    response = fetch(client, "GET", "/legacy")
    assert (response.status_code, response.text) == (200, "legacy")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_head_request_through_a_wrapping_proxy_has_no_body(make_client: MakeClient) -> None:
    client = make_client({"proxy.py": WRAPPING, "about/page.py": page("about")})
    response = fetch(client, "HEAD", "/about")
    assert (response.status_code, response.data) == (200, b"")
    assert response.headers["Content-Length"] == "5"


# -- async def proxy(request, handle) --------------------------------------------


ASYNC_SITE = {
    "proxy.py": """
        import asyncio
        from microroute import Response

        async def proxy(request, handle):
            await asyncio.sleep(0)  # really waits: the loop turns
            request.environ["test.proxy_loop"] = asyncio.get_running_loop()
            response = await handle(request)
            response.headers["X-Proxy"] = "async"
            return response
    """,
    "api/loop/route.py": """
        import asyncio
        from microroute import Response

        async def GET(request):
            await asyncio.sleep(0)
            same = asyncio.get_running_loop() is request.environ["test.proxy_loop"]
            return Response.json({"same loop": same})
    """,
    "api/plain/route.py": """
        from microroute import Response

        def GET():
            return Response.json({"plain": True})
    """,
    "about/page.py": """
        async def Page():
            return "about"
    """,
}


def test_an_async_proxy_awaits_the_rest_on_its_own_loop(make_client: MakeClient) -> None:
    client = make_client(ASYNC_SITE)
    for _ in range(3):
        response = fetch(client, "GET", "/api/loop")
        assert (response.status_code, response.get_json()) == (200, {"same loop": True})
        assert response.headers["X-Proxy"] == "async"


@pytest.mark.parametrize(
    ("path", "status"), [("/api/plain", 200), ("/about", 200), ("/api/nowhere", 404)]
)
def test_an_async_proxy_wraps_sync_handlers_pages_and_framework_answers(
    make_client: MakeClient, path: str, status: int
) -> None:
    response = fetch(make_client(ASYNC_SITE), "GET", path)
    assert (response.status_code, response.headers["X-Proxy"]) == (status, "async")


# -- what a proxy gets wrong -----------------------------------------------------


@pytest.mark.parametrize(
    ("source", "logged"),
    [
        ("def proxy(request, handle):\n    handle(request)\n",
         "app/proxy.py: proxy() returned NoneType, "
         "expected handle(request)'s Response or its own."),
        ("def proxy(request, handle):\n    return handle(request).status\n",
         "app/proxy.py: proxy() returned int"),
        ("def proxy(request, handle):\n    handle(request)\n    raise RuntimeError('after')\n",
         "RuntimeError: after"),
    ],
    ids=["none", "not-a-response", "raises"],
)
def test_a_wrapping_proxy_that_fails_is_a_logged_500(
    make_client: MakeClient, source: str, logged: str
) -> None:
    client = make_client({"proxy.py": source, "about/page.py": page("about")})
    log = io.StringIO()
    response = fetch(client, "GET", "/about", errors_stream=log)
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error"}
    assert logged in log.getvalue()


def test_a_wrapping_proxy_raising_http_error_gives_that_status(make_client: MakeClient) -> None:
    source = (
        "from microroute import HTTPError\n\n"
        "def proxy(request, handle):\n"
        "    if 'Authorization' not in request.headers:\n"
        "        raise HTTPError(401, 'Sign in first', {'WWW-Authenticate': 'Bearer'})\n"
        "    return handle(request)\n"
    )
    client = make_client({"proxy.py": source, "about/page.py": page("about")})
    refused = fetch(client, "GET", "/about")
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert fetch(client, "GET", "/about", headers={"Authorization": "x"}).text == "about"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("{'matcher': ['/api/:path*/edit']}", "must be the last segment"),
        ("{'matcher': ['/((?!static).*)']}", "syntax microroute does not support"),
        ("{'matcher': 'api'}", "must be a path starting with '/'"),
        ("{'matchers': ['/api']}", "config must be a dict with one key, 'matcher'"),
    ],
)
def test_a_malformed_matcher_is_refused_at_load(tree: Tree, config: str, expected: str) -> None:
    source = f"config = {config}\n\ndef proxy(request, handle):\n    return handle(request)\n"
    message = refusal(tree({"proxy.py": source, "about/page.py": page("about")}))
    assert message.startswith("app/proxy.py: ")
    assert expected in message


def test_a_matcher_limits_a_proxy_that_answers_by_itself(make_client: MakeClient) -> None:
    source = (
        "from microroute import Response\n\n"
        "config = {'matcher': '/admin/:rest*'}\n\n"
        "def proxy(request):\n"
        "    return Response('sign in', status=401)\n"
    )
    client = make_client({"proxy.py": source, "about/page.py": page("about"),
                          "admin/page.py": page("admin")})
    assert fetch(client, "GET", "/admin").status_code == 401
    assert fetch(client, "GET", "/about").text == "about"
