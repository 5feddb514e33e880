"""One event loop per worker thread, and running a coroutine on it for
little more than the cost of calling a function.

    from microroute import loops

    result = loops.run(fetch_prices())      # from sync code: what App does
                                            # with every `async def` it calls

What it owns: each thread's event loop (made the first time the thread runs
a coroutine, kept for the thread's life so that what binds itself to a loop,
an `asyncio.Lock`, an async HTTP client's connections, an async database
pool, can be made once and used by every request), running coroutines on
it, dropping it in a forked child, and closing it at exit.
What it does not own: which user functions are coroutines (`loader`), or
what their results mean (`app`).

Why not `asyncio.run` per call: it makes and closes a loop each time (×19
the cost of a `def` handler), and an object bound to the first loop breaks
on the second request. Why not `loop.run_until_complete` alone: asking the
operating system whether any socket is ready, on every call, costs a
coroutine that never waits for one several times a handler's cost.

So `run` takes the coroutine's first step itself, by hand, the way Python
3.12's eager tasks do: with the thread's loop marked as running and the
thread's task as the current task, so that everything a coroutine may ask
for in that step (`asyncio.get_running_loop()`, `current_task()`, an
`asyncio.Lock`, a timeout, an async HTTP client's cancel scopes) answers as
inside `asyncio.run`. Most handlers end in that step: their result is
`StopIteration.value`, and no loop ever turns. A coroutine that only gives
the loop a turn (`await asyncio.sleep(0)`) gets one, and goes on by hand. A
coroutine that really waits (a socket, a timer) is handed, suspended where
it is, to the same task, which the loop then drives to the end.

The loop is marked running once for the whole of a call, and turned by
`run` itself while marked (`_turn`: the turn `run_forever` repeats), never
by `run_forever`, which would mark it again. Between calls it is not
running, so that sync code in the thread (an app that embeds microroute, a
sync handler that calls `asyncio.run`) finds no running loop.

That task is one per thread, kept for the thread's life, because a
coroutine's first step and the rest must run as the same task: a timeout or
a cancel scope entered before the first wait remembers its task, and
cancels or checks that one later.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import os
import sys
import threading
import types
from asyncio import tasks as _asyncio_tasks
from collections.abc import Callable, Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")

# The running loop and the current task are the state asyncio's own `Task`
# sets around each step it takes; a step taken by hand must set them too.
# `_set_running_loop` is asyncio's API for loops written outside it;
# `_enter_task` and `_leave_task` are what its tasks call (no public name
# on 3.10 and 3.11; 3.12's eager tasks do the same inside asyncio).
# Turning the loop by hand takes three names of asyncio's own loop
# (`BaseEventLoop`, under every loop asyncio makes): `_run_once`, a turn;
# `_stopping`, what `stop()` sets; `_thread_id`, what `is_running()` reads.
_get_running_loop = asyncio._get_running_loop
_set_running_loop = asyncio._set_running_loop
_enter_task = _asyncio_tasks._enter_task
_leave_task = _asyncio_tasks._leave_task


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end on this thread's event loop and return
    what it returns, or raise what it raises, as `asyncio.run` would; but
    the loop stays for the next call, and a coroutine that never waits costs
    little more than a plain call (benchmarks/README.md).

        async def total(prices):
            async with lock:                 # a module-level asyncio.Lock
                return sum(prices)

        loops.run(total([1, 2]))             # 3

    Called from a coroutine (a loop already runs in this thread), it raises
    `RuntimeError`, as `asyncio.run` does: `await` the coroutine instead.
    """
    if _get_running_loop() is not None:  # before a loop is made for nothing
        coroutine.close()  # never to run: closed, so no warning says it was never awaited
        raise RuntimeError(
            "loops.run() cannot be called from a running event loop: await the coroutine"
        )
    thread = _threads.loop
    if thread is None:
        thread = _ThreadLoop()
    return thread.run(coroutine)


