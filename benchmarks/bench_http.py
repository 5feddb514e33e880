"""Over HTTP: microroute under gunicorn against raw WSGI, Falcon, Bottle and Flask;
microroute under granian; Starlette and FastAPI under uvicorn.

    python benchmarks/bench_http.py [--rounds 3] [--seconds 5] [--requests 500] [--json out.json]

Method
------
* Stacks. Every framework serves the same five endpoints (`peers.py`, where
  each app is built on first use, so a worker imports its own framework
  alone). A stack is a framework and the server that runs it (`STACKS`):
  the WSGI frameworks under `gunicorn peers:<name>` with sync workers;
  microroute also under granian's WSGI interface (`microroute@granian`);
  Starlette and FastAPI, which are ASGI, under uvicorn. For each run the
  script starts the server on a free 127.0.0.1 port (cwd `benchmarks/`, the
  checkout on PYTHONPATH), waits (bounded) until all its workers exist and it
  answers, and at the end stops it by PID: SIGTERM, a bounded wait, then
  SIGKILL.
* Correctness first. One gunicorn worker per framework is started, and each
  of the five endpoints is asked once and checked as `bench_inprocess.py`
  checks it (status, Content-Type, body). If any answer is wrong, the script
  lists the problems and exits 1 before anything is measured.
* Memory. The same single worker then serves each endpoint `--requests`
  times (500; one connection per request, each with a timeout, the whole
  bounded), and its `VmRSS` is read from `/proc/<worker>/status` (the worker
  is the master's child: `/proc/<master>/task/<master>/children`). Reported
  in MiB, with the ratio to Flask's worker.
* Throughput. 2 worker processes per server; `wrk -t2 -c8 --latency`
  (Debian's, when on PATH) for `--seconds` on GET /api/products, then on POST
  /api/products (a Lua script sets the method, the JSON body and its
  Content-Type), after an untimed warm-up of `--warmup` seconds on each.
  `Requests/sec:` and the 99th percentile latency are parsed;
  a run that reports non-2xx/3xx answers or socket errors is INVALID and
  left out of the medians. Without wrk, a bounded Python load generator
  takes its place (8 threads, http.client, one connection per request, fixed
  duration); it is GIL-bound and slower than wrk, so its numbers only compare
  with each other, and the output says so.
* Rounds. Each round starts every framework afresh, in a rotating order, so
  that a noisy neighbour slows them all alike. The table gives the median
  req/s per framework and endpoint and the medians of the per-round ratios to
  raw WSGI and to Falcon. The load generator shares the machine's cores with
  the server, so absolute numbers are low; quote the ratios.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `python benchmarks/bench_http.py`
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # from a checkout

import peers
import processes
from bench_inprocess import answer_problems

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HOST = "127.0.0.1"
THROUGHPUT = ("GET list", "POST create")  # the endpoints timed over HTTP
WORKERS = 2  # gunicorn sync workers for the throughput runs
THREADS, CONNECTIONS = 2, 8  # wrk -t -c, and the Python generator's threads
START_TIMEOUT = 30.0  # seconds for gunicorn to boot its workers and answer
REQUEST_TIMEOUT = 10.0  # seconds, for every single request this script makes


# -- gunicorn ------------------------------------------------------------------------


def request(port: int, endpoint: str) -> tuple[int, str, bytes]:
    """One request to `endpoint` on its own connection: status, media type, body."""
    method, path, body, _, _ = peers.ENDPOINTS[endpoint]
    headers = {"Content-Type": "application/json"} if body else {}
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        content = response.read()
        media = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        return response.status, media, content
    finally:
        connection.close()


def uvicorn(app: str, port: int, workers: int) -> list[str]:
    """uvicorn, for the ASGI peers (Starlette, FastAPI): its worker class under
    gunicorn's process manager. (`uvicorn --workers 2` on its own answered 22
    req/s here, 44 ms a request, against 7,000+ this way and 8,400 from a
    single uvicorn process: its own supervisor is not what a benchmark should
    measure.)"""
    return [*processes.gunicorn(app, port, workers), "--worker-class",
            "uvicorn.workers.UvicornWorker", "--log-level", "warning"]


# The WSGI servers are started as the tests start them (processes.py).
SERVERS = {"gunicorn": processes.gunicorn, "granian": processes.granian, "uvicorn": uvicorn}
# stack -> (the app in peers.py, the server that runs it)
STACKS: dict[str, tuple[str, str]] = {
    **{name: (name, "gunicorn") for name in peers.BUILDERS},
    "microroute@granian": ("microroute", "granian"),
    "starlette@uvicorn": ("starlette", "uvicorn"),
    "fastapi@uvicorn": ("fastapi", "uvicorn"),
}


class Server:
    """A stack's server (`gunicorn peers:<name>`, ...) on a free port, stopped by PID on exit."""

    def __init__(self, name: str, workers: int, log: Path) -> None:
        self.name, self.workers, self.port = name, workers, processes.free_port(HOST)
        app, server = STACKS[name]
        command = SERVERS[server](f"peers:{app}", self.port, workers)
        path = os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(command, cwd=HERE, env=env, stdout=out,
                                            stderr=subprocess.STDOUT)

    def __enter__(self) -> Server:
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        """All workers forked, and an answer over HTTP: bounded by START_TIMEOUT."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log.read_text()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    request(self.port, "GET page")
                    return
                except OSError:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer in {START_TIMEOUT} s:\n"
                           f"{self.log.read_text()}")

    def worker_pids(self) -> list[int]:
        return processes.worker_pids(self.process.pid)

    def stop(self) -> None:
        processes.stop(self.process)


# -- load generators -----------------------------------------------------------------


@dataclass
class Run:
    """One timed load on one endpoint."""

    per_second: float
    requests: int
    non_2xx: int = 0  # answers that are neither 2xx nor 3xx
    socket_errors: int = 0  # connect, read, write and timeout errors together
    note: str = ""
    p99_ms: float | None = None  # wrk's 99th percentile latency; None from the Python generator

    @property
    def valid(self) -> bool:
        return self.requests > 0 and not self.non_2xx and not self.socket_errors


WRK_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
WRK_TOTAL = re.compile(r"^\s*(\d+) requests in", re.MULTILINE)
WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


WRK_P99 = re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
MILLISECONDS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output: str) -> Run:
    rate, total = WRK_RATE.search(output), WRK_TOTAL.search(output)
    if rate is None or total is None:
        return Run(0.0, 0, note=f"unreadable wrk output: {output[-300:]!r}")
    non_2xx = WRK_NON_2XX.search(output)
    sockets = WRK_SOCKET.search(output)
    p99 = WRK_P99.search(output)
    return Run(float(rate.group(1)), int(total.group(1)),
               non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
               socket_errors=sum(map(int, sockets.groups())) if sockets else 0,
               p99_ms=float(p99.group(1)) * MILLISECONDS[p99.group(2)] if p99 else None)


def lua_script(endpoint: str, folder: Path) -> Path | None:
    """A wrk script that sends the endpoint's method and body; None for a plain GET."""
    method, _, body, _, _ = peers.ENDPOINTS[endpoint]
    if method == "GET" and not body:
        return None
    text = body.decode()
    if "]==]" in text:
        raise ValueError("the body cannot go in a Lua long string")
    script = folder / f"{method.lower()}.lua"
    script.write_text(f'wrk.method = "{method}"\n'
                      f"wrk.body = [==[{text}]==]\n"
                      'wrk.headers["Content-Type"] = "application/json"\n')
    return script


