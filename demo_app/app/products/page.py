"""GET /products : the lesson's homework. The list is rendered on the server
(readable without JavaScript), newest first, 100 to a page (`?offset=` pages
back); a small script adds products through the API with `fetch` and redraws
the list without a reload, so what was just added shows at the top, or shows
the API's own validation message when the input is refused. The script is a
file of `demo_app/public/` (`/products.js`); the document around the page is
`app/layout.py`'s."""

from html import escape

from demo_app.checks import offset_of
from demo_app.store import default_store
from microroute import Request

# Newest first, so a product just added is always on the first page; a page
# holds fewer than the API's largest `limit`, so that one request for a page
# and one more product tells the script whether older products exist.
PAGE_SIZE = 100


def Page(request: Request) -> str:
    offset = offset_of(request)  # not a whole number: a 400 naming it
    # One more than a page: whether there are older products to link to.
    products = default_store().list_products(limit=PAGE_SIZE + 1, offset=offset, newest_first=True)
    items = "\n".join(
        f"  <li>{escape(product['name'])}: {product['price'] / 100:.2f}</li>"
        for product in products[:PAGE_SIZE]
    )
    newer = (f'<a id="newer" href="/products?offset={max(offset - PAGE_SIZE, 0)}">'
             "Newer products</a>" if offset else "")
    hidden = "" if len(products) > PAGE_SIZE else " hidden"
    return f"""<h1>Products</h1>
<p>Newest first.</p>
<ul id="products" data-size="{PAGE_SIZE}" data-offset="{offset}">
{items}
</ul>
<nav>
  {newer}
  <a id="older" href="/products?offset={offset + PAGE_SIZE}"{hidden}>Older products</a>
</nav>
<h2>Add a product</h2>
<form id="add">
  <label>Name <input name="name" required maxlength="200"></label>
  <label>Price in cents <input name="price" type="number" step="1"></label>
  <button type="submit">Add</button>
</form>
<p id="message" role="alert"></p>
<noscript><p>Adding products needs JavaScript; the list above does not.</p></noscript>
<script src="/products.js" defer></script>"""
