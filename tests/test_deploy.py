"""The shipped deployment, run for real on 127.0.0.1: nginx (deploy/nginx.conf)
in front of two gunicorn instances (deploy/gunicorn.conf.py), each standing for
one machine, both on one PostgreSQL.

Bounded mixed traffic through nginx, with every write read back through both
instances; one instance killed in the middle of it; a slow client that would
hold a bare sync worker, behind nginx and without it; and the URL an app sees
behind the proxy, and without it.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import load
import nginx
import pytest

from demo_databases import PostgresDatabase
from helpers import ROOT, Server

GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
SECONDS, CLIENTS = 6.0, 4  # bounded: a few thousand requests on 2 cores
SLOW_BYTES, SLOW_GAP = 3, 1.5  # the slow client's last bytes, one every 1.5 s
QUICK = 1.0  # seconds a request may take while the slow client is mid-request


@dataclass
class Deployment:
    instances: list[Server]
    balancer: Any  # benchmarks/nginx.py's Nginx

    def worker_pids(self) -> list[int]:
        return [pid for instance in self.instances for pid in instance.worker_pids()]


@pytest.fixture
def start_nginx() -> Iterator[Callable[[list[Server]], Any]]:
    """`start_nginx(instances)` -> nginx from the shipped config in front of them."""
    started: list[Any] = []

    def start(instances: list[Server]) -> Any:
        try:
            balancer = nginx.Nginx.start([instance.port for instance in instances])
        except nginx.NginxUnavailableError as error:
            pytest.skip(str(error))
        started.append(balancer)
        return balancer

    yield start
    for balancer in started:
        balancer.stop()


@pytest.fixture
def deploy(serve: Callable[..., Server], start_nginx: Callable[[list[Server]], Any],
           postgres_db: PostgresDatabase, tmp_path: Path) -> Callable[[int], Deployment]:
    """`deploy(workers)` -> two demo instances with the shipped gunicorn config,
    on one PostgreSQL database, behind nginx."""

    def start(workers: int) -> Deployment:
        env = {**postgres_db.env, "MICROROUTE_DEMO_ADMIN_TOKEN": ""}
        instances = [serve("demo_app:app", workers=workers, env=env, config=GUNICORN_CONF)
                     for _ in range(2)]
        return Deployment(instances, start_nginx(instances))

    return start


def request(url: str, method: str = "GET", path: str = "/", body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 10.0,
            source: str | None = None) -> tuple[int, bytes]:
    """One request over its own connection (from `source`, an address of this
    machine, if given); status and body."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=timeout, source_address=(source, 0) if source else None
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def assert_no_server_errors(deployment: Deployment) -> None:
    for instance in deployment.instances:
        log = instance.log.read_text()
        assert "Traceback" not in log and "[ERROR]" not in log, log


# -- load --------------------------------------------------------------------------


@pytest.mark.slow
def test_two_instances_on_one_postgresql_under_load_through_nginx(
    deploy: Callable[[int], Deployment],
) -> None:
    deployment = deploy(2)

    report = load.run_load(deployment.balancer.url, SECONDS, CLIENTS, deployment.worker_pids())

    summary = "\n" + report.table()
    print(summary)
    assert report.errors_5xx == 0, summary
    assert report.connection_errors == 0 and report.cut_answers == 0, summary
    assert report.unexpected == 0, summary
    assert report.lost_writes == 0, summary
    assert min(report.by_kind[kind] for kind in load.MIX) > 0, summary
    ids = [product["id"] for product in report.products]
    assert len(ids) == len(set(ids)) > 10, "duplicate ids"
    # Every write, read back from each instance directly: whichever one took it,
    # the other one sees it too.
    for product in report.products:
        for instance in deployment.instances:
            status, body = request(instance.url, path=f"/api/products/{product['id']}")
            assert (status, json.loads(body)) == (200, product)
    # nginx did balance: both instances answered (the access log names the upstream).
    access = (deployment.balancer.folder / "logs" / "access.log").read_text()
    for instance in deployment.instances:
        assert f"127.0.0.1:{instance.port}" in access
    assert_no_server_errors(deployment)


def kill_machine(instance: Server) -> float:
    """SIGKILL the instance's master and workers, as a machine dies: all within
    microseconds (no other thread of this process runs meanwhile), the master
    first so that it cannot replace its workers. Returns time.monotonic() once
    the machine is gone: its port refuses connections, so every process that
    held the listening socket has closed all its sockets (a worker's threads,
    psycopg_pool's among them, may take a while after SIGKILL to let go)."""
    pids = [instance.process.pid, *instance.worker_pids()]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    try:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
    finally:
        sys.setswitchinterval(interval)
    instance.process.wait(10)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", instance.port), timeout=1).close()
        except ConnectionRefusedError:
            return time.monotonic()
        except TimeoutError:  # a full backlog: still listening
            pass
        assert time.monotonic() < deadline, f"{pids} still listen after SIGKILL"
        time.sleep(0.005)


