"""Pages grow up: `layout.py`, `not_found.py` and `proxy.py` (as in the Next.js App Router).

- `layout.py` exports `Layout(children, request)`: it wraps the HTML of every page
  at and below its folder, outermost first. Route handlers are never wrapped.
- `not_found.py` exports `NotFound(request)`: the HTML 404 for unmatched paths at
  and below its folder, the nearest one winning; JSON clients still get JSON.
- `proxy.py`, at the root of the tree only, exports `proxy(request)`: it runs before
  routing; a `Response` answers the request, `None` lets it through.
  (`proxy(request, handle)` and the matcher: test_proxy.py; `error.py`:
  test_error_pages.py.)

Every request goes through werkzeug's test `Client` over the `App` wrapped in
`wsgiref.validate.validator` (see conftest), sent with `buffered=True` so the
validator sees the app's iterator closed.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.validate import WSGIWarning

import pytest
from werkzeug.test import Client, TestResponse

from microroute import App, RouteError

MakeClient = Callable[..., Client]
Tree = Callable[[dict[str, str]], Path]

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTML = "text/html; charset=utf-8"


# -- helpers ---------------------------------------------------------------------


def fetch(client: Client, method: str, path: str, **options: Any) -> TestResponse:
    """One request; the response is read whole and the app's iterator closed."""
    options.setdefault("errors_stream", io.StringIO())
    return client.open(path, method=method, buffered=True, **options)


def browse(client: Client, path: str, method: str = "GET", **options: Any) -> TestResponse:
    """A request from a browser: `Accept` ranks text/html first."""
    return fetch(client, method, path, headers={"Accept": BROWSER}, **options)


def page(html: str) -> str:
    return f"def Page():\n    return {html!r}\n"


def layout(tag: str) -> str:
    """A layout wrapping its children in `<tag>...</tag>`."""
    return f"def Layout(children, request):\n    return f'<{tag}>{{children}}</{tag}>'\n"


def not_found(html: str) -> str:
    return f"def NotFound(request):\n    return {html!r}\n"


def text_route(body: str) -> str:
    return (
        "from microroute import Response\n\n"
        f"def GET():\n    return Response({body!r})\n\n"
        f"def POST():\n    return Response({body!r})\n"
    )


def refusal(app_dir: Path) -> str:
    """The message of the RouteError that `App(app_dir)` raises."""
    with pytest.raises(RouteError) as caught:
        App(app_dir)
    return str(caught.value)


def json_error(response: TestResponse, status: int) -> str:
    assert response.status_code == status, response.data
    assert response.content_type == "application/json"
    return str(response.get_json()["error"])


