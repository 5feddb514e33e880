"""Bounded load on the demo under a real gunicorn: correct answers, no lost
writes, no memory growth.

    python benchmarks/load.py --seconds 30 --clients 4 --workers 2

Run directly, the script starts its own gunicorn (`demo_app:app`, sync workers)
on a free 127.0.0.1 port with a fresh SQLite file in a temporary folder, and
stops it by PID at the end. `tests/test_load.py` calls `run_load` against a
server the test started.

Method
------
* Traffic. `clients` threads (a bounded, closed-loop client: each sends its
  next request only once the last one is answered) repeat a fixed mix for
  `seconds` of wall time:

      GET  /api/products           the first page of the list      -> 200, a list
      GET  /api/products/<id>      one product made before the run -> 200, that product
      POST /api/products           a unique name                   -> 201, {"created": ...}
      GET  /api/no-such-route      a path no route serves          -> 404

  Every request goes over a new connection: gunicorn's sync worker answers
  `Connection: close` to each request, so there is nothing to keep alive (and
  no stale kept-alive socket to mistake for a server fault). Every request
  has a timeout.
* Counts. A request *served* is one answered with any status. A *connection
  error* is one that got no status line at all (refused, reset, timed out,
  malformed). A *cut answer* got its status line and headers, then the
  connection ended (closed, reset, or silent past the timeout) before the
  whole body came: fewer bytes than its `Content-Length`, which the client
  can tell from a whole answer (`http.client` raises `IncompleteRead`). A
  proxy can do nothing else when the machine behind it dies mid-answer
  (README, "Deploying"); it is counted apart, and is never a served answer.
  An *unexpected* answer has another status than the one above, or a body
  that does not match (the wrong product, a name that is not the one sent).
  Every request without a whole answer, or answered 5xx, is also listed
  among the report's `failures`, with its kind and when it was sent.
* Lost writes. Each 201 is recorded with the product it returned. After the
  run the whole catalogue is read page by page
  (`GET /api/products?limit=200&offset=...`): every recorded product must be
  listed exactly once, with the id, name and price the 201 gave. A missing,
  doubled or changed product is a lost write.
* Memory. A sampler reads `VmRSS` from `/proc/<pid>/status` of every worker
  every `RSS_INTERVAL` seconds. The first `warmup` seconds of traffic are not
  sampled: a worker's first requests import route modules, open its SQLite
  connection and fill Python's and SQLite's caches, a one-off growth that is
  not a leak. The rest of the run is cut into thirds by time, and the report
  compares each worker's mean RSS over the last third with its mean over the
  first. A leak grows with the number of requests, so it shows as steady
  growth between the two; a constant footprint shows as ~0%.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import processes

ROOT = Path(__file__).resolve().parent.parent
DB_ENV_VAR = "MICROROUTE_DEMO_DB"  # demo_app.store.DB_ENV_VAR; not imported, to run standalone
REQUEST_TIMEOUT = 10.0  # seconds, for every single request
RSS_INTERVAL = 0.2  # seconds between two RSS samples of every worker
PAGE = 200  # the list endpoint's largest page
MIX = ("list", "item", "create", "missing")  # one round of each client's traffic
MISSING_PATH = "/api/no-such-route"


# -- the report ----------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A request that got no whole answer, or a 5xx."""

    kind: str  # one of MIX
    outcome: str  # "502" (the status), "cut 201" (the status, then a short body), "no answer"
    sent: float  # time.monotonic() when the client sent it


