"""GET /api/products/42: a dynamic segment."""

from microroute import Response


def GET(request, params):
    return Response.json({"id": int(params["id"]), "name": "Keyboard", "price": 999})