def load_wrk(port: int, endpoint: str, seconds: float, folder: Path) -> Run:
    _, path, _, _, _ = peers.ENDPOINTS[endpoint]
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s",
               "--latency"]
    script = lua_script(endpoint, folder)
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{port}{path}")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired:
        return Run(0.0, 0, note="wrk did not finish")
    if done.returncode != 0:
        return Run(0.0, 0, note=f"wrk exited {done.returncode}: {done.stderr[-300:]!r}")
    return parse_wrk(done.stdout)


def load_python(port: int, endpoint: str, seconds: float, folder: Path) -> Run:
    """The fallback: CONNECTIONS threads, each a closed loop of requests, for `seconds`."""
    counts = {"ok": 0, "non_2xx": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        ok = non_2xx = errors = 0
        while time.monotonic() < deadline:
            try:
                status, _, _ = request(port, endpoint)
            except OSError:
                errors += 1
                continue
            if 200 <= status < 400:
                ok += 1
            else:
                non_2xx += 1
        with lock:
            counts["ok"] += ok
            counts["non_2xx"] += non_2xx
            counts["errors"] += errors

    start = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + REQUEST_TIMEOUT + 5)
    elapsed = time.monotonic() - start
    if any(thread.is_alive() for thread in threads):
        return Run(0.0, 0, note="a client thread did not finish")
    total = counts["ok"] + counts["non_2xx"]
    return Run(total / elapsed, total, non_2xx=counts["non_2xx"], socket_errors=counts["errors"])


