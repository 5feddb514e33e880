"""`async def` user functions: in the app (errors, statuses, every kind of
function), and through a real gunicorn, sync and gthread workers, with
--preload: one event loop per worker thread, kept across requests.

loops.py's own unit tests (`run` against `asyncio.run`, exit, fork) are in
test_loops.py.
"""

from __future__ import annotations

import http.server
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from werkzeug.test import Client

from helpers import BROWSER, Server, write_tree

MakeClient = Callable[..., Client]

# -- in the app -------------------------------------------------------------------

RAISING = """
import asyncio
from microroute import HTTPError, Response

async def GET(request):
    if request.query.get("wait"):
        await asyncio.sleep(0)
    if request.query.get("status"):
        raise HTTPError(int(request.query["status"]), "told to")
    raise RuntimeError("secret <detail>")
"""


@pytest.mark.parametrize("wait", ["", "1"], ids=["before-waiting", "after-waiting"])
def test_an_exception_in_an_async_handler_is_a_500_with_its_traceback_in_the_log(
    make_client: MakeClient, wait: str,
) -> None:
    client = make_client({"boom/route.py": RAISING})
    log = io.StringIO()
    response = client.get(f"/boom?wait={wait}", errors_stream=log, buffered=True)
    assert response.status_code == 500
    assert response.get_json() == {"error": "Internal Server Error"}
    assert "secret" not in response.text
    assert "Traceback" in log.getvalue()
    assert "RuntimeError: secret <detail>" in log.getvalue()
    assert "boom/route.py" in log.getvalue()


@pytest.mark.parametrize("wait", ["", "1"], ids=["before-waiting", "after-waiting"])
@pytest.mark.parametrize("status", [404, 418, 422])
def test_an_http_error_from_an_async_handler_is_its_status(
    make_client: MakeClient, wait: str, status: int,
) -> None:
    client = make_client({"boom/route.py": RAISING})
    response = client.get(f"/boom?wait={wait}&status={status}", buffered=True)
    assert response.status_code == status
    assert response.get_json() == {"error": "told to"}


EVERY_KIND = {
    "shared.py": """
        import asyncio
        lock = asyncio.Lock()  # one for every function below, across requests

        async def turn():
            async with lock:
                await asyncio.sleep(0)
            return id(asyncio.get_running_loop())
    """,
    "proxy.py": """
        from microroute import Response
        from .shared import turn

        async def proxy(request):
            request.environ["proxy.loop"] = await turn()
            return None
    """,
    "layout.py": """
        from .shared import turn

        async def Layout(children, request):
            same = await turn() == request.environ["proxy.loop"]
            return f"<main data-same-loop={same}>{children}</main>"
    """,
    "about/page.py": """
        from ..shared import turn

        async def Page(request):
            return f"<h1>About</h1><p>{await turn() == request.environ['proxy.loop']}</p>"
    """,
    "not_found.py": """
        from .shared import turn

        async def NotFound(request):
            return f"<h1>Nothing here</h1><p>{await turn() == request.environ['proxy.loop']}</p>"
    """,
}


def test_every_kind_of_user_function_may_be_async_and_they_share_the_threads_loop(
    make_client: MakeClient,
) -> None:
    client = make_client(EVERY_KIND)
    for _ in range(3):  # the module-level lock outlives a request
        about = client.get("/about", headers={"Accept": BROWSER}, buffered=True)
        assert about.status_code == 200
        assert "<main data-same-loop=True><h1>About</h1><p>True</p></main>" in about.text
        missing = client.get("/nowhere", headers={"Accept": BROWSER}, buffered=True)
        assert missing.status_code == 404
        assert "<h1>Nothing here</h1><p>True</p>" in missing.text


# -- through gunicorn ---------------------------------------------------------------

SITE = '''
import asyncio, os
from pathlib import Path
from microroute import App, loops

async def _loop():
    return asyncio.get_running_loop()

# The loop of the process that imports this module: with --preload, that is
# gunicorn's master, whose loop its workers must not inherit.
IMPORTED_IN = os.getpid()
IMPORT_LOOP = loops.run(_loop())
app = App(Path(__file__).parent / "app")
'''

