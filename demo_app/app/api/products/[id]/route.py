"""/api/products/[id] : one product. GET reads, PUT replaces, PATCH changes
some fields, DELETE removes. When an admin token is set, every write to an
existing product (PUT, PATCH, DELETE) needs it; reading never does.

`params` holds this folder's one parameter: `{"id": "42"}` for /api/products/42.
"""

from demo_app.checks import fields_of, found, product_id, require_admin
from demo_app.store import default_store
from microroute import Request, Response


def GET(request: Request, params: dict[str, str]) -> Response:
    identifier = product_id(params)
    return Response.json(found(default_store().get(identifier), identifier))


def PUT(request: Request, params: dict[str, str]) -> Response:
    require_admin(request)
    identifier = product_id(params)
    product = default_store().replace(identifier, **fields_of(request))
    return Response.json(found(product, identifier))


def PATCH(request: Request, params: dict[str, str]) -> Response:
    require_admin(request)
    identifier = product_id(params)
    product = default_store().update(identifier, **fields_of(request, partial=True))
    return Response.json(found(product, identifier))


def DELETE(request: Request, params: dict[str, str]) -> Response:
    require_admin(request)
    identifier = product_id(params)
    found(default_store().delete(identifier), identifier)
    return Response(status=204)
