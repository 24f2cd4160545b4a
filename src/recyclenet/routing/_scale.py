"""Float -> integer conversion shared by the engine adapters (and only by them).

Both engines work on integers. The units chosen here:

- time: 1 s. Travel times are rounded *up* and windows *inwards*, so a schedule an
  engine finds feasible stays feasible on the float matrices.
- distance: 1 m, rounded to nearest.
- load: 0.1 kg and 1 litre (0.001 m³); demands rounded up, capacities down.
- cost: 1e-5 currency units for OR-Tools (so 60 per hour is 1667 per second, 0.02% off).
  For PyVRP, the natural scale where it is exact (:func:`pyvrp_cost_scale`): the
  smallest power of ten that makes every cost coefficient a whole number (a CVRPLIB
  instance keeps 1 per unit of length, as PyVRP's own reader does); otherwise costs are
  scaled so that the dearest metre costs :data:`PYVRP_COST_PER_M`. PyVRP's penalties are
  absolute numbers per unit of excess, tuned for costs of about one per distance unit:
  its adapter multiplies the penalty bounds by the scaled cost of the dearest metre or
  second (:func:`pyvrp_penalty_factor`), and keeps PyVRP's defaults when that is 1.
- unreachable pairs (inf) become :data:`UNREACHABLE`, far above any horizon, so engines
  never use them in a feasible route.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from .problem import DIMENSIONS

IntArray = npt.NDArray[np.int64]

UNREACHABLE = 10**9
COST_SCALE = 100_000
PYVRP_COST_PER_M = 100
LOAD_SCALE: tuple[int, ...] = (10, 1000)  # per dimension of DIMENSIONS
#: Penalty for leaving a required order out: above any plausible route cost.
REQUIRED_PENALTY = 10**13

assert len(LOAD_SCALE) == len(DIMENSIONS)


def int_duration(a: npt.ArrayLike) -> IntArray:
    """Seconds, rounded up; inf -> UNREACHABLE."""
    x = np.asarray(a, dtype=np.float64)
    out = np.full(x.shape, UNREACHABLE, dtype=np.int64)
    ok = np.isfinite(x)
    out[ok] = np.minimum(np.ceil(x[ok] - 1e-9), UNREACHABLE).astype(np.int64)
    return out


def int_distance(a: npt.ArrayLike) -> IntArray:
    """Metres, rounded to nearest; inf -> UNREACHABLE."""
    x = np.asarray(a, dtype=np.float64)
    out = np.full(x.shape, UNREACHABLE, dtype=np.int64)
    ok = np.isfinite(x)
    out[ok] = np.minimum(np.rint(x[ok]), UNREACHABLE).astype(np.int64)
    return out


def time_up(t: float) -> int:
    """A time rounded up (window opening, service, travel)."""
    return math.ceil(t - 1e-9)


def time_down(t: float) -> int:
    """A time rounded down (window closing)."""
    return math.floor(t + 1e-9)


def demand_int(values: tuple[float, ...], scale: tuple[int, ...] = LOAD_SCALE) -> list[int]:
    """Demand per dimension, rounded up."""
    return [math.ceil(v * s - 1e-9) for v, s in zip(values, scale)]


def natural_load_scale(values: list[float], dim: int) -> int:
    """The smallest power of ten, at most ``LOAD_SCALE[dim]``, at which every value of
    load dimension ``dim`` (finite demands and capacities) is a whole number; that bound
    when none is."""
    s = 1
    while s < LOAD_SCALE[dim]:
        if all(abs(v * s - round(v * s)) <= 1e-9 * max(1.0, v * s) for v in values):
            return s
        s *= 10
    return LOAD_SCALE[dim]


def capacity_int(
    values: tuple[float, ...], unlimited: int, scale: tuple[int, ...] = LOAD_SCALE
) -> list[int]:
    """Capacity per dimension, rounded down; inf -> ``unlimited``."""
    return [unlimited if math.isinf(v) else math.floor(v * s + 1e-9)
            for v, s in zip(values, scale)]  # fmt: skip


def cost_int(c: float) -> int:
    """A cost in currency units, scaled."""
    return round(c * COST_SCALE)


def cost_per_m(cost_per_km: float) -> float:
    """Scaled cost per metre (float; the caller rounds per arc)."""
    return cost_per_km * COST_SCALE / 1000.0


def cost_per_s(cost_per_hour: float) -> int:
    """Scaled cost per second."""
    return round(cost_per_hour * COST_SCALE / 3600.0)


def pyvrp_cost_scale(
    cost_per_km: list[float], cost_per_hour: list[float], other_costs: list[float]
) -> tuple[float, bool]:
    """Scaled cost units per currency unit for PyVRP, and whether every cost is exact.

    ``other_costs`` are the fixed costs and the penalties of optional orders. The
    smallest power of ten (1 to :data:`PYVRP_COST_PER_M` per metre) that makes every
    per-metre, per-second and other cost a whole number is exact; otherwise the
    dearest metre (or, without distance costs, second) is scaled to
    :data:`PYVRP_COST_PER_M` (10 times that per second) and arcs are rounded.
    """
    per_m = max(cost_per_km) / 1000.0
    per_s = max(cost_per_hour) / 3600.0
    coeffs = [c / 1000.0 for c in cost_per_km] + [c / 3600.0 for c in cost_per_hour]
    coeffs += list(other_costs)
    for k in range(13):
        s = 10.0**k
        if per_m * s > PYVRP_COST_PER_M or (per_m == 0 and per_s * s > 10 * PYVRP_COST_PER_M):
            break
        if all(abs(c * s - round(c * s)) <= 1e-9 * max(1.0, abs(c * s)) for c in coeffs):
            return s, True
    if per_m > 0:
        return PYVRP_COST_PER_M / per_m, False
    return (PYVRP_COST_PER_M * 10 / per_s if per_s > 0 else 1.0), False


def pyvrp_penalty_factor(
    scale: float, cost_per_km: list[float], cost_per_hour: list[float]
) -> float:
    """Multiplier of PyVRP's penalty bounds: the scaled cost of the dearest metre or
    second, at least 1."""
    return max(1.0, scale * max(cost_per_km) / 1000.0, scale * max(cost_per_hour) / 3600.0)
