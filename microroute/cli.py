"""The `microroute` command: start a project, look at its route tree, check
it, serve it while you edit.

    microroute new shop                 a project in the new folder shop/, ready to run
    microroute routes demo_app:app      the route table, as the Next.js docs teach it
    microroute check demo_app/app       exit 1 with the RouteError if the tree is broken
    microroute dev demo_app:app         werkzeug's development server, reloading

TARGET is `module:attribute` (an `App`, as gunicorn takes it), a module (its
`app`), or a route folder (see `targets`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence

from . import __version__
from .mistakes import likely_mistakes
from .public import content_type
from .routes import Route
from .targets import load_target


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    >>> main(["check", "demo_app:app"])
    OK: 7 routes in demo_app/app
    0
    """
    arguments = _parser().parse_args(argv)
    if arguments.command == "new":
        from .scaffold import create_project

        return create_project(arguments.name)
    sys.path.insert(0, os.getcwd())  # as gunicorn does: the project is importable
    if arguments.command == "dev":
        from .dev import serve

        return serve(arguments.target, arguments.host, arguments.port)
    try:
        app = load_target(arguments.target)
    except Exception as error:  # the user's code may raise anything: one clean line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    warnings = likely_mistakes(app.app_dir)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if arguments.command == "routes":
        print(route_table([*app.routes, *app.public]))
        return 0
    print(f"OK: {len(app.routes)} routes in {app.app_dir}")
    return 1 if warnings and arguments.strict else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microroute", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"microroute {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new", help="create a project in a new folder, ready to run")
    new.add_argument("name", help="the project's name: a Python module name, such as shop")
    for name, help_text in (
        ("routes", "print the route table in match order"),
        ("check", "load the tree: exit 0 if valid, 1 with the error if not"),
        ("dev", "serve with werkzeug's development server, picking up edits"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("target", help="module:app, a module, or a route folder")
        if name == "check":
            command.add_argument(
                "--strict", action="store_true", help="exit 1 on warnings too (for CI)"
            )
        if name == "dev":
            command.add_argument("--host", default="127.0.0.1")
            command.add_argument("--port", type=int, default=3000)
    return parser


def route_table(routes: Iterable[Route]) -> str:
    """`File | Becomes | Returns`, one row a route, columns aligned.

    app/about/page.py          | A web page at /about    | HTML
    app/api/products/route.py  | An API at /api/products | Response: GET, POST
    public/css/site.css        | A file at /css/site.css | the file: text/css
    """
    rows = [("File", "Becomes", "Returns")]
    for route in routes:
        if route.kind == "page":
            rows.append((route.file, f"A web page at {route.pattern}", "HTML"))
        elif route.kind == "public":
            kind = content_type(route.pattern).partition(";")[0]
            rows.append((route.file, f"A file at {route.pattern}", f"the file: {kind}"))
        else:
            # A route handler returns any Response (JSON, text, a file, a
            # redirect): the table names the handlers, never guesses a format.
            methods = ", ".join(route.methods)
            rows.append((route.file, f"An API at {route.pattern}", f"Response: {methods}"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)
