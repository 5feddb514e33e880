"""Error pages (README, "Pages grow up: layouts, not-found pages, error
pages"): `error.py`'s `Error(error, request)`, and a page's
`raise HTTPError(404)` answered by the nearest `not_found.py`.

The tree: a root layout and error page, and a shop whose folder has its own
layout and error page. What fails (a page, a layout, a `NotFound`) is
answered, for a browser, by the nearest error page above it, inside the
layouts above that error page, with status 500; the traceback goes to the
log only. API clients, and route handlers, keep the framework's JSON 500.
"""

from __future__ import annotations

import io

import pytest
from werkzeug.test import Client

from helpers import HTML, MakeClient, Tree, browse, fetch, layout, page, refusal

CRASH = "def Page():\n    raise RuntimeError('the page broke')\n"

ERROR = """
def Error(error, request):
    return f"<h1>{WHERE}: sorry</h1><p>{type(error).__name__} at {request.path}</p>"
"""


def error_page(where: str) -> str:
    return f"WHERE = {where!r}\n{ERROR}"


SITE = {
    "layout.py": layout("root"),
    "error.py": error_page("root"),
    "page.py": page("home"),
    "about/page.py": CRASH,
    "shop/layout.py": layout("shop"),
    "shop/error.py": error_page("shop"),
    "shop/cart/page.py": CRASH,
    "shop/fine/page.py": page("fine"),
    # A layout that fails: its own folder's error page would be wrapped in
    # it, so the one above answers.
    "shop/broken/layout.py": "def Layout(children):\n    raise ValueError('the layout broke')\n",
    "shop/broken/error.py": error_page("broken"),
    "shop/broken/page.py": page("never shown"),
    "shop/not_found.py": "def NotFound(request):\n    raise KeyError('the not-found page broke')\n",
    "shop/missing/page.py": """
        from microroute import HTTPError

        def Page(request):
            if request.query.get("id") != "1":
                raise HTTPError(404, f"No product {request.query.get('id')}")
            return "product 1"
    """,
    "blog/not_found.py": "def NotFound():\n    return '<p>no such post</p>'\n",
    "blog/[slug]/page.py": """
        from microroute import HTTPError

        def Page(request, params):
            raise HTTPError(404, "No post " + params["slug"])
    """,
    "blog/forbidden/page.py": """
        from microroute import HTTPError

        def Page():
            raise HTTPError(403, "Members only")
    """,
    "api/boom/route.py": "def GET():\n    raise RuntimeError('the route broke')\n",
}


@pytest.fixture
def site(make_client: MakeClient) -> Client:
    return make_client(SITE)


@pytest.mark.parametrize(
    ("path", "html", "raised"),
    [
        # A crashing page: the nearest error page, inside the layouts above it.
        ("/about", "<root><h1>root: sorry</h1><p>RuntimeError at /about</p></root>",
         "RuntimeError: the page broke"),
        ("/shop/cart",
         "<root><shop><h1>shop: sorry</h1><p>RuntimeError at /shop/cart</p></shop></root>",
         "RuntimeError: the page broke"),
        # A crashing layout: the error page above its folder.
        ("/shop/broken",
         "<root><shop><h1>shop: sorry</h1><p>ValueError at /shop/broken</p></shop></root>",
         "ValueError: the layout broke"),
        # A crashing NotFound: the nearest error page above it.
        ("/shop/nowhere",
         "<root><shop><h1>shop: sorry</h1><p>KeyError at /shop/nowhere</p></shop></root>",
         "KeyError: 'the not-found page broke'"),
    ],
    ids=["page", "nested-page", "layout", "not-found"],
)
def test_what_fails_gets_the_nearest_error_page(
    site: Client, path: str, html: str, raised: str
) -> None:
    log = io.StringIO()
    response = browse(site, path, errors_stream=log)
    assert response.status_code == 500
    assert response.content_type == HTML
    assert response.text == html
    assert response.headers["Vary"] == "Accept"
    # The traceback is in the log, and nowhere in the page.
    assert raised in log.getvalue()
    assert "Traceback" in log.getvalue()
    assert "Traceback" not in response.text
    assert "the page broke" not in response.text


def test_a_page_that_does_not_fail_is_untouched(site: Client) -> None:
    assert browse(site, "/shop/fine").text == "<root><shop>fine</shop></root>"