@pytest.mark.slow
def test_an_instance_killed_mid_run_loses_no_write(deploy: Callable[[int], Deployment]) -> None:
    deployment = deploy(2)
    victim = deployment.instances[1]
    reports: list[Any] = []
    runner = threading.Thread(target=lambda: reports.append(
        load.run_load(deployment.balancer.url, SECONDS, CLIENTS, deployment.worker_pids())
    ), daemon=True)
    runner.start()
    time.sleep(SECONDS / 3)
    dead_at = kill_machine(victim)
    runner.join(SECONDS + 60)
    assert not runner.is_alive() and reports, "the load did not finish"
    report = reports[0]

    errors = [line for line in deployment.balancer.log().splitlines()
              if "[error]" in line or "[crit]" in line]
    access = (deployment.balancer.folder / "logs" / "access.log").read_text().splitlines()
    summary = "\n".join([
        "", report.table(), f"the victim: 127.0.0.1:{victim.port}",
        *(f"{failure.kind} {failure.outcome}: sent {failure.sent - dead_at:+.3f} s"
          " after the death" for failure in report.failures),
        "nginx's errors:", *errors,
        "nginx's 5xx:", *(line for line in access if '" 5' in line),
    ])
    print(summary)
    # nginx answered every request with a status line, the dead machine's too.
    assert report.connection_errors == 0, summary
    # What failed was in flight on the machine as it died (README, "Deploying",
    # what a machine's death costs): sent before it was gone, at most one per
    # client (each waits for its answer before the next), and in one of the two
    # ways only: a POST it had been sent, answered 502 (nginx never sends a
    # write twice; a GET goes to the survivor instead), or an answer cut after
    # nginx had passed its status line on (fewer bytes than Content-Length).
    failures = report.failures
    assert len(failures) <= CLIENTS, summary
    assert all(failure.sent < dead_at for failure in failures), summary
    assert all(failure.outcome.startswith("cut ")
               or (failure.kind, failure.outcome) == ("create", "502")
               for failure in failures), summary
    assert report.unexpected == report.errors_5xx, summary  # every whole answer is right
    assert report.lost_writes == 0, summary  # every 201 is there, read through nginx
    survivor = deployment.instances[0]
    for product in report.products:
        status, body = request(survivor.url, path=f"/api/products/{product['id']}")
        assert (status, json.loads(body)) == (200, product)
    # nginx blames the dead machine only, and keeps routing around it.
    assert all(f"127.0.0.1:{victim.port}" in line for line in errors), errors
    for _ in range(10):
        assert request(deployment.balancer.url, path="/api/products")[0] == 200


# -- a machine dying mid-request, alone: what nginx does with it ------------------


class DyingUpstream(threading.Thread):
    """A machine that reads each request, sends `reply` (maybe an answer's
    first bytes, maybe nothing) and closes the connection: dead mid-request."""

    def __init__(self, reply: bytes) -> None:
        super().__init__(daemon=True)
        self.reply = reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.requests: list[bytes] = []  # the first line of each one it read
        self.start()

    def run(self) -> None:
        with self.listener:
            while True:
                try:
                    connection, _ = self.listener.accept()
                except OSError:  # closed at the end of the test
                    return
                with connection:
                    data = b""
                    while b"\r\n\r\n" not in data and (chunk := connection.recv(65536)):
                        data += chunk
                    self.requests.append(data.split(b"\r\n")[0])
                    connection.sendall(self.reply)


@pytest.fixture
def dying(start_nginx: Callable[[list[Any]], Any]) -> Iterator[Callable[[bytes, int], Any]]:
    """`dying(reply, machines)` -> nginx (the shipped config) in front of that
    many DyingUpstreams, reachable as its `.machines`."""
    made: list[DyingUpstream] = []

    def start(reply: bytes, machines: int) -> Any:
        upstreams = [DyingUpstream(reply) for _ in range(machines)]
        made.extend(upstreams)
        balancer = start_nginx(upstreams)
        balancer.machines = upstreams
        return balancer

    yield start
    for upstream in made:
        upstream.listener.close()


