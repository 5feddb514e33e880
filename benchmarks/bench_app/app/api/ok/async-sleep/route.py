"""GET /api/ok/async-sleep: `async def` that gives the loop one turn (`sleep(0)`)."""

import asyncio

from microroute import Response


async def GET():
    await asyncio.sleep(0)
    return Response.json({"ok": 1})
