"""The same five endpoints in raw WSGI, microroute, Falcon, Bottle and Flask
(and, for `bench_http.py` under uvicorn, in Starlette and FastAPI).

    GET  /api/products      the two products, as JSON
    POST /api/products      201 {"created": <the JSON body>}
    GET  /api/products/42   one product, from a dynamic segment
    GET  /about             a small HTML page
    GET  /nope              404 {"error": "Not Found"}: raw, microroute, Bottle
                            and Flask (through their 404 error handlers);
                            Falcon's default 404 is already a small JSON body

Each app is written the way that framework's documentation writes it, and
`check()` proves they all answer alike before anything is timed. Raw WSGI is
the floor: the least a correct app can do. A peer that is not installed is
None (`pip install -e '.[bench]'` installs them). The apps are module
attributes, built on first use, so gunicorn can serve them too, each worker
importing only its own framework: `gunicorn peers:falcon`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PRODUCTS = [{"id": 1, "name": "Keyboard", "price": 999}, {"id": 2, "name": "Mouse", "price": 499}]
ABOUT = "<!doctype html><title>About</title><h1>About</h1>"
HERE = Path(__file__).resolve().parent

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def raw(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The floor: dispatch on the path by hand, nothing more than correctness needs."""
    method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
    if path == "/api/products":
        if method == "GET":
            return _json(start_response, "200 OK", PRODUCTS)
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            created = json.loads(environ["wsgi.input"].read(length))
            return _json(start_response, "201 Created", {"created": created})
    elif path.startswith("/api/products/") and method == "GET":
        ident = path[len("/api/products/"):]
        if ident.isdigit():
            return _json(start_response, "200 OK", {"id": int(ident), "name": "Keyboard",
                                                     "price": 999})
    elif path == "/about" and method == "GET":
        body = ABOUT.encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    start_response("404 Not Found", [("Content-Type", "application/json"),
                                     ("Content-Length", str(len(NOT_FOUND)))])
    return [NOT_FOUND]


NOT_FOUND = b'{"error": "Not Found"}'  # a constant: the floor does no work it can avoid


def _json(start_response: Callable[..., Any], status: str, data: Any) -> list[bytes]:
    body = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def _microroute() -> WSGIApp:
    from microroute import App

    return App(HERE / "bench_app" / "app")


def _falcon() -> WSGIApp:
    import falcon

    class Products:
        def on_get(self, request: Any, response: Any) -> None:
            response.media = PRODUCTS

        def on_post(self, request: Any, response: Any) -> None:
            response.media = {"created": request.get_media()}
            response.status = falcon.HTTP_201

    class Product:
        def on_get(self, request: Any, response: Any, ident: int) -> None:
            response.media = {"id": ident, "name": "Keyboard", "price": 999}

    class About:
        def on_get(self, request: Any, response: Any) -> None:
            response.content_type = falcon.MEDIA_HTML
            response.text = ABOUT

    app = falcon.App()
    app.add_route("/api/products", Products())
    app.add_route("/api/products/{ident:int}", Product())
    app.add_route("/about", About())
    return app


def _bottle() -> WSGIApp:
    import bottle

    app = bottle.Bottle()

    @app.get("/api/products")
    def products() -> str:
        bottle.response.content_type = "application/json"
        return json.dumps(PRODUCTS)

    @app.post("/api/products")
    def create() -> dict[str, Any]:
        bottle.response.status = 201
        return {"created": bottle.request.json}

    @app.get("/api/products/<ident:int>")
    def product(ident: int) -> dict[str, Any]:
        return {"id": ident, "name": "Keyboard", "price": 999}

    @app.get("/about")
    def about() -> str:
        return ABOUT

    @app.error(404)
    def not_found(error: Any) -> str:
        bottle.response.content_type = "application/json"
        return json.dumps({"error": "Not Found"})

    return app