# -- the measurements ----------------------------------------------------------------


def memory_load(port: int, requests: int, limit: float = 120.0) -> list[str]:
    """`requests` requests to each endpoint, one at a time; what went wrong, if anything."""
    deadline = time.monotonic() + limit  # 5 × 500 requests take a few seconds
    for endpoint in peers.ENDPOINTS:
        expected = peers.ENDPOINTS[endpoint][3]
        for _ in range(requests):
            if time.monotonic() > deadline:
                return [f"the memory load took over {limit:g} s"]
            try:
                status, _, _ = request(port, endpoint)
            except OSError as error:
                return [f"{endpoint}: {error!r} under load"]
            if status != expected:
                return [f"{endpoint}: status {status} under load, expected {expected}"]
    return []


def check_and_measure_memory(names: list[str], requests: int,
                             folder: Path) -> tuple[dict[str, float], list[str]]:
    """Per framework, one worker: check the five answers, load it, read its RSS (MiB)."""
    memory: dict[str, float] = {}
    problems: list[str] = []
    for name in names:
        with Server(name, 1, folder / f"{name}-memory.log") as server:
            for endpoint in peers.ENDPOINTS:
                status, media, content = request(server.port, endpoint)
                problems.extend(f"{name}, {endpoint}: {problem}"
                                for problem in answer_problems(endpoint, status, media, content))
            if problems:
                continue
            problems.extend(f"{name}: {problem}" for problem in memory_load(server.port, requests))
            if problems:
                continue
            (worker,) = server.worker_pids()
            memory[name] = processes.rss_kib(worker) / 1024
    return memory, problems