def per_loop(make: Callable[[], T]) -> Callable[[], T]:
    """One `make()` per event loop, that is per worker thread: made the
    first time a coroutine on that loop asks for it, and closed with the
    loop (awaiting its `aclose()`, where it has one: an HTTP client, a pool).

        client = loops.per_loop(httpx.AsyncClient)     # at module level

        async def GET():
            answer = await client().get("https://example.com/rates")

    Why: what binds itself to an event loop (a client's connections, an
    `asyncio.Lock`) cannot be shared by threads that each run their own
    loop, as gunicorn's gthread workers do. A plain module-level one is right
    only where the process has one thread that serves.
    """
    made: dict[asyncio.AbstractEventLoop, T] = {}

    def for_this_loop() -> T:
        loop = asyncio.get_running_loop()
        try:
            return made[loop]
        except KeyError:
            value = made[loop] = make()
            thread = _threads.loop
            if isinstance(thread, _ThreadLoop) and thread.loop is loop:
                thread.closers.append(lambda: _forget(made, loop, value))
            return value

    return for_this_loop


async def _forget(made: dict[asyncio.AbstractEventLoop, Any], loop: asyncio.AbstractEventLoop,
                  value: Any) -> None:
    del made[loop]
    close = getattr(value, "aclose", None)
    if close is not None:
        await close()


async def to_thread(function: Callable[..., T], *arguments: Any) -> T:
    """`function(*arguments)` in a helper thread, awaited; a coroutine it
    runs with `run` comes back to run on this loop, not the helper's.

    What an `async def proxy(request, handle)` awaits: `handle` is the
    framework's plain code, and the handlers it calls must run on the
    proxy's loop, where the proxy's clients and locks live.

        response = await loops.to_thread(app.handle, request)
    """
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()  # the proxy's context vars reach the handler

    def call() -> T:
        # The helper thread is the loop's executor's: put back what it had.
        had = _threads.loop
        _threads.loop = _Delegate(loop)
        try:
            return context.run(function, *arguments)
        finally:
            _threads.loop = had

    return await loop.run_in_executor(None, call)


class _ThreadLoop:
    """A thread's event loop and the task its coroutines run as."""

    def __init__(self) -> None:
        _close_finished_threads()
        self.thread = threading.current_thread()
        self.thread_id = threading.get_ident()
        self.loop = _new_loop()
        self.task = _Task(self.loop)
        # The loop's async generator hooks, for the thread's life: an async
        # generator first iterated in a step taken by hand must still be
        # finalized by this loop, and setting them per call would cost a
        # fifth of a coroutine's whole cost.
        sys.set_asyncgen_hooks(*self.task.asyncgen_hooks)
        self.stepper = _started_stepper()
        self.closers: list[Callable[[], Coroutine[Any, Any, None]]] = []  # per_loop's
        _threads.loop = self
        _opened.append(self)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """`run()` for this thread; no loop runs in it (run() checked)."""
        loop, task, stepper = self.loop, self.task, self.stepper
        as_task = task.task
        context = contextvars.copy_context()  # as a Task's: what it sets stays in it
        # Speed: the loop is marked running once for the whole call, and
        # turned by `_turn` while marked, rather than by `run_forever`,
        # which marks it again: on 3.10 and 3.11 each mark is a getpid()
        # system call. With the turn of a bare yield taken by hand, an
        # `await asyncio.sleep(0)` went from 90,800 to 57,600 instructions
        # and 4 getpid to 2 (×3.57 to ×2.18 a `def` handler's time on 3.11;
        # bench_inprocess.py's async rows, benchmarks/README.md).
        _set_running_loop(loop)
        loop._thread_id = self.thread_id  # type: ignore[attr-defined]  # is_running(), as in run_forever
        spent = False  # the task, which it cancelled and never waited for after
        try:
            sent: Any = coroutine  # the first send starts it; None resumes it
            while True:
                # A step by hand, as the thread's task (see the module docstring).
                _enter_task(loop, as_task)
                try:
                    step = context.run(stepper.send, sent)
                finally:
                    _leave_task(loop, as_task)
                if step is not None or task.wake.done():
                    break
                # It gave the loop a turn (a bare yield: `await asyncio.sleep(0)`):
                # one turn, then on by hand, unless the turn cancelled it. (The
                # I/O callbacks this turn's poll finds run before it resumes;
                # a Task would resume first. asyncio promises neither order.)
                _turn(loop, wait=False)
                if task.wake.done():
                    break
                sent = None
            if type(step) is tuple:  # it returned: the common case
                if not task.wake.done():
                    return step[0]  # type: ignore[no-any-return]
                spent = True  # ... having cancelled its own task: as asyncio.run, a cancel
                raise asyncio.CancelledError()
            # It waits for a future (or its task was cancelled): it goes,
            # inside its stepper, to the thread's task, which drives the rest
            # while the loop turns.
            self.stepper = _started_stepper()
            answer = task.take_over(stepper, step, context)
            while not answer.done():
                _turn(loop)
            return answer.result()  # type: ignore[no-any-return]
        except BaseException:
            if self.stepper is stepper:  # it raised, and the stepper with it
                self.stepper = _started_stepper()
                spent = task.wake.done()
            raise
        finally:
            loop._thread_id = None  # type: ignore[attr-defined]
            _set_running_loop(None)
            if spent:  # (made here: starting a task takes a turn of an unmarked loop)
                self.task = _Task(loop)

    def close(self, at_exit: bool = False) -> None:
        """What `asyncio.run` does at its end: cancel what still runs,
        finalize async generators, stop the default executor, close.

        At exit the executor's threads are already joined (concurrent.futures
        does that before atexit runs), and Python 3.12+ refuses the thread
        that `shutdown_default_executor` starts: `close()` lets it go."""
        loop = self.loop
        if loop.is_closed():
            return
        try:
            while self.closers:  # clients first, while what they need still runs
                try:
                    loop.run_until_complete(self.closers.pop()())
                except Exception as error:  # reported, as a task's would be: the rest still close
                    loop.call_exception_handler({
                        "message": "microroute could not close a per_loop() value",
                        "exception": error,
                    })
            pending = list(asyncio.all_tasks(loop))
            for task in pending:
                task.cancel()
            gathered = asyncio.gather(*pending, return_exceptions=True)
            for task, result in zip(pending, loop.run_until_complete(gathered), strict=True):
                if isinstance(result, Exception):  # as asyncio.run reports them
                    loop.call_exception_handler({
                        "message": "unhandled exception in a task at microroute's shutdown",
                        "exception": result, "task": task,
                    })
            loop.run_until_complete(loop.shutdown_asyncgens())
            if not at_exit:
                loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()
            if self.thread is threading.current_thread():
                sys.set_asyncgen_hooks(None, None)