ROUTES = {
    "api/where/route.py": """
        import asyncio, os, threading
        from microroute import Response

        async def GET():
            import asyncsite
            loop = asyncio.get_running_loop()
            await asyncio.sleep(0.05)  # long enough for the threads to overlap
            return Response.json({
                "pid": os.getpid(), "thread": threading.get_ident(), "loop": id(loop),
                "imported_in": asyncsite.IMPORTED_IN, "import_loop": loop is asyncsite.IMPORT_LOOP,
            })
    """,
    "api/lock/[kind]/route.py": """
        import asyncio
        from microroute import Response, loops

        module_lock = asyncio.Lock()                # made once: one loop per process
        per_loop_lock = loops.per_loop(asyncio.Lock)   # made once per worker thread
        inside = loops.per_loop(lambda: [0])

        async def critical(lock):
            async with lock:  # three at a time contend: the lock binds to the loop
                inside()[0] += 1
                assert inside()[0] == 1, "two inside the lock"
                await asyncio.sleep(0)
                inside()[0] -= 1

        async def GET(request, params):
            lock = module_lock if params["kind"] == "module" else per_loop_lock()
            await asyncio.gather(critical(lock), critical(lock), critical(lock))
            return Response.json({"ok": True})
    """,
    "api/upstream/[kind]/route.py": """
        import asyncio, os, time
        import httpx
        from microroute import Response, loops

        UPSTREAM = os.environ["UPSTREAM_URL"]
        module_client = httpx.AsyncClient(timeout=5)            # one loop per process
        per_loop_client = loops.per_loop(lambda: httpx.AsyncClient(timeout=5))

        async def GET(request, params):
            client = module_client if params["kind"] == "module" else per_loop_client()
            calls = int(request.query.get("calls", "1"))
            delay = request.query.get("delay", "0")
            started = time.perf_counter()
            answers = await asyncio.gather(*(
                client.get(f"{UPSTREAM}/?delay={delay}") for _ in range(calls)
            ))
            return Response.json({
                "texts": [answer.text for answer in answers],
                "seconds": time.perf_counter() - started,
            })
    """,
}


