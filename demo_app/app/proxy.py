"""Runs around every request: security headers on every answer, and CORS for the API.

`proxy(request, handle)` gets the request first; `handle(request)` runs the
rest (public files, routing, the handler, the framework's own 404 or 405)
and returns its `Response`, to which headers are added on the way out.

**Calling the API from another origin.** A browser lets a page from another
origin (a front end on `http://localhost:5173`, say) read `/api/...` answers
only if they say so in `Access-Control-Allow-Origin`. Add that origin to
`ALLOWED_ORIGINS`: its preflight (`OPTIONS` with `Access-Control-Request-Method`)
is answered here, and every `/api` answer, errors included, names it.
"""

from collections.abc import Callable

from microroute import Request, Response

ALLOWED_ORIGINS = {"http://localhost:5173", "http://127.0.0.1:5173"}

SECURITY_HEADERS = {
    # Scripts, styles and requests only from this site: an injected inline
    # <script> does not run. (So the pages load their script from public/.)
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers older than CSP 2
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

CORS_PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",  # seconds a browser may keep this answer
}


def proxy(request: Request, handle: Callable[[Request], Response]) -> Response:
    api = request.path == "/api" or request.path.startswith("/api/")
    origin = request.headers.get("Origin")
    if api and request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response = Response("", status=204)  # the preflight: answered here
        if origin in ALLOWED_ORIGINS:
            response.headers.update(CORS_PREFLIGHT)
    else:
        response = handle(request)
    if api:
        if origin in ALLOWED_ORIGINS:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = "Location, Retry-After"
        response.headers.add("Vary", "Origin")  # the answer depends on who asks
    for name, value in SECURITY_HEADERS.items():
        if name not in response.headers:  # a handler's own choice stands
            response.headers[name] = value
    return response