def test_an_answer_cut_after_its_status_line_reaches_the_client_cut(
    dying: Callable[[bytes, int], Any],
) -> None:
    # The status line and headers went out, then the machine died: nginx has
    # passed them on and cannot take them back, nor try another machine. It
    # closes the connection short of Content-Length, so the client can tell.
    body = json.dumps({"created": {"id": 1, "name": "Cut", "price": 1}}).encode()
    head = (f"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    balancer = dying(head + body[:10], 1)
    host, port = balancer.url.removeprefix("http://").split(":")
    with pytest.raises(load.CutAnswerError) as cut:
        load._request(host, int(port), "POST", "/api/products", {"name": "Cut", "price": 1})
    assert cut.value.status == 201
    assert "upstream prematurely closed connection" in balancer.log()


def test_a_worker_killed_between_its_two_writes_cuts_a_201_that_was_written(
    serve: Callable[..., Server], start_nginx: Callable[[list[Server]], Any], tmp_path: Path,
) -> None:
    # The real thing: gunicorn sends the status line and headers, then the
    # body, in two writes; strace kills the worker as it starts the second.
    # The client gets the 201 and no body, and the product is there.
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("no `strace` on PATH (Debian: apt-get install strace)")
    env = {"MICROROUTE_DEMO_DB": str(tmp_path / "demo.sqlite3"), "DATABASE_URL": "",
           "MICROROUTE_DEMO_ADMIN_TOKEN": ""}
    instance = serve("demo_app:app", workers=1, env=env, config=GUNICORN_CONF)
    balancer = start_nginx([instance])
    assert request(balancer.url, path="/api/products")[0] == 200  # the worker is up
    [worker] = instance.worker_pids()
    tracer = subprocess.Popen(
        [strace, "-p", str(worker), "-e", "trace=sendto", "-e", "inject=sendto:signal=KILL:when=2",
         "-o", os.devnull], stderr=subprocess.PIPE, text=True,
    )
    try:
        attached = tracer.stderr.readline() if tracer.stderr else ""
        if "attached" not in attached:
            pytest.skip(f"strace cannot trace the worker: {attached.strip()}")
        host, port = balancer.url.removeprefix("http://").split(":")
        with pytest.raises(load.CutAnswerError) as cut:
            load._request(host, int(port), "POST", "/api/products", {"name": "Cut", "price": 1})
    finally:
        tracer.wait(10)
        if tracer.stderr:
            tracer.stderr.close()
    assert cut.value.status == 201
    status, body = request(balancer.url, path="/api/products?q=Cut")  # a new worker answers
    assert status == 200 and [product["name"] for product in json.loads(body)] == ["Cut"]


@pytest.mark.parametrize(("method", "machines_sent"), [("GET", 2), ("POST", 1)])
def test_a_request_a_machine_died_on_goes_to_the_next_unless_a_write(
    dying: Callable[[bytes, int], Any], method: str, machines_sent: int,
) -> None:
    # Both machines read the request and die without a word. A GET is sent to
    # the next machine; a POST was sent, so it may have been done: nginx answers
    # 502 rather than do it twice (proxy_next_upstream without non_idempotent).
    balancer = dying(b"", 2)
    status, _ = request(balancer.url, method, "/api/products",
                        body=b"{}" if method == "POST" else None)
    assert status == 502
    assert sum(len(machine.requests) for machine in balancer.machines) == machines_sent


# -- slow clients ----------------------------------------------------------------


class SlowClient(threading.Thread):
    """POSTs a product, its last SLOW_BYTES bytes one every SLOW_GAP seconds."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.address = url.removeprefix("http://").split(":")
        self.answer = b""
        self.sending = threading.Event()  # set once the slow part has begun
        self.finished = threading.Event()  # set once the last byte is sent

    def run(self) -> None:
        body = json.dumps({"name": "Slow", "price": 1}).encode()
        head = (f"POST /api/products HTTP/1.1\r\nHost: shop.example\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: close\r\n\r\n").encode()
        message = head + body
        with socket.create_connection((self.address[0], int(self.address[1])), timeout=30) as s:
            s.sendall(message[:-SLOW_BYTES])
            self.sending.set()
            for byte in message[-SLOW_BYTES:]:
                time.sleep(SLOW_GAP)
                s.sendall(bytes([byte]))
            self.finished.set()
            while chunk := s.recv(65536):
                self.answer += chunk


def quick_requests_while(slow: SlowClient, url: str) -> list[float]:
    """Seconds taken by each GET sent while `slow` is mid-request; a request that
    does not finish within QUICK counts as QUICK (and ends the tries)."""
    assert slow.sending.wait(10)
    taken: list[float] = []
    while not slow.finished.is_set():
        started = time.monotonic()
        try:
            status, _ = request(url, path="/api/hello", timeout=QUICK)
        except TimeoutError:
            taken.append(QUICK)
            break
        assert status == 200
        taken.append(time.monotonic() - started)
        time.sleep(0.05)
    return taken


@pytest.mark.slow
def test_a_slow_client_stalls_nobody_behind_nginx(deploy: Callable[[int], Deployment]) -> None:
    # One sync worker per instance: the fewest a slow client could hold.
    deployment = deploy(1)
    instance = deployment.instances[0]

    # Without nginx: the slow client holds the instance's only worker.
    bare = SlowClient(instance.url)
    bare.start()
    bare_taken = quick_requests_while(bare, instance.url)
    bare.join(30)
    # Behind nginx: nginx reads the slow request; the workers never wait for it.
    behind = SlowClient(deployment.balancer.url)
    behind.start()
    behind_taken = quick_requests_while(behind, deployment.balancer.url)
    behind.join(30)

    print(f"\nwhile a client sent {SLOW_BYTES} bytes, one every {SLOW_GAP} s:"
          f"\n  straight to gunicorn: {len(bare_taken)} request(s), stalled"
          f" ({max(bare_taken):.2f} s, the client's limit)"
          f"\n  through nginx: {len(behind_taken)} requests, the slowest"
          f" {max(behind_taken):.3f} s")
    assert bare_taken[-1] == QUICK, "a bare sync worker was expected to be held"
    assert len(behind_taken) >= 10 and max(behind_taken) < QUICK, behind_taken
    for slow in (bare, behind):  # both slow writes succeed in the end
        assert slow.answer.startswith(b"HTTP/1.1 201"), slow.answer[:200]
    assert_no_server_errors(deployment)


# -- the URL behind the proxy ----------------------------------------------------

URL_ROUTE = """
from microroute import Response

def GET(request):
    return Response.json({"url": request.url})
"""
UNTRUSTED = "127.0.0.2"  # a client reaching gunicorn directly, not through nginx


@pytest.fixture
def behind_nginx(serve: Callable[..., Server], start_nginx: Callable[[list[Server]], Any],
                 tree: Callable[[dict[str, str]], Path]) -> tuple[Server, Any]:
    app_dir = tree({"api/url/route.py": URL_ROUTE})
    (app_dir.parent / "proxied.py").write_text(
        "from pathlib import Path\nfrom microroute import App\n"
        "app = App(Path(__file__).parent / 'app')\n"
    )
    instance = serve("proxied:app", cwd=app_dir.parent, config=GUNICORN_CONF)
    return instance, start_nginx([instance])


def url_seen(base: str, headers: dict[str, str], source: str | None = None) -> str:
    status, body = request(base, path="/api/url?x=1", headers=headers, source=source)
    assert status == 200, body
    url: str = json.loads(body)["url"]
    return url


def test_through_nginx_the_url_is_the_public_one_whatever_the_client_claims(
    behind_nginx: tuple[Server, Any],
) -> None:
    _, balancer = behind_nginx
    assert url_seen(balancer.url, {"Host": "shop.example"}) == "http://shop.example/api/url?x=1"
    # nginx sets X-Forwarded-Proto itself; the other scheme headers gunicorn
    # knows it passes on, and the shipped gunicorn config ignores them.
    claims = {"Host": "shop.example", "X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on",
              "X-Forwarded-Protocol": "ssl", "X-Forwarded-Host": "evil.example",
              "SCRIPT_NAME": "/api", "Script-Name": "/api"}
    assert url_seen(balancer.url, claims) == "http://shop.example/api/url?x=1"


def test_gunicorn_takes_the_scheme_from_the_proxy_address_only(
    behind_nginx: tuple[Server, Any],
) -> None:
    instance, _ = behind_nginx
    https = {"Host": "shop.example", "X-Forwarded-Proto": "https"}
    # From the proxy's address (forwarded_allow_ips, 127.0.0.1 here): obeyed.
    assert url_seen(instance.url, https) == "https://shop.example/api/url?x=1"
    # From anyone else: ignored.
    assert url_seen(instance.url, https, source=UNTRUSTED) == "http://shop.example/api/url?x=1"
    # Only X-Forwarded-Proto, even from the proxy's address.
    for header, value in (("X-Forwarded-Ssl", "on"), ("X-Forwarded-Protocol", "ssl")):
        assert url_seen(instance.url, {"Host": "shop.example", header: value}) == \
            "http://shop.example/api/url?x=1"


@pytest.mark.parametrize("source", [None, UNTRUSTED])
def test_no_header_moves_the_mount_point_or_the_host(
    behind_nginx: tuple[Server, Any], source: str | None,
) -> None:
    instance, _ = behind_nginx
    claims = {"Host": "shop.example", "SCRIPT_NAME": "/api", "PATH_INFO": "/x",
              "X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/evil"}
    assert url_seen(instance.url, claims, source=source) == "http://shop.example/api/url?x=1"
