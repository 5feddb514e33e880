"""GET /api/hello : the smallest API there is."""

from microroute import Response


def GET() -> Response:
    return Response.json({"message": "Hi!"})
