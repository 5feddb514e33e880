"""The demo's pages, in-process: `/products` (the list rendered on the server,
newest first, paged, with the form whose script adds a product), `/` and
`/about`. Each test runs on SQLite, then on PostgreSQL (the `api` fixture).
The site around them (layout, proxy, public files) is test_demo_site.py's.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from demo_app.store import default_store
from demo_client import Api

# -- pages and the small APIs ----------------------------------------------


class ListItems(HTMLParser):
    """The text of each `<li>` inside `<ul id="products">`, as a browser without
    JavaScript would show it."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[str] = []
        self.tags: list[str] = []
        self._in_list = False
        self._item: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "ul" and ("id", "products") in attrs:
            self._in_list = True
        elif tag == "li" and self._in_list:
            self._item = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "ul":
            self._in_list = False
        elif tag == "li" and self._item is not None:
            self.items.append("".join(self._item).strip())
            self._item = None

    def handle_data(self, data: str) -> None:
        if self._item is not None:
            self._item.append(data)


def parse(html: str) -> ListItems:
    parser = ListItems()
    parser.feed(html)
    parser.close()
    return parser


def test_the_products_page_lists_the_products_as_plain_html(api: Api) -> None:
    api.create("Monitor", 14999)
    response = api.get("/products", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.mimetype_params["charset"] == "utf-8"
    page = parse(response.get_data(as_text=True))
    assert page.items == ["Monitor: 149.99", "Mouse: 4.99", "Keyboard: 9.99"]  # newest first


def test_the_products_page_has_the_form_and_the_script(api: Api) -> None:
    html = api.get("/products").get_data(as_text=True)
    page = parse(html)
    assert "form" in page.tags and "script" in page.tags
    assert '<form id="add"' in html
    assert 'name="name"' in html and 'name="price"' in html
    assert 'type="submit"' in html
    assert 'id="message"' in html  # where the API's message is shown
    # The script is a file of demo_app/public/, not inline (the demo's CSP).
    assert '<script src="/products.js" defer></script>' in html
    script = api.get("/products.js").get_data(as_text=True)
    assert "fetch(" in script and "/api/products" in script
    assert "<noscript>" in html


def test_the_products_page_escapes_names(api: Api) -> None:
    api.create("<script>alert(1)</script>")
    api.create('Tom & Jerry "mugs" <b>')
    html = api.get("/products").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>" not in html
    assert parse(html).items[:2] == [
        'Tom & Jerry "mugs" <b>: 1.00',  # the text a reader sees
        "<script>alert(1)</script>: 1.00",
    ]
    assert html.count("<script") == 1  # the page's own script only


def test_the_products_page_follows_the_database(api: Api) -> None:
    api("DELETE", "/api/products/1")
    api("PATCH", "/api/products/2", {"name": "Trackball"})
    assert parse(api.get("/products").get_data(as_text=True)).items == ["Trackball: 4.99"]


def page_links(html: str) -> dict[str, str | None]:
    """The products page's links to newer and older pages that a reader sees."""
    links: dict[str, str | None] = {}

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "a" and found.get("id") in ("newer", "older") and "hidden" not in found:
                links[str(found["id"])] = found["href"]

    Links().feed(html)
    return links


def test_the_products_page_shows_what_was_just_added_past_a_page(api: Api) -> None:
    store = default_store()
    for number in range(1, 249):  # 250 products with the seeds
        store.create(f"Item {number}", number)
    api.create("Just added", 1)
    html = api.get("/products").get_data(as_text=True)
    items = parse(html).items
    assert items[:2] == ["Just added: 0.01", "Item 248: 2.48"]
    assert len(items) == 100
    assert page_links(html) == {"older": "/products?offset=100"}

    html = api.get("/products?offset=100").get_data(as_text=True)
    assert parse(html).items[0] == "Item 149: 1.49"
    assert page_links(html) == {"newer": "/products?offset=0", "older": "/products?offset=200"}
    assert 'data-offset="100"' in html  # the script sends a new product to the first page

    html = api.get("/products?offset=200").get_data(as_text=True)
    assert parse(html).items[-2:] == ["Mouse: 4.99", "Keyboard: 9.99"]
    assert len(parse(html).items) == 51
    assert page_links(html) == {"newer": "/products?offset=100"}


def test_the_products_page_links_to_no_older_page_when_all_fit(api: Api) -> None:
    html = api.get("/products").get_data(as_text=True)
    assert page_links(html) == {}
    assert 'id="older"' in html  # there, hidden, for the script to show when needed


@pytest.mark.parametrize("offset", ["-1", "x", "1.5", "99999999999999999999"])
def test_a_bad_offset_for_the_products_page_is_a_400_naming_it(api: Api, offset: str) -> None:
    response = api.get(f"/products?offset={offset}", headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "offset must be a whole number" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/about"])
def test_the_plain_pages(api: Api, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert html.startswith("<!doctype html>")
    assert 'href="/"' in html or path == "/"


def test_the_home_page_links_to_everything(api: Api) -> None:
    html = api.get("/").get_data(as_text=True)
    for path in ["/products", "/about", "/api/products", "/api/hello", "/api/books"]:
        assert f'href="{path}"' in html
        assert api.get(path).status_code == 200
