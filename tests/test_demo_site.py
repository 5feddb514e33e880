"""The demo as a site: its root layout, not-found and error pages, its proxy
(security headers everywhere, CORS for `/api`) and its files in `public/`.

In-process, as test_demo_api.py, through `wsgiref.validate` (`demo_client.Api`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

from demo_client import Api
from helpers import BROWSER, ROOT
from microroute import App

FRONT_END = "http://localhost:5173"  # an origin the demo's proxy.py allows
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.fixture
def site(sqlite_api: Api) -> Api:
    """The demo app over a fresh SQLite database of its own."""
    return sqlite_api


# -- the layout and public/ ------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/about", "/products"])
def test_every_page_is_inside_the_root_layout(site: Api, path: str) -> None:
    response = site.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>")
    assert html.count("<html") == 1  # the page is a fragment: one document
    assert '<link rel="stylesheet" href="/styles.css">' in html
    assert '<link rel="icon" href="/favicon.ico">' in html
    assert f'<a href="{path}" aria-current=page>' in html


@pytest.mark.parametrize(
    ("path", "content_type", "starts"),
    [
        ("/styles.css", "text/css; charset=utf-8", b"/* The demo's stylesheet"),
        ("/products.js", "text/javascript; charset=utf-8", b"// The /products page's script"),
        ("/favicon.ico", "image/x-icon", b"\x00\x00\x01\x00"),  # an ICO header
    ],
)
def test_the_public_files_are_served(
    site: Api, path: str, content_type: str, starts: bytes
) -> None:
    response = site.get(path)
    assert (response.status_code, response.headers["Content-Type"]) == (200, content_type)
    assert response.data.startswith(starts)
    assert response.headers["Content-Length"] == str(
        (ROOT / "demo_app" / "public" / path[1:]).stat().st_size
    )


# -- proxy.py: security headers and CORS -----------------------------------------


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/products", BROWSER, 200),
        ("/api/products", "*/*", 200),
        ("/styles.css", "*/*", 200),
        ("/nowhere", BROWSER, 404),
        ("/api/nowhere", "*/*", 404),
    ],
)
def test_every_answer_carries_the_security_headers(
    site: Api, path: str, accept: str, status: int
) -> None:
    response = site.get(path, headers={"Accept": accept})
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_all(name) == [value], name  # once: never doubled


def test_the_preflight_from_an_allowed_origin_is_answered(site: Api) -> None:
    response = site("OPTIONS", "/api/products", headers={
        "Origin": FRONT_END, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_another_origin_is_not_allowed(site: Api) -> None:
    headers = {"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST"}
    preflight = site("OPTIONS", "/api/products", headers=headers)
    assert preflight.status_code == 204
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Methods" not in preflight.headers
    listed = site.get("/api/products", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in listed.headers
    assert listed.headers.get_all("Vary") == ["Origin"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/products", 200), ("POST", "/api/products", 201),
     ("GET", "/api/products/999", 404), ("DELETE", "/api/products", 405)],
)
def test_every_api_answer_names_the_allowed_origin(
    site: Api, method: str, path: str, status: int
) -> None:
    body = {"json": {"name": "Lamp", "price": 1200}} if method == "POST" else {}
    response = site(method, path, headers={"Origin": FRONT_END}, **body)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert response.headers["Access-Control-Expose-Headers"] == "Location, Retry-After"
    assert response.headers.get_all("Vary")[-1] == "Origin"  # after the framework's Accept


def test_pages_are_not_shared_with_other_origins(site: Api) -> None:
    response = site.get("/products", headers={"Origin": FRONT_END, "Accept": BROWSER})
    assert "Access-Control-Allow-Origin" not in response.headers


# -- not_found.py and error.py ---------------------------------------------------


def test_a_browser_gets_the_not_found_page_inside_the_layout(site: Api) -> None:
    response = site.get("/no/<such>/page", headers={"Accept": BROWSER})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/styles.css">' in html
    assert "<h1>Not found</h1>" in html
    assert "<code>/no/&lt;such&gt;/page</code>" in html


def test_an_api_client_gets_the_json_404(site: Api) -> None:
    response = site.get("/api/nowhere")
    assert (response.status_code, response.get_json()) == (404, {"error": "Not Found"})


def test_a_failing_page_gets_the_error_page_inside_the_layout(tmp_path: Path) -> None:
    # The demo's own tree, with one page that fails.
    tree = tmp_path / "demo"
    shutil.copytree(ROOT / "demo_app" / "app", tree / "app")
    shutil.copytree(ROOT / "demo_app" / "public", tree / "public")
    (tree / "app" / "boom").mkdir()
    (tree / "app" / "boom" / "page.py").write_text(
        "def Page():\n    raise RuntimeError('secret detail')\n"
    )
    client = Client(validator(App(tree / "app")))
    log = tmp_path / "log"
    with log.open("w") as errors:
        response = client.get("/boom", headers={"Accept": BROWSER}, buffered=True,
                              errors_stream=errors)
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert '<link rel="stylesheet" href="/styles.css">' in html
    assert "<h1>Something went wrong</h1>" in html
    assert "secret detail" not in html
    assert "RuntimeError: secret detail" in log.read_text()
    assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS[
        "Content-Security-Policy"
    ]
