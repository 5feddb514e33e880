"""`not_found.py` (README, "Pages grow up"): `NotFound(request)` is the HTML 404
for unmatched paths at and below its folder, the nearest one winning, inside
the layouts above it; JSON clients still get JSON. (A page's own
`raise HTTPError(404)`: test_error_pages.py.)

Every request goes through werkzeug's test `Client` over the `App` wrapped in
`wsgiref.validate.validator` (conftest), sent with `buffered=True` (`fetch`).
"""

from __future__ import annotations

import io
import warnings
from wsgiref.validate import WSGIWarning

import pytest
from werkzeug.test import Client

from helpers import (
    HTML,
    Legacy,
    MakeClient,
    Tree,
    browse,
    error_message,
    fetch,
    layout,
    not_found,
    page,
    refusal,
)

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
    assert error_message(fetch(lost, "GET", "/api/items"), 404) == "No item 7"


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
    legacy = Legacy()
    client = make_client({"not_found.py": not_found("ours")}, fallback=legacy)
    response = browse(client, "/legacy/page")
    assert response.text == "legacy"
    assert legacy.paths == ["/legacy/page"]
