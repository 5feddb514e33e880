"""In-process speed: microroute against raw WSGI, Falcon, Bottle and Flask.

    python benchmarks/bench_inprocess.py [--rounds 15] [--number 2000] [--json out.json]

Method. Every framework serves the same five endpoints (`peers.py`), and
`check()` proves each answers correctly (status, Content-Type and body)
before anything is timed; otherwise the script lists what is wrong and exits
1. Each call gets a fresh environ (a copy of one built per endpoint by
werkzeug's `EnvironBuilder`, with a new `wsgi.input`), and the returned
iterable is consumed and closed, as a server would. One untimed warm-up batch
per framework and endpoint comes first. The frameworks are then interleaved
round by round, in a rotating order, so that a noisy neighbour slows them all
alike; garbage collection is off inside a timed batch, and put back as it was
after it. For each round the ratio to raw WSGI is taken, and the table
reports medians: µs per request, and the median ratio to raw WSGI. Quote
ratios, not absolute times: this is a shared machine.

The async rows (issue #13) time microroute alone, the same way: one handler
written three ways (`def GET`, `async def GET` that returns at once, and
`async def GET` that awaits `asyncio.sleep(0)`, under
bench_app/app/api/ok/), interleaved, each round's ratio to the `def` one.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import peers

# The targets, as median ratios to raw WSGI: issue #5's for list and create;
# issue #16's (item 8: the dispatch reshaped) for the item, the page and the
# stray 404, which issues #5 and #11 held to ×2, ×4 and ×3.
TARGETS = {"GET list": 2.0, "POST create": 2.0, "GET item": 1.5, "GET page": 2.0, "404": 2.0}

# The async rows: path, and the target as a median ratio to the `def` handler (issue #13).
HANDLERS = {
    "def GET": ("/api/ok/def", None),
    "async def GET": ("/api/ok/async", 1.3),
    "async def GET, sleep(0)": ("/api/ok/async-sleep", 3.0),
}


def environ_for(endpoint: str) -> tuple[dict[str, Any], bytes]:
    method, path, body, _, _ = peers.ENDPOINTS[endpoint]
    builder = EnvironBuilder(
        path=path, method=method, data=body or None,
        content_type="application/json" if body else None,
    )
    environ = builder.get_environ()
    builder.close()
    return environ, body


def call(app: peers.WSGIApp, template: dict[str, Any],
         body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """One request as a server makes it; returns the status line, headers and body."""
    answer: list[tuple[str, list[tuple[str, str]]]] = []
    environ = template.copy()
    environ["wsgi.input"] = io.BytesIO(body)
    result = app(environ, lambda line, headers, exc_info=None: answer.append((line, headers)))
    try:
        content = b"".join(result)
        return answer[0][0], answer[0][1], content
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def media_type(headers: list[tuple[str, str]]) -> str:
    """The Content-Type without its parameters, lower case; "" when there is none."""
    for key, value in headers:
        if key.lower() == "content-type":
            return value.split(";")[0].strip().lower()
    return ""


def answer_problems(endpoint: str, status: int, content_type: str, content: bytes) -> list[str]:
    """What is wrong with one answer to `endpoint` (empty: nothing). `bench_http` uses it too.

    `content_type` is the media type alone, as `media_type()` gives it.
    """
    _, _, _, expected_status, expected_json = peers.ENDPOINTS[endpoint]
    expected_type = "text/html" if endpoint == "GET page" else "application/json"
    problems = []
    if status != expected_status:
        problems.append(f"status {status}, expected {expected_status}")
    if content_type != expected_type:
        problems.append(f"Content-Type {content_type!r}, expected {expected_type!r}")
    if expected_type == "text/html":
        if b"<h1>About</h1>" not in content:
            problems.append(f"not the About page: {content[:80]!r}")
        return problems
    try:
        data = json.loads(content)
    except ValueError:
        return [*problems, f"not JSON: {content[:80]!r}"]
    if expected_json is not None and data != expected_json:
        problems.append(f"{data!r}, expected {expected_json!r}")
    return problems


def check(apps: dict[str, peers.WSGIApp]) -> list[str]:
    """What is wrong with any framework's answers; nothing may be timed unless empty.

    Not `assert`: the check must still refuse under `python -O`.
    """
    problems = []
    for endpoint in peers.ENDPOINTS:
        template, body = environ_for(endpoint)
        for name, app in apps.items():
            try:
                line, headers, content = call(app, template, body)
            except Exception as error:  # a broken app is a problem to list, not a crash
                problems.append(f"{name}, {endpoint}: raised {error!r}")
                continue
            found = answer_problems(endpoint, int(line.split()[0]), media_type(headers), content)
            problems.extend(f"{name}, {endpoint}: {problem}" for problem in found)
    return problems


def refused(problems: list[str]) -> bool:
    """Say what is wrong, if anything: True when nothing may be timed."""
    if problems:
        print("Not timed: some answers are wrong.", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    return bool(problems)


def time_batch(app: peers.WSGIApp, template: dict[str, Any], body: bytes, number: int) -> float:
    """µs per request over `number` requests."""
    def ignore(line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        pass

    copy, stream = template.copy, io.BytesIO
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(number):
            environ = copy()
            environ["wsgi.input"] = stream(body)
            result = app(environ, ignore)
            for _chunk in result:
                pass
            close = getattr(result, "close", None)
            if close is not None:
                close()
        elapsed = time.perf_counter_ns() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / number / 1000


def run(apps: dict[str, peers.WSGIApp], rounds: int, number: int) -> dict[str, Any]:
    names = list(apps)
    micros: dict[tuple[str, str], list[float]] = {}
    ratios: dict[tuple[str, str], list[float]] = {}
    for endpoint in peers.ENDPOINTS:
        template, body = environ_for(endpoint)
        for name in names:  # warm-up, untimed: first-call caches, lazy imports, the allocator
            time_batch(apps[name], template, body, number)
        for round_number in range(rounds):
            shift = round_number % len(names)
            this_round = {}
            for name in names[shift:] + names[:shift]:
                this_round[name] = time_batch(apps[name], template, body, number)
            for name, value in this_round.items():
                micros.setdefault((name, endpoint), []).append(value)
                ratios.setdefault((name, endpoint), []).append(value / this_round["raw"])
    return {
        f"{name}|{endpoint}": {
            "us": statistics.median(micros[name, endpoint]),
            "ratio": statistics.median(ratios[name, endpoint]),
        }
        for name, endpoint in micros
    }


def table(results: dict[str, Any], names: list[str]) -> str:
    lines = ["| endpoint | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for endpoint in peers.ENDPOINTS:
        cells = []
        for name in names:
            result = results[f"{name}|{endpoint}"]
            ratio = "" if name == "raw" else f" (×{result['ratio']:.2f})"
            cells.append(f"{result['us']:.2f}{ratio}")
        lines.append(f"| {endpoint} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def verdicts(results: dict[str, Any]) -> list[str]:
    """microroute against the targets: its own, and at or below Falcon's ratio."""
    lines = []
    for endpoint, target in TARGETS.items():
        ours = results[f"microroute|{endpoint}"]["ratio"]
        falcon = results.get(f"falcon|{endpoint}", {}).get("ratio")
        verdict = "met" if ours <= target else "MISSED"
        versus = "" if falcon is None else (
            f"; Falcon ×{falcon:.2f}: " + ("at or below" if ours <= falcon else "ABOVE"))
        lines.append(f"{endpoint}: ×{ours:.2f} (target ≤ {target}: {verdict}{versus})")
    return lines