@dataclass
class LoadReport:
    seconds: float  # wall time of the traffic, warm-up included
    warmup: float  # the first seconds, with traffic but no RSS samples
    clients: int
    served: int = 0  # answered with any status
    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)  # served, per kind of request
    connection_errors: int = 0  # no status line
    cut_answers: int = 0  # a status line, then less body than announced
    unexpected: int = 0  # a wrong status or a wrong body
    failures: list[Failure] = field(default_factory=list)  # 5xx, cut, no answer
    created: int = 0  # 201s to POST
    products: list[dict[str, Any]] = field(default_factory=list)  # what those 201s returned
    lost_writes: int = 0
    examples: list[str] = field(default_factory=list)  # the first few problems, for humans
    rss_first_kib: dict[int, float] = field(default_factory=dict)  # worker PID -> mean VmRSS
    rss_last_kib: dict[int, float] = field(default_factory=dict)
    rss_samples: int = 0
    workers_gone: list[int] = field(default_factory=list)  # PIDs that exited during the run

    @property
    def errors_5xx(self) -> int:
        return sum(count for status, count in self.by_status.items() if status >= 500)

    @property
    def per_second(self) -> float:
        return self.served / self.seconds if self.seconds else 0.0

    def rss_growth(self) -> dict[int, float]:
        """Per worker: last third's mean RSS over the first third's, minus 1."""
        return {pid: self.rss_last_kib[pid] / first - 1
                for pid, first in self.rss_first_kib.items()
                if first and pid in self.rss_last_kib}

    def max_rss_growth(self) -> float:
        growth = self.rss_growth()
        return max(growth.values()) if growth else float("nan")

    def problems(self, max_growth: float = 0.10) -> list[str]:
        """What fails the hardening bar; empty when the run passed."""
        found = []
        if self.errors_5xx:
            found.append(f"{self.errors_5xx} 5xx answers")
        if self.connection_errors:
            found.append(f"{self.connection_errors} connection errors")
        if self.cut_answers:
            found.append(f"{self.cut_answers} cut answers")
        if self.unexpected:
            found.append(f"{self.unexpected} unexpected answers")
        if self.lost_writes:
            found.append(f"{self.lost_writes} lost writes")
        if self.workers_gone:
            found.append(f"workers gone during the run: {self.workers_gone}")
        if not self.rss_growth():
            found.append("no RSS samples to compare")
        elif not self.max_rss_growth() < max_growth:
            found.append(f"RSS grew {self.max_rss_growth():.1%} (limit {max_growth:.0%})")
        return found

    def table(self) -> str:
        statuses = ", ".join(f"{status}: {count}"
                             for status, count in sorted(self.by_status.items()))
        kinds = ", ".join(f"{kind}: {self.by_kind[kind]}" for kind in MIX)
        rows = [
            ("traffic", f"{self.seconds:.0f} s ({self.warmup:.0f} s warm-up), "
                        f"{self.clients} clients"),
            ("requests served", f"{self.served} ({self.per_second:.0f}/s)"),
            ("  by kind", kinds),
            ("  by status", statuses or "-"),
            ("5xx", str(self.errors_5xx)),
            ("connection errors", str(self.connection_errors)),
            ("cut answers", str(self.cut_answers)),
            ("unexpected answers", str(self.unexpected)),
            ("lost writes", f"{self.lost_writes} of {self.created} created"),
        ]
        if self.failures:
            rows.append(("failures", ", ".join(f"{failure.kind} {failure.outcome}"
                                               for failure in self.failures)))
        growth = self.rss_growth()
        for pid in sorted(self.rss_first_kib):
            first, last = self.rss_first_kib[pid], self.rss_last_kib.get(pid, float("nan"))
            change = f"{growth[pid]:+.1%}" if pid in growth else "?"
            rows.append((f"worker {pid} RSS", f"{first / 1024:.1f} MiB -> {last / 1024:.1f} MiB"
                                              f" ({change}, first -> last third)"))
        rows.append(("RSS samples", f"{self.rss_samples} per worker"))
        if self.workers_gone:
            rows.append(("workers gone", ", ".join(map(str, self.workers_gone))))
        width = max(len(name) for name, _ in rows)
        lines = [f"{name:<{width}}  {value}" for name, value in rows]
        lines += [f"  e.g. {example}" for example in self.examples]
        return "\n".join(lines)


# -- one client ------------------------------------------------------------------


@dataclass
class _Tally:
    """What one client thread saw; merged into the report after the run."""

    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    connection_errors: int = 0
    cut_answers: int = 0
    unexpected: int = 0
    failures: list[Failure] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(text)


class CutAnswerError(Exception):
    """The status line came, then the connection ended before the whole body."""

    def __init__(self, status: int, cause: BaseException) -> None:
        super().__init__(f"{status}, then {cause!r}")
        self.status = status


