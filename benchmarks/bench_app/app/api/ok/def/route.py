"""GET /api/ok/def: the plain handler that the async rows of bench_inprocess.py are held to."""

from microroute import Response


def GET():
    return Response.json({"ok": 1})
