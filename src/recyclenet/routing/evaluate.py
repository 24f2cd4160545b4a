"""Scheduling and costing routes on the problem's float matrices; building plans."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .plan import (
    Break,
    RawRoute,
    Route,
    RoutePlan,
    Status,
    Unserved,
    Visit,
    VisitKind,
)
from .problem import DIMENSIONS, Order, RoutingProblem, VehicleType

_EPS_S = 1e-6


def _index(problem: RoutingProblem) -> Mapping[str, int]:
    return problem.position


def _start_of_service(order: Order, ready_s: float) -> float:
    if not order.time_windows:
        return ready_s
    for a, b in order.time_windows:
        if ready_s <= b + _EPS_S:
            return max(ready_s, a)
    return ready_s  # too late for every window: reported as is, flagged by check_plan


def _leg_with_break(
    depart_s: float, travel_s: float, vt: VehicleType
) -> tuple[float, float, float]:
    """Arrival, ready time and break start for a leg that carries the break."""
    assert vt.break_window is not None
    b0 = max(depart_s, vt.break_window[0])
    ready = max(depart_s + travel_s, b0) + vt.break_s
    arrival = depart_s + travel_s + (vt.break_s if b0 < depart_s + travel_s else 0.0)
    return arrival, ready, b0


def evaluate_route(problem: RoutingProblem, raw: RawRoute, vt: VehicleType) -> Route:
    """Schedule and cost a vehicle's stop sequence on the problem's float matrices.

    The vehicle leaves at ``raw.start_s``, waits for windows that are not yet open,
    takes its break on leg ``raw.break_leg`` as early as its window allows, and loads
    deliveries of each trip at the depot or the preceding unload stop.
    """
    pos = _index(problem)
    dur, dist = problem.travel(vt.profile)
    orders = problem.orders_by_id
    facilities = {f.id: f for f in problem.facilities}
    nd = len(DIMENSIONS)

    # deliveries per trip: a trip ends at each unload stop
    trip_deliveries: list[list[float]] = [[0.0] * nd]
    for s in raw.stops:
        if s in facilities:
            trip_deliveries.append([0.0] * nd)
        elif orders[s].kind == "delivery":
            for d in range(nd):
                trip_deliveries[-1][d] += orders[s].demand[d]
    trip = 0
    load = list(trip_deliveries[0])
    visits = [Visit("start", vt.start_id, None, raw.start_s, raw.start_s, raw.start_s,
                    load[0], load[1])]  # fmt: skip
    breaks: list[Break] = []
    t = raw.start_s
    prev = vt.start_id
    total_m = 0.0
    sequence = [*raw.stops, vt.end_id]
    for leg, loc in enumerate(sequence):
        travel_s = float(dur[pos[prev], pos[loc]])
        leg_m = float(dist[pos[prev], pos[loc]])
        total_m += leg_m
        if raw.break_leg == leg and vt.break_window is not None:
            arrival, ready, b0 = _leg_with_break(t, travel_s, vt)
            breaks.append(Break(b0, b0 + vt.break_s, prev))
        else:
            arrival = ready = t + travel_s
        if leg == len(raw.stops):  # the end
            kind: VisitKind = "end"
            start = ready
            depart = ready + (facilities[loc].unload_s if loc in facilities else 0.0)
            if loc in facilities:  # unloads there; at a depot what is on board stays
                load = [0.0] * nd
            visits.append(Visit(kind, loc, None, arrival, start, depart, load[0], load[1],
                                leg_m, travel_s))  # fmt: skip
        elif loc in facilities:
            fac = facilities[loc]
            start = max(ready, fac.time_window[0]) if fac.time_window else ready
            depart = start + fac.unload_s
            trip += 1
            load = list(trip_deliveries[trip])
            visits.append(Visit("unload", loc, None, arrival, start, depart, load[0], load[1],
                                leg_m, travel_s))  # fmt: skip
        else:
            o = orders[loc]
            start = _start_of_service(o, ready)
            depart = start + o.service_s
            sign = 1.0 if o.kind == "pickup" else -1.0
            load = [load[d] + sign * o.demand[d] for d in range(nd)]
            visits.append(Visit("order", loc, loc, arrival, start, depart, load[0], load[1],
                                leg_m, travel_s))  # fmt: skip
        t = depart
        prev = loc
    duration = visits[-1].departure_s - raw.start_s
    cost = vt.fixed_cost + vt.cost_per_km * total_m / 1000.0 + vt.cost_per_hour * duration / 3600.0
    return Route(raw.vehicle_id, vt.id, vt.profile, tuple(visits), tuple(breaks),
                 total_m, duration, cost)  # fmt: skip


def build_plan(
    problem: RoutingProblem,
    raw_routes: Sequence[RawRoute],
    *,
    engine: str,
    status: Status,
    unserved: Sequence[Unserved] = (),
    time_s: float = 0.0,
    statistics: Mapping[str, Any] | None = None,
) -> RoutePlan:
    """Evaluate raw routes into a :class:`RoutePlan`.

    Orders neither routed nor in ``unserved`` are reported as ``cost`` (optional) or
    ``fleet`` (required) unserved orders.
    """
    types_by_vehicle = dict(problem.vehicles())
    routes = tuple(
        evaluate_route(problem, r, types_by_vehicle[r.vehicle_id]) for r in raw_routes if r.stops
    )
    served = {i for r in routes for i in r.order_ids}
    listed = {u.order_id for u in unserved}
    out = list(unserved)
    for o in problem.orders:
        if o.id in served or o.id in listed:
            continue
        if not o.required:
            out.append(Unserved(o.id, "cost", f"order {o.id!r}: dropped because its penalty "
                                f"{o.penalty:g} is cheaper than serving it"))  # fmt: skip
        else:
            out.append(Unserved(o.id, "fleet", f"order {o.id!r}: fits a vehicle on its own but "
                                "found no room in the fleet within the time limit"))  # fmt: skip
    by_id = {o.id: o for o in problem.orders}
    penalty = sum(by_id[u.order_id].penalty or 0.0 for u in out
                  if not by_id[u.order_id].required)  # fmt: skip
    kg: dict[str, float] = {}
    for o in problem.orders:
        if o.id not in served or o.kind != "pickup":
            continue
        if o.items:
            for line in o.items:
                kg[line.material] = kg.get(line.material, 0.0) + line.load_kg
        else:
            kg["unspecified"] = kg.get("unspecified", 0.0) + o.load_kg
    return RoutePlan(
        routes=routes,
        unserved=tuple(sorted(out, key=lambda u: u.order_id)),
        status=status,
        engine=engine,
        cost=sum(r.cost for r in routes),
        penalty_cost=penalty,
        distance_m=sum(r.distance_m for r in routes),
        duration_s=sum(r.duration_s for r in routes),
        kg_by_material=kg,
        time_s=time_s,
        statistics=dict(statistics or {}),
    )