def _request(host: str, port: int, method: str, path: str,
             body: Any = None) -> tuple[int, dict[str, str], bytes]:
    """One request over its own connection, closed afterwards whatever happens.

    Raises OSError or HTTPException when no status line came, CutAnswerError
    when one came but not the whole body.
    """
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        headers = {"Connection": "close"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        try:
            content = response.read()
        except (OSError, http.client.HTTPException) as error:  # IncompleteRead, reset
            raise CutAnswerError(response.status, error) from error
        return response.status, dict(response.getheaders()), content
    finally:
        connection.close()


def _client(host: str, port: int, number: int, run_id: str, known: dict[str, Any],
            deadline: float, tally: _Tally) -> None:
    sent = 0
    while time.monotonic() < deadline:
        kind = MIX[sent % len(MIX)]
        sent += 1
        expected, method, path, body = 200, "GET", "/api/products", None
        if kind == "item":
            path = f"/api/products/{known['id']}"
        elif kind == "create":
            expected, method = 201, "POST"
            body = {"name": f"load {run_id} {number}-{sent}", "price": sent}
        elif kind == "missing":
            expected, path = 404, MISSING_PATH
        sent_at = time.monotonic()
        try:
            status, headers, content = _request(host, port, method, path, body)
        except CutAnswerError as cut:
            tally.cut_answers += 1
            tally.failures.append(Failure(kind, f"cut {cut.status}", sent_at))
            tally.problem(f"{method} {path}: cut answer: {cut}")
            continue
        except (OSError, http.client.HTTPException) as error:  # timeouts are OSErrors
            tally.connection_errors += 1
            tally.failures.append(Failure(kind, "no answer", sent_at))
            tally.problem(f"{method} {path}: {error!r}")
            continue
        tally.by_status[status] += 1
        tally.by_kind[kind] += 1
        if status >= 500:
            tally.failures.append(Failure(kind, str(status), sent_at))
        wrong = _check(kind, status, expected, headers, content, body, known)
        if wrong:
            tally.unexpected += 1
            tally.problem(f"{method} {path} -> {status}: {wrong}")
        elif kind == "create":
            tally.created.append(json.loads(content)["created"])


def _check(kind: str, status: int, expected: int, headers: dict[str, str], content: bytes,
           sent: Any, known: dict[str, Any]) -> str:
    """Why this answer is wrong, or "" if it is what the mix expects."""
    if status != expected:
        return f"expected {expected}: {content[:200]!r}"
    if kind == "missing":
        return ""
    try:
        data = json.loads(content)
    except ValueError:
        return f"not JSON: {content[:200]!r}"
    if kind == "list" and not isinstance(data, list):
        return f"not a list: {content[:200]!r}"
    if kind == "item" and data != known:
        return f"expected {known}, got {data}"
    if kind == "create":
        created = data.get("created") if isinstance(data, dict) else None
        if not isinstance(created, dict) or {**created, "id": None} != {**sent, "id": None}:
            return f"sent {sent}, got {data}"
        if headers.get("Location") != f"/api/products/{created['id']}":
            return f"Location {headers.get('Location')!r} for {created}"
    return ""


# -- memory ----------------------------------------------------------------------


def _sample_rss(pids: list[int], start: float, deadline: float, stop: threading.Event,
                samples: list[tuple[float, int, int]], gone: set[int]) -> None:
    """(time, pid, KiB) every RSS_INTERVAL from `start` until `deadline`."""
    if stop.wait(max(0.0, start - time.monotonic())):
        return
    while time.monotonic() < deadline:
        now = time.monotonic()
        for pid in pids:
            try:
                samples.append((now, pid, processes.rss_kib(pid)))
            except (OSError, ValueError):
                gone.add(pid)
        if stop.wait(RSS_INTERVAL):
            return


def _thirds(samples: list[tuple[float, int, int]], start: float,
            end: float) -> tuple[dict[int, float], dict[int, float]]:
    """Per PID, the mean of the samples in the first and in the last third of [start, end]."""
    third = (end - start) / 3
    first: dict[int, list[int]] = {}
    last: dict[int, list[int]] = {}
    for when, pid, kib in samples:
        if when < start + third:
            first.setdefault(pid, []).append(kib)
        elif when >= end - third:
            last.setdefault(pid, []).append(kib)

    def mean(values: dict[int, list[int]]) -> dict[int, float]:
        return {pid: sum(kibs) / len(kibs) for pid, kibs in values.items()}

    return mean(first), mean(last)


# -- the run ---------------------------------------------------------------------


def run_load(base_url: str, seconds: float, clients: int, worker_pids: list[int],
             warmup: float | None = None) -> LoadReport:
    """Send the mix from `clients` threads for `seconds`, then check every write.

    `worker_pids` are the gunicorn workers whose RSS is sampled; `warmup`
    (default: a fifth of the run, at most 3 s) is the unsampled start.
    """
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    warmup = min(3.0, seconds / 5) if warmup is None else warmup
    report = LoadReport(seconds=seconds, warmup=warmup, clients=clients)
    run_id = secrets.token_hex(4)  # names unique across runs on the same database

    status, _, content = _request(host, port, "POST", "/api/products",
                                  {"name": f"load {run_id} known", "price": 1})
    if status != 201:
        raise RuntimeError(f"could not create the product to read: {status} {content[:200]!r}")
    known = json.loads(content)["created"]

    tallies = [_Tally() for _ in range(clients)]
    samples: list[tuple[float, int, int]] = []
    gone: set[int] = set()
    stop = threading.Event()
    start = time.monotonic()
    deadline = start + seconds
    sampler = threading.Thread(target=_sample_rss, daemon=True,
                               args=(worker_pids, start + warmup, deadline, stop, samples, gone))
    threads = [threading.Thread(target=_client, daemon=True,
                                args=(host, port, n, run_id, known, deadline, tallies[n]))
               for n in range(clients)]
    sampler.start()
    for thread in threads:
        thread.start()
    # A request started just before the deadline may take up to its timeout.
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 5)
    stop.set()
    sampler.join(5)
    if any(thread.is_alive() for thread in threads):
        raise RuntimeError("client threads did not stop")

    created: list[dict[str, Any]] = [known]
    for tally in tallies:
        report.by_status.update(tally.by_status)
        report.by_kind.update(tally.by_kind)
        report.connection_errors += tally.connection_errors
        report.cut_answers += tally.cut_answers
        report.unexpected += tally.unexpected
        report.failures += tally.failures
        report.examples += tally.examples[: max(0, 5 - len(report.examples))]
        created += tally.created
    report.served = sum(report.by_status.values())
    report.created = len(created)
    report.products = created
    report.lost_writes = _lost_writes(host, port, created, report)
    report.rss_first_kib, report.rss_last_kib = _thirds(samples, start + warmup, deadline)
    report.rss_samples = min(Counter(pid for _, pid, _ in samples).values(), default=0)
    report.workers_gone = sorted(gone)
    return report


