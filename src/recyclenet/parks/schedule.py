"""How often each stream is picked up, and on which weekdays.

A stream builds up on site at its generation rate ``r`` (t/calendar day) and may stay at
most ``D`` days (its storage time: the legal maximum for hazardous waste unless the
stream says less) and ``S`` tonnes (its store). So consecutive pickups may be at most
``min(D, S / r)`` days apart: the stream's *interval limit*.

The weekly schedule picks, stream by stream (largest weekly tonnage first), the fewest
pickups per week on the park's collection days whose longest cyclic gap meets the
limit, and among those the weekdays that keep the busiest day lightest (tonnes already
placed that day). A stream whose limit is two weeks or more is picked up once every
``k`` weeks (k <= :data:`MAX_PERIOD_WEEKS`); the weekly plan then shows the week it is
due. Each pickup takes what built up since the previous one: ``r × gap`` tonnes.

:func:`check_schedule` verifies every limit independently.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from .model import Park, Stream

#: Longest pickup period, weeks (a stream that may wait longer is still collected monthly).
MAX_PERIOD_WEEKS = 4
#: A pickup is at most this many full loads of the largest vehicle that may carry the
#: stream (a planning convention, not a rule: it keeps a gate's pickup within a trip or
#: two, so a month of fly ash is not due on one day). Dropped when even collecting on
#: every collection day cannot meet it; storage limits are never dropped.
MAX_LOADS_PER_PICKUP = 2
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_EPS = 1e-9


@dataclass(frozen=True)
class Pickup:
    """One pickup of a stream in the planned week.

    Attributes
    ----------
    stream_id : str
    weekday : int
        0 = Monday .. 6 = Sunday.
    tonnes : float
        What built up since the previous pickup.
    gap_days : float
        Days since the previous pickup (cyclic).
    """

    stream_id: str
    weekday: int
    tonnes: float
    gap_days: float


@dataclass(frozen=True)
class StreamSchedule:
    """The pickup rhythm of one stream.

    Attributes
    ----------
    stream_id : str
    weekdays : tuple of int
    period_weeks : int
        1: every week; k: the weekdays of every k-th week.
    interval_limit_days : float
        ``min(storage days, storage tonnes / t per day)``.
    binding : {"storage_t", "storage_days", "vehicle", "max_period", "none"}
        Which limit sets the interval (``vehicle``: :data:`MAX_LOADS_PER_PICKUP`;
        ``max_period``: :data:`MAX_PERIOD_WEEKS`, the storage limits allow longer).
    max_gap_days : float
        Longest time between two pickups in the schedule.
    max_stock_t : float
        Largest stock on site just before a pickup.
    """

    stream_id: str
    weekdays: tuple[int, ...]
    period_weeks: int
    interval_limit_days: float
    binding: str
    max_gap_days: float
    max_stock_t: float

    @property
    def pickups_per_week(self) -> float:
        """Average pickups per week."""
        return len(self.weekdays) / self.period_weeks


@dataclass(frozen=True)
class Schedule:
    """The weekly collection schedule of a park."""

    streams: tuple[StreamSchedule, ...]
    pickups: tuple[Pickup, ...]

    def on(self, weekday: int) -> tuple[Pickup, ...]:
        """Pickups on one weekday."""
        return tuple(p for p in self.pickups if p.weekday == weekday)

    def tonnes_by_weekday(self) -> dict[int, float]:
        """Tonnes picked up per weekday (the planned week)."""
        out: dict[int, float] = {}
        for p in self.pickups:
            out[p.weekday] = out.get(p.weekday, 0.0) + p.tonnes
        return out

    def of(self, stream_id: str) -> StreamSchedule:
        """The rhythm of one stream."""
        return next(s for s in self.streams if s.stream_id == stream_id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "streams": [
                {
                    "stream_id": s.stream_id,
                    "weekdays": [WEEKDAYS_EN[d] for d in s.weekdays],
                    "period_weeks": s.period_weeks,
                    "pickups_per_week": s.pickups_per_week,
                    "interval_limit_days": s.interval_limit_days
                    if math.isfinite(s.interval_limit_days)
                    else None,
                    "binding": s.binding,
                    "max_gap_days": s.max_gap_days,
                    "max_stock_t": s.max_stock_t,
                }
                for s in self.streams
            ],
            "pickups": [
                {
                    "stream_id": p.stream_id,
                    "weekday": WEEKDAYS_EN[p.weekday],
                    "tonnes": p.tonnes,
                    "gap_days": p.gap_days,
                }
                for p in self.pickups
            ],
        }


def cyclic_gaps(days: Sequence[int], period_days: int = 7) -> list[float]:
    """Days since the previous pickup, for each of ``days`` (sorted), repeating each period."""
    ds = sorted(days)
    if len(ds) == 1:
        return [float(period_days)]
    return [float((d - ds[i - 1]) % period_days or period_days) for i, d in enumerate(ds)]


def interval_limit(park: Park, stream: Stream) -> tuple[float, str]:
    """The longest allowed time between pickups (days) and which limit sets it."""
    by_days = park.storage_days_of(stream)
    by_t = stream.storage_limit_t / stream.tonnes_per_day
    if not (math.isfinite(by_days) or math.isfinite(by_t)):
        return math.inf, "none"
    return (by_days, "storage_days") if by_days <= by_t else (by_t, "storage_t")


def _vehicle_limit(park: Park, stream: Stream) -> float:
    """Days of generation that fill :data:`MAX_LOADS_PER_PICKUP` of the largest vehicle."""
    caps = [v.capacity_t for v in park.vehicles_for(stream)]
    return MAX_LOADS_PER_PICKUP * max(caps) / stream.tonnes_per_day if caps else math.inf


def schedule_pickups(park: Park, streams: Sequence[Stream] | None = None) -> Schedule:
    """The weekly schedule of ``streams`` (default: every stream of the park).

    Raises
    ------
    InputError
        A stream whose interval limit the collection days cannot meet, named with the
        numbers and the fix.
    """
    days = park.settings.collection_days
    todo = sorted(
        park.streams if streams is None else streams, key=lambda s: (-s.tonnes_per_month, s.id)
    )
    load: dict[int, float] = dict.fromkeys(range(7), 0.0)
    out_s: list[StreamSchedule] = []
    out_p: list[Pickup] = []
    best_gap = max(cyclic_gaps(days))
    for s in todo:
        limit, binding = interval_limit(park, s)
        if limit + _EPS < best_gap:
            names = ", ".join(WEEKDAYS_EN[d] for d in days)
            raise InputError(
                f"stream {s.id!r} ({s.code}, {s.tonnes_per_month:g} t/month) must be picked up "
                f"at least every {limit:.3g} days (storage limit {s.storage_limit_t:g} t, "
                f"{park.storage_days_of(s):g} days), but collecting on {names} leaves gaps of "
                f"{best_gap:g} days; add collection days or a larger store for it"
            )
        by_vehicle = _vehicle_limit(park, s)
        if by_vehicle < limit and by_vehicle + _EPS >= best_gap:
            limit, binding = by_vehicle, "vehicle"
        elif by_vehicle < limit:
            limit, binding = best_gap, "vehicle"
        period = max(1, min(MAX_PERIOD_WEEKS, int(limit // 7))) if math.isfinite(limit) else 4
        if limit >= 7 * (MAX_PERIOD_WEEKS + 1):
            binding = "max_period"  # the limit allows more than the longest period
        chosen: tuple[int, ...] | None = None
        for f in range(1, len(days) + 1):
            options = [
                c
                for c in itertools.combinations(days, f)
                if max(cyclic_gaps(c)) * (period if f == 1 else 1) <= limit + _EPS
            ]
            if not options:
                continue
            if f > 1:
                period = 1

            def weight(
                c: tuple[int, ...], rate: float = s.tonnes_per_day, weeks: int = period
            ) -> tuple[float, float, float, tuple[int, ...]]:
                # lightest busiest day, then the most even spacing (smallest stock)
                gaps = cyclic_gaps(c)
                lots = [rate * g * weeks for g in gaps]
                busiest = max(load[d] + t for d, t in zip(c, lots, strict=True))
                return (round(busiest, 9), max(gaps), sum(g * g for g in gaps), c)

            chosen = min(options, key=weight)
            break
        assert chosen is not None  # the full day set meets the limit (checked above)
        gaps = [g * period for g in cyclic_gaps(chosen)]
        for d, g in zip(chosen, gaps, strict=True):
            t = s.tonnes_per_day * g
            load[d] += t
            out_p.append(Pickup(s.id, d, t, g))
        out_s.append(
            StreamSchedule(
                s.id, chosen, period, limit, binding, max(gaps), s.tonnes_per_day * max(gaps)
            )
        )
    out_p.sort(key=lambda p: (p.weekday, p.stream_id))
    out_s.sort(key=lambda x: x.stream_id)
    return Schedule(tuple(out_s), tuple(out_p))


def check_schedule(park: Park, schedule: Schedule) -> list[str]:
    """Every storage limit or generation balance the schedule breaks; empty when none.

    Recomputes, per stream, the gaps between its pickups from the weekdays alone and
    checks them against the storage days and the stock against the storage tonnes, and
    that the pickups of a period carry exactly what the stream generates in it.
    """
    errors: list[str] = []
    streams = park.streams_by_id
    days = set(park.settings.collection_days)
    for ss in schedule.streams:
        s = streams[ss.stream_id]
        pk = [p for p in schedule.pickups if p.stream_id == s.id]
        wd = sorted(p.weekday for p in pk)
        if wd != sorted(ss.weekdays) or not wd:
            errors.append(f"stream {s.id}: pickups on {wd} but rhythm says {ss.weekdays}")
            continue
        if not set(wd) <= days:
            errors.append(f"stream {s.id}: pickup on a day without collection: {wd}")
        gaps = [g * ss.period_weeks for g in cyclic_gaps(wd)]
        max_days = park.storage_days_of(s)
        for p, g in zip(sorted(pk, key=lambda p: p.weekday), gaps, strict=True):
            if g > max_days + _EPS:
                errors.append(
                    f"stream {s.id}: {g:g} days between pickups > storage limit {max_days:g} days"
                )
            stock = s.tonnes_per_day * g
            if stock > s.storage_limit_t * (1 + 1e-9) + _EPS:
                errors.append(
                    f"stream {s.id}: {stock:.4g} t on site before the "
                    f"{p.weekday} pickup > store {s.storage_limit_t:g} t"
                )
            if abs(p.tonnes - stock) > 1e-6 * max(1.0, stock):
                errors.append(
                    f"stream {s.id}: pickup carries {p.tonnes:.6g} t, {stock:.6g} t built up"
                )
        made = s.tonnes_per_day * 7 * ss.period_weeks
        taken = sum(p.tonnes for p in pk)
        if abs(made - taken) > 1e-6 * max(1.0, made):
            errors.append(
                f"stream {s.id}: picks up {taken:.6g} t per {ss.period_weeks} "
                f"week(s), generates {made:.6g} t"
            )
    return errors
