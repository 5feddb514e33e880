"""GET / : the home page, linking to everything the demo serves (inside `app/layout.py`)."""

LINKS = [
    ("/products", "Products", "a page that lists and adds products through the API"),
    ("/about", "About", "a plain page"),
    ("/api/products", "/api/products", "the product list, as JSON"),
    ("/api/products/1", "/api/products/1", "one product, as JSON"),
    ("/api/hello", "/api/hello", "the smallest API"),
    ("/api/books", "/api/books", "three books, as JSON"),
]


def Page() -> str:
    items = "\n".join(
        f'  <li><a href="{href}">{label}</a>: {what}</li>' for href, label, what in LINKS
    )
    return f"""<h1>microroute demo</h1>
<p>Every link below is a folder in <code>demo_app/app/</code>.</p>
<ul>
{items}
</ul>"""
