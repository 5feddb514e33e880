"""/api/products : the product list (GET) and adding a product (POST)."""

from microroute import Response

from .._lib.products import fields_of, page_of, store


def GET(request):
    """Oldest first (`?order=newest`: newest first); `?q=` filters by name,
    `?limit=` and `?offset=` page."""
    return Response.json(store().list_products(**page_of(request)))


def POST(request):
    """`{"name": "Monitor", "price": 14999}` -> 201, with the new product's URL."""
    product = store().create(**fields_of(request))
    return Response.json(
        {"created": product}, status=201, headers={"Location": f"/api/products/{product['id']}"}
    )
