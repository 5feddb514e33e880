"""microroute/loops.py: one event loop per thread, and `run` behaving as
`asyncio.run` does (the same tests run against both), without its cost.

What a real server adds (gunicorn's sync and gthread workers, --preload and
fork) is in test_async.py.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from helpers import ROOT
from microroute import loops

Runner = Callable[[Coroutine[Any, Any, Any]], Any]
both = pytest.mark.parametrize("run", [asyncio.run, loops.run], ids=["asyncio.run", "loops.run"])


async def returns_at_once() -> str:
    return "done"


async def sleeps(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return f"slept {seconds}"


@both
@pytest.mark.parametrize(("coroutine", "expected"), [
    (returns_at_once, "done"), (lambda: sleeps(0), "slept 0"), (lambda: sleeps(0.01), "slept 0.01"),
], ids=["at-once", "sleep-0", "sleep-10ms"])
def test_the_result_comes_back(
    run: Runner, coroutine: Callable[[], Coroutine[Any, Any, str]], expected: str,
) -> None:
    assert run(coroutine()) == expected


@both
@pytest.mark.parametrize("wait", [False, True], ids=["before-waiting", "after-waiting"])
def test_what_it_raises_is_raised(run: Runner, wait: bool) -> None:
    async def fails() -> None:
        if wait:
            await asyncio.sleep(0)
        raise LookupError("no such thing")

    with pytest.raises(LookupError, match="no such thing"):
        run(fails())


@both
def test_an_exception_from_what_it_awaits_can_be_caught_inside(run: Runner) -> None:
    async def failing_call() -> None:
        await asyncio.sleep(0)
        raise ValueError("upstream")

    async def handler() -> str:
        try:
            await asyncio.gather(failing_call(), asyncio.sleep(0.01))
        except ValueError as error:
            return f"caught {error}"
        return "not caught"

    assert run(handler()) == "caught upstream"


@both
def test_the_first_step_runs_inside_a_task_with_a_running_loop(run: Runner) -> None:
    async def where() -> tuple[Any, ...]:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        await asyncio.sleep(0)
        return loop, task, asyncio.get_running_loop(), asyncio.current_task()

    loop, task, loop_after, task_after = run(where())
    assert task is not None and task is task_after  # one task from the first step to the end
    assert loop is loop_after
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()  # and none once it returns


@both
def test_the_loop_is_running_inside_and_no_loop_is_outside(run: Runner) -> None:
    """What sync code in the thread sees (a Flask or Django app embedding
    microroute, a sync handler that calls asyncio.run): no running loop
    between calls, whether the coroutine returned at once, gave the loop a
    turn, or waited for a timer."""
    async def running(wait: float | None) -> bool:
        if wait is not None:
            await asyncio.sleep(wait)
        return asyncio.get_running_loop().is_running()

    for wait in (None, 0, 0.001):
        assert run(running(wait)) is True
        with pytest.raises(RuntimeError, match="no running event loop"):
            asyncio.get_running_loop()
        assert asyncio.run(running(wait)) is True  # sync code may run its own loop
    loop = loops.run(loop_here())
    assert not loop.is_running() and not loop.is_closed()


@both
def test_a_turn_of_the_loop_runs_ready_callbacks_io_callbacks_and_due_timers(run: Runner) -> None:
    async def turns() -> list[str]:
        loop = asyncio.get_running_loop()
        ran: list[str] = []
        reader, writer = socket.socketpair()
        try:
            loop.add_reader(reader, lambda: ran.append(f"read {reader.recv(10)!r}"))
            writer.send(b"ready")
            loop.call_soon(ran.append, "soon")
            loop.call_later(0, ran.append, "timer")
            for _ in range(3):  # asyncio runs I/O callbacks after the resumed task in a turn
                await asyncio.sleep(0)
            loop.remove_reader(reader)
        finally:
            reader.close()
            writer.close()
        return ran

    assert sorted(run(turns())) == ["read b'ready'", "soon", "timer"]


@both
def test_a_timeout_cancels_a_coroutine_that_only_gives_turns(run: Runner) -> None:
    async def spins() -> str:
        try:
            await asyncio.wait_for(spin(), timeout=0.01)
        except asyncio.TimeoutError:
            return "timed out"
        return "finished"

    async def spin() -> None:
        while True:
            await asyncio.sleep(0)

    assert run(spins()) == "timed out"
    assert run(sleeps(0)) == "slept 0"


@both
def test_a_cancel_that_lands_during_a_turn_reaches_the_coroutine(run: Runner) -> None:
    async def cancelled_while_turning() -> str:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_soon(task.cancel)  # lands while it gives a turn
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            if hasattr(task, "uncancel"):
                task.uncancel()
            return "cancelled at that turn"
        return "not cancelled at that turn"

    assert run(cancelled_while_turning()) == "cancelled at that turn"
    assert run(returns_at_once()) == "done"


def test_a_stop_asked_inside_ends_no_more_than_a_turn() -> None:
    async def stops() -> str:
        asyncio.get_running_loop().stop()
        await asyncio.sleep(0)
        asyncio.get_running_loop().stop()
        await asyncio.sleep(0.001)
        return "finished"

    assert loops.run(stops()) == "finished"
    assert loops.run(sleeps(0.001)) == "slept 0.001"
    # Forgotten, as run_forever forgets it: a loop left asked to stop would
    # end the next run_until_complete early (close() runs some at exit).
    loop = loops.run(loop_here())
    assert loop.run_until_complete(sleeps(0.001)) == "slept 0.001"


@both
def test_a_timeout_entered_before_the_first_wait_fires_and_the_next_call_is_unharmed(
    run: Runner,
) -> None:
    async def too_slow() -> str:
        try:
            await asyncio.wait_for(asyncio.sleep(1), timeout=0.01)
        except asyncio.TimeoutError:
            return "timed out"
        return "finished"

    assert run(too_slow()) == "timed out"
    assert run(sleeps(0)) == "slept 0"


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
@both
def test_asyncio_timeout_works_from_the_first_step(run: Runner) -> None:
    async def too_slow() -> str:
        try:
            async with asyncio.timeout(0.01):  # type: ignore[attr-defined]
                await asyncio.sleep(1)
        except TimeoutError:
            return "timed out"
        return "finished"

    assert run(too_slow()) == "timed out"
    assert run(too_slow()) == "timed out"


REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


@both
@pytest.mark.parametrize("wait", [False, True], ids=["before-waiting", "after-waiting"])
def test_context_variables_set_inside_stay_inside(run: Runner, wait: bool) -> None:
    async def handler() -> str:
        seen = REQUEST_ID.get()
        REQUEST_ID.set("inside")
        if wait:
            await asyncio.sleep(0)
        return f"{seen} -> {REQUEST_ID.get()}"

    token = REQUEST_ID.set("outside")
    try:
        assert run(handler()) == "outside -> inside"
        assert REQUEST_ID.get() == "outside"
    finally:
        REQUEST_ID.reset(token)


@both
@pytest.mark.parametrize("wait", [False, True], ids=["then-returns", "then-waits"])
def test_a_coroutine_that_cancels_its_own_task_is_cancelled_and_the_next_runs(
    run: Runner, wait: bool,
) -> None:
    async def cancels_itself() -> str:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        if wait:
            await asyncio.sleep(0)
        return "returned"

    with pytest.raises(asyncio.CancelledError):
        run(cancels_itself())
    assert run(sleeps(0)) == "slept 0"
    assert run(returns_at_once()) == "done"


@both
def test_a_cancel_caught_inside_is_the_coroutines_to_handle(run: Runner) -> None:
    async def shielded() -> str:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            if hasattr(task, "uncancel"):
                task.uncancel()
            return "cancel caught"
        return "not cancelled"

    assert run(shielded()) == "cancel caught"
    assert run(sleeps(0)) == "slept 0"


def test_the_loop_stays_across_calls_so_loop_bound_objects_can_be_made_once() -> None:
    lock = asyncio.Lock()
    order: list[int] = []

    async def guarded(number: int) -> None:
        async with lock:  # contended: the lock binds itself to this loop
            order.append(number)
            await asyncio.sleep(0)

    async def many() -> None:
        await asyncio.gather(*(guarded(number) for number in range(5)))

    for _ in range(3):
        loops.run(many())  # asyncio.run would fail here: a lock bound to another loop
    assert order == list(range(5)) * 3

    async def loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert loops.run(loop()) is loops.run(loop())


@both
def test_run_from_inside_a_running_loop_is_refused(run: Runner) -> None:
    """Inside its own loop, or another's (say `asyncio.run`'s) in a thread
    that has never had one of microroute's."""
    async def nested() -> None:
        loops.run(returns_at_once())

    def in_a_new_thread() -> None:
        with pytest.raises(RuntimeError, match="running event loop: await the coroutine"):
            run(nested())

    in_a_new_thread()
    errors: list[BaseException] = []
    thread = threading.Thread(target=lambda: _record(in_a_new_thread, errors))
    thread.start()
    thread.join()
    assert errors == []


