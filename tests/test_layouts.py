"""`layout.py` (README, "Pages grow up"): `Layout(children, request)` wraps the
HTML of every page at and below its folder, outermost first. Route handlers
are never wrapped, nor the framework's own answers.

Every request goes through werkzeug's test `Client` over the `App` wrapped in
`wsgiref.validate.validator` (conftest), sent with `buffered=True` (`fetch`)
so the validator sees the app's iterator closed.
"""

from __future__ import annotations

import io

import pytest
from werkzeug.test import Client

from helpers import (
    HTML,
    MakeClient,
    Tree,
    browse,
    error_message,
    fetch,
    layout,
    page,
    refusal,
    text_route,
)

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
    assert error_message(response, 500) == "Internal Server Error"
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
