"""The fallback: another WSGI app's answer to a request, as a `Response`.

`App(app_dir, fallback=legacy)` hands every request that no route matches to
`legacy`, the Flask or Django app that microroute is moving into one folder
at a time. Its answer comes back as a `Response` like any other (its
status, its headers, and its body streamed as it makes it), so that what
runs around the routes (a proxy's `handle`) can read and change it too:

    response = answer(legacy, request.environ)   # <Response 200>

What this owns is PEP 3333's side of the exchange: a `start_response` that
may be called late (as the first chunk comes) or twice (with `exc_info`),
the legacy `write()` callable, and closing what the app returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from werkzeug.wsgi import ClosingIterator

from .headers import Headers
from .response import Response, StartResponse

WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def answer(app: WSGIApp, environ: dict[str, Any]) -> Response:
    """Call `app` and return its answer as a `Response`, its body not yet read."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> Callable[[bytes], None]:
        # Nothing reaches the client before this returns, so a second call
        # (an app that failed after starting, with exc_info) simply replaces
        # the first, as PEP 3333 allows while the headers are unsent.
        started[:] = [(status, headers)]
        return written.append

    body: Iterable[bytes] = app(environ, start_response)
    if not started or written:
        # PEP 3333 lets an app call start_response as late as its first
        # chunk, and send chunks through write() before returning: read up to
        # the status, and send what came first ahead of the rest.
        rest = iter(body)
        if not started:
            for chunk in rest:
                written.append(chunk)
                if started:
                    break
        body = ClosingIterator(chain(written, rest), getattr(body, "close", None))
        if not started:
            body.close()
            raise RuntimeError("The fallback app returned without calling start_response.")
    status, headers = started[0]
    # Built directly, as `Response.json` is: the app's headers are kept as
    # they are (no Content-Type is added to a body that has none).
    response = Response.__new__(Response)
    response.status = int(status.split(" ", 1)[0])
    response.headers = Headers(headers)
    response.body = body
    return response