class _Task:
    """The one asyncio `Task` a thread's coroutines run as: idle between
    coroutines, waiting to be woken with the rest of one to drive."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.wake: asyncio.Future[None] = loop.create_future()
        self.job: tuple[Any, ...] | None = None
        self.asyncgen_hooks: Any = (None, None)
        self.task = loop.create_task(self._serve())
        # Started now, so that it is already waiting on `wake` when a
        # coroutine's first step runs as it: a cancel then lands on `wake`,
        # and `wake.done()` tells `run` that the coroutine cancelled its task.
        loop.run_until_complete(_started())

    def take_over(self, stepper: Generator[Any, Any, None], waiting: Any,
                  context: contextvars.Context) -> asyncio.Future[Any]:
        """Wake the task with the rest of the coroutine in `stepper`, which
        waits for `waiting`; the future it returns gets its outcome."""
        answer: asyncio.Future[Any] = self.loop.create_future()
        self.job = (stepper, waiting, context, answer)
        if not self.wake.done():
            self.wake.set_result(None)
        return answer

    async def _serve(self) -> None:
        self.asyncgen_hooks = sys.get_asyncgen_hooks()  # the loop's own, read while it runs
        while True:
            try:
                await self.wake
            except asyncio.CancelledError:
                if self.job is None:
                    raise  # the loop closes, or this task was replaced
                # The coroutine cancelled its own task before it first
                # waited: asyncio delivers that at its first wait, so do we.
                _cancel_again(asyncio.current_task())
            self.wake = self.loop.create_future()
            assert self.job is not None
            stepper, waiting, context, answer = self.job
            self.job = None
            try:
                answer.set_result(await _resume(stepper, waiting, context))
            except GeneratorExit:
                raise
            except BaseException as error:  # whatever it raises is run()'s to raise
                answer.set_exception(error)


def _new_loop() -> asyncio.AbstractEventLoop:
    """A new loop of the policy's kind (on Windows, the selector loop that
    psycopg asks for), as long as it is asyncio's own: another
    implementation (uvloop's) cannot be turned by `_turn`."""
    loop = asyncio.new_event_loop()
    if isinstance(loop, asyncio.BaseEventLoop):
        return loop
    loop.close()
    return asyncio.SelectorEventLoop()


def _turn(loop: asyncio.AbstractEventLoop, wait: bool = True) -> None:
    """One turn of `loop`, which this thread has marked running: what
    `run_forever` repeats (ready callbacks, then I/O and timers, polled for
    as long as nothing is due; with `wait=False`, not at all: a turn given
    by a bare yield, `await asyncio.sleep(0)`, as a `Task` would give it)."""
    if not wait:
        loop.stop()  # a loop asked to stop polls without waiting, for its last turn
    loop._run_once()  # type: ignore[attr-defined]
    loop._stopping = False  # type: ignore[attr-defined]  # as run_forever forgets a stop() after its turn


def _cancel_again(task: asyncio.Task[Any] | None) -> None:
    assert task is not None
    if hasattr(task, "uncancel"):  # 3.11+: count this cancel once, not twice
        task.uncancel()
    task.cancel()


@types.coroutine
def _stepper() -> Generator[Any, Any, None]:
    """Takes a coroutine (`send`), runs it until it returns or waits, and
    gives back `(result,)` or what it waits for (a future, or None for a
    turn of the loop), which is what coroutines give a Task. Started.

    Speed: through `yield from`, a coroutine's return costs no StopIteration
    (about 2,800 of the 10,000 instructions the first version of `run`
    added to a call; `valgrind --tool=callgrind`). A coroutine that waits
    takes its stepper with it; one that raises ends it.
    """
    answer: Any = None
    while True:
        coroutine = yield answer
        answer = ((yield from coroutine),)


def _started_stepper() -> Generator[Any, Any, None]:
    stepper = _stepper()
    stepper.send(None)
    return stepper


@types.coroutine
def _resume(stepper: Generator[Any, Any, None], waiting: Any,
            context: contextvars.Context) -> Generator[Any, Any, Any]:
    """Go on with the coroutine in `stepper`, waiting for `waiting`, as if it
    were awaited here: what the task sends or throws goes to it, in its own
    context."""
    while True:
        try:
            sent = yield waiting
        except GeneratorExit:
            stepper.close()
            raise
        except BaseException as error:  # a cancel, or the failure of what it waited for
            waiting = context.run(stepper.throw, error)
        else:
            waiting = context.run(stepper.send, sent)
        if type(waiting) is tuple:
            return waiting[0]


async def _started() -> None:
    await asyncio.sleep(0)  # one turn of the loop: the task's first step runs first


class _Delegate:
    """Stands for the thread's loop in a `to_thread` helper: coroutines go
    back to the loop that awaits the helper."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()


class _PerThread(threading.local):
    loop: _ThreadLoop | _Delegate | None = None  # what runs the thread's coroutines


_threads = _PerThread()
_opened: list[_ThreadLoop] = []  # this process's loops, to close at exit


def _close_finished_threads() -> None:
    """Close the loops of threads that have ended, from a live thread, when
    another is made: a server that starts a thread per request keeps only
    as many loops as it has threads."""
    for thread_loop in [each for each in _opened if not each.thread.is_alive()]:
        _opened.remove(thread_loop)
        thread_loop.close()


@atexit.register
def _close_all() -> None:
    # atexit runs after the interpreter has joined its non-daemon threads; a
    # daemon thread still running may be using its loop, so that one is left.
    current = threading.current_thread()
    for thread_loop in reversed(_opened):
        if thread_loop.thread is current or not thread_loop.thread.is_alive():
            thread_loop.close(at_exit=True)
    _opened.clear()


def _forget_after_fork() -> None:
    # A child's loops must be its own: the parent's share its file
    # descriptors (even its epoll set, so closing them here would unregister
    # the parent's sockets). Kept, untouched, for the child's life.
    global _threads
    _threads = _PerThread()
    _inherited.extend(_opened)
    _opened.clear()


_inherited: list[_ThreadLoop] = []
os.register_at_fork(after_in_child=_forget_after_fork)