def measure_throughput(names: list[str], rounds: int, seconds: float, warmup: float,
                       generator: str, folder: Path) -> dict[str, dict[str, list[Run]]]:
    """name -> endpoint -> one Run per round; frameworks rotate round by round."""
    load = load_wrk if generator == "wrk" else load_python
    runs: dict[str, dict[str, list[Run]]] = {name: {e: [] for e in THROUGHPUT} for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            print(f"  round {round_number + 1}/{rounds}: {name}", file=sys.stderr, flush=True)
            with Server(name, WORKERS, folder / f"{name}-{round_number}.log") as server:
                for endpoint in THROUGHPUT:
                    if warmup > 0:
                        load(server.port, endpoint, warmup, folder)
                    runs[name][endpoint].append(load(server.port, endpoint, seconds, folder))
    return runs


def median_ratio(own: list[Run], base: list[Run] | None) -> float | None:
    """The median of the per-round ratios own/base, over rounds where both runs are valid."""
    if base is None:
        return None
    pairs = [mine.per_second / theirs.per_second
             for mine, theirs in zip(own, base, strict=True) if mine.valid and theirs.valid]
    return statistics.median(pairs) if pairs else None


def summarise(runs: dict[str, dict[str, list[Run]]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Median req/s over valid runs, and medians of the per-round ratios to raw and Falcon."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for name, by_endpoint in runs.items():
        for endpoint, own in by_endpoint.items():
            valid = [run.per_second for run in own if run.valid]
            p99s = [run.p99_ms for run in own if run.valid and run.p99_ms is not None]
            summary.setdefault(name, {})[endpoint] = {
                "median": statistics.median(valid) if valid else None,
                "p99_ms": statistics.median(p99s) if p99s else None,
                "valid_runs": len(valid),
                "ratio_raw": median_ratio(own, runs.get("raw", {}).get(endpoint)),
                "ratio_falcon": median_ratio(own, runs.get("falcon", {}).get(endpoint)),
                "runs": [asdict(run) | {"valid": run.valid} for run in own],
            }
    return summary


# -- the report ----------------------------------------------------------------------


def number(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def throughput_table(summary: dict[str, dict[str, dict[str, Any]]], rounds: int) -> str:
    lines = ["| stack | endpoint | req/s (median) | p99 ms (median) | × raw | × Falcon "
             "| valid runs |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for endpoint in THROUGHPUT:
        for name, by_endpoint in summary.items():
            row = by_endpoint[endpoint]
            lines.append(f"| {name} | {endpoint} | {number(row['median'], '.0f')} "
                         f"| {number(row['p99_ms'], '.2f')} "
                         f"| {number(row['ratio_raw'], '.2f')} "
                         f"| {number(row['ratio_falcon'], '.2f')} "
                         f"| {row['valid_runs']}/{rounds} |")
    return "\n".join(lines)


def memory_table(memory: dict[str, float]) -> str:
    flask = memory.get("flask")
    lines = ["| framework | worker VmRSS (MiB) | × Flask |", "|---|---:|---:|"]
    for name, mib in memory.items():
        ratio = number(mib / flask if flask else None, ".2f")
        lines.append(f"| {name} | {mib:.1f} | {ratio} |")
    return "\n".join(lines)


def verdicts(summary: dict[str, dict[str, dict[str, Any]]],
             memory: dict[str, float]) -> dict[str, bool | None]:
    """The issue's two bars; None where a side is missing or has no valid run."""
    found: dict[str, bool | None] = {}
    for endpoint in THROUGHPUT:
        ratio = summary.get("microroute", {}).get(endpoint, {}).get("ratio_falcon")
        found[f"{endpoint}: microroute >= Falcon"] = None if ratio is None else ratio >= 1.0
        medians = {name: rows[endpoint]["median"] for name, rows in summary.items()}
        ours = [m for name, m in medians.items() if name.startswith("microroute") and m]
        theirs = [m for name, m in medians.items() if not name.startswith("microroute") and m]
        found[f"{endpoint}: microroute on its fastest server ahead of every other stack"] = (
            max(ours) > max(theirs) if ours and theirs else None)
    if "microroute" in memory and "flask" in memory:
        found["memory: microroute <= Flask"] = memory["microroute"] <= memory["flask"]
    else:
        found["memory: microroute <= Flask"] = None
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="per timed load")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="untimed load before each timed one (seconds; 0: none)")
    parser.add_argument("--requests", type=int, default=500,
                        help="requests per endpoint before the memory reading")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto",
                        help="auto: wrk when on PATH, else the Python generator")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--stacks", nargs="+", choices=list(STACKS), metavar="STACK",
                        help=f"only these (default: all): {', '.join(STACKS)}")
    args = parser.parse_args(argv)

    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    elif generator == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH")
    names = []
    for name in args.stacks or STACKS:
        app, server = STACKS[name]
        if peers.build(app) is None or importlib.util.find_spec(server) is None:
            print(f"note: {name} is not installed; skipped (pip install -e '.[bench]')")
        else:
            names.append(name)

    with tempfile.TemporaryDirectory(prefix="microroute-http-") as temporary:
        folder = Path(temporary)
        print("checking the answers and measuring memory...", file=sys.stderr, flush=True)
        memory, problems = check_and_measure_memory(names, args.requests, folder)
        if problems:
            print("Not measured: some answers are wrong.", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
        print("throughput...", file=sys.stderr, flush=True)
        runs = measure_throughput(names, args.rounds, args.seconds, args.warmup, generator,
                                  folder)

    summary = summarise(runs)
    found = verdicts(summary, memory)
    if generator == "wrk":
        how = f"wrk -t{THREADS} -c{CONNECTIONS}"
    else:
        how = (f"the Python load generator ({CONNECTIONS} threads, http.client; wrk not used: "
               "GIL-bound, numbers compare only with each other)")
    print(f"Python {sys.version.split()[0]}, {WORKERS} workers per server (gunicorn: sync), "
          f"{how}, "
          f"{args.rounds} rounds × {args.seconds:g} s per framework and endpoint "
          f"(after {args.warmup:g} s warm-up), {HOST}\n")
    print(throughput_table(summary, args.rounds))
    invalid = [f"{name} {endpoint} round {index + 1}: {run.non_2xx} non-2xx, "
               f"{run.socket_errors} socket errors {run.note}".rstrip()
               for name, by_endpoint in runs.items()
               for endpoint, own in by_endpoint.items()
               for index, run in enumerate(own) if not run.valid]
    if invalid:
        print("\nINVALID runs (left out of the medians):\n  " + "\n  ".join(invalid))
    print(f"\nOne sync worker after {args.requests} requests to each of the five endpoints:\n")
    print(memory_table(memory))
    print()
    for bar, met in found.items():
        print(f"{bar}: {'unknown' if met is None else 'yes' if met else 'NO'}")

    if args.json:
        results = {
            "python": sys.version.split()[0], "machine": platform.platform(),
            "generator": generator, "rounds": args.rounds, "seconds": args.seconds,
            "warmup": args.warmup, "workers": WORKERS, "threads": THREADS,
            "connections": CONNECTIONS, "memory_requests": args.requests,
            "throughput": summary, "memory_mib": memory, "invalid": invalid,
            "verdicts": found,
        }
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
