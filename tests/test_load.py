"""Bounded load: the demo under gunicorn with 2 workers takes 15 s of mixed
traffic from 2 client threads (`benchmarks/load.py`, which explains the method)
without a 5xx, a connection error, a wrong answer, a lost write or growing memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import load
import pytest

from demo_app.store import DB_ENV_VAR
from helpers import Server

# Bounded so that CI stays quick, and so that the ~1,000 loopback connections a
# second (gunicorn's sync worker closes each one) stay well under the ~28,000
# local ports even where TIME_WAIT ports are not reused.
WORKERS, CLIENTS = 2, 2
SECONDS, WARMUP = 15.0, 3.0  # the warm-up is traffic too, but RSS is not sampled in it
MIN_SERVED = 1_000  # ~50/s: a loose floor; this machine serves well over 1,000/s
MAX_RSS_GROWTH = 0.10  # per worker, mean of the last third over the first third


def workers_of(server: Server, count: int, timeout: float = 20.0) -> list[int]:
    """gunicorn binds its socket before it forks: wait until every worker exists."""
    deadline = time.monotonic() + timeout
    while len(pids := server.worker_pids()) < count:
        assert time.monotonic() < deadline, f"only {len(pids)} of {count} workers"
        time.sleep(0.1)
    return pids


@pytest.mark.slow
def test_two_workers_under_bounded_mixed_load(serve: Callable[..., Server],
                                              tmp_path: Path) -> None:
    server = serve("demo_app:app", workers=WORKERS,
                   env={DB_ENV_VAR: str(tmp_path / "demo.sqlite3"),
                        "MICROROUTE_DEMO_ADMIN_TOKEN": ""})
    pids = workers_of(server, WORKERS)

    report = load.run_load(server.url, SECONDS, CLIENTS, pids, warmup=WARMUP)

    summary = "\n" + report.table()
    print(summary)  # shown with -s or -rP, and on failure
    assert report.errors_5xx == 0, summary
    assert report.connection_errors == 0, summary
    assert report.cut_answers == 0, summary
    assert report.unexpected == 0, summary
    assert report.lost_writes == 0, summary
    assert report.served >= MIN_SERVED, summary
    assert min(report.by_kind[kind] for kind in load.MIX) > 0, summary
    assert report.workers_gone == [] and sorted(server.worker_pids()) == sorted(pids), summary
    growth = report.rss_growth()
    assert sorted(growth) == sorted(pids), summary
    assert all(change < MAX_RSS_GROWTH for change in growth.values()), summary
    log = server.log.read_text()
    assert "Traceback" not in log and "[ERROR]" not in log, log
