"""/api/products : the product list (GET) and adding a product (POST)."""

from demo_app.checks import fields_of, page_of
from demo_app.store import default_store
from microroute import Request, Response


def GET(request: Request) -> Response:
    """Oldest first (`?order=newest`: newest first); `?q=` filters by name,
    `?limit=` and `?offset=` page."""
    return Response.json(default_store().list_products(**page_of(request)))


def POST(request: Request) -> Response:
    """`{"name": "Monitor", "price": 14999}` -> 201, with the new product's URL."""
    product = default_store().create(**fields_of(request))
    return Response.json(
        {"created": product}, status=201, headers={"Location": f"/api/products/{product['id']}"}
    )
