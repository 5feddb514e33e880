"""The demo: a small product catalogue served by microroute.

    gunicorn demo_app:app

`app` is a plain WSGI callable built from the route tree in `app/`: every
folder there is a URL, every `route.py` an API, every `page.py` a page.
"""

from pathlib import Path

from microroute import App

app = App(Path(__file__).parent / "app")
