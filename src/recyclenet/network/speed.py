"""Speed models: free flow, or congested urban driving by period.

``free_flow`` drives every road at its free-flow speed (``maxspeed`` or the class
default, capped by the vehicle; see :mod:`.profile`). ``urban`` multiplies it by the
share of free flow actually driven in a dense Chinese city centre, per highway class and
period, from ``data/urban_speeds.csv`` (AMap / Baidu traffic reports; see the file).

Time-dependent travel is approximated by one network, hence one matrix, per period: a
:class:`~recyclenet.network.hours.Period` covering several speed periods (``day`` =
06:00-22:00 holds 4 peak and 12 off-peak hours) drives at the time-weighted harmonic mean
of their factors, i.e. the average travel time over the period. What this misses: a
route leaving at 08:55 drives the whole leg at the period's speed rather than speeding up
at 09:00 (no FIFO time-dependent search), and the same factor applies to every road of a
class across the city (no per-street congestion).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

import numpy as np

from ..errors import InputError
from ..tables import read_table
from .hours import PERIOD_HOURS, Period, get_period, parse_hours

SPEED_MODELS = ("free_flow", "urban")
SPEED_PERIODS = ("peak", "offpeak", "night")
"""Columns of the urban speed table; every minute of a week falls in exactly one."""


@dataclass(frozen=True)
class RoadConditions:
    """When and how a network is driven: the speed model and the period.

    Attributes
    ----------
    speed_model : {"free_flow", "urban"}
    period : Period
        The hours the vehicles drive; time-conditional access is applied for it, and the
        urban model averages its factors over it. Default ``day`` (Mo-Fr 06:00-22:00).
    """

    speed_model: str = "free_flow"
    period: Period = field(default_factory=lambda: get_period(None))

    def __post_init__(self) -> None:
        if self.speed_model not in SPEED_MODELS:
            raise InputError(
                f"unknown speed model {self.speed_model!r}; choose one of {list(SPEED_MODELS)}"
            )
        object.__setattr__(self, "period", get_period(self.period))


@cache
def _minute_class() -> np.ndarray:
    """Speed period (index into SPEED_PERIODS) of every minute of the week."""
    cls = np.full(parse_hours("24/7").mask.shape, SPEED_PERIODS.index("offpeak"), dtype=np.int8)
    cls[parse_hours(PERIOD_HOURS["peak"]).mask] = SPEED_PERIODS.index("peak")
    cls[parse_hours(PERIOD_HOURS["night"]).mask] = SPEED_PERIODS.index("night")
    return cls


@cache
def _urban_table() -> dict[str, tuple[float, ...]]:
    _, rows = read_table(None, "urban_speeds.csv")
    return {row["highway"]: tuple(float(row[c]) for c in SPEED_PERIODS) for row in rows}


@cache
def _period_shares(hours: str) -> tuple[float, ...]:
    counts = np.bincount(_minute_class()[parse_hours(hours).mask], minlength=len(SPEED_PERIODS))
    return tuple((counts / counts.sum()).tolist())


def urban_factor(highway: str, period: Period) -> float:
    """Share of the free-flow speed driven on ``highway`` during ``period`` (urban model).

    The time-weighted harmonic mean of the table's factors over the period's minutes, so
    that travel time averages correctly. Unknown classes use ``unclassified``.
    """
    table = _urban_table()
    factors = table.get(highway, table["unclassified"])
    shares = _period_shares(period.hours)
    return 1.0 / sum(s / f for s, f in zip(shares, factors) if s > 0)


def speed_factor(highway: str, conditions: RoadConditions) -> float:
    """Multiplier of the free-flow speed under ``conditions`` (1 for free flow)."""
    if conditions.speed_model == "free_flow":
        return 1.0
    return urban_factor(highway, conditions.period)
