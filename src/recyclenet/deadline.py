"""One deadline type for every solver and helper process.

A time limit is turned into a :class:`Deadline` once, where the request enters the
library (``solve_routing``, ``solve_siting``, the pipeline), and passed down unchanged:
engines ask :meth:`Deadline.remaining_s` or :meth:`Deadline.expired` instead of
recomputing a limit from a start time of their own. The clock is
:func:`time.monotonic` (never goes back, unaffected by NTP or DST changes).

A deadline crosses into child processes as an absolute instant: pickling stores the
wall-clock (epoch) time at which it expires, and unpickling maps that back onto the
child's monotonic clock, so time spent starting the child counts against the budget
(``to_epoch_s``/``from_epoch_s`` do the same for JSON and command lines).

Examples
--------
>>> d = Deadline.after(10.0)
>>> 9.0 < d.remaining_s() <= 10.0
True
>>> d.expired()
False
>>> d.earlier(20.0).expired()
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from .errors import InputError

__all__ = ["Deadline"]


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True)
class Deadline:
    """An instant on the :func:`time.monotonic` clock, with the budget it came from.

    Build one with :meth:`after`; derive tighter ones with :meth:`earlier`,
    :meth:`within` and :meth:`share`. Immutable and picklable.

    Attributes
    ----------
    at_s : float
        Monotonic time at which the budget runs out (``inf``: never).
    start_s : float
        Monotonic time at which the budget started (for :meth:`elapsed_s`).
    limit_s : float
        The time limit it was built from, seconds (``at_s - start_s`` for derived ones).
    """

    at_s: float
    start_s: float
    limit_s: float

    @classmethod
    def after(cls, time_limit_s: float) -> Deadline:
        """The deadline ``time_limit_s`` seconds from now (``inf``: no deadline).

        Raises
        ------
        InputError
            When ``time_limit_s`` is not a positive number of seconds.
        """
        if (
            isinstance(time_limit_s, bool)
            or not isinstance(time_limit_s, int | float)
            or not (time_limit_s > 0)
        ):
            raise InputError(f"time_limit_s={time_limit_s!r} must be a positive number of seconds")
        now = _now()
        return cls(now + float(time_limit_s), now, float(time_limit_s))

    @classmethod
    def never(cls) -> Deadline:
        """A deadline that does not expire."""
        now = _now()
        return cls(math.inf, now, math.inf)

    # ---- queries
    def remaining_s(self) -> float:
        """Seconds left, never negative (``inf`` for :meth:`never`)."""
        return max(0.0, self.at_s - _now())

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return _now() >= self.at_s

    def elapsed_s(self) -> float:
        """Seconds since the budget started."""
        return _now() - self.start_s

    def fraction_used(self) -> float:
        """Share of the budget used, 0–1 (0 for a deadline that never expires)."""
        if not math.isfinite(self.limit_s) or self.limit_s <= 0:
            return 0.0
        return min(1.0, max(0.0, self.elapsed_s() / self.limit_s))

    # ---- derived deadlines
    def earlier(self, margin_s: float) -> Deadline:
        """This deadline moved ``margin_s`` seconds earlier (time kept back for work after)."""
        return Deadline(self.at_s - max(0.0, margin_s), self.start_s, self.limit_s)

    def within(self, seconds: float) -> Deadline:
        """The earlier of this deadline and ``seconds`` from now."""
        return Deadline(min(self.at_s, _now() + max(0.0, seconds)), self.start_s, self.limit_s)

    def share(self, fraction: float) -> Deadline:
        """A deadline after ``fraction`` (0–1) of the time that remains now."""
        rem = self.remaining_s()
        if not math.isfinite(rem):
            return self
        return Deadline(_now() + max(0.0, min(1.0, fraction)) * rem, self.start_s, self.limit_s)

    # ---- crossing processes
    def to_epoch_s(self) -> float:
        """The instant as wall-clock seconds since the epoch (``inf`` for :meth:`never`)."""
        return self.at_s - _now() + time.time()

    @classmethod
    def from_epoch_s(cls, epoch_s: float, limit_s: float | None = None) -> Deadline:
        """A deadline at wall-clock ``epoch_s`` (from :meth:`to_epoch_s`, maybe another
        process); ``limit_s`` is the original budget, for :meth:`fraction_used`."""
        now = _now()
        at = epoch_s - time.time() + now
        if limit_s is None or not math.isfinite(limit_s):
            limit_s = max(0.0, at - now) if math.isfinite(at) else math.inf
        start = at - limit_s if math.isfinite(at) and math.isfinite(limit_s) else now
        return cls(at, start, float(limit_s))

    def __reduce__(self) -> tuple[Any, ...]:
        return (Deadline.from_epoch_s, (self.to_epoch_s(), self.limit_s))

    def __repr__(self) -> str:
        return f"Deadline(remaining_s={self.remaining_s():.3f}, limit_s={self.limit_s:g})"
