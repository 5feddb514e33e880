"""`App`: the WSGI callable. One request in, one response out, in five steps.

    app = App(Path(__file__).parent / "app")     # reads the route tree once
    app(environ, start_response)                 # what gunicorn calls

`App.__call__` is the whole life of a request, top to bottom:

1. build the `Request` (lazy: nothing is parsed yet)        request.py
2. find the route for the path, and its params              Router.find, paths.py
3. take the route's handler for the method; without one,
   the framework's own answer (308, fallback, 404/405/501)  App.without_handler
4. call the handler (a page: render it) for its `Response`  App.call, App.render
5. send the response through WSGI                           response.py

Steps 2 to 4 are `App.handle(request) -> Response` (`App.dispatch`, after
the proxy), which a test may call without WSGI; where the tree has a
`proxy.py`, it runs first and may answer by itself. Each step that cannot
go on returns its answer, a `Response`, rather than raising it: the
handler's, the framework's own (308, 404, 405, 501), the fallback app's, and
the one for an error on the way (`App.failed`: an `HTTPError`, or an
exception that `App(errors=...)` maps to one, becomes its status; anything
else a 500 whose traceback goes to the server's log).
The files of `public/` are routes too (see `public.py`): step 2 finds them,
and their GET sends the file.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from types import EllipsisType
from typing import Any

from . import fallback, loops, paths
from .errors import HTTPError, error_response, prefers_html, private, vary_on_accept
from .fallback import WSGIApp
from .loader import load_tree
from .public import check_conflicts, load_public
from .request import Request
from .response import Response, StartResponse
from .router import Router
from .routes import METHODS, Handler, Route

KNOWN_METHODS = frozenset(METHODS)
SERVER_ALLOW = ", ".join(sorted(METHODS))  # the answer to `OPTIONS *`


class App:
    """A WSGI app serving the route tree in `app_dir`.

    `debug=True` shows tracebacks in 500 responses (never in production);
    `max_body_size` bounds request bodies (a 413 above it); `fallback` is
    another WSGI app that gets every request no route matches, which is
    how microroute moves into an existing Flask or Django app one folder
    at a time. `public_dir` is the folder served from the site's root
    (by default `public/` beside `app_dir`; None serves none).

    `errors` maps the app's own exceptions to answers, wherever they are
    raised (a handler, a page, the proxy): an exception of a class it
    names, or of a subclass, is answered as that `HTTPError` would be, with
    nothing logged (`App.answer_for`); any other is a 500, as before.

        App(app_dir, errors={StoreBusyError: HTTPError(503, "Busy; try again.")})
    """

    def __init__(
        self,
        app_dir: str | os.PathLike[str],
        *,
        debug: bool = False,
        max_body_size: int = 1 << 20,
        fallback: WSGIApp | None = None,
        public_dir: str | os.PathLike[str] | EllipsisType | None = ...,
        errors: Mapping[type[Exception], HTTPError] | None = None,
    ) -> None:
        self.app_dir = Path(app_dir)
        self.debug = debug
        self.max_body_size = max_body_size
        self.fallback = fallback
        self.errors = _checked_errors(errors or {})
        tree = load_tree(app_dir)
        self.routes: list[Route] = tree.routes
        if public_dir is ...:
            public_dir = self.app_dir.parent / "public"
        self.public_dir = Path(public_dir) if public_dir is not None else None
        self.public: list[Route] = load_public(public_dir) if public_dir is not None else []
        check_conflicts(self.public, self.routes)
        self.router = Router([*self.routes, *self.public], tree.not_found)
        self.proxy = tree.proxy

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve one request: the WSGI entry point, which gunicorn calls.

            body = app(environ, start_response)   # the bytes to send, after start_response
        """
        # Speed: `max_body_size` by position (a class called with a keyword
        # costs 540 instructions more: GET page, 28,500 -> 29,000) and
        # `handle` written out (a call fewer: a stray 404, 23,500 -> 23,000);
        # benchmarks/README.md, "The dispatch".
        request = Request(environ, self.max_body_size)  # 1. the request
        # 2.-4. its response, whatever happens on the way
        response = self.dispatch(request) if self.proxy is None else self.run_proxy(request)
        try:
            # 5. through WSGI. Speed: a method, not the `__call__` every
            # `Response` also has as a WSGI app (called through the type's slot:
            # 800 instructions more; a stray 404, 22,400 -> 23,200)
            return response.send(environ, start_response)
        except Exception as error:
            # A response HTTP cannot carry (a Content-Length that is not its
            # body's, a status set out of range) is refused before
            # start_response: our 500, logged, instead of the server's.
            return self.failed(error, environ)(environ, start_response)

    def handle(self, request: Request) -> Response:
        """The `Response` to a request, through `proxy.py` where there is one:
        all that serving does but the WSGI exchange, so a test can call it
        without a server (as Flask's `__call__` wraps its `wsgi_app`).

        >>> app.handle(Request(environ))
        <Response 200>
        """
        if self.proxy is not None:
            return self.run_proxy(request)
        return self.dispatch(request)

    def dispatch(self, request: Request) -> Response:
        """Everything after the proxy: steps 2 to 4. Each step that cannot go
        on answers with a `Response` of its own (a 308, 404, 405 or 501, or
        the fallback's), returned; an exception on the way becomes one too
        (`failed`: an `HTTPError`'s status, or a 500).

            app.dispatch(Request(environ))   # as `handle`, without the proxy: <Response 200>
        """
        environ = request.environ
        try:
            if request.method == "OPTIONS" and paths.is_asterisk(environ):
                # `OPTIONS *` asks about the server as a whole, not a path (RFC
                # 9110 §9.3.7): every method the framework routes.
                return Response(b"", 204, {"Allow": SERVER_ALLOW})
            try:
                route, params, segments = self.router.find(environ)  # 2. the route, its params
            except HTTPError:
                # A path we cannot decode (`%ZZ`, bytes that are not UTF-8):
                # a 400, unless it is the fallback's to judge (`without_handler`).
                if self.fallback is None:
                    raise
                route, segments = None, None
            if route is None:
                return self.without_handler(request, None, segments)
            # 3. the handler for the method; without one, the framework's own answer
            handler = route.handlers.get(request.method)
            if handler is None:
                return self.without_handler(request, route, segments)
            request.params = params
            if environ.get("CONTENT_LENGTH"):
                # A declared body is read before the handler runs: one larger than
                # max_body_size is refused from its Content-Length alone (a 413,
                # nothing read), and a client gone mid-upload is a 400, not a
                # handler run on half a body.
                request.body()
            if route.kind == "page":  # 4. what the handler answers
                return self.render(handler, request, 200)
            return self.call(handler, request)
        except Exception as error:
            return self.failed(error, environ)

    def without_handler(
        self, request: Request, route: Route | None, segments: list[str] | None
    ) -> Response:
        """The answer where no handler serves the request, decided here and
        nowhere else. `route`: the route for the path, which has no handler
        for the method; or None, no route serves the path (`segments`, as
        `Router.find` decoded them).

        In this order: a path with a stray slash (`/about/`, `/api//products`)
        is sent with a 308 to the path it meant (under a fallback, only where
        a route serves that path); a path no route serves is the fallback's,
        where there is one; a method HTTP does not know is a 501 on any path
        (methods are case-sensitive: "get" is as unknown as "FOO"); a route
        without the method is a 405 (its handlers already include HEAD, as
        GET's, and OPTIONS, a 204 with `Allow`, where its file defines none);
        and no route is a 404: for a browser, the nearest `not_found.py` page
        where there is one.

            app.without_handler(request, route, None)   # DELETE on a GET-only route: a 405
            app.without_handler(request, None, ["nope"])  # no route: a 404
        """
        environ, method = request.environ, request.method
        if route is None:
            if self.fallback is not None:
                # Not ours unless a route serves the path read loosely (SPEC
                # §7): then a path we cannot decode is a 400 (`paths.split`
                # raises), and one with a stray slash is sent where it belongs.
                if self.router.match(paths.split_loosely(environ)) is None:
                    return fallback.answer(self.fallback, environ)
                paths.split(environ)
                return Response.redirect(paths.normalized(environ), 308)
            if segments is not None and "" in segments:
                return Response.redirect(paths.normalized(environ), 308)
        if method not in KNOWN_METHODS:
            return error_response(environ, 501, f"Method {method} is not implemented.")
        if route is not None:
            allow = {"Allow": route.allow}
            return error_response(environ, 405, f"Method {method} is not allowed here.", allow)
        page = None
        if segments is not None and self.router.has_not_found_pages and prefers_html(environ):
            page = self.router.not_found(segments)
        if page is None:
            return error_response(environ, 404, "Not Found")
        if environ.get("CONTENT_LENGTH"):
            request.body()  # as for a route's handler: see `dispatch`
        return vary_on_accept(self.render(page, request, 404))  # the JSON 404 otherwise

    def run_proxy(self, request: Request) -> Response:
        """proxy.py's `proxy`, for the paths its `config` matcher names (all
        of them without one), then the rest:

        `proxy(request)` answers with a `Response` before routing (auth,
        redirects, maintenance), or lets the request go on with None.
        `proxy(request, handle)` is given `handle` (`App.after_proxy`: all
        that comes after it) and returns the `Response` that `handle(request)`
        gave it, changed (CORS, security headers, timing) or replaced. An
        `async def proxy` awaits its `handle` (`App.after_async_proxy`).

            app.run_proxy(request)   # the proxy's own Response, or the route's, changed
        """
        proxy = self.proxy
        assert proxy is not None
        try:
            if not proxy.runs_for(request.environ):
                return self.dispatch(request)
            handle = self.after_async_proxy if proxy.handler.is_async else self.after_proxy
            result = _invoke(proxy.handler, request, handle)
            if isinstance(result, Response):
                return result
            wraps = proxy.handler.arity == 2
            if result is None and not wraps:
                return self.dispatch(request)
            expected = "handle(request)'s Response or its own" if wraps else "a Response or None"
            raise TypeError(
                f"{proxy.handler.file}: proxy() returned {type(result).__name__}, "
                f"expected {expected}."
            )
        except Exception as error:
            return self.failed(error, request.environ)

    def after_proxy(self, request: Request) -> Response:
        """A proxy's `handle`: `dispatch`, with an answer that is the proxy's
        to change (never one the framework shares between requests).

            def proxy(request, handle):         # app/proxy.py
                response = handle(request)      # after_proxy: the route's answer
                response.headers["X-Frame-Options"] = "DENY"
                return response
        """
        return private(self.dispatch(request))

    async def after_async_proxy(self, request: Request) -> Response:
        """An `async def proxy`'s `handle`: `after_proxy`, to await.

        The rest is the framework's plain code, so it runs in a helper
        thread while the proxy's loop goes on serving; each `async def` it
        meets (a handler, a page) comes back to run on the proxy's loop, where
        the proxy's clients and locks live (`loops.to_thread`). One dispatch,
        run either way, rather than a second, asynchronous copy of it.

            async def proxy(request, handle):       # app/proxy.py
                response = await handle(request)    # after_async_proxy
        """
        return await loops.to_thread(self.after_proxy, request)

    def call(self, handler: Handler, request: Request) -> Response:
        """Call a route's handler the way its signature asks, and check what it returns.

            app.call(route.handlers["GET"], request)   # GET(), GET(request) or GET(request, params)
        """
        result = _invoke(handler, request, request.params)
        if isinstance(result, Response):
            return result
        raise TypeError(
            f"{handler.file}: {handler.name}() returned {type(result).__name__}, "
            "expected a Response (for JSON: return Response.json(...))."
        )

    def render(self, page: Handler, request: Request, status: int) -> Response:
        """A `Page` (`status` 200) or a `NotFound` (404): its HTML inside its
        layouts, the innermost wrapping it first (or the `Response` it
        returns, as it is).

        For a browser, what fails on the way is answered by the nearest
        `error.py` above what failed, and a page's `raise HTTPError(404)` by
        the nearest `not_found.py`, as an unmatched path is.

            app.render(route.handlers["GET"], request, 200)   # <Response 200>, text/html
        """
        failing = page
        try:
            html = _invoke(page, request, request.params)
            if isinstance(html, Response):
                return html
            if not isinstance(html, str):
                raise _not_html(html, page)
            # As `in_layouts`, knowing which layout fails: its error page is
            # above its own folder.
            for failing in reversed(page.layouts):
                html = _invoke(failing, html, request)
                if not isinstance(html, str):
                    raise _not_html(html, failing)
            return Response.html(html, status)
        except Exception as error:
            answer = self.answer_for(error)
            if answer is None:  # a failure: the error page's, for a browser
                if failing.error is None or not prefers_html(request.environ):
                    raise
                return self.error_page(failing.error, request)
            # A Page's 404 is, for a browser, the nearest not_found.py's; a
            # NotFound that raises its own is not rendered again.
            if answer.status != 404 or status == 404 or not prefers_html(request.environ):
                raise  # the HTTPError's own answer (`App.failed`)
            not_found = self.router.not_found(paths.split(request.environ))
            if not_found is None:
                raise
            return vary_on_accept(self.render(not_found, request, 404))  # chosen by Accept

    def error_page(self, page: Handler, request: Request) -> Response:
        """The nearest error.py's `Error(error, request)` for the exception
        being handled: its HTML inside its layouts, with status 500. The
        traceback goes to the log (and, with `debug=True`, below the HTML);
        if the `Error` page fails too, the framework's own 500 is sent.

            except Exception:
                return self.error_page(page.error, request)   # <Response 500>, HTML
        """
        error = sys.exc_info()[1]
        logged = self.log_crash(request.environ)
        try:
            html = _invoke(page, error, request)
            if isinstance(html, Response):
                return vary_on_accept(html)  # a browser's answer: chosen by Accept
            if not isinstance(html, str):
                raise _not_html(html, page)
            if self.debug:
                html += f"<pre>{escape(logged)}</pre>"
            html = self.in_layouts(html, page, request)
            return vary_on_accept(Response.html(html, 500))  # chosen by Accept
        except Exception:
            return self.crash(request.environ)

    def in_layouts(self, html: str, page: Handler, request: Request) -> str:
        """A page's HTML inside its layouts: the innermost wraps it first.

            app.in_layouts("<h1>About</h1>", page, request)   # "<!doctype html>...<h1>About..."
        """
        for layout in reversed(page.layouts):
            html = _invoke(layout, html, request)
            if not isinstance(html, str):
                raise _not_html(html, layout)
        return html

    def failed(self, error: Exception, environ: dict[str, Any]) -> Response:
        """The answer for an exception on the way: an `HTTPError`'s status
        (or that of the one `errors=` names for it), else a 500 (called while
        it is being handled, for its traceback).

            app.failed(HTTPError(404, "No product 7"), environ)   # <Response 404>
            app.failed(KeyError("id"), environ)                   # <Response 500>, logged
        """
        answer = self.answer_for(error)
        if answer is None:
            return self.crash(environ)
        return self.error(environ, answer)

    def answer_for(self, error: Exception) -> HTTPError | None:
        """The `HTTPError` an exception is answered with: itself, if it is one;
        else the one `App(errors=...)` names for its class or the nearest of
        its base classes (as Flask's and Starlette's handlers are looked up);
        None for a failure, which is a 500.

        >>> app = App(app_dir, errors={OSError: HTTPError(503)})
        >>> app.answer_for(TimeoutError()).status   # a subclass of OSError
        503
        >>> app.answer_for(KeyError()) is None
        True
        """
        if isinstance(error, HTTPError):
            return error
        for kind in type(error).__mro__:
            if kind in self.errors:
                return self.errors[kind]
        return None

    def error(self, environ: dict[str, Any], error: HTTPError) -> Response:
        """The response for an `HTTPError`: a redirect, or an error body.

            app.error(environ, HTTPError(404, "No product 7"))   # 404 {"error": "No product 7"}
        """
        try:
            if 300 <= error.status < 400:
                return Response("", error.status, error.headers)
            return error_response(
                environ, error.status, error.message, error.headers, details=error.details
            )
        except Exception:  # say, headers a handler gave its HTTPError that HTTP cannot carry
            return self.crash(environ)

    def crash(self, environ: dict[str, Any]) -> Response:
        """A 500: the traceback goes to the server's log, never to the client
        unless `debug=True`.

            except Exception:
                return self.crash(environ)   # 500 {"error": "Internal Server Error"}
        """
        logged = self.log_crash(environ)
        return error_response(
            environ, 500, "Internal Server Error", traceback=logged if self.debug else None
        )

    def log_crash(self, environ: dict[str, Any]) -> str:
        """Write the traceback of the exception being handled to the server's
        log (`wsgi.errors`), naming the request; return it.

            except Exception:
                logged = self.log_crash(environ)   # "Traceback (most recent call last): ..."
        """
        logged = traceback.format_exc()
        log = environ.get("wsgi.errors") or sys.stderr
        # The method and path are the client's: quoted, so they cannot forge log lines.
        log.write(f"microroute: error in {environ.get('REQUEST_METHOD')!r} "
                  f"{environ.get('PATH_INFO')!r}\n{logged}")
        log.flush()
        return logged


