"""microroute: the Next.js App Router, in Python, over WSGI.

Folders are URLs, a `route.py` is an API endpoint whose functions are named
after HTTP methods, a `page.py` is an HTML page:

    # app/api/hello/route.py
    from microroute import Response

    def GET():
        return Response.json({"message": "Hi!"})

    # demo_app/__init__.py
    from pathlib import Path
    from microroute import App

    app = App(Path(__file__).parent / "app")   # gunicorn demo_app:app
"""

from .app import App
from .errors import HTTPError, RouteError
from .request import Request
from .response import Response

__version__ = "0.1.0"

__all__ = ["App", "HTTPError", "Request", "Response", "RouteError", "__version__"]