def _record(function: Callable[[], None], errors: list[BaseException]) -> None:
    try:
        function()
    except BaseException as error:
        errors.append(error)


def loop_of_a_new_thread() -> asyncio.AbstractEventLoop:
    found: list[asyncio.AbstractEventLoop] = []

    async def loop() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    thread = threading.Thread(target=lambda: found.append(loops.run(loop())))
    thread.start()
    thread.join()
    return found[0]


def test_two_threads_never_share_a_loop_and_an_ended_threads_loop_is_closed() -> None:
    first = loop_of_a_new_thread()
    second = loop_of_a_new_thread()
    assert first is not second
    assert first.is_closed()  # closed when the second thread made its loop
    assert not second.is_closed()
    loop_of_a_new_thread()
    assert second.is_closed()


class OtherLoop(asyncio.AbstractEventLoop):
    """Stands for another implementation of the loop (uvloop's), which
    microroute cannot turn by hand."""

    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_policy_that_makes_another_kind_of_loop_gets_asyncios_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = OtherLoop()
    monkeypatch.setattr(asyncio, "new_event_loop", lambda: other)
    loop = loop_of_a_new_thread()
    assert isinstance(loop, asyncio.SelectorEventLoop)
    assert other.closed


class Client:
    """Stands for an async client: bound to the loop it is made on."""

    closed: list[str] = []

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()

    async def aclose(self) -> None:
        await asyncio.sleep(0)
        Client.closed.append(f"closed on its loop: {asyncio.get_running_loop() is self.loop}")


