"""Small database reads and writes of many concurrent requests, done in batches.

:class:`LoopBatcher` collects the calls made during one event-loop turn and hands them to
``work(items)`` together: ``work`` runs once and each caller gets its own result. Calls that
arrive while a batch is in flight wait for the next batch (one batch in flight per event
loop). Under load, 50 requests cost one query instead of 50.

``work`` is either a blocking function, run in one worker thread (a batch costs one thread
wake-up; alone, a call costs what one thread-pool hop costs), or a coroutine function, run
as a task on the caller's event loop: on PostgreSQL the batch's queries then go over an
asynchronous connection of that loop (:class:`LoopConnections`), and no thread has to win
the GIL back from a busy event loop after each round trip, which under load made a batch's
few round trips take tens of milliseconds.

Used by the shared rate limiter (:mod:`recyclenet_api.limits`) and by the owner check of
every cached plan layer and road page (:func:`recyclenet_api.routers.common.check_owner`).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import weakref
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

log = logging.getLogger("recyclenet_api.batching")

In = TypeVar("In")
Out = TypeVar("Out")


@dataclass
class _Waiting:
    """The calls of one event loop waiting for a batch."""

    items: list[tuple[Any, asyncio.Future[Any]]] = field(default_factory=list)
    busy: bool = False
    """A batch is in the thread or about to be sent."""


class LoopBatcher(Generic[In, Out]):
    """``await batcher.call(item)`` gives ``work([..., item, ...])[k]``, ``work`` run on
    the batch of calls of one event-loop turn: in one worker thread, or awaited on the
    loop when it is a coroutine function.

    ``work`` must return one result per item, in order; when it raises, every call of
    the batch raises that error.
    """

    def __init__(
        self,
        work: Callable[[list[In]], Sequence[Out]] | Callable[[list[In]], Awaitable[Sequence[Out]]],
        *,
        name: str,
    ) -> None:
        self.work = work
        self.name = name
        self._on_loop = inspect.iscoroutinefunction(work)
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._waiting: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Waiting] = (
            weakref.WeakKeyDictionary()
        )

    async def call(self, item: In) -> Out:
        loop = asyncio.get_running_loop()
        waiting = self._waiting.get(loop)
        if waiting is None:
            waiting = self._waiting.setdefault(loop, _Waiting())
        future: asyncio.Future[Out] = loop.create_future()
        waiting.items.append((item, future))
        if not waiting.busy:
            waiting.busy = True
            loop.call_soon(self._send, loop, waiting)  # after this turn's other calls
        return await future

    def dispose(self) -> None:
        """Stop the worker thread (after the batch it has)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _send(self, loop: asyncio.AbstractEventLoop, waiting: _Waiting) -> None:
        batch, waiting.items = waiting.items, []
        if not batch:
            waiting.busy = False
            return
        items = [item for item, _f in batch]
        done: asyncio.Future[Sequence[Out]]
        if self._on_loop:
            done = loop.create_task(self.work(items))  # type: ignore[arg-type]
        else:
            with self._lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(1, thread_name_prefix=self.name)
                executor = self._executor
            done = loop.run_in_executor(executor, self.work, items)  # type: ignore[arg-type]
        done.add_done_callback(lambda d: self._answer(loop, waiting, batch, d))

    def _answer(self, loop: asyncio.AbstractEventLoop, waiting: _Waiting,
                batch: list[tuple[Any, asyncio.Future[Any]]],
                done: asyncio.Future[Sequence[Out]]) -> None:  # fmt: skip
        """Settle the batch's calls (on their event loop), then send the next batch."""
        error = None if done.cancelled() else done.exception()
        if done.cancelled() or error is not None:
            log.error("%s: a batch of %d calls failed: %r", self.name, len(batch), error)
            failure = error or RuntimeError(f"{self.name}: the batch was cancelled")
            for _item, future in batch:
                if not future.done():  # done: the request was cancelled (client gone)
                    future.set_exception(failure)
        else:
            results = done.result()
            if len(results) != len(batch):
                failure = RuntimeError(f"{self.name}: {len(results)} results for "
                                       f"{len(batch)} calls")  # fmt: skip
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(failure)
            else:
                for (_item, future), result in zip(batch, results):
                    if not future.done():
                        future.set_result(result)
        self._send(loop, waiting)


class LoopConnections:
    """One asynchronous PostgreSQL connection per event loop, in autocommit mode, for the
    batches of one :class:`LoopBatcher` (one batch in flight per loop, so a connection is
    never used by two batches at once).

    A connection is opened on a loop's first batch, runs ``setup`` statements once, and
    is replaced after a connection error (the batch is tried once more on a new one).
    ``url`` is a SQLAlchemy or libpq URL.
    """

    def __init__(self, url: str, *, setup: Sequence[str] = (), name: str) -> None:
        from sqlalchemy.engine import make_url

        self.conninfo = (
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.setup = tuple(setup)
        self.name = name
        self._conns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    async def run(self, fn: Callable[[Any], Awaitable[Out]]) -> Out:
        """``await fn(connection)`` on this loop's connection."""
        import psycopg

        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            conn = self._conns.get(loop)
            if conn is None or conn.closed:
                conn = await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, application_name=self.name
                )
                for statement in self.setup:
                    await conn.execute(statement)
                self._conns[loop] = conn
            try:
                return await fn(conn)
            except psycopg.OperationalError:
                self._conns.pop(loop, None)
                await conn.close()
                if attempt == 2:
                    raise
                log.warning("%s: the connection failed; retrying on a new one", self.name)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every loop's connection (from any thread; their loops may be gone)."""
        conns = list(self._conns.values())
        self._conns.clear()
        for conn in conns:
            conn.pgconn.finish()
