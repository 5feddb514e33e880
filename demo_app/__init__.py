"""The demo: a small product catalogue served by microroute.

    gunicorn demo_app:app

`app` is a plain WSGI callable built from the route tree in `app/`: every
folder there is a URL, every `route.py` an API, every `page.py` a page. The
modules beside `app/` are what its routes and pages share: `checks.py` reads
and checks what a request asks for; `store.py` (SQLite) and `postgres_store.py`
keep the products, and know nothing of HTTP.
"""

from pathlib import Path

from demo_app.store import StoreBusyError, StoreFullError
from microroute import App, HTTPError

app = App(
    Path(__file__).parent / "app",
    # What the store cannot do is an answer, not a 500, for every route and
    # page alike: this is the one place the store's errors become statuses.
    # A database still locked after its busy timeout is a 503 (the client may
    # simply try again); a full database or disk is a 507, since trying again
    # soon will not help until someone makes room.
    errors={
        StoreBusyError: HTTPError(503, "The database is busy; try again shortly.",
                                  {"Retry-After": "1"}),
        StoreFullError: HTTPError(507, "The database is full, so nothing was saved;"
                                       " reading still works."),
    },
)