def run_handlers(app: peers.WSGIApp, rounds: int, number: int) -> dict[str, Any]:
    """µs per request of each way to write the handler, and its ratio to `def GET`."""
    templates = {}
    for kind, (path, _) in HANDLERS.items():
        environ = EnvironBuilder(path=path).get_environ()
        line, headers, content = call(app, environ, b"")
        if (line, media_type(headers), json.loads(content)) != (
                "200 OK", "application/json", {"ok": 1}):
            raise SystemExit(f"{kind} at {path}: wrong answer {line} {content[:80]!r}")
        templates[kind] = environ
        time_batch(app, environ, b"", number)  # warm-up: the thread's loop is made here
    micros: dict[str, list[float]] = {kind: [] for kind in HANDLERS}
    ratios: dict[str, list[float]] = {kind: [] for kind in HANDLERS}
    kinds = list(HANDLERS)
    for round_number in range(rounds):
        shift = round_number % len(kinds)
        this_round = {kind: time_batch(app, templates[kind], b"", number)
                      for kind in kinds[shift:] + kinds[:shift]}
        for kind, value in this_round.items():
            micros[kind].append(value)
            ratios[kind].append(value / this_round["def GET"])
    return {kind: {"us": statistics.median(micros[kind]), "ratio": statistics.median(ratios[kind])}
            for kind in kinds}


def handlers_table(results: dict[str, Any]) -> str:
    lines = ["| microroute handler | µs | ratio to `def GET` | target |", "|---|---|---|---|"]
    for kind, (_, target) in HANDLERS.items():
        result = results[kind]
        verdict = "" if target is None else (
            f"≤ ×{target}: " + ("met" if result["ratio"] <= target else "MISSED"))
        lines.append(f"| {kind} | {result['us']:.2f} | ×{result['ratio']:.2f} | {verdict} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000, help="requests per timed batch")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--handlers-only", action="store_true",
                        help="only the async rows: def against async def handlers")
    arguments = parser.parse_args(argv)
    apps = {name: app for name, app in peers.APPS.items() if app is not None}
    for name in peers.APPS.keys() - apps.keys():
        print(f"note: {name} is not installed; skipped (pip install -e '.[bench]')")
    if arguments.handlers_only:
        print(handlers_table(run_handlers(peers.APPS["microroute"], arguments.rounds,
                                          arguments.number)))
        return 0
    if refused(check(apps)):
        return 1
    print(f"Python {sys.version.split()[0]}, {arguments.rounds} rounds × "
          f"{arguments.number} requests per framework and endpoint; "
          "µs per request (median ratio to raw WSGI)\n")
    results = run(apps, arguments.rounds, arguments.number)
    print(table(results, list(apps)))
    if "microroute" in apps:
        print("\n" + "\n".join(verdicts(results)))
        results["handlers"] = run_handlers(apps["microroute"], arguments.rounds, arguments.number)
        print("\n" + handlers_table(results["handlers"]))
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
