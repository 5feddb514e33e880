"""GET /api/books : a fixed list, as JSON."""

from microroute import Response

BOOKS = [
    {"id": 1, "title": "The Pragmatic Programmer", "author": "Andy Hunt and Dave Thomas"},
    {"id": 2, "title": "Structure and Interpretation of Computer Programs",
     "author": "Harold Abelson and Gerald Jay Sussman"},
    {"id": 3, "title": "A Philosophy of Software Design", "author": "John Ousterhout"},
]


def GET() -> Response:
    return Response.json(BOOKS)
