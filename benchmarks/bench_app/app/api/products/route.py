"""GET /api/products and POST /api/products, as in every peer of the benchmark."""

from microroute import Response

PRODUCTS = [{"id": 1, "name": "Keyboard", "price": 999}, {"id": 2, "name": "Mouse", "price": 499}]


def GET():
    return Response.json(PRODUCTS)


def POST(request):
    return Response.json({"created": request.json()}, status=201)
