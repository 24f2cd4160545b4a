"""The day ends delivered: every route unloads at a facility before returning to its depot.

When a problem has facilities (sorting centres), a vehicle that ends its day at a depot
first drives to a facility and unloads there, so no route comes back loaded
(:func:`~recyclenet.routing.check.check_plan` reports ``loaded_at_end`` otherwise).
Engines need no model of their own for it: :func:`with_final_unload` gives them the
problem in which such a vehicle *ends* at a facility (both engines model ending at a
facility, with its unload time), its shift, maximum duration and distance shortened by the
drive from that facility to the depot and the cost of that drive added to its fixed cost;
:func:`restore_final_unload` turns their routes back into routes of the real problem (the
facility becomes the last stop, then the depot) and picks, per route, the facility nearest
to its last stop that keeps the route feasible (opening hours, shift), so the routes of a
day use every open centre.

Approximation: the engines plan with one end facility per vehicle type (the one nearest to
its end depot); the choice per route afterwards can only shorten routes. Facilities have
no capacity of their own ("room" is their opening hours).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .check import check_context, route_violations
from .evaluate import evaluate_route
from .plan import RawRoute
from .problem import RoutingProblem, VehicleType


@dataclass(frozen=True)
class FinalLeg:
    """The drive a vehicle type makes after its final unload: facility to end depot."""

    facility_id: str
    duration_s: float
    distance_m: float


def needs_final_unload(problem: RoutingProblem) -> bool:
    """Whether some vehicle ends at a depot while the problem has facilities."""
    fac = {f.id for f in problem.facilities}
    return bool(fac) and any(vt.end_id not in fac for vt in problem.vehicle_types)


def final_legs(problem: RoutingProblem) -> dict[str, FinalLeg]:
    """Per vehicle type ending at a depot: the facility nearest to that depot (travel time
    in the type's profile, then id) and the drive from it to the depot. Types that can
    reach no facility from their start, or no end from one, are left out."""
    if not needs_final_unload(problem):
        return {}
    fac = {f.id for f in problem.facilities}
    pos = problem.position
    out: dict[str, FinalLeg] = {}
    for vt in problem.vehicle_types:
        if vt.end_id in fac:
            continue
        dur, dist = problem.travel(vt.profile)
        s, e = pos[vt.start_id], pos[vt.end_id]
        # reachable from the start (an idle vehicle drives start -> facility) and to the end
        usable = [f for f in problem.facilities
                  if math.isfinite(float(dur[s, pos[f.id]]))
                  and math.isfinite(float(dur[pos[f.id], e]))]  # fmt: skip
        if not usable:  # no way to deliver: check_plan does not ask for it either
            continue
        best = min(usable, key=lambda f: (float(dur[pos[f.id], e]), f.id))
        out[vt.id] = FinalLeg(best.id, float(dur[pos[best.id], e]), float(dist[pos[best.id], e]))
    return out


def with_final_unload(problem: RoutingProblem) -> RoutingProblem:
    """The problem engines solve: vehicles ending at a depot end at a facility instead.

    Returns ``problem`` itself when there is nothing to change.
    """
    legs = final_legs(problem)
    if not legs:
        return problem
    depots = {d.id: d for d in problem.depots}
    types: list[VehicleType] = []
    for vt in problem.vehicle_types:
        leg = legs.get(vt.id)
        if leg is None:
            types.append(vt)
            continue
        end_s = vt.shift[1]
        tw = depots[vt.end_id].time_window if vt.end_id in depots else None
        if tw is not None:
            end_s = min(end_s, tw[1])
        end_s = max(vt.shift[0], end_s - leg.duration_s)
        types.append(replace(
            vt,
            end_id=leg.facility_id,
            shift=(vt.shift[0], end_s),
            max_duration_s=None if vt.max_duration_s is None
            else max(0.0, vt.max_duration_s - leg.duration_s),
            max_distance_m=None if vt.max_distance_m is None
            else max(0.0, vt.max_distance_m - leg.distance_m),
            fixed_cost=vt.fixed_cost + vt.cost_per_km * leg.distance_m / 1000.0
            + vt.cost_per_hour * leg.duration_s / 3600.0,
        ))  # fmt: skip
    return replace(problem, vehicle_types=tuple(types))


def restore_final_unload(
    problem: RoutingProblem, raw_routes: Sequence[RawRoute]
) -> tuple[RawRoute, ...]:
    """Routes of :func:`with_final_unload`'s problem as routes of ``problem``.

    Each route of a vehicle that ends at a depot gets a final unload stop: at the
    facility nearest to its last stop (travel there plus on to the depot) among those
    that keep the route feasible, else the one the engine planned with.
    """
    legs = final_legs(problem)
    if not legs:
        return tuple(raw_routes)
    types = dict(problem.vehicles())
    ctx = check_context(problem)
    pos = problem.position
    out = []
    for r in raw_routes:
        vt = types[r.vehicle_id]
        leg = legs.get(vt.id)
        if leg is None or not r.stops:
            out.append(r)
            continue
        facility_ids = {f.id for f in problem.facilities}
        stops = list(r.stops)
        while stops and stops[-1] in facility_ids:  # unloads right before the final one
            stops.pop()
        if not stops:
            continue
        dur, _dist = problem.travel(vt.profile)
        last, end = pos[stops[-1]] if stops else pos[vt.start_id], pos[vt.end_id]
        ranked = sorted(
            problem.facilities,
            key=lambda f: (float(dur[last, pos[f.id]]) + f.unload_s + float(dur[pos[f.id], end]),
                           f.id),
        )  # fmt: skip
        chosen = RawRoute(r.vehicle_id, (*stops, leg.facility_id), r.start_s, r.break_leg)
        for f in ranked:
            cand = RawRoute(r.vehicle_id, (*stops, f.id), r.start_s, r.break_leg)
            if f.id == leg.facility_id or not route_violations(
                evaluate_route(problem, cand, vt), vt, problem, ctx, {}
            ):
                chosen = cand
                break
        out.append(chosen)
    return tuple(out)
