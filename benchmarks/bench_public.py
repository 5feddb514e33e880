"""Public files: microroute against werkzeug's `SharedDataMiddleware`, the same files.

    python benchmarks/bench_public.py [--rounds 15] [--number 2000] [--http]

Method. One folder of files (a 4 KiB stylesheet, a 256 KiB image) is served
by microroute's `public/` and by werkzeug's `SharedDataMiddleware`, both
in-process, both given the same environ (werkzeug's `EnvironBuilder`, no
`wsgi.file_wrapper`: each reads the file in Python, which is the slower
path, and the one that shows each side's own cost). Every answer is checked
first (status, type, the file's exact bytes; the 304 with no body); nothing
is timed unless all are right. The two sides are interleaved round by round,
taking turns going first, with `bench_inprocess.time_batch` (gc off inside a
batch); the table gives medians of µs per request and of each round's ratio
microroute / werkzeug (below ×1.00: microroute is faster). Target (issue #12):
no slower than werkzeug, ×1.00 or below, on every line.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_inprocess import call, refused, time_batch

from microroute import App

FILES = {
    "css/site.css": b"".join(b".c%d { color: #%03x; }\n" % (n, n) for n in range(200))[:4096],
    "img/photo.jpg": bytes(range(256)) * 1024,  # 256 KiB
}


def _not_found(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"Not Found"]


def apps(root: Path) -> dict[str, Any]:
    public = root / "public"
    for name, content in FILES.items():
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_bytes(content)
    (root / "app" / "api" / "hello").mkdir(parents=True)
    (root / "app" / "api" / "hello" / "route.py").write_text(
        "from microroute import Response\n\ndef GET():\n    return Response.json({})\n"
    )
    return {
        "microroute": App(root / "app"),
        "werkzeug": SharedDataMiddleware(_not_found, {"/": str(public)}),
    }


def endpoints(app: Any) -> dict[str, tuple[dict[str, Any], int, bytes]]:
    """name -> (environ, expected status, expected body)."""
    _, headers, _ = call(app, EnvironBuilder(path="/css/site.css").get_environ(), b"")
    etag = next(value for key, value in headers if key.lower() == "etag")
    cases = {
        "GET 4 KiB stylesheet": ("/css/site.css", {}, 200, FILES["css/site.css"]),
        "GET 256 KiB image": ("/img/photo.jpg", {}, 200, FILES["img/photo.jpg"]),
        "GET stylesheet, If-None-Match (304)": (
            "/css/site.css", {"If-None-Match": etag}, 304, b""),
    }
    built = {}
    for name, (path, request_headers, status, body) in cases.items():
        environ = EnvironBuilder(path=path, headers=request_headers).get_environ()
        built[name] = (environ, status, body)
    return built


def check(all_apps: dict[str, Any]) -> list[str]:
    problems = []
    for name, app in all_apps.items():
        for endpoint, (environ, status, body) in endpoints(app).items():
            line, headers, content = call(app, environ, b"")
            if int(line.split()[0]) != status or content != body:
                problems.append(f"{name}, {endpoint}: {line}, {len(content)} bytes")
            if status == 200 and not dict(headers).get("Content-Type"):
                problems.append(f"{name}, {endpoint}: no Content-Type")
    return problems


def run(all_apps: dict[str, Any], rounds: int, number: int) -> dict[str, dict[str, float]]:
    names = list(all_apps)
    results = {}
    for endpoint in endpoints(all_apps["microroute"]):
        environs = {name: endpoints(app)[endpoint][0] for name, app in all_apps.items()}
        micros: dict[str, list[float]] = {name: [] for name in names}
        ratios = []
        for name in names:  # warm-up, untimed
            time_batch(all_apps[name], environs[name], b"", number)
        for round_number in range(rounds):
            order = names if round_number % 2 == 0 else names[::-1]
            this_round = {
                name: time_batch(all_apps[name], environs[name], b"", number) for name in order
            }
            for name, value in this_round.items():
                micros[name].append(value)
            ratios.append(this_round["microroute"] / this_round["werkzeug"])
        results[endpoint] = {
            **{name: statistics.median(values) for name, values in micros.items()},
            "ratio": statistics.median(ratios),
        }
    return results


def over_http(root: Path, rounds: int, seconds: int) -> dict[str, dict[str, float]]:
    """The same files over gunicorn (one sync worker each, `sendfile` through
    its `wsgi.file_wrapper`), loaded by wrk in interleaved rounds: requests/s."""
    import processes
    from bench_http import parse_wrk

    (root / "served.py").write_text(
        "from werkzeug.middleware.shared_data import SharedDataMiddleware\n"
        "from microroute import App\n"
        f"microroute = App({str(root / 'app')!r})\n"
        "def _not_found(environ, start_response):\n"
        "    start_response('404 Not Found', [('Content-Type', 'text/plain')])\n"
        "    return [b'Not Found']\n"
        f"werkzeug = SharedDataMiddleware(_not_found, {{'/': {str(root / 'public')!r}}})\n"
    )
    ports, servers = {}, []
    environment = {**os.environ, "PYTHONPATH": f"{root}:{Path(__file__).resolve().parent.parent}"}
    try:
        for name in ("microroute", "werkzeug"):
            ports[name] = processes.free_port()
            server = subprocess.Popen(processes.gunicorn(f"served:{name}", ports[name]), cwd=root,
                                      env=environment, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            servers.append(server)
            if not processes.wait_until_listening(server, ports[name]):
                raise RuntimeError(f"gunicorn serving {name} did not start")
        results = {}
        for path in ("/css/site.css", "/img/photo.jpg"):
            rates: dict[str, list[float]] = {"microroute": [], "werkzeug": []}
            for round_number in range(rounds):
                for name in (sorted(rates) if round_number % 2 else sorted(rates, reverse=True)):
                    wrk = subprocess.run(
                        ["wrk", "-t1", "-c4", f"-d{seconds}s", f"http://127.0.0.1:{ports[name]}{path}"],
                        capture_output=True, text=True, timeout=seconds + 30, check=True,
                    )
                    run = parse_wrk(wrk.stdout)
                    if not run.valid:
                        raise RuntimeError(f"{name} {path}: an invalid run: {run}")
                    rates[name].append(run.per_second)
            results[path] = {name: statistics.median(values) for name, values in rates.items()}
        return results
    finally:
        for server in servers:
            processes.stop(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000, help="requests per timed batch")
    parser.add_argument("--http", action="store_true",
                        help="also over gunicorn, with wrk (apt-get install wrk)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        all_apps = apps(Path(folder))
        if refused(check(all_apps)):
            return 1
        results = run(all_apps, arguments.rounds, arguments.number)
        served = over_http(Path(folder), 5, 3) if arguments.http else None
    print(f"Python {sys.version.split()[0]}, {arguments.rounds} rounds × {arguments.number} "
          "requests; µs per request (median), and microroute / werkzeug (median ratio)\n")
    print("| request | werkzeug SharedDataMiddleware | microroute public/ | ratio |")
    print("|---|---|---|---|")
    for endpoint, result in results.items():
        verdict = "" if result["ratio"] <= 1.0 else " (SLOWER)"
        print(f"| {endpoint} | {result['werkzeug']:.2f} | {result['microroute']:.2f} | "
              f"×{result['ratio']:.2f}{verdict} |")
    if served:
        print("\nOver gunicorn (1 sync worker each), wrk -t1 -c4, median of 5 rounds of 3 s:\n")
        print("| GET | werkzeug req/s | microroute req/s | microroute / werkzeug |")
        print("|---|---|---|---|")
        for path, rates in served.items():
            print(f"| {path} | {rates['werkzeug']:.0f} | {rates['microroute']:.0f} | "
                  f"×{rates['microroute'] / rates['werkzeug']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
