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

Facilities with a ``capacity_kg`` take at most that much in the day: routes choose, the
most loaded first, the nearest facility that still has room; the feasibility gate
(:mod:`.gate`) then moves unloads away from a facility that is still over, or leaves
orders unserved with reason ``facility_capacity``.

Approximation: the engines plan with one end facility per vehicle type (the one nearest to
its end depot) and know no facility capacity; the choice per route afterwards can only
shorten routes, and capacity is fitted afterwards (it can leave orders unserved that a
solver modelling capacity would have sent further).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .check import CheckContext, check_context, route_violations
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


def feasible_variant(
    problem: RoutingProblem, raw: RawRoute, vt: VehicleType, ctx: CheckContext
) -> RawRoute | None:
    """``raw`` if it holds, else the same stops leaving at the earliest start (shift and
    depot opening; engines may schedule a start late in the shift, leaving no time for a
    longer way), breaks placed again; None when neither holds."""
    from .breaks import place_breaks

    if not route_violations(evaluate_route(problem, raw, vt), vt, problem, ctx, {}):
        return raw
    start = vt.shift[0]
    dep = next((d for d in problem.depots if d.id == vt.start_id), None)
    if dep is not None and dep.time_window is not None:
        start = max(start, dep.time_window[0])
    if start >= raw.start_s:
        return None
    early = RawRoute(raw.vehicle_id, raw.stops, start, None)
    if vt.break_window is not None:
        (early,) = place_breaks(problem, [early])
    if route_violations(evaluate_route(problem, early, vt), vt, problem, ctx, {}):
        return None
    return early


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
    facility_ids = {f.id for f in problem.facilities}
    caps = {f.id: f.capacity_kg for f in problem.facilities if f.capacity_kg is not None}
    out: dict[int, RawRoute] = {}
    todo: list[tuple[int, list[str], float]] = []  # (index, stops, kg for the final unload)
    used_kg: dict[str, float] = {}
    for k, r in enumerate(raw_routes):
        vt = types[r.vehicle_id]
        if legs.get(vt.id) is None or not r.stops:
            out[k] = r
            continue
        stops = list(r.stops)
        while stops and stops[-1] in facility_ids:  # unloads right before the final one
            stops.pop()
        if not stops:
            continue
        end_kg = 0.0
        if caps:  # what mid-shift unloads take, and what is left for the final one
            loaded = evaluate_route(problem, RawRoute(r.vehicle_id, tuple(stops), r.start_s), vt)
            for fid, kg in loaded.delivered_kg.items():
                used_kg[fid] = used_kg.get(fid, 0.0) + kg
            end_kg = loaded.end_load_kg
        todo.append((k, stops, end_kg))
    for k, stops, end_kg in sorted(todo, key=lambda t: (-t[2], t[0])):  # most loaded first
        r = raw_routes[k]
        vt = types[r.vehicle_id]
        leg = legs[vt.id]
        dur, _dist = problem.travel(vt.profile)
        last, end = pos[stops[-1]], pos[vt.end_id]
        ranked = sorted(
            problem.facilities,
            key=lambda f: (float(dur[last, pos[f.id]]) + f.unload_s + float(dur[pos[f.id], end]),
                           f.id),
        )  # fmt: skip
        chosen: RawRoute | None = None
        nearest_full: RawRoute | None = None  # feasible but without room: the gate fits it
        for f in ranked:
            cand = RawRoute(r.vehicle_id, (*stops, f.id), r.start_s, r.break_leg)
            if f.id != leg.facility_id:
                feasible = feasible_variant(problem, cand, vt, ctx)
                if feasible is None:
                    continue
                cand = feasible
            cap = caps.get(f.id)
            if cap is None or used_kg.get(f.id, 0.0) + end_kg <= cap + 1e-6:
                chosen = cand
                break
            nearest_full = nearest_full or cand
        chosen = (
            chosen
            or nearest_full
            or RawRoute(r.vehicle_id, (*stops, leg.facility_id), r.start_s, r.break_leg)
        )
        used_kg[chosen.stops[-1]] = used_kg.get(chosen.stops[-1], 0.0) + end_kg
        out[k] = chosen
    return tuple(out[k] for k in sorted(out))
