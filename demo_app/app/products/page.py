"""GET /products : the lesson's homework. The list is rendered on the server
(readable without JavaScript), newest first, 100 to a page (`?offset=` pages
back); a small script adds products through the API with `fetch` and redraws
the list without a reload, so what was just added shows at the top, or shows
the API's own validation message when the input is refused."""

from html import escape

from ..api._lib.products import offset_of, store, store_errors_as_http_errors

# Newest first, so a product just added is always on the first page; a page
# holds fewer than the API's largest `limit`, so that one request for a page
# and one more product tells the script whether older products exist.
PAGE_SIZE = 100

SCRIPT = """
const form = document.querySelector("#add");
const message = document.querySelector("#message");
const list = document.querySelector("#products");
const older = document.querySelector("#older");

function price(cents) {
  return (cents / 100).toFixed(2);
}

async function refresh() {
  const size = Number(list.dataset.size);
  const response = await fetch(`/api/products?order=newest&limit=${size + 1}`);
  const products = await response.json();
  older.hidden = products.length <= size;
  list.replaceChildren(...products.slice(0, size).map((product) => {
    const item = document.createElement("li");
    item.textContent = `${product.name}: ${price(product.price)}`;  // text, never HTML
    return item;
  }));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  // An empty price is NaN, which JSON writes as null: the API says what is wrong.
  const body = {name: form.elements.name.value, price: form.elements.price.valueAsNumber};
  const response = await fetch("/api/products", {
    method: "POST",
    headers: {"Content-Type": "application/json", "Accept": "application/json"},
    body: JSON.stringify(body),
  });
  if (response.status === 201) {
    form.reset();
    if (list.dataset.offset === "0") {
      await refresh();
    } else {
      location.assign("/products");  // the new product is on the first page
    }
  } else {
    const problem = await response.json();
    message.textContent = problem.error;
  }
});
"""


@store_errors_as_http_errors
def Page(request):
    offset = offset_of(request)  # not a whole number: a 400 naming it
    # One more than a page: whether there are older products to link to.
    products = store().list_products(limit=PAGE_SIZE + 1, offset=offset, newest_first=True)
    items = "\n".join(
        f"    <li>{escape(product['name'])}: {product['price'] / 100:.2f}</li>"
        for product in products[:PAGE_SIZE]
    )
    newer = (f'<a id="newer" href="/products?offset={max(offset - PAGE_SIZE, 0)}">'
             "Newer products</a>" if offset else "")
    hidden = "" if len(products) > PAGE_SIZE else " hidden"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Products</title></head>
<body>
  <h1>Products</h1>
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
  <p><a href="/">Home</a></p>
  <script>{SCRIPT}</script>
</body>
</html>
"""
