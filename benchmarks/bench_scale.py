"""Does a request cost more when the app has 10,000 routes? And what does start-up cost?

    python benchmarks/bench_scale.py                    # the defaults below
    python benchmarks/bench_scale.py --rounds 5 --json scale.json

Method
------
* Routing at scale. A route tree of `--routes` route files (10,000) is
  generated in a temporary folder, half static and half dynamic:

      s/r0000/route.py ... s/r4999/route.py                      GET /s/r4999
      d0000/[n]/items/[id]/route.py ... d4999/[n]/items/[id]/... GET /d4999/7/items/42

  and beside it a 4-route tree holding only the first and the last route of
  each kind. The same two URLs, the last static and the last dynamic route
  (the worst case for a router that tries routes one by one), are timed in
  both trees; the ratio big/small says how the cost of a request grows with
  the size of the app (1.0: not at all). Names are zero-padded so that "last"
  is last in every order: numeric, alphabetical and the order of creation.
* The same comparison for Falcon and Bottle, where installed, with
  `--peer-routes` routes (2,000) built in code against the same 4 routes.
* Start-up. `App()` over a tree of `--startup-files` route files (1,000),
  against importing the same files plainly, with `importlib` from their
  paths, under fresh module names each time (so nothing comes from
  `sys.modules`). One untimed pass first writes the bytecode caches (even
  under PYTHONDONTWRITEBYTECODE), so both sides then read the same `.pyc`
  files, as a deployed app's second start does; microroute's own caches
  (the folder names it has parsed) are emptied before every `App()`, as a
  fresh process has them. The two take turns going first. The difference
  is what microroute adds to the
  imports: walking the folders, checking the rules, reading the handlers,
  building the router.
* Timing as in `bench_inprocess.py`: every call gets a fresh copy of a PEP
  3333 environ, the body is consumed and closed, `perf_counter_ns` around a
  batch with the garbage collector off, the two sides of each comparison
  interleaved round by round and the medians reported (of µs/request, and of
  each round's ratio). Every app's answers are checked before timing.

microroute is skipped with a note while it cannot be imported; the peers run.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import io
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `python benchmarks/bench_scale.py` from a checkout
    sys.path.insert(0, str(HERE.parent))

import bench_inprocess  # noqa: E402 (its folder is on the path: this script's own)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

STATIC_FILE = """from microroute import Response


def GET():
    return Response.json({{"route": "{name}", "params": {{}}}})
"""
DYNAMIC_FILE = """from microroute import Response


def GET(request, params):
    return Response.json({{"route": "{name}", "params": params}})