@pytest.mark.parametrize("accept", ["application/json", "*/*", None])
def test_an_api_client_keeps_the_json_500(site: Client, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    log = io.StringIO()
    response = fetch(site, "GET", "/shop/cart", headers=headers, errors_stream=log)
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error"}
    assert "RuntimeError: the page broke" in log.getvalue()


def test_a_route_handler_keeps_the_framework_500_even_for_a_browser(site: Client) -> None:
    response = browse(site, "/api/boom")
    assert response.status_code == 500
    assert "sorry" not in response.text
    assert "<h1>500 Internal Server Error</h1>" in response.text


def test_an_error_page_that_fails_gives_the_framework_500(make_client: MakeClient) -> None:
    client = make_client({
        "layout.py": layout("root"),
        "error.py": "def Error(error):\n    raise LookupError('the error page broke')\n",
        "about/page.py": CRASH,
    })
    log = io.StringIO()
    response = browse(client, "/about", errors_stream=log)
    assert response.status_code == 500
    assert "<h1>500 Internal Server Error</h1>" in response.text
    assert "<root>" not in response.text
    # Both failures are in the log: the page's, then the error page's.
    logged = log.getvalue()
    assert logged.index("RuntimeError: the page broke") < logged.index(
        "LookupError: the error page broke"
    )


def test_an_error_page_returning_a_response_says_vary_accept(make_client: MakeClient) -> None:
    # Only a browser gets it (an API client gets the JSON 500): its body was
    # chosen by Accept, whoever built the response.
    client = make_client({
        "error.py": (
            "from microroute import Response\n\n"
            "def Error(error):\n"
            "    return Response.html('<p>down</p>', 503, {'Retry-After': '60'})\n"
        ),
        "about/page.py": CRASH,
    })
    response = browse(client, "/about", errors_stream=io.StringIO())
    assert (response.status_code, response.text) == (503, "<p>down</p>")
    assert response.headers["Retry-After"] == "60"
    assert response.headers.getlist("Vary") == ["Accept"]
    api = fetch(client, "GET", "/about", errors_stream=io.StringIO())
    assert (api.status_code, api.headers.getlist("Vary")) == (500, ["Accept"])


def test_an_error_page_returning_no_html_gives_the_framework_500(
    make_client: MakeClient,
) -> None:
    client = make_client({"error.py": "def Error(error):\n    return 42\n", "about/page.py": CRASH})
    log = io.StringIO()
    response = browse(client, "/about", errors_stream=log)
    assert "<h1>500 Internal Server Error</h1>" in response.text
    assert "app/error.py: Error() returned int, expected a Response or a str." in log.getvalue()


def test_a_root_layout_that_fails_gives_the_framework_500(make_client: MakeClient) -> None:
    # No error page lies above the root: there is nothing to wrap one in.
    client = make_client({
        "layout.py": "def Layout(children):\n    raise ValueError('root layout broke')\n",
        "error.py": error_page("root"),
        "page.py": page("home"),
    })
    response = browse(client, "/")
    assert response.status_code == 500
    assert "<h1>500 Internal Server Error</h1>" in response.text


def test_with_debug_the_traceback_is_shown_escaped_below_the_error_page(
    make_client: MakeClient,
) -> None:
    client = make_client({
        "error.py": error_page("root"),
        "about/page.py": "def Page():\n    raise RuntimeError('<b>broke</b>')\n",
    }, debug=True)
    response = browse(client, "/about")
    assert response.status_code == 500
    assert response.text.startswith("<h1>root: sorry</h1>")
    assert "Traceback" in response.text
    assert "RuntimeError: &lt;b&gt;broke&lt;/b&gt;" in response.text


def test_an_error_page_in_a_group_answers_only_for_that_group(make_client: MakeClient) -> None:
    client = make_client({
        "(shop)/error.py": error_page("shop group"),
        "(shop)/cart/page.py": CRASH,
        "(blog)/post/page.py": CRASH,
    })
    assert "shop group: sorry" in browse(client, "/cart").text
    assert "<h1>500 Internal Server Error</h1>" in browse(client, "/post").text


def test_an_async_error_page(make_client: MakeClient) -> None:
    client = make_client({
        "error.py": "async def Error(error, request):\n    return 'async sorry'\n",
        "about/page.py": CRASH,
    })
    response = browse(client, "/about")
    assert (response.status_code, response.text) == (500, "async sorry")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def error(error):\n    return ''\n",
         "app/error.py defines no Error: an error file exports a function named Error"),
        ("def Error():\n    return ''\n", "app/error.py"),
        ("def Error(error, request, extra):\n    return ''\n", "(error) or (error, request)"),
    ],
    ids=["missing", "no-params", "three-params"],
)
def test_a_bad_error_page_is_a_route_error(tree: Tree, source: str, expected: str) -> None:
    assert expected in refusal(tree({"error.py": source, "about/page.py": page("about")}))


# -- raise HTTPError(404) in a page ----------------------------------------------


def test_a_pages_404_renders_the_nearest_not_found_page(site: Client) -> None:
    response = browse(site, "/blog/hello")
    assert (response.status_code, response.text) == (404, "<root><p>no such post</p></root>")
    assert response.headers.getlist("Vary") == ["Accept"]  # JSON for an API client


def test_a_pages_404_for_an_api_client_is_json_with_its_message(site: Client) -> None:
    response = fetch(site, "GET", "/blog/hello")
    assert response.status_code == 404
    assert response.get_json() == {"error": "No post hello"}
    assert response.headers.getlist("Vary") == ["Accept"]


def test_a_pages_404_without_a_not_found_page_is_the_framework_404(
    make_client: MakeClient,
) -> None:
    client = make_client({"shop/[id]/page.py": SITE["shop/missing/page.py"]})
    response = browse(client, "/shop/7")
    assert response.status_code == 404
    assert "No product None" in response.text


def test_a_failing_not_found_page_reached_by_a_pages_404_gets_the_error_page(
    site: Client,
) -> None:
    # /shop/missing raises HTTPError(404); shop's NotFound then breaks.
    response = browse(site, "/shop/missing?id=2")
    assert response.status_code == 500
    assert "<h1>shop: sorry</h1><p>KeyError at /shop/missing</p>" in response.text
    assert browse(site, "/shop/missing?id=1").text == "<root><shop>product 1</shop></root>"


def test_other_http_errors_from_a_page_stay_the_framework_answers(site: Client) -> None:
    response = browse(site, "/blog/forbidden")
    assert response.status_code == 403
    assert "Members only" in response.text
    assert "sorry" not in response.text
