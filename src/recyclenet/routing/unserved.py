"""Orders no vehicle can serve, found before solving, each with a reason.

For every order and vehicle type the checks run in a fixed order: ``off_road`` (the
order is farther from the type's roads than ``problem.order_snap_limit_m``: in water, a
park, or off the map, with the distance), ``unreachable``
(no path from the start depot, to the end, in that type's road profile), ``skill``,
``capacity`` (some dimension exceeds the type's capacity), ``time_window`` (cannot be
reached from the start depot before its last window closes), ``shift`` (cannot be
served and the vehicle still be back within shift, maximum duration or maximum
distance on a dedicated trip). An order that fails for every type is unserved with the
reason of the type that got furthest; the others are kept with the vehicle types that
passed every check, which the engines use as allowed vehicles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .plan import Unserved
from .problem import DIMENSIONS, Order, RoutingProblem, VehicleType

_STAGES = ("off_road", "unreachable", "skill", "capacity", "time_window", "shift")
#: Farther than this from the nearest road, an order is "off the map" rather than "off
#: the road" (the extract does not cover it).
OFF_MAP_M = 5000.0


@dataclass(frozen=True)
class Diagnosis:
    """Pre-solve result.

    Attributes
    ----------
    unserved : tuple of Unserved
        Orders no vehicle type can serve.
    allowed_types : dict order id -> tuple of vehicle type ids
        For every other order, the types that can serve it on their own.
    """

    unserved: tuple[Unserved, ...]
    allowed_types: dict[str, tuple[str, ...]]


def _fmt_s(t: float) -> str:
    t = max(0.0, t)
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}"


def _check(problem: RoutingProblem, o: Order, vt: VehicleType, pos: dict[str, int],
           release_s: float | None) -> tuple[int, str]:  # fmt: skip
    """(stage reached, message); stage == len(_STAGES) means it fits."""
    snap_m = problem.matrices[vt.profile].snap_distance_m.get(o.id)
    if snap_m is not None and snap_m > problem.order_snap_limit_m:
        if snap_m > OFF_MAP_M:
            return 0, (f"off the map: {snap_m / 1000:.1f} km from the nearest {vt.profile!r} "
                       f"road of the network ({vt.id}); is the network the right area?")
        return 0, (f"{snap_m:.0f} m from the nearest {vt.profile!r} road ({vt.id}), more than "
                   f"the {problem.order_snap_limit_m:g} m limit (in water, a park or a "
                   "private area?)")  # fmt: skip
    dur, dist = problem.travel(vt.profile)
    s, e, i = pos[vt.start_id], pos[vt.end_id], pos[o.id]
    out_s, back_s = float(dur[s, i]), float(dur[i, e])
    if not (math.isfinite(out_s) and math.isfinite(back_s)):
        way = "from" if not math.isfinite(out_s) else "back to"
        depot = vt.start_id if not math.isfinite(out_s) else vt.end_id
        return 1, f"no road {way} {depot} for profile {vt.profile!r} ({vt.id})"
    missing = o.required_skills - vt.skills
    if missing:
        return 2, f"{vt.id} lacks skill(s) {sorted(missing)}"
    for d, (need, cap) in enumerate(zip(o.demand, vt.capacity)):
        if need > cap * (1 + 1e-12):
            return 3, f"{DIMENSIONS[d]} {need:g} > {vt.id} capacity {cap:g}"
    start_depot = next(d for d in problem.depots if d.id == vt.start_id)
    tw = start_depot.time_window
    leave = max(vt.shift[0], tw[0] if tw else 0.0, release_s or 0.0)
    ready = leave + out_s
    windows = o.time_windows or ((0.0, math.inf),)
    start = next((max(ready, a) for a, b in windows if ready <= b), None)
    if start is None:
        return 4, (f"{vt.id} arrives {_fmt_s(ready)} at the earliest, after its last window "
                   f"closes at {_fmt_s(windows[-1][1])}")  # fmt: skip
    # the vehicle may wait before leaving: span = out + service + back (+ end unload)
    unload = next((f.unload_s for f in problem.facilities if f.id == vt.end_id), 0.0)
    back_at = start + o.service_s + back_s + unload
    span = out_s + o.service_s + back_s + unload
    if back_at > vt.shift[1]:
        return 5, f"{vt.id} cannot be back before its shift ends at {_fmt_s(vt.shift[1])}"
    if vt.max_duration_s is not None and span > vt.max_duration_s:
        return 5, f"a trip takes {span:.0f} s > {vt.id} max_duration_s {vt.max_duration_s:g}"
    trip_m = float(dist[s, i] + dist[i, e])
    if vt.max_distance_m is not None and trip_m > vt.max_distance_m:
        return 5, f"a trip is {trip_m:.0f} m > {vt.id} max_distance_m {vt.max_distance_m:g}"
    return len(_STAGES), ""


def diagnose(problem: RoutingProblem, *, release_s: float | None = None) -> Diagnosis:
    """Find the orders no vehicle type can serve on its own, before solving.

    Parameters
    ----------
    problem : RoutingProblem
    release_s : float, optional
        Vehicles leave no earlier than this (re-planning: now).
    """
    pos = {k: i for i, k in enumerate(problem.location_ids)}
    unserved: list[Unserved] = []
    allowed: dict[str, tuple[str, ...]] = {}
    for o in problem.orders:
        results = [(vt.id, *_check(problem, o, vt, pos, release_s)) for vt in problem.vehicle_types]
        ok = tuple(t for t, stage, _ in results if stage == len(_STAGES))
        if ok:
            allowed[o.id] = ok
            continue
        best = max(stage for _, stage, _ in results)
        detail = "; ".join(msg for _, _, msg in results)
        reason = _STAGES[best]
        unserved.append(Unserved(o.id, reason, f"order {o.id!r}: {reason}: {detail}"))  # type: ignore[arg-type]
    return Diagnosis(tuple(unserved), allowed)
