"""Live progress of a solve: phase, engine, elapsed time, share of the time limit, best so far.

One mechanism for every solver (routing engines, the siting heuristics and MIP). The
entry point of a solve (:func:`~recyclenet.routing.solve_routing`,
:func:`~recyclenet.siting.solve_siting`) takes a ``progress`` callable and installs it
with :func:`reporting` for the duration of the call (a :class:`contextvars.ContextVar`,
so concurrent solves in other threads or tasks do not see it). The code inside calls
:func:`phase` when the solve moves on, :func:`incumbent` when it has a better solution,
:func:`bound` when it proves a better bound and :func:`tick` while it waits (elapsed time
only). The callable receives a dict::

    {"phase", "engine", "elapsed_s", "time_limit_s", "share", <objective>}

where ``<objective>`` is ``best_cost`` (routing: plan currency) or ``best_objective``
(siting: the model's objective), None before the first solution. A solve that proves
bounds (siting) also gets ``"bound"`` (None until one is known) and ``"gap"`` (relative,
``|best - bound| / |best|``; None until both are known).

Phase changes, incumbents and bounds reported with ``force=True`` always reach the
callable; other reports are rate-limited (:data:`MIN_INTERVAL_S`). Reports are made only
in the process that installed the callable (not in a forked search or MIP process).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import os
import time
from collections.abc import Callable, Iterator
from typing import Any, Literal

from .deadline import Deadline

Progress = Callable[[dict[str, Any]], None]

#: At most one report per this many seconds (phase changes always report).
MIN_INTERVAL_S = 0.5


class _Reporter:
    def __init__(
        self,
        callback: Progress,
        deadline: Deadline,
        objective: str,
        sense: Literal["min", "max"],
        bounds: bool,
    ) -> None:
        self.callback, self.deadline, self.pid = callback, deadline, os.getpid()
        self.objective, self.sense, self.bounds = objective, sense, bounds
        self.engine: str | None = None
        self.best: float | None = None
        self.bound: float | None = None
        self.phase = "solving"
        self._last = -math.inf

    def better(self, new: float, old: float | None, *, bound: bool = False) -> float:
        """The better of two incumbents (or the tighter of two bounds)."""
        if old is None:
            return new
        lower = (self.sense == "min") != bound  # incumbents of a min go down, its bounds up
        return min(old, new) if lower else max(old, new)

    def emit(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if os.getpid() != self.pid or (not force and now - self._last < MIN_INTERVAL_S):
            return
        self._last = now
        limit = self.deadline.limit_s
        report: dict[str, Any] = {
            "phase": self.phase,
            "engine": self.engine,
            "elapsed_s": round(self.deadline.elapsed_s(), 3),
            "time_limit_s": limit if math.isfinite(limit) else None,
            "share": round(self.deadline.fraction_used(), 4),
            self.objective: self.best,
        }
        if self.bounds:
            report["bound"] = self.bound
            report["gap"] = (
                abs(self.best - self.bound) / max(abs(self.best), 1e-12)
                if self.best is not None and self.bound is not None
                else None
            )
        self.callback(report)


_current: contextvars.ContextVar[_Reporter | None] = contextvars.ContextVar(
    "recyclenet_progress", default=None
)


@contextlib.contextmanager
def reporting(
    callback: Progress | None,
    deadline: Deadline,
    *,
    objective: str = "best_cost",
    sense: Literal["min", "max"] = "min",
    bounds: bool = False,
) -> Iterator[None]:
    """Install ``callback`` for the solve run inside the ``with`` block.

    ``objective`` names the best-so-far field of the reports, ``sense`` says which way
    it improves, ``bounds`` adds ``bound`` and ``gap`` fields.
    """
    if callback is None:
        yield
        return
    token = _current.set(_Reporter(callback, deadline, objective, sense, bounds))
    try:
        yield
    finally:
        _current.reset(token)


def phase(name: str, engine: str | None = None) -> None:
    """A new phase ("solving", "checking", "heuristic", "mip", ...); always reported."""
    rep = _current.get()
    if rep is None:
        return
    rep.phase = name
    if engine is not None:
        rep.engine = engine
    rep.emit(force=True)


def incumbent(engine: str, value: float | None, *, force: bool = False) -> None:
    """An engine's best objective so far (None: no feasible solution yet).

    The report keeps the best of all values given (by the reporting's ``sense``).
    """
    rep = _current.get()
    if rep is None:
        return
    rep.engine = engine
    if value is not None and math.isfinite(value):
        rep.best = rep.better(float(value), rep.best)
    rep.emit(force=force)


def bound(value: float | None, *, force: bool = True) -> None:
    """A proven bound on the optimum (lower for a min, upper for a max); kept monotone."""
    rep = _current.get()
    if rep is None or value is None or not math.isfinite(value):
        return
    rep.bound = rep.better(float(value), rep.bound, bound=True)
    rep.emit(force=force)


def tick() -> None:
    """Nothing new but time: a rate-limited report of elapsed time and share."""
    rep = _current.get()
    if rep is not None:
        rep.emit()


def phase_lines(what: str, say: Callable[[str], Any]) -> Callable[[dict[str, Any]], None]:
    """Reports as one line per phase (``  what: phase (describe(report))``): engine,
    elapsed, best so far (cost or objective), bound and gap when known."""
    last: list[str] = []

    def report(p: dict[str, Any]) -> None:
        if last and last[-1] == p["phase"]:
            return
        last.append(p["phase"])
        say(f"  {what}: {p['phase']} ({describe(p)})")

    return report


def describe(p: dict[str, Any]) -> str:
    """A progress report as text: ``engine, elapsed[ of limit], done/total, running ...,
    best ..., bound ..., gap ...`` (the fields it has)."""
    parts = [p["engine"]] if p.get("engine") else []
    elapsed = f"{p.get('elapsed_s') or 0.0:.1f} s"
    if p.get("time_limit_s"):
        elapsed += f" of {p['time_limit_s']:g} s"
    parts.append(elapsed)
    if p.get("total") is not None:
        parts.append(f"{p.get('done', 0)}/{p['total']} done"
                     + (f", {p['failed']} failed" if p.get("failed") else ""))  # fmt: skip
    if p.get("running"):
        parts.append("running " + ", ".join(map(str, p["running"])))
    if (cost := p.get("best_cost")) is not None:
        parts.append(f"best cost {cost:,.2f}")
    if (obj := p.get("best_objective")) is not None:
        parts.append(f"best {obj:,.6g}")
    if (bound := p.get("bound")) is not None:
        parts.append(f"bound {bound:,.6g}")
    if (gap := p.get("gap")) is not None:
        parts.append(f"gap {100 * gap:.2f}%")
    return ", ".join(parts)
