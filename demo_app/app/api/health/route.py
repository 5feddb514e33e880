"""GET /api/health: is everything this site needs answering? An `async def`
handler to copy: its checks run together, each within a time limit, so the
answer takes as long as the slowest check, not the sum of them.

    {"ok": true, "checks": {"database": "ok", "disk": "ok"}}     200
    {"ok": false, "checks": {"database": "timed out", ...}}     503

The store and the disk are plain (blocking) calls: `asyncio.to_thread` runs
each in a thread of the worker's event loop, which is kept across requests
(an async client, `httpx.AsyncClient`, would be awaited the same way).
"""

import asyncio
import logging
import os
import shutil
from collections.abc import Callable

from demo_app.store import default_store
from microroute import Response

LIMIT = 2.0  # seconds a check may take
MIN_FREE_DISK = 10 * 1024 * 1024  # bytes: less, and writes will soon fail (a 507)


def database() -> str:
    default_store().list_products(limit=1)
    return "ok"


def disk() -> str:
    free = shutil.disk_usage(os.getcwd()).free
    return "ok" if free >= MIN_FREE_DISK else f"only {free} bytes free"


async def check(name: str, blocking_check: Callable[[], str]) -> str:
    try:
        return await asyncio.wait_for(asyncio.to_thread(blocking_check), LIMIT)
    except asyncio.TimeoutError:
        return "timed out"
    except Exception:  # a check that fails is a finding, not a 500; why is for the log
        logging.getLogger(__name__).exception("health check %s failed", name)
        return "failed"


CHECKS = {"database": database, "disk": disk}


async def GET() -> Response:
    results = await asyncio.gather(*(check(name, each) for name, each in CHECKS.items()))
    checks = dict(zip(CHECKS, results, strict=True))
    ok = all(result == "ok" for result in results)
    return Response.json({"ok": ok, "checks": checks}, status=200 if ok else 503)
