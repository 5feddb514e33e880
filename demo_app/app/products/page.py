"""GET /products : the lesson's homework. The list is rendered on the server
(readable without JavaScript); a small script adds products through the API
with `fetch` and redraws the list without a reload, showing the API's own
validation message when the input is refused."""

from html import escape

from ..api._lib.products import MAX_LIMIT, store, store_errors_as_http_errors

SCRIPT = """
const form = document.querySelector("#add");
const message = document.querySelector("#message");
const list = document.querySelector("#products");

function price(cents) {
  return (cents / 100).toFixed(2);
}

async function refresh() {
  const response = await fetch(`/api/products?limit=${list.dataset.limit}`);
  const products = await response.json();
  list.replaceChildren(...products.map((product) => {
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
    await refresh();
  } else {
    const problem = await response.json();
    message.textContent = problem.error;
  }
});
"""


@store_errors_as_http_errors
def Page():
    products = store().list_products(limit=MAX_LIMIT)
    items = "\n".join(
        f"    <li>{escape(product['name'])}: {product['price'] / 100:.2f}</li>"
        for product in products
    )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Products</title></head>
<body>
  <h1>Products</h1>
  <ul id="products" data-limit="{MAX_LIMIT}">
{items}
  </ul>
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