class _Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections

    def do_GET(self) -> None:
        delay = float(self.path.partition("delay=")[2] or 0)
        time.sleep(delay)
        body = b"pong"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *arguments: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """A small server on 127.0.0.1 for the handlers' async client to call."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


WORKERS = {
    "sync": [],
    "gthread": ["--worker-class", "gthread", "--threads", "4"],
}


@pytest.fixture(params=list(WORKERS))
def site(request: pytest.FixtureRequest, tmp_path: Path, upstream: str,
         serve: Callable[..., Server]) -> Iterator[tuple[str, Server]]:
    write_tree(tmp_path, ROUTES)
    (tmp_path / "asyncsite.py").write_text(SITE)
    kind = request.param
    # Every warning shown in the workers: closing the loops (and the clients
    # made on them) at exit must leave none of asyncio's.
    server = serve("asyncsite:app", cwd=tmp_path, arguments=WORKERS[kind],
                   env={"UPSTREAM_URL": upstream, "PYTHONWARNINGS": "always"})
    yield kind, server
    server.stop()
    log = server.log.read_text()
    assert "Worker exiting" in log  # a graceful exit: atexit ran
    for trouble in ("Traceback", "was destroyed but it is pending", "unclosed event loop",
                    "unclosed transport", "never awaited", "Unclosed"):
        assert trouble not in log, log


def get_json(server: Server, path: str) -> Any:
    status, _, body = server.request("GET", path)
    assert status == 200, body
    return json.loads(body)


def many(server: Server, path: str, count: int, at_once: int = 8) -> list[Any]:
    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(lambda _: get_json(server, path), range(count)))


@pytest.mark.slow
def test_a_module_level_lock_serves_200_requests(site: tuple[str, Server]) -> None:
    kind, server = site
    # A plain module-level lock belongs to one loop: right for sync workers
    # (one thread); gthread's threads each have a loop, so one per loop.
    lock = "module" if kind == "sync" else "per-loop"
    assert many(server, f"/api/lock/{lock}", 200) == [{"ok": True}] * 200
    if kind == "sync":
        assert many(server, "/api/lock/per-loop", 50) == [{"ok": True}] * 50


@pytest.mark.slow
def test_a_module_level_async_client_serves_200_requests(site: tuple[str, Server]) -> None:
    kind, server = site
    client = "module" if kind == "sync" else "per-loop"
    answers = many(server, f"/api/upstream/{client}", 200)
    assert [answer["texts"] for answer in answers] == [["pong"]] * 200


@pytest.mark.slow
def test_ten_calls_gathered_take_the_time_of_one(site: tuple[str, Server]) -> None:
    """Ten 0.2 s calls, gathered: concurrency inside one request. Serially
    they take 2 s; together about 0.2 s plus ten requests' overhead. The
    bound (1.5 s) only has to tell the two apart on a loaded shared machine."""
    _, server = site
    get_json(server, "/api/upstream/per-loop")  # the worker has booted: time the request alone
    started = time.perf_counter()
    answer = get_json(server, "/api/upstream/per-loop?calls=10&delay=0.2")
    elapsed = time.perf_counter() - started
    assert answer["texts"] == ["pong"] * 10
    assert answer["seconds"] < 1.5
    assert elapsed < 1.5


@pytest.mark.slow
def test_threads_never_share_a_loop_and_each_keeps_its_own(site: tuple[str, Server]) -> None:
    kind, server = site
    answers = many(server, "/api/where", 40)
    loops_of_threads: dict[tuple[int, int], set[int]] = {}
    threads_of_loops: dict[tuple[int, int], set[int]] = {}
    for answer in answers:
        loops_of_threads.setdefault((answer["pid"], answer["thread"]), set()).add(answer["loop"])
        threads_of_loops.setdefault((answer["pid"], answer["loop"]), set()).add(answer["thread"])
    assert all(len(each) == 1 for each in loops_of_threads.values())  # kept for its life
    assert all(len(each) == 1 for each in threads_of_loops.values())  # never shared
    if kind == "gthread":
        assert len(loops_of_threads) >= 2  # the threads did overlap: the test means something


@pytest.mark.slow
def test_with_preload_each_worker_makes_its_own_loop(
    tmp_path: Path, upstream: str, serve: Callable[..., Server],
) -> None:
    write_tree(tmp_path, ROUTES)
    (tmp_path / "asyncsite.py").write_text(SITE)
    # Sync workers: the thread that serves is the one that forked (gthread's
    # are new threads, whose loops are new anyway).
    server = serve("asyncsite:app", cwd=tmp_path, workers=2, arguments=["--preload"],
                   env={"UPSTREAM_URL": upstream})
    answers = many(server, "/api/where", 20)
    assert {answer["imported_in"] for answer in answers} == {server.process.pid}
    assert all(answer["pid"] != server.process.pid for answer in answers)
    assert not any(answer["import_loop"] for answer in answers)  # never the master's loop
    assert many(server, "/api/lock/per-loop", 20) == [{"ok": True}] * 20


# -- the demo's async handler ----------------------------------------------------------


@pytest.mark.parametrize("database_there", [True, False], ids=["healthy", "no-database"])
def test_the_demos_health_check_runs_its_checks_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_there: bool,
) -> None:
    from demo_app import app
    from demo_app.store import default_store

    folder = tmp_path if database_there else tmp_path / "no such folder"
    monkeypatch.setenv("MICROROUTE_DEMO_DB", str(folder / "demo.sqlite3"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    default_store.cache_clear()
    try:
        response = Client(validator(app)).get("/api/health", buffered=True)
    finally:
        default_store.cache_clear()
    if database_there:
        assert response.status_code == 200
        assert response.get_json() == {"ok": True, "checks": {"database": "ok", "disk": "ok"}}
    else:
        assert response.status_code == 503
        assert response.get_json() == {"ok": False, "checks": {"database": "failed", "disk": "ok"}}