class Recorder:
    """A WSGI app standing in for an existing Flask/Django app (the `fallback`)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.paths.append(environ["PATH_INFO"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"from the fallback"]


# -- layout.py -------------------------------------------------------------------


SITE = {
    "layout.py": layout("root"),
    "page.py": page("home"),
    "about/page.py": page("about"),
    "docs/layout.py": layout("docs"),
    "docs/page.py": page("docs index"),
    "docs/guide/layout.py": layout("guide"),
    "docs/guide/[step]/page.py": (
        "def Page(request, params):\n    return 'step ' + params['step']\n"
    ),
    "(marketing)/layout.py": layout("marketing"),
    "(marketing)/pricing/page.py": page("pricing"),
    "plain/page.py": (
        "from microroute import Response\n\n"
        "def Page():\n    return Response('<p>as is</p>', status=202, content_type='text/html')\n"
    ),
    "api/hello/route.py": text_route("<p>raw</p>"),
    "api/json/route.py": (
        "from microroute import Response\n\n"
        "def GET():\n    return Response.json({'ok': True})\n"
    ),
}


@pytest.fixture
def site(make_client: MakeClient) -> Client:
    return make_client(SITE)


@pytest.mark.parametrize(
    ("path", "html"),
    [
        ("/", "<root>home</root>"),
        ("/about", "<root>about</root>"),
        ("/docs", "<root><docs>docs index</docs></root>"),
        ("/docs/guide/install", "<root><docs><guide>step install</guide></docs></root>"),
        ("/pricing", "<root><marketing>pricing</marketing></root>"),
    ],
)
def test_layouts_wrap_every_page_at_and_below_their_folder_outermost_first(
    site: Client, path: str, html: str
) -> None:
    response = fetch(site, "GET", path)
    assert response.status_code == 200
    assert response.content_type == HTML
    assert response.text == html


def test_a_group_layout_wraps_only_that_groups_pages(site: Client) -> None:
    assert fetch(site, "GET", "/pricing").text == "<root><marketing>pricing</marketing></root>"
    for path in ("/", "/about", "/docs"):
        assert "marketing" not in fetch(site, "GET", path).text


def test_head_on_a_page_keeps_the_wrapped_length(site: Client) -> None:
    response = fetch(site, "HEAD", "/about")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len("<root>about</root>"))


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/hello"), ("POST", "/api/hello")])
def test_layouts_never_touch_route_handlers(site: Client, method: str, path: str) -> None:
    response = fetch(site, method, path)
    assert response.status_code == 200
    assert response.text == "<p>raw</p>"
    assert response.content_type == "text/plain; charset=utf-8"


def test_layouts_never_touch_json_routes(site: Client) -> None:
    response = fetch(site, "GET", "/api/json")
    assert response.get_json() == {"ok": True}
    assert "root" not in response.text


def test_a_page_returning_a_response_is_not_wrapped(site: Client) -> None:
    response = fetch(site, "GET", "/plain")
    assert response.status_code == 202
    assert response.text == "<p>as is</p>"


def test_layouts_do_not_wrap_the_frameworks_own_errors(site: Client) -> None:
    # No not_found.py here: the framework's plain 404 page, not a wrapped one.
    response = browse(site, "/missing")
    assert response.status_code == 404
    assert "<root>" not in response.text
    assert "<root>" not in browse(site, "/about", method="DELETE").text


@pytest.mark.parametrize(
    "source",
    [
        "def Layout(children):\n    return '<main>' + children + '</main>'\n",
        "async def Layout(children, request):\n    return '<main>' + children + '</main>'\n",
        "def Layout(children, request, /):\n    return '<main>' + children + '</main>'\n",
    ],
    ids=["children-only", "async", "positional-only"],
)
def test_layout_signatures_that_work(make_client: MakeClient, source: str) -> None:
    client = make_client({"layout.py": source, "page.py": page("hi")})
    assert fetch(client, "GET", "/").text == "<main>hi</main>"


def test_a_layout_sees_the_request(make_client: MakeClient) -> None:
    client = make_client({
        "layout.py": (
            "def Layout(children, request):\n"
            "    return f'<body data-path={request.path}>{children}</body>'\n"
        ),
        "shop/[item]/page.py": "def Page(request, params):\n    return params['item']\n",
    })
    assert fetch(client, "GET", "/shop/hat").text == "<body data-path=/shop/hat>hat</body>"


@pytest.mark.parametrize("returned", ["42", "None", "b'<html></html>'"])
def test_a_layout_returning_a_non_str_is_a_500_naming_the_file(
    make_client: MakeClient, returned: str
) -> None:
    client = make_client({
        "layout.py": layout("root"),
        "shop/layout.py": f"def Layout(children):\n    return {returned}\n",
        "shop/page.py": page("shop"),
    })
    log = io.StringIO()
    response = fetch(client, "GET", "/shop", errors_stream=log)
    assert json_error(response, 500) == "Internal Server Error"
    assert "app/shop/layout.py: Layout() returned" in log.getvalue()
    assert "layout.py" not in response.text  # no leak without debug=True


def test_a_layout_in_a_private_folder_is_ignored(make_client: MakeClient) -> None:
    client = make_client({
        "page.py": page("home"),
        "_components/layout.py": layout("private"),
        "_broken/layout.py": "this is not python\n",  # never even imported
    })
    assert fetch(client, "GET", "/").text == "home"


def test_a_folder_with_only_a_layout_is_not_routed(make_client: MakeClient) -> None:
    client = make_client({"page.py": page("home"), "docs/layout.py": layout("docs")})
    assert fetch(client, "GET", "/docs").status_code == 404


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def Layout():\n    return ''\n", "Layout() in app/docs/layout.py"),
        ("def Layout(a, b, c):\n    return ''\n", "Layout(a, b, c) in app/docs/layout.py"),
        ("def Layout(*, children):\n    return ''\n", "app/docs/layout.py"),
        ("def Layout(*children):\n    return ''\n", "app/docs/layout.py"),
        ("def layout(children):\n    return ''\n", "app/docs/layout.py defines no Layout"),
        ("def Wrapper(children):\n    return ''\n", "app/docs/layout.py defines no Layout"),
        ("Layout = '<main></main>'\n", "Layout in app/docs/layout.py must be a function"),
        ("def Layout(children:\n", "app/docs/layout.py failed to import: SyntaxError"),
    ],
    ids=["no-params", "three-params", "keyword-only", "varargs", "lowercase", "missing",
         "not-callable", "syntax-error"],
)
def test_a_bad_layout_is_a_route_error_naming_the_file(
    tree: Tree, source: str, expected: str
) -> None:
    message = refusal(tree({"page.py": page("home"), "docs/layout.py": source}))
    assert expected in message


def test_a_lowercase_layout_gets_a_hint(tree: Tree) -> None:
    message = refusal(tree({"layout.py": "def layout(children):\n    return ''\n"}))
    assert "def Layout" in message


def test_a_bad_layout_refuses_the_tree_even_with_no_page_below(tree: Tree) -> None:
    assert "app/empty/layout.py" in refusal(tree({"page.py": page("x"), "empty/layout.py": ""}))


# -- not_found.py ----------------------------------------------------------------


NOT_FOUND_SITE = {
    "layout.py": layout("root"),
    "not_found.py": not_found("nothing here"),
    "page.py": page("home"),
    "about/page.py": page("about"),
    "docs/layout.py": layout("docs"),
    "docs/not_found.py": "def NotFound(request):\n    return 'no doc at ' + request.path\n",
    "docs/intro/page.py": page("intro"),
    "blog/[slug]/page.py": "def Page(request, params):\n    return params['slug']\n",
    "blog/[slug]/not_found.py": not_found("no such part of a post"),
    "api/items/route.py": (
        "from microroute import HTTPError, Response\n\n"
        "def GET(request):\n"
        "    raise HTTPError(404, 'No item 7')\n\n"
        "def POST():\n    return Response('made', status=201)\n"
    ),
}


@pytest.fixture
def lost(make_client: MakeClient) -> Client:
    return make_client(NOT_FOUND_SITE)


@pytest.mark.parametrize(
    ("path", "html"),
    [
        ("/nowhere", "<root>nothing here</root>"),
        ("/about/more", "<root>nothing here</root>"),
        ("/docs/missing", "<root><docs>no doc at /docs/missing</docs></root>"),
        ("/docs/intro/deeper", "<root><docs>no doc at /docs/intro/deeper</docs></root>"),
        ("/blog/x/unknown", "<root>no such part of a post</root>"),
        ("/blog/x/a/b", "<root>no such part of a post</root>"),
        ("/blogs", "<root>nothing here</root>"),
    ],
)
def test_the_nearest_not_found_page_wins_wrapped_in_the_layouts_above_it(
    lost: Client, path: str, html: str
) -> None:
    response = browse(lost, path)
    assert response.status_code == 404
    assert response.content_type == HTML
    assert response.text == html


@pytest.mark.parametrize("accept", [None, "*/*", "text/html", "text/*, application/json;q=0.5"])
def test_a_404_chosen_by_accept_says_vary_accept(lost: Client, accept: str | None) -> None:
    # The page for a browser, JSON for the rest: a cache must keep them apart.
    headers = {"Accept": accept} if accept else {}
    response = fetch(lost, "GET", "/docs/missing", headers=headers)
    assert response.status_code == 404
    assert response.headers.getlist("Vary") == ["Accept"]
    assert response.content_type == (HTML if accept and "text" in accept else "application/json")


def test_matched_paths_are_unaffected_by_not_found_pages(lost: Client) -> None:
    assert browse(lost, "/docs/intro").text == "<root><docs>intro</docs></root>"
    assert browse(lost, "/blog/hello").text == "<root>hello</root>"


@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*", "application/json, text/html;q=0.5"]
)
def test_json_clients_still_get_json(lost: Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    for path in ("/nowhere", "/docs/missing", "/blog/x/unknown"):
        response = fetch(lost, "GET", path, headers=headers)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Not Found"}


def test_not_found_is_not_used_for_a_405(lost: Client) -> None:
    response = browse(lost, "/about", method="POST")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert "nothing here" not in response.text
    assert "<root>" not in response.text


def test_not_found_is_not_used_for_an_http_error_404_raised_by_a_handler(lost: Client) -> None:
    response = browse(lost, "/api/items")
    assert response.status_code == 404
    assert "No item 7" in response.text
    assert "nothing here" not in response.text
    assert json_error(fetch(lost, "GET", "/api/items"), 404) == "No item 7"


def test_not_found_is_not_used_for_an_unknown_method(lost: Client) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WSGIWarning)  # the validator dislikes BREW
        response = browse(lost, "/nowhere", method="BREW")
    assert response.status_code == 501
    assert "nothing here" not in response.text


def test_a_not_found_page_covers_its_own_folder(make_client: MakeClient) -> None:
    # `docs/` has a not_found.py but no page: /docs itself is unmatched, and covered.
    client = make_client({"page.py": page("home"), "docs/not_found.py": not_found("no docs")})
    assert browse(client, "/docs").text == "no docs"
    assert browse(client, "/docs").status_code == 404
    # Above its folder it does not apply: the framework's own 404.
    above = browse(client, "/elsewhere")
    assert above.status_code == 404
    assert "no docs" not in above.text


def test_a_dynamic_not_found_does_not_cover_its_parent(lost: Client) -> None:
    # /blog is above blog/[slug]/: the root not_found.py answers it.
    assert browse(lost, "/blog").text == "<root>nothing here</root>"


@pytest.mark.parametrize(
    "source",
    [
        "def NotFound():\n    return 'gone'\n",
        "async def NotFound(request):\n    return 'gone'\n",
    ],
    ids=["no-params", "async"],
)
def test_not_found_signatures_that_work(make_client: MakeClient, source: str) -> None:
    client = make_client({"page.py": page("home"), "not_found.py": source})
    response = browse(client, "/x")
    assert (response.status_code, response.text) == (404, "gone")


def test_a_not_found_returning_a_response_is_used_as_is(make_client: MakeClient) -> None:
    client = make_client({
        "layout.py": layout("root"),
        "not_found.py": (
            "from microroute import Response\n\n"
            "def NotFound(request):\n"
            "    return Response('<p>moved on</p>', status=410,"
            " headers={'X-Why': 'gone'}, content_type='text/html')\n"
        ),
    })
    response = browse(client, "/old")
    assert response.status_code == 410
    assert response.headers["X-Why"] == "gone"
    assert response.text == "<p>moved on</p>"  # a Response is never wrapped


def test_a_not_found_returning_a_non_str_is_a_500_naming_the_file(
    make_client: MakeClient,
) -> None:
    client = make_client({"not_found.py": "def NotFound():\n    return 404\n"})
    log = io.StringIO()
    response = browse(client, "/x", errors_stream=log)
    assert response.status_code == 500
    assert "app/not_found.py: NotFound() returned int" in log.getvalue()


def test_two_not_found_pages_at_one_url_are_a_route_error(tree: Tree) -> None:
    message = refusal(tree({
        "(shop)/not_found.py": not_found("a"),
        "(blog)/not_found.py": not_found("b"),
        "page.py": page("home"),
    }))
    assert message.startswith("Conflicting not-found pages at /:")
    assert "app/(blog)/not_found.py" in message
    assert "app/(shop)/not_found.py" in message


def test_a_group_not_found_beside_a_plain_one_at_another_url_is_fine(
    make_client: MakeClient,
) -> None:
    client = make_client({
        "not_found.py": not_found("root"),
        "(shop)/cart/not_found.py": not_found("cart"),
    })
    assert browse(client, "/cart/x").text == "cart"
    assert browse(client, "/x").text == "root"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def NotFound(request, params):\n    return ''\n", "app/docs/not_found.py"),
        ("def not_found():\n    return ''\n", "app/docs/not_found.py defines no NotFound"),
        ("import missing_module_xyz\n", "app/docs/not_found.py failed to import"),
    ],
    ids=["three-params", "missing", "import-error"],
)
def test_a_bad_not_found_is_a_route_error_naming_the_file(
    tree: Tree, source: str, expected: str
) -> None:
    assert expected in refusal(tree({"docs/not_found.py": source}))


def test_a_not_found_in_a_private_folder_is_ignored(make_client: MakeClient) -> None:
    client = make_client({"page.py": page("home"), "_parts/not_found.py": not_found("private")})
    response = browse(client, "/_parts/x")
    assert response.status_code == 404
    assert "private" not in response.text


def test_with_a_fallback_unmatched_paths_go_to_the_fallback_not_to_not_found(
    make_client: MakeClient,
) -> None:
    legacy = Recorder()
    client = make_client({"not_found.py": not_found("ours")}, fallback=legacy)
    response = browse(client, "/legacy/page")
    assert response.text == "from the fallback"
    assert legacy.paths == ["/legacy/page"]


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
    assert json_error(fetch(proxied, "GET", "/nowhere"), 404) == "Not Found"
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
    assert json_error(fetch(proxied, "GET", "/admin"), 401) == "Sign in first"
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
    assert json_error(response, 500) == "Internal Server Error"
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
    assert json_error(response, 500) == "Internal Server Error"
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
    legacy = Recorder()
    client = make_client(PROXIED_SITE, fallback=legacy)
    # The proxy runs first, for the fallback's paths too.
    blocked = fetch(client, "GET", "/legacy", headers={"X-Maintenance": "1"})
    assert blocked.status_code == 503
    assert legacy.paths == []
    # None: an unmatched path goes on to the fallback, a matched one to its route.
    assert fetch(client, "GET", "/legacy").text == "from the fallback"
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
