"""The /products page in a real headless Chromium, served by a real gunicorn.

Debian's `chromium` is driven by Playwright for Python through `executable_path`;
`playwright install` never runs. Without chromium or without the playwright
package the test skips, saying which is missing (under CI=true a skip fails).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo_app.store import DB_ENV_VAR
from helpers import Server

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000  # every Playwright wait is bounded by this
CHROMIUM_ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
]
SEEDED = ["Mouse: 4.99", "Keyboard: 9.99"]  # newest first


@pytest.fixture
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("no `chromium` on PATH (Debian: apt-get install chromium); "
                    "`playwright install` is never used")
    if sync_playwright is None:
        pytest.skip("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def server(serve: Callable[..., Server], tmp_path: Path) -> Server:
    return serve("demo_app:app", workers=2, env={
        DB_ENV_VAR: str(tmp_path / "demo.sqlite3"), "MICROROUTE_DEMO_ADMIN_TOKEN": "",
    })


def add(page: Page, name: str, price: str) -> None:
    """Fill the form and press Add, waiting for the API's answer."""
    page.get_by_label("Name").fill(name)
    page.get_by_label("Price in cents").fill(price)
    with page.expect_response(lambda response: response.url.endswith("/api/products")
                              and response.request.method == "POST"):
        page.get_by_role("button", name="Add").click()


def test_adding_a_product_from_the_page(browser: Browser, server: Server) -> None:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    items = page.locator("#products li")
    message = page.locator("#message")

    loaded: dict[str, int] = {}
    page.on("response", lambda response: loaded.__setitem__(
        response.url.removeprefix(server.url), response.status))
    page.goto(server.url + "/products")
    expect(items).to_have_text(SEEDED, timeout=TIMEOUT_MS)

    # Styled by demo_app/public/styles.css, and run by demo_app/public/products.js:
    # no inline script (the demo's Content-Security-Policy would refuse one).
    assert loaded["/styles.css"] == 200
    assert loaded["/products.js"] == 200
    assert page.locator("script:not([src])").count() == 0
    heading = page.get_by_role("heading", name="Products", level=1)
    expect(heading).to_have_css("color", "rgb(13, 92, 99)", timeout=TIMEOUT_MS)
    expect(page.locator("form#add")).to_have_css("display", "flex", timeout=TIMEOUT_MS)

    # A marker on window survives only while the page is not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    add(page, "Monitor", "14999")
    expect(items).to_have_text(["Monitor: 149.99", *SEEDED], timeout=TIMEOUT_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.get_by_label("Name").input_value() == ""  # the form was reset

    page.reload()
    expect(items).to_have_text(["Monitor: 149.99", *SEEDED], timeout=TIMEOUT_MS)
    assert page.evaluate("window.stillTheSamePage") is None  # it really did reload

    # A refused input: the API's own message appears, nothing is added.
    page.evaluate("window.stillTheSamePage = true")
    status, _, body = server.request(
        "POST", "/api/products", json.dumps({"name": "Broken", "price": -5}).encode()
    )
    assert status == 422
    api_message = json.loads(body)["error"]
    assert "price" in api_message
    add(page, "Broken", "-5")
    expect(message).to_have_text(api_message, timeout=TIMEOUT_MS)
    expect(items).to_have_text(["Monitor: 149.99", *SEEDED], timeout=TIMEOUT_MS)
    assert page.evaluate("window.stillTheSamePage") is True

    # A valid product afterwards clears the message.
    add(page, "Desk <lamp>", "2500")
    expect(items).to_have_text(["Desk <lamp>: 25.00", "Monitor: 149.99", *SEEDED],
                               timeout=TIMEOUT_MS)
    expect(message).to_have_text("", timeout=TIMEOUT_MS)
    assert script_errors == []


def test_a_product_added_past_a_page_shows_at_the_top(browser: Browser, server: Server) -> None:
    for number in range(1, 99):  # 100 products with the seeds: one full page
        status, _, _ = server.request("POST", "/api/products", json.dumps(
            {"name": f"Item {number}", "price": number}).encode())
        assert status == 201
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    items = page.locator("#products li")
    older = page.locator("#older")

    page.goto(server.url + "/products")
    expect(items).to_have_count(100, timeout=TIMEOUT_MS)
    expect(older).to_be_hidden(timeout=TIMEOUT_MS)

    page.evaluate("window.stillTheSamePage = true")
    add(page, "Just added", "1")
    # At the top, without a reload; the page still shows 100, the oldest a page further.
    expect(items.first).to_have_text("Just added: 0.01", timeout=TIMEOUT_MS)
    expect(items).to_have_count(100, timeout=TIMEOUT_MS)
    expect(older).to_be_visible(timeout=TIMEOUT_MS)
    assert page.evaluate("window.stillTheSamePage") is True

    older.click()
    expect(items).to_have_text(["Keyboard: 9.99"], timeout=TIMEOUT_MS)
    # Adding from an older page goes to the first, where the new product is.
    add(page, "From page two", "2")
    page.wait_for_url(server.url + "/products", timeout=TIMEOUT_MS)
    expect(items.first).to_have_text("From page two: 0.02", timeout=TIMEOUT_MS)