"""


# --- The routes, and the requests that reach the last ones --------------------


def static_name(n: int) -> str:
    return f"s/r{n:04d}"


def dynamic_name(n: int) -> str:
    return f"d{n:04d}"


@dataclass(frozen=True)
class Probe:
    """A request to the last route of one kind, and the answer it must get."""

    label: str
    path: str
    expected: dict[str, Any]


def probes(count: int) -> list[Probe]:
    """The last static and the last dynamic of `count` routes of each kind."""
    last = count - 1
    return [
        Probe("last static", f"/{static_name(last)}", {"route": static_name(last), "params": {}}),
        Probe(
            "last dynamic",
            f"/{dynamic_name(last)}/7/items/42",
            {"route": dynamic_name(last), "params": {"n": "7", "id": "42"}},
        ),
    ]


def indices(count: int, small: bool) -> list[int]:
    """Which routes of each kind a tree has: all of them, or the first and the last."""
    return [0, count - 1] if small else list(range(count))


def write_tree(root: Path, count: int, small: bool = False) -> Path:
    """A microroute tree with `count` static and `count` dynamic routes (or 2 + 2)."""
    app_dir = root / "app"
    for n in indices(count, small):
        folder = app_dir / static_name(n)
        folder.mkdir(parents=True)
        (folder / "route.py").write_text(STATIC_FILE.format(name=static_name(n)))
        folder = app_dir / dynamic_name(n) / "[n]" / "items" / "[id]"
        folder.mkdir(parents=True)
        (folder / "route.py").write_text(DYNAMIC_FILE.format(name=dynamic_name(n)))
    return app_dir


def build_falcon(count: int, small: bool) -> WSGIApp:
    import falcon

    class Static:
        def __init__(self, name: str) -> None:
            self.name = name

        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.media = {"route": self.name, "params": {}}

    class Dynamic(Static):
        def on_get(self, req: falcon.Request, resp: falcon.Response, **params: str) -> None:
            resp.media = {"route": self.name, "params": params}

    app = falcon.App()
    for n in indices(count, small):
        app.add_route(f"/{static_name(n)}", Static(static_name(n)))
        app.add_route(f"/{dynamic_name(n)}/{{n}}/items/{{id}}", Dynamic(dynamic_name(n)))
    return app


def build_bottle(count: int, small: bool) -> WSGIApp:
    import bottle

    def static(name: str) -> Callable[[], dict[str, Any]]:
        return lambda: {"route": name, "params": {}}

    def dynamic(name: str) -> Callable[..., dict[str, Any]]:
        return lambda **params: {"route": name, "params": params}

    app = bottle.Bottle()
    for n in indices(count, small):
        app.route(f"/{static_name(n)}", "GET", static(static_name(n)))
        app.route(f"/{dynamic_name(n)}/<n>/items/<id>", "GET", dynamic(dynamic_name(n)))
    return app


# --- Calling and timing (as in bench_inprocess.py) ---------------------------


def environ_template(path: str) -> dict[str, Any]:
    """A complete PEP 3333 environ for GET `path`."""
    return {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
    return None  # the apps here never call write()


def answer(app: WSGIApp, path: str) -> tuple[str, Any]:
    """The status line and the parsed JSON body of GET `path`."""
    status: list[str] = []
    environ = environ_template(path)
    result = app(environ, lambda line, headers, exc_info=None: status.append(line))
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return status[0], json.loads(body)


def check(name: str, app: WSGIApp, probe: Probe) -> None:
    status, document = answer(app, probe.path)
    if not status.startswith("200") or document != probe.expected:
        raise SystemExit(
            f"{name}: GET {probe.path} answered {status} {document!r}, "
            f"expected 200 {probe.expected!r}; nothing was timed."
        )


def time_batch(app: WSGIApp, template: dict[str, Any], number: int) -> float:
    """Microseconds per request over `number` calls, as `bench_inprocess` times them."""
    return bench_inprocess.time_batch(app, template, b"", number)


def compare(
    name: str, small: WSGIApp, big: WSGIApp, routes: int, count: int, rounds: int, number: int
) -> list[dict[str, Any]]:
    """The last routes timed in the small and the big app, interleaved round by round."""
    rows = []
    for probe in probes(count):
        check(f"{name} (4 routes)", small, probe)
        check(f"{name} ({routes} routes)", big, probe)
        template = environ_template(probe.path)
        for app in (small, big):  # warm-up: lazily compiled routers, caches
            time_batch(app, template, max(number // 10, 50))
        small_us, big_us = [], []
        for round_number in range(rounds):
            pair = [(small, small_us), (big, big_us)]
            for app, timings in pair if round_number % 2 == 0 else pair[::-1]:
                timings.append(time_batch(app, template, number))
        ratios = [b / s for s, b in zip(small_us, big_us, strict=True)]
        rows.append(
            {
                "framework": name,
                "routes": routes,
                "probe": probe.label,
                "path": probe.path,
                "small_us": statistics.median(small_us),
                "big_us": statistics.median(big_us),
                "ratio": statistics.median(ratios),
            }
        )
        print(f"  {name}: {probe.label} done", file=sys.stderr)
    return rows


# --- Start-up ----------------------------------------------------------------


def import_plainly(files: list[Path], run: int) -> None:
    """Import every file as its own module, under names never used before."""
    for number, path in enumerate(files):
        spec = importlib.util.spec_from_file_location(f"_plain_{run}_{number}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


def seconds(action: Callable[[], object]) -> float:
    gc.collect()  # start from the same heap; the collector stays on, as at a real start-up
    start = time.perf_counter_ns()
    action()
    return (time.perf_counter_ns() - start) / 1e9


def cold_caches() -> None:
    """Empty microroute's own caches (folder names parsed, ...), which a
    real start-up begins without: only the runs before it would fill them."""
    for name, module in list(sys.modules.items()):
        if name == "microroute" or name.startswith("microroute."):
            for value in vars(module).values():
                if hasattr(value, "cache_clear"):
                    value.cache_clear()


def startup(app_class: Any, root: Path, files: int, repeats: int) -> dict[str, Any]:
    """`App()` over `files` route files against importing them plainly, interleaved."""
    app_dir = write_tree(root, files // 2)
    route_files = sorted(app_dir.rglob("route.py"))
    # Untimed: write the bytecode caches (even under PYTHONDONTWRITEBYTECODE),
    # so that both sides then read the same .pyc files, as a deployed app does.
    dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        app_class(app_dir)
        import_plainly(route_files, run=0)
    finally:
        sys.dont_write_bytecode = dont_write_bytecode
    app_times, import_times, package_times = [], [], []
    for run in range(1, repeats + 1):
        # The two sides take turns going first, so neither always follows the
        # other's leftovers (the slow package imports run last, by themselves).
        sides = [
            (app_times, cold_caches, lambda: app_class(app_dir)),
            (import_times, lambda: None, lambda run=run: import_plainly(route_files, run)),
        ]
        for times, prepare, action in sides if run % 2 else sides[::-1]:
            prepare()  # untimed
            times.append(seconds(action))
        package_times.append(seconds(lambda run=run: import_as_packages(app_dir, run)))
    ratios = [a / i for a, i in zip(app_times, import_times, strict=True)]
    return {
        "files": len(route_files),
        "app_s": statistics.median(app_times),
        "import_s": statistics.median(import_times),
        "ratio": statistics.median(ratios),
        "packages_s": statistics.median(package_times),
    }


def import_as_packages(app_dir: Path, run: int) -> None:
    """The other reading of "plainly": `import tree.s.r0001.route`, the tree as
    the package it is (each folder a namespace package), under a fresh name."""
    alias = app_dir.parent / f"packages{run}"
    alias.symlink_to(app_dir, target_is_directory=True)
    sys.path.insert(0, str(app_dir.parent))
    importlib.invalidate_caches()
    try:
        for path in sorted(app_dir.rglob("route.py")):
            parts = path.relative_to(app_dir).with_suffix("").parts
            importlib.import_module(".".join((alias.name, *parts)))
    finally:
        sys.path.remove(str(app_dir.parent))


# --- The run -----------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (15)")
    parser.add_argument("--number", type=int, default=2000, help="calls per batch (2000)")
    parser.add_argument("--routes", type=int, default=10_000, help="microroute's big tree")
    parser.add_argument("--peer-routes", type=int, default=2_000, help="Falcon's, Bottle's")
    parser.add_argument("--startup-files", type=int, default=1_000, help="route files (1000)")
    parser.add_argument("--repeats", type=int, default=15, help="start-ups timed (15)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    if min(args.routes, args.peer_routes, args.startup_files) < 4:
        parser.error("--routes, --peer-routes and --startup-files must be at least 4")

    try:
        from microroute import App
    except ImportError as error:
        App = None  # noqa: N806 (the class, or None when it cannot be imported)
        print(f"note: skipping microroute: not importable ({error})")

    rows: list[dict[str, Any]] = []
    report: dict[str, Any] = {
        "python": platform.python_version(),
        "rounds": args.rounds,
        "number": args.number,
        "routing": rows,
    }
    with tempfile.TemporaryDirectory(prefix="microroute-scale-") as temporary:
        root = Path(temporary)
        if App is not None:
            count = args.routes // 2
            small = App(write_tree(root / "small", count, small=True))
            big_dir = write_tree(root / "big", count)
            start = time.perf_counter()
            big = App(big_dir)
            report["big_tree_load_s"] = time.perf_counter() - start
            print(f"App() over {2 * count} route files: {report['big_tree_load_s']:.2f} s")
            rows += compare("microroute", small, big, 2 * count, count, args.rounds, args.number)
            report["startup"] = startup(App, root / "startup", args.startup_files, args.repeats)

        for name, build in (("falcon", build_falcon), ("bottle", build_bottle)):
            count = args.peer_routes // 2
            try:
                small, big = build(count, small=True), build(count, small=False)
            except ImportError as error:
                print(f"note: skipping {name}: not importable ({error})")
                continue
            rows += compare(name, small, big, 2 * count, count, args.rounds, args.number)

    print(
        f"\nThe last route of a big app vs the same route in a 4-route app "
        f"(median of {args.rounds} rounds x {args.number} calls)"
    )
    print(f"{'framework':<12}{'routes':>8}  {'request':<34}{'4 routes':>10}{'big':>10}{'big/4':>8}")
    for row in rows:
        request = f"GET {row['path']} ({row['probe'].split()[1]})"
        print(
            f"{row['framework']:<12}{row['routes']:>8,}  {request:<34}"
            f"{row['small_us']:>8.2f}µs{row['big_us']:>8.2f}µs{row['ratio']:>7.2f}x"
        )
    if "startup" in report:
        result = report["startup"]
        print(
            f"\nStart-up over {result['files']:,} route files "
            f"(median of {args.repeats}): App() {result['app_s'] * 1000:.0f} ms, "
            f"plain imports {result['import_s'] * 1000:.0f} ms, "
            f"ratio {result['ratio']:.2f}x; importing them as packages "
            f"{result['packages_s'] * 1000:.0f} ms"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