def _lost_writes(host: str, port: int, created: list[dict[str, Any]],
                 report: LoadReport) -> int:
    """How many created products are not listed exactly once, unchanged."""
    listed: Counter[int] = Counter()
    found: dict[int, dict[str, Any]] = {}
    offset = 0
    ours = {product["id"] for product in created}
    while True:
        path = f"/api/products?limit={PAGE}&offset={offset}"
        status, _, content = _request(host, port, "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {content[:200]!r}")
        page = json.loads(content)
        for product in page:
            if product["id"] in ours:
                listed[product["id"]] += 1
                found[product["id"]] = product
        if len(page) < PAGE:
            return sum(1 for product in created
                       if listed[product["id"]] != 1 or found[product["id"]] != product)
        offset += PAGE
        if offset > PAGE * 10_000:
            raise RuntimeError("the product list never ends")


# -- standalone: our own gunicorn --------------------------------------------------


def wait_for_workers(master: int, count: int, timeout: float = 20.0) -> list[int]:
    """The master binds its socket before it forks: wait until all workers exist."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = processes.worker_pids(master)
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn has {len(processes.worker_pids(master))} workers, not {count}")


def _start_gunicorn(workers: int, db: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = processes.free_port()
    command = [sys.executable, "-m", "gunicorn", "demo_app:app", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--graceful-timeout", "2", "--timeout", "30"]
    env = {**os.environ, DB_ENV_VAR: str(db), "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    if processes.wait_until_listening(process, port):
        return process, port
    processes.stop(process)
    raise RuntimeError(f"gunicorn did not start:\n{log.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="wall time of the traffic")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--warmup", type=float, default=None,
                        help="unsampled seconds at the start (default: seconds/5, at most 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="microroute-load-") as folder:
        log = Path(folder) / "gunicorn.log"
        process, port = _start_gunicorn(args.workers, Path(folder) / "demo.sqlite3", log)
        try:
            pids = wait_for_workers(process.pid, args.workers)
            print(f"gunicorn {process.pid} on 127.0.0.1:{port}, workers {pids}", flush=True)
            report = run_load(f"http://127.0.0.1:{port}", args.seconds, args.clients, pids,
                              warmup=args.warmup)
        finally:
            processes.stop(process)
        print(report.table())
        problems = report.problems()
        if "Traceback" in log.read_text():
            problems.append(f"a traceback in the server log:\n{log.read_text()}")
    print("FAIL: " + "; ".join(problems) if problems else "OK")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