def _not_html(returned: object, handler: Handler) -> TypeError:
    """The error for a page, layout or error page that returned something else than HTML."""
    expected = "a str" if handler.name == "Layout" else "a Response or a str"
    return TypeError(
        f"{handler.file}: {handler.name}() returned {type(returned).__name__}, "
        f"expected {expected}."
    )


def _checked_errors(
    errors: Mapping[type[Exception], HTTPError],
) -> dict[type[Exception], HTTPError]:
    """`App(errors=...)`, refused at start-up unless it maps exception classes
    to `HTTPError`s (a bare status, `{KeyError: 404}`, would otherwise fail
    only when the exception first happens)."""
    for kind, answer in errors.items():
        if not (isinstance(kind, type) and issubclass(kind, Exception)):
            raise TypeError(f"App(errors=...): {kind!r} is not an exception class.")
        if not isinstance(answer, HTTPError):
            raise TypeError(
                f"App(errors=...): {kind.__name__} maps to {answer!r}, not an HTTPError"
                f" (say, {kind.__name__}: HTTPError(503, 'Try again shortly.'))."
            )
    return dict(errors)


def _invoke(handler: Handler, *arguments: Any) -> Any:
    """Call a user's function with as many of `arguments` as it takes (counted
    once, at load time), and run it to completion if it is `async def`, on
    this thread's event loop (loops.py)."""
    result = handler.function(*arguments[: handler.arity])
    return loops.run(result) if handler.is_async else result