def _flask() -> WSGIApp:
    import flask

    app = flask.Flask("peers")

    @app.get("/api/products")
    def products() -> Any:
        return flask.jsonify(PRODUCTS)

    @app.post("/api/products")
    def create() -> Any:
        return {"created": flask.request.get_json()}, 201

    @app.get("/api/products/<int:ident>")
    def product(ident: int) -> Any:
        return {"id": ident, "name": "Keyboard", "price": 999}

    @app.get("/about")
    def about() -> str:
        return ABOUT

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return {"error": "Not Found"}, 404

    return app


# name -> how to build its app; raw WSGI first: it is the floor.
BUILDERS: dict[str, Callable[[], WSGIApp]] = {
    "raw": lambda: raw, "microroute": _microroute, "falcon": _falcon, "bottle": _bottle,
    "flask": _flask,
}


# -- ASGI peers, served by uvicorn in bench_http.py only ---------------------------


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    async def products(request: Request) -> JSONResponse:
        if request.method == "POST":
            return JSONResponse({"created": await request.json()}, status_code=201)
        return JSONResponse(PRODUCTS)

    async def product(request: Request) -> JSONResponse:
        return JSONResponse({"id": request.path_params["ident"], "name": "Keyboard",
                             "price": 999})

    async def about(request: Request) -> HTMLResponse:
        return HTMLResponse(ABOUT)

    async def not_found(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": "Not Found"}, status_code=404)

    return Starlette(routes=[
        Route("/api/products", products, methods=["GET", "POST"]),
        Route("/api/products/{ident:int}", product),
        Route("/about", about),
    ], exception_handlers={404: not_found})


def _fastapi() -> Any:
    from fastapi import Body, FastAPI, Request
    from fastapi.responses import HTMLResponse, JSONResponse
    from starlette.exceptions import HTTPException

    app = FastAPI()

    @app.get("/api/products")
    async def products() -> list[dict[str, Any]]:
        return PRODUCTS

    @app.post("/api/products", status_code=201)
    async def create(product: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        return {"created": product}

    @app.get("/api/products/{ident}")
    async def one(ident: int) -> dict[str, Any]:
        return {"id": ident, "name": "Keyboard", "price": 999}

    @app.get("/about", response_class=HTMLResponse)
    async def about() -> str:
        return ABOUT

    @app.exception_handler(404)
    async def not_found(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse({"error": "Not Found"}, status_code=404)

    return app


# ASGI frameworks, for uvicorn: not in BUILDERS, whose apps are WSGI.
ASGI_BUILDERS: dict[str, Callable[[], Any]] = {"starlette": _starlette, "fastapi": _fastapi}


def build(name: str) -> WSGIApp | None:
    """A new app for the framework `name`, importing it alone; None if it is not installed."""
    try:
        return {**BUILDERS, **ASGI_BUILDERS}[name]()  # type: ignore[no-any-return]
    except ImportError:
        return None


# The apps, and APPS (name -> app, None: not installed, in BUILDERS' order), are
# built on first use (PEP 562 `__getattr__`), then kept. So a process that uses
# one framework imports that one alone: a gunicorn worker serving `peers:flask`
# holds Flask but not Falcon and Bottle, and its RSS is Flask's.
microroute: WSGIApp | None
falcon: WSGIApp | None
bottle: WSGIApp | None
flask: WSGIApp | None
starlette: Any
fastapi: Any
APPS: dict[str, WSGIApp | None]


def __getattr__(name: str) -> Any:
    if name == "APPS":
        value: Any = {peer: getattr(sys.modules[__name__], peer) for peer in BUILDERS}
    elif name in BUILDERS or name in ASGI_BUILDERS:
        value = build(name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


# name -> (method, path, body, expected status, expected JSON or None)
ENDPOINTS: dict[str, tuple[str, str, bytes, int, Any]] = {
    "GET list": ("GET", "/api/products", b"", 200, PRODUCTS),
    "POST create": ("POST", "/api/products", b'{"name": "Cable", "price": 199}', 201,
                    {"created": {"name": "Cable", "price": 199}}),
    "GET item": ("GET", "/api/products/42", b"", 200,
                 {"id": 42, "name": "Keyboard", "price": 999}),
    "GET page": ("GET", "/about", b"", 200, None),
    "404": ("GET", "/nope", b"", 404, None),
}
