// The /products page's script (demo_app/app/products/page.py), served from
// demo_app/public/ as /products.js. It adds a product through the API with
// fetch and redraws the list without a reload, showing the API's own message
// when the input is refused. (A file, not an inline <script>: the demo's
// Content-Security-Policy, set in app/proxy.py, runs scripts from the site only.)
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
