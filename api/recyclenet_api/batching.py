"""Small database reads and writes of many concurrent requests, done in batches.

:class:`LoopBatcher` collects the calls made during one event-loop turn and hands them to
one worker thread together: the thread runs ``work(items)`` once and each caller gets its
own result. Calls that arrive while a batch is in the thread wait for the next batch (one
batch in flight per event loop). Under load, 50 requests cost one thread wake-up and one
query instead of 50 of each; alone, a call costs what one thread-pool hop costs.

Used by the shared rate limiter (:mod:`recyclenet_api.limits`) and by the owner check of
every cached plan read (:mod:`recyclenet_api.routers.plans`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable, Sequence
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
    """``await batcher.call(item)`` gives ``work([..., item, ...])[k]``, ``work`` run in
    one worker thread on the batch of calls of one event-loop turn.

    ``work`` must return one result per item, in order; when it raises, every call of
    the batch raises that error.
    """

    def __init__(self, work: Callable[[list[In]], Sequence[Out]], *, name: str) -> None:
        self.work = work
        self.name = name
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
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix=self.name)
            executor = self._executor
        done = loop.run_in_executor(executor, self.work, [item for item, _f in batch])
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
