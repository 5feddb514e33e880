"""Through nginx: the demo on PostgreSQL behind the shipped deploy/ configs,
with one gunicorn instance and then two.

    python benchmarks/bench_deploy.py [--seconds 5] [--rounds 3] [--workers 2]

Method
------
* The stack is the one `tests/test_deploy.py` runs: a throwaway PostgreSQL
  (`postgres.py`: initdb + pg_ctl on a free port), N gunicorn instances
  started with `deploy/gunicorn.conf.py` as it is (only --bind and --workers
  given), and nginx from `deploy/nginx.conf` in front (`nginx.py`), all on
  127.0.0.1 and all stopped by PID at the end.
* Load: `wrk -t2 -c16 --latency` through nginx for `--seconds`, after a
  1 s warm-up, on GET /api/products (the first page of the list) and POST
  /api/products (a new product each time; a Lua script sets the body).
  Requests/sec, the 99th percentile latency, non-2xx answers and socket
  errors are parsed from wrk's output. Rounds alternate 1 and 2 instances.
* What it shows on one machine: that a second instance behind nginx adds no
  errors. It cannot show scaling when the instances, nginx, PostgreSQL and
  wrk share two cores; on separate machines each instance brings its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import nginx
import postgres
import processes
from bench_http import Run, parse_wrk

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ENDPOINTS = {
    "GET list": ("GET", "/api/products", None),
    "POST create": ("POST", "/api/products", '{"name": "Cable", "price": 199}'),
}


def start_instance(port: int, workers: int, env: dict[str, str], log: Path
                   ) -> subprocess.Popen[bytes]:
    command = processes.gunicorn("demo_app:app", port, workers)
    command[3:3] = ["--config", str(GUNICORN_CONF)]  # as shipped; --bind and --workers win
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    if not processes.wait_until_listening(process, port):
        processes.stop(process)
        raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")
    return process


def wrk(url: str, endpoint: str, seconds: float, folder: Path) -> Run:
    method, path, body = ENDPOINTS[endpoint]
    command = ["wrk", "-t2", "-c16", f"-d{max(1, round(seconds))}s", "--latency"]
    if body is not None:
        script = folder / "post.lua"
        script.write_text(f'wrk.method = "{method}"\nwrk.body = [==[{body}]==]\n'
                          'wrk.headers["Content-Type"] = "application/json"\n')
        command += ["-s", str(script)]
    done = subprocess.run([*command, url + path], capture_output=True, text=True,
                          timeout=seconds + 30)
    return parse_wrk(done.stdout)


def measure(instances: int, workers: int, seconds: float, url: str, folder: Path,
            round_number: int) -> dict[str, Run]:
    """One round with `instances` gunicorns behind a new nginx."""
    env = {**os.environ, "DATABASE_URL": url, "MICROROUTE_DEMO_ADMIN_TOKEN": "",
           "PYTHONPATH": str(ROOT)}
    started = []
    balancer = None
    try:
        ports = [processes.free_port() for _ in range(instances)]
        for number, port in enumerate(ports):
            log = folder / f"gunicorn-{round_number}-{instances}-{number}.log"
            started.append(start_instance(port, workers, env, log))
        balancer = nginx.Nginx.start(ports)
        runs = {}
        for endpoint in ENDPOINTS:
            wrk(balancer.url, endpoint, 1, folder)  # warm-up: imports, pools, caches
            runs[endpoint] = wrk(balancer.url, endpoint, seconds, folder)
        return runs
    finally:
        if balancer is not None:
            balancer.stop()
        for process in started:
            processes.stop(process)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="sync workers per instance")
    args = parser.parse_args(argv)
    cluster = postgres.PostgresCluster.start()
    results: dict[int, dict[str, list[Run]]] = {1: {}, 2: {}}
    try:
        url = cluster.create_database("bench")
        with tempfile.TemporaryDirectory(prefix="microroute-deploy-") as temporary:
            for round_number in range(args.rounds):
                for instances in (1, 2) if round_number % 2 == 0 else (2, 1):
                    print(f"  round {round_number + 1}/{args.rounds}: {instances} instance(s)",
                          file=sys.stderr, flush=True)
                    runs = measure(instances, args.workers, args.seconds, url,
                                   Path(temporary), round_number)
                    for endpoint, run in runs.items():
                        results[instances].setdefault(endpoint, []).append(run)
    finally:
        cluster.destroy()

    print(f"nginx -> N gunicorn instances ({args.workers} sync workers each, "
          f"deploy/gunicorn.conf.py) -> PostgreSQL; wrk -t2 -c16 through nginx; "
          f"{args.rounds} rounds × {args.seconds:g} s\n")
    print("| instances | endpoint | req/s (median) | p99 ms (median) | non-2xx | socket errors |")
    print("|---:|---|---:|---:|---:|---:|")
    for instances, by_endpoint in results.items():
        for endpoint, runs in by_endpoint.items():
            p99s = [run.p99_ms for run in runs if run.p99_ms is not None]
            print(f"| {instances} | {endpoint} "
                  f"| {statistics.median(run.per_second for run in runs):.0f} "
                  f"| {statistics.median(p99s) if p99s else float('nan'):.2f} "
                  f"| {sum(run.non_2xx for run in runs)} "
                  f"| {sum(run.socket_errors for run in runs)} |")
    bad = any(run.non_2xx or run.socket_errors or not run.requests
              for by_endpoint in results.values() for runs in by_endpoint.values()
              for run in runs)
    print("\nFAIL: errors through nginx" if bad else "\nOK: no errors")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
