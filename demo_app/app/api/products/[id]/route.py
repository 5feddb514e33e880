"""/api/products/[id] : one product. GET reads, PUT replaces, PATCH changes
some fields, DELETE removes (with the admin token, when one is set)."""

from microroute import Response

from ..._lib.products import (
    fields_of,
    not_found,
    product_id,
    require_admin,
    store,
    store_errors_as_503,
)


@store_errors_as_503
def GET(request, params):
    identifier = product_id(params)
    product = store().get(identifier)
    if product is None:
        raise not_found(identifier)
    return Response.json(product)


@store_errors_as_503
def PUT(request, params):
    identifier = product_id(params)
    product = store().replace(identifier, **fields_of(request))
    if product is None:
        raise not_found(identifier)
    return Response.json(product)


@store_errors_as_503
def PATCH(request, params):
    identifier = product_id(params)
    product = store().update(identifier, **fields_of(request, partial=True))
    if product is None:
        raise not_found(identifier)
    return Response.json(product)


@store_errors_as_503
def DELETE(request, params):
    require_admin(request)
    identifier = product_id(params)
    if not store().delete(identifier):
        raise not_found(identifier)
    return Response(status=204)
