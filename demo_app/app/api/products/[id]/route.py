"""/api/products/[id] : one product. GET reads, PUT replaces, PATCH changes
some fields, DELETE removes. When an admin token is set, every write to an
existing product (PUT, PATCH, DELETE) needs it; reading never does."""

from microroute import Response

from ..._lib.products import (
    fields_of,
    found,
    product_id,
    require_admin,
    store,
)


def GET(request, params):
    identifier = product_id(params)
    return Response.json(found(store().get(identifier), identifier))


def PUT(request, params):
    require_admin(request)
    identifier = product_id(params)
    return Response.json(found(store().replace(identifier, **fields_of(request)), identifier))


def PATCH(request, params):
    require_admin(request)
    identifier = product_id(params)
    product = store().update(identifier, **fields_of(request, partial=True))
    return Response.json(found(product, identifier))


def DELETE(request, params):
    require_admin(request)
    identifier = product_id(params)
    found(store().delete(identifier), identifier)
    return Response(status=204)
