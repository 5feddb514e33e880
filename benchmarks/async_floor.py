"""The least an `async def` handler that returns at once can cost, next to
what it costs: why issue #13's ×1.3 is out of reach on Python 3.10 and 3.11.

    python benchmarks/async_floor.py [--rounds 15] [--number 2000]

Method. `bench_inprocess.py`'s async rows (`def GET` against `async def
GET`, the same handler), timed three times in one process, interleaved:
with `loops.run` as it is; with `loops.run` replaced by the least a correct
first step does (a context for the coroutine, the loop marked running, the
task entered, the step, the task left, the loop unmarked: no thread lookup,
no refusal of a nested call, no exception or cancel handling); and with that
least minus the two marks, which is wrong (`asyncio.get_running_loop()`
fails in the handler) and is timed only to see what the marks cost. On
3.10 and 3.11 each mark is a `getpid()` system call, in asyncio's C
`_set_running_loop`; 3.12 makes none (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import statistics
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench_inprocess
import peers

from microroute import loops

ROWS = {kind: bench_inprocess.HANDLERS[kind] for kind in ("def GET", "async def GET")}


def least(mark: Callable[[Any], Any]) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """The least correct first step of a coroutine that returns at once, on
    this thread's loop, marking it with `mark`."""
    async def started() -> None:
        pass

    loops.run(started())  # this thread's loop, task and stepper are made
    thread = loops._threads.loop
    assert isinstance(thread, loops._ThreadLoop)
    loop, task, send = thread.loop, thread.task.task, thread.stepper.send

    def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
        context = contextvars.copy_context()
        mark(loop)
        loops._enter_task(loop, task)
        step = context.run(send, coroutine)
        loops._leave_task(loop, task)
        mark(None)
        return step[0]

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--number", type=int, default=2000)
    arguments = parser.parse_args()
    app = peers.APPS["microroute"]
    assert app is not None
    bench_inprocess.HANDLERS = ROWS
    as_it_is = loops.run
    ways = {
        "loops.run as it is": as_it_is,
        "the least correct step": least(asyncio._set_running_loop),
        "the least, without the two marks (wrong)": least(id),
    }
    ratios: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(3):  # the ways interleaved, three times
        for way, run in ways.items():
            loops.run = run  # type: ignore[assignment]  # what App's _invoke calls
            try:
                result = bench_inprocess.run_handlers(app, arguments.rounds, arguments.number)
            finally:
                loops.run = as_it_is
            ratios[way].append(result["async def GET"]["ratio"])
    print(f"Python {sys.version.split()[0]}: `async def GET` as a median ratio to `def GET`")
    for way, values in ratios.items():
        each = ", ".join(f"{value:.2f}" for value in values)
        print(f"  {way}: ×{statistics.median(values):.2f} ({each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
