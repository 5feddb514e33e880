"""`App(errors=...)`: an app's own exceptions mapped to answers, in one place.

An exception of a class the mapping names (or of a subclass: the nearest
class wins) is answered as the `HTTPError` it maps to would be, wherever it
is raised: a route handler, an `async def` one, a page, the proxy. Nothing
is logged, as for an `HTTPError`. Any other exception is still a 500 whose
traceback goes to the log, and, for a browser, the nearest `error.py`'s page.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from helpers import BROWSER, MakeClient, fetch
from microroute import App, HTTPError

BUSY = HTTPError(503, "The database is busy; try again shortly.", {"Retry-After": "1"})

# Built-in exceptions, so that the route files (imported in a package of their
# own) raise the very classes the mapping names.
ERRORS: dict[type[Exception], HTTPError] = {
    TimeoutError: BUSY,
    LookupError: HTTPError(404, "No such thing."),
    KeyError: HTTPError(400, "A key is missing."),  # nearer than LookupError
}

RAISING = """
import asyncio

from microroute import Response


def GET(request):
    raise {kind}("what the handler was told")


async def POST(request):
    await asyncio.sleep(0)
    raise {kind}("what the handler was told")
"""

FILES = {
    "api/timeout/route.py": RAISING.format(kind="TimeoutError"),
    "api/key/route.py": RAISING.format(kind="KeyError"),
    "api/index/route.py": RAISING.format(kind="IndexError"),  # a LookupError
    "api/value/route.py": RAISING.format(kind="ValueError"),  # not mapped
    "layout.py": "def Layout(children):\n    return f'<main>{children}</main>'\n",
    "error.py": "def Error(error):\n    return '<h1>Sorry</h1>'\n",
    "not_found.py": "def NotFound():\n    return '<h1>Nothing here</h1>'\n",
    "busy/page.py": "def Page():\n    raise TimeoutError('the page was told')\n",
    "gone/page.py": "def Page():\n    raise IndexError('the page was told')\n",
    "broken/page.py": "def Page():\n    raise ValueError('the page was told')\n",
    "shop/layout.py": "def Layout(children):\n    raise TimeoutError('the layout was told')\n",
    "shop/page.py": "def Page():\n    return '<h1>Shop</h1>'\n",
    "proxy.py": """
def proxy(request, handle):
    if request.path == "/api/closed":
        raise TimeoutError("the proxy was told")
    response = handle(request)
    response.headers["X-Proxy"] = "yes"  # on mapped answers too
    return response
""",
}


@pytest.fixture
def client(make_client: MakeClient) -> Client:
    """The app over `FILES`, with `ERRORS` as its `errors=`."""
    return make_client(FILES, errors=ERRORS)


def answer(
    client: Client, path: str, method: str = "GET", **options: Any
) -> tuple[TestResponse, str]:
    """The response, and what the app wrote to its log."""
    log = io.StringIO()
    response = fetch(client, method, path, errors_stream=log, **options)
    return response, log.getvalue()


@pytest.mark.parametrize("method", ["GET", "POST"])  # POST: an async def handler
def test_a_mapped_exception_is_its_http_error_and_no_crash(client: Client, method: str) -> None:
    response, log = answer(client, "/api/timeout", method)
    assert response.status_code == 503
    assert response.get_json() == {"error": "The database is busy; try again shortly."}
    assert response.headers["Retry-After"] == "1"
    assert response.headers["X-Proxy"] == "yes"  # handle(request) gave the proxy the 503
    assert log == ""  # an answer, not a failure: nothing logged
    assert "what the handler was told" not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/key", 400, "A key is missing."),  # KeyError is named itself
        ("/api/index", 404, "No such thing."),  # IndexError, through LookupError
    ],
)
def test_the_nearest_class_in_the_exceptions_ancestry_wins(
    client: Client, path: str, status: int, message: str
) -> None:
    response, log = answer(client, path)
    assert (response.status_code, response.get_json()) == (status, {"error": message})
    assert log == ""


def test_an_exception_not_mapped_is_still_a_logged_500(client: Client) -> None:
    response, log = answer(client, "/api/value")
    assert (response.status_code, response.get_json()) == (500, {"error": "Internal Server Error"})
    assert "ValueError: what the handler was told" in log


def test_a_page_that_raises_a_mapped_exception_gets_its_status_not_the_error_page(
    client: Client,
) -> None:
    response, log = answer(client, "/busy", headers={"Accept": BROWSER})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    page = response.get_data(as_text=True)
    assert "try again shortly" in page and "Sorry" not in page
    assert log == ""
    # Not mapped: error.py's page, inside the layout, status 500, logged.
    broken, log = answer(client, "/broken", headers={"Accept": BROWSER})
    assert (broken.status_code, broken.get_data(as_text=True)) == (
        500, "<main><h1>Sorry</h1></main>"
    )
    assert "ValueError: the page was told" in log


def test_a_layout_that_raises_a_mapped_exception_gets_its_status(client: Client) -> None:
    response, log = answer(client, "/shop", headers={"Accept": BROWSER})
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert "Sorry" not in response.get_data(as_text=True)
    assert log == ""


def test_a_page_whose_exception_maps_to_404_gets_the_not_found_page(client: Client) -> None:
    response, _ = answer(client, "/gone", headers={"Accept": BROWSER})
    assert (response.status_code, response.get_data(as_text=True)) == (
        404, "<main><h1>Nothing here</h1></main>"
    )
    api, _ = answer(client, "/gone")
    assert (api.status_code, api.get_json()) == (404, {"error": "No such thing."})


def test_an_exception_the_proxy_raises_is_mapped_too(client: Client) -> None:
    response, log = answer(client, "/api/closed")
    assert (response.status_code, response.headers["Retry-After"]) == (503, "1")
    assert log == ""


def test_without_errors_every_exception_but_an_http_error_is_a_500(
    make_client: MakeClient,
) -> None:
    log = io.StringIO()
    response = fetch(make_client(FILES), "GET", "/api/timeout", errors_stream=log)
    assert response.status_code == 500
    assert "TimeoutError: what the handler was told" in log.getvalue()


@pytest.mark.parametrize(
    ("errors", "message"),
    [
        ({TimeoutError: 503}, "TimeoutError maps to 503, not an HTTPError"),
        ({"TimeoutError": BUSY}, "'TimeoutError' is not an exception class"),
        ({SystemExit: BUSY}, "is not an exception class"),  # not an Exception
    ],
)
def test_a_mapping_that_is_not_class_to_http_error_is_refused_at_start_up(
    tmp_path: Path, errors: dict[object, object], message: str
) -> None:
    (tmp_path / "page.py").write_text("def Page():\n    return 'home'\n")
    with pytest.raises(TypeError, match=message):
        App(tmp_path, errors=errors)  # type: ignore[arg-type]
