"""Live progress of a routing solve: elapsed time, share of the time limit, best cost.

:func:`~recyclenet.routing.solve_routing` takes a ``progress`` callable and installs it
for the duration of the call (a :class:`contextvars.ContextVar`, so concurrent solves in
other threads or tasks do not see it); the engines call :func:`incumbent` when their
search improves, and the callable receives a dict ``{"phase", "engine", "elapsed_s",
"time_limit_s", "share", "best_cost"}`` (cost in the plan's currency; ``best_cost`` None
before the first solution). Reports are rate-limited (:data:`MIN_INTERVAL_S`) and only
made in the process that installed the callable (not in a forked PyVRP search).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..deadline import Deadline

Progress = Callable[[dict[str, Any]], None]

#: At most one report per this many seconds (phase changes always report).
MIN_INTERVAL_S = 0.5


class _Reporter:
    def __init__(self, callback: Progress, deadline: Deadline) -> None:
        self.callback, self.deadline, self.pid = callback, deadline, os.getpid()
        self.engine: str | None = None
        self.best_cost: float | None = None
        self.phase = "solving"
        self._last = -math.inf

    def emit(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if os.getpid() != self.pid or (not force and now - self._last < MIN_INTERVAL_S):
            return
        self._last = now
        limit = self.deadline.limit_s
        self.callback({
            "phase": self.phase,
            "engine": self.engine,
            "elapsed_s": round(self.deadline.elapsed_s(), 3),
            "time_limit_s": limit if math.isfinite(limit) else None,
            "share": round(self.deadline.fraction_used(), 4),
            "best_cost": self.best_cost,
        })  # fmt: skip


_current: contextvars.ContextVar[_Reporter | None] = contextvars.ContextVar(
    "recyclenet_routing_progress", default=None
)


@contextlib.contextmanager
def reporting(callback: Progress | None, deadline: Deadline) -> Iterator[None]:
    """Install ``callback`` for the engines run inside the ``with`` block."""
    if callback is None:
        yield
        return
    token = _current.set(_Reporter(callback, deadline))
    try:
        yield
    finally:
        _current.reset(token)


def phase(name: str, engine: str | None = None) -> None:
    """A new phase ("solving", "checking", ...) of the solve; always reported."""
    rep = _current.get()
    if rep is None:
        return
    rep.phase = name
    if engine is not None:
        rep.engine = engine
    rep.emit(force=True)


def incumbent(engine: str, cost: float | None) -> None:
    """An engine's best cost so far (plan currency; None: no feasible solution yet)."""
    rep = _current.get()
    if rep is None:
        return
    rep.engine = engine
    if cost is not None and math.isfinite(cost):
        rep.best_cost = cost if rep.best_cost is None else min(rep.best_cost, cost)
    rep.emit()