def test_per_loop_makes_one_per_thread_kept_across_calls_and_closed_with_the_loop() -> None:
    client = loops.per_loop(Client)

    async def mine() -> Client:
        return client()

    here = loops.run(mine())
    assert loops.run(mine()) is here
    assert here.loop is loops.run(loop_here())
    found: list[Client] = []
    thread = threading.Thread(target=lambda: found.append(loops.run(mine())))
    thread.start()
    thread.join()
    assert found[0] is not here and found[0].loop is not here.loop
    Client.closed.clear()
    loop_of_a_new_thread()  # closes the finished thread's loop, and its client first
    assert Client.closed == ["closed on its loop: True"]
    with pytest.raises(RuntimeError, match="no running event loop"):
        client()  # outside a coroutine there is no loop to have one for


async def loop_here() -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


def test_to_thread_sends_the_helpers_coroutines_back_to_the_awaiting_loop() -> None:
    def blocking_code() -> tuple[Any, ...]:
        async def where() -> asyncio.AbstractEventLoop:
            await asyncio.sleep(0)
            return asyncio.get_running_loop()

        return threading.current_thread(), loops.run(where()), REQUEST_ID.get()

    async def proxy() -> tuple[Any, ...]:
        REQUEST_ID.set("from the proxy")
        thread, loop, request_id = await loops.to_thread(blocking_code)
        return thread, loop, request_id, asyncio.get_running_loop()

    thread, loop, request_id, proxy_loop = loops.run(proxy())
    assert thread is not threading.current_thread()
    assert loop is proxy_loop
    assert request_id == "from the proxy"


EXIT_SCRIPT = """
import asyncio, os, sys, threading
from microroute import loops

kept = []

async def ticks():
    try:
        for number in range(10):
            yield number
    finally:
        await asyncio.sleep(0)
        print("generator closed", flush=True)

async def background():
    try:
        await asyncio.sleep(60)
    finally:
        print("task cancelled", flush=True)

class Client:
    async def aclose(self):
        await asyncio.sleep(0)
        print("client closed", flush=True)

client = loops.per_loop(Client)

async def handler():
    client()
    generator = ticks()
    kept.append(generator)  # suspended and referenced: only the loop's shutdown closes it
    await generator.__anext__()
    await asyncio.to_thread(sum, [1, 2])  # starts the loop's default executor
    kept.append(asyncio.get_running_loop().create_task(background()))  # pending at exit
    await asyncio.sleep(0)
    return "ok"

print(loops.run(handler()), flush=True)
thread = threading.Thread(target=lambda: print(loops.run(handler()), flush=True))
thread.start()
thread.join()
{fork}
"""


@pytest.mark.parametrize("fork", [False, True], ids=["process", "forked-child"])
def test_exit_is_clean_under_warnings_as_errors(fork: bool) -> None:
    """Every loop is closed as `asyncio.run` closes one, in the main thread,
    a finished thread, and a forked child (which makes its own)."""
    forking = textwrap.dedent("""
        async def loop():
            return asyncio.get_running_loop()
        parent = loops.run(loop())
        pid = os.fork()
        if pid == 0:
            print("child's own loop:", loops.run(loop()) is not parent, flush=True)
            print(loops.run(handler()), flush=True)
            sys.exit(0)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status), flush=True)
    """) if fork else ""
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-c", EXIT_SCRIPT.format(fork=forking)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines.count("ok") == (3 if fork else 2)
    assert lines.count("generator closed") == (3 if fork else 2)
    assert lines.count("task cancelled") == (3 if fork else 2)
    assert lines.count("client closed") == (3 if fork else 2)
    if fork:
        assert "child's own loop: True" in lines
        assert "child exit 0" in lines
