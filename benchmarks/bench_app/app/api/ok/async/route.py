"""GET /api/ok/async: the same handler as `async def`, which never waits."""

from microroute import Response


async def GET():
    return Response.json({"ok": 1})
