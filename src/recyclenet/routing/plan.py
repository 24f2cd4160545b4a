"""RoutePlan: the engine-independent result of routing, and its feasibility check.

Engines only decide *which vehicle visits what in which order*, when it leaves and
where its break goes (:class:`RawRoute`). Everything reported (arrival, start of service,
departure, loads, distance, duration, cost) is recomputed here from the problem's float
matrices, so both engines give the same plan for the same sequences. Times are seconds
from midnight, distances metres, loads kg and m³.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .problem import DIMENSIONS, Depot, Facility, Order, RoutingProblem, VehicleType

VisitKind = Literal["start", "order", "unload", "end"]
ReasonCode = Literal["capacity", "time_window", "skill", "unreachable", "shift", "cost", "fleet"]
Status = Literal["feasible", "no_orders", "no_solution"]

#: Reason codes of unserved orders. ``fleet``: a required order that fits some vehicle
#: on its own but found no room in the fleet within the time limit.
REASONS: tuple[str, ...] = (
    "capacity", "time_window", "skill", "unreachable", "shift", "cost", "fleet",
)  # fmt: skip

_EPS_S = 1e-6
_EPS_LOAD = 1e-6


@dataclass(frozen=True)
class RawRoute:
    """What an engine decides for one used vehicle (internal, engine-neutral).

    ``stops`` are order and facility ids between the start and end depot; ``start_s``
    is the departure from the start depot; ``break_leg`` is the leg (0: start to first
    stop, len(stops): last stop to end) during or at the end of which the break is
    taken, None when it falls outside the route.
    """

    vehicle_id: str
    stops: tuple[str, ...]
    start_s: float
    break_leg: int | None = None


@dataclass(frozen=True)
class EngineResult:
    """An engine's answer (internal): raw routes, whether any solution was found."""

    engine: str
    routes: tuple[RawRoute, ...]
    found: bool
    time_s: float
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Visit:
    """One stop of a route.

    Attributes
    ----------
    kind : {"start", "order", "unload", "end"}
    location_id : str
        Depot, facility or order id.
    order_id : str or None
        The order served (kind ``"order"``).
    arrival_s, start_s, departure_s : float
        Arrival, start of service (after any waiting and break), departure; seconds
        from midnight.
    load_kg, volume_m3 : float
        Load on board after the stop.
    distance_from_previous_m, travel_from_previous_s : float
        The leg that ends here.
    """

    kind: VisitKind
    location_id: str
    order_id: str | None
    arrival_s: float
    start_s: float
    departure_s: float
    load_kg: float
    volume_m3: float
    distance_from_previous_m: float = 0.0
    travel_from_previous_s: float = 0.0

    @property
    def load(self) -> tuple[float, ...]:
        """Load after the stop per dimension of :data:`DIMENSIONS`."""
        return (self.load_kg, self.volume_m3)


@dataclass(frozen=True)
class Break:
    """The driver's break, taken on the leg that leaves ``after_location_id``."""

    start_s: float
    end_s: float
    after_location_id: str


@dataclass(frozen=True)
class Route:
    """One vehicle's day."""

    vehicle_id: str
    vehicle_type_id: str
    profile: str
    visits: tuple[Visit, ...]
    breaks: tuple[Break, ...]
    distance_m: float
    duration_s: float
    cost: float

    @property
    def order_ids(self) -> tuple[str, ...]:
        """Served order ids in visiting order."""
        return tuple(v.order_id for v in self.visits if v.order_id is not None)

    @property
    def unload_ids(self) -> tuple[str, ...]:
        """Facility ids of the mid-shift unload stops, in order."""
        return tuple(v.location_id for v in self.visits if v.kind == "unload")


@dataclass(frozen=True)
class Unserved:
    """An order left out, with why."""

    order_id: str
    reason: ReasonCode
    message: str


@dataclass(frozen=True)
class RoutePlan:
    """Routes, unserved orders and totals.

    Attributes
    ----------
    routes : tuple of Route
        Used vehicles only.
    unserved : tuple of Unserved
    status : {"feasible", "no_orders", "no_solution"}
        ``no_solution``: the engine found nothing within the time limit.
    engine : str
        Engine whose routes these are (``"ortools"``, ``"pyvrp"`` or ``"none"``).
    cost : float
        Fixed, distance and time cost of the routes.
    penalty_cost : float
        Penalties of the optional orders left out.
    distance_m, duration_s : float
        Sums over routes (vehicle-metres, vehicle-seconds).
    kg_by_material : dict str -> float
        Picked-up kg by catalogue material (``"unspecified"`` without items).
    time_s : float
        Wall time of the solve.
    statistics : dict
        Engine details (per-engine costs when several ran, time limit, seed, ...).
    """

    routes: tuple[Route, ...]
    unserved: tuple[Unserved, ...]
    status: Status
    engine: str
    cost: float
    penalty_cost: float
    distance_m: float
    duration_s: float
    kg_by_material: Mapping[str, float]
    time_s: float = 0.0
    statistics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def objective(self) -> float:
        """``cost + penalty_cost``: what the engines minimise."""
        return self.cost + self.penalty_cost

    @property
    def vehicle_km(self) -> float:
        """Total distance driven, km."""
        return self.distance_m / 1000.0

    @property
    def vehicle_hours(self) -> float:
        """Total time from leaving to returning, hours."""
        return self.duration_s / 3600.0

    @property
    def served_order_ids(self) -> tuple[str, ...]:
        """Every served order id, route by route."""
        return tuple(i for r in self.routes for i in r.order_ids)

    def route_of(self, vehicle_id: str) -> Route | None:
        """The route of a vehicle, None when it stays at the depot."""
        return next((r for r in self.routes if r.vehicle_id == vehicle_id), None)

    def reason_of(self, order_id: str) -> str | None:
        """Reason code of an unserved order, None when it is served."""
        return next((u.reason for u in self.unserved if u.order_id == order_id), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain str, float, list, dict)."""
        return {
            "status": self.status,
            "engine": self.engine,
            "cost": self.cost,
            "penalty_cost": self.penalty_cost,
            "objective": self.objective,
            "distance_m": self.distance_m,
            "duration_s": self.duration_s,
            "vehicle_km": self.vehicle_km,
            "vehicle_hours": self.vehicle_hours,
            "kg_by_material": dict(self.kg_by_material),
            "tonnes_by_material": {k: v / 1000.0 for k, v in self.kg_by_material.items()},
            "time_s": self.time_s,
            "statistics": dict(self.statistics),
            "routes": [
                {
                    "vehicle_id": r.vehicle_id,
                    "vehicle_type_id": r.vehicle_type_id,
                    "profile": r.profile,
                    "distance_m": r.distance_m,
                    "duration_s": r.duration_s,
                    "cost": r.cost,
                    "visits": [
                        {
                            "kind": v.kind,
                            "location_id": v.location_id,
                            "order_id": v.order_id,
                            "arrival_s": v.arrival_s,
                            "start_s": v.start_s,
                            "departure_s": v.departure_s,
                            "load_kg": v.load_kg,
                            "volume_m3": v.volume_m3,
                            "distance_from_previous_m": v.distance_from_previous_m,
                            "travel_from_previous_s": v.travel_from_previous_s,
                        }
                        for v in r.visits
                    ],
                    "breaks": [
                        {
                            "start_s": b.start_s,
                            "end_s": b.end_s,
                            "after_location_id": b.after_location_id,
                        }
                        for b in r.breaks
                    ],
                }
                for r in self.routes
            ],
            "unserved": [
                {"order_id": u.order_id, "reason": u.reason, "message": u.message}
                for u in self.unserved
            ],
        }


# --------------------------------------------------------------------------- evaluation


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


def place_breaks(problem: RoutingProblem, raw_routes: Sequence[RawRoute]) -> tuple[RawRoute, ...]:
    """Put each needed break on the first leg where the route stays feasible.

    For engines without a break model (PyVRP solves with shifts shortened by the break
    length). Routes that do not span their break window keep no break; a route where no
    leg works keeps none and :func:`check_plan` reports it.
    """
    types_by_vehicle = dict(problem.vehicles())
    ctx = _context(problem)
    out = []
    for r in raw_routes:
        vt = types_by_vehicle[r.vehicle_id]
        if vt.break_window is None or not r.stops:
            out.append(r)
            continue
        chosen = r
        # leaving earlier by the break length absorbs the break when windows are tight
        earlier = max(vt.shift[0], r.start_s - vt.break_s)
        depot_tw = ctx[3][vt.start_id].time_window
        if depot_tw is not None:
            earlier = max(earlier, depot_tw[0])
        starts = [r.start_s] if earlier >= r.start_s else [r.start_s, earlier]
        candidates = [(None, r.start_s)] + [(leg, t) for t in starts
                                            for leg in range(len(r.stops) + 1)]  # fmt: skip
        for leg, t in candidates:
            cand = RawRoute(r.vehicle_id, r.stops, t, leg)
            route = evaluate_route(problem, cand, vt)
            if not _route_errors(route, vt, problem, ctx, {}, 1e-3):
                chosen = cand
                break
        out.append(chosen)
    return tuple(out)


# --------------------------------------------------------------------------- checking


_Ctx = tuple[Mapping[str, int], Mapping[str, Order], dict[str, Facility], dict[str, Depot]]


def _context(problem: RoutingProblem) -> _Ctx:
    return (
        problem.position,
        problem.orders_by_id,
        {f.id: f for f in problem.facilities},
        {d.id: d for d in problem.depots},
    )


def _route_errors(r: Route, vt: VehicleType, problem: RoutingProblem, ctx: _Ctx,
                  seen: dict[str, str], tol_s: float) -> list[str]:  # fmt: skip
    """Constraint violations of one route (``seen``: order id -> vehicle, updated)."""
    pos, orders, facilities, depots = ctx
    errors: list[str] = []
    where = f"route {r.vehicle_id}"
    v = r.visits
    if v[0].kind != "start" or v[0].location_id != vt.start_id:
        errors.append(f"{where}: does not start at {vt.start_id}")
    if v[-1].kind != "end" or v[-1].location_id != vt.end_id:
        errors.append(f"{where}: does not end at {vt.end_id}")
    dur, dist = problem.travel(vt.profile)
    cap = vt.capacity
    total_m = 0.0
    unloads = 0
    for a, b in itertools.pairwise(v):
        travel = float(dur[pos[a.location_id], pos[b.location_id]])
        leg_m = float(dist[pos[a.location_id], pos[b.location_id]])
        total_m += leg_m
        if not math.isfinite(travel):
            errors.append(f"{where}: {a.location_id} -> {b.location_id} is unreachable "
                          f"for profile {vt.profile}")  # fmt: skip
            continue
        brk = sum(
            k.end_s - k.start_s
            for k in r.breaks
            if k.after_location_id == a.location_id
            and a.departure_s - tol_s <= k.start_s <= b.start_s + tol_s
        )
        if b.start_s + tol_s < a.departure_s + travel + brk:
            errors.append(
                f"{where}: starts at {b.location_id} at {b.start_s:.1f} s, "
                f"before it can get there ({a.departure_s + travel + brk:.1f} s)"
            )
    for s in v:
        if any(x < -_EPS_LOAD for x in s.load) or any(
            x > c * (1 + 1e-9) + _EPS_LOAD for x, c in zip(s.load, cap)
        ):
            errors.append(f"{where}: load {s.load} at {s.location_id} outside capacity {cap}")
        if s.kind == "order":
            o = orders.get(s.location_id)
            if o is None:
                errors.append(f"{where}: unknown order {s.location_id}")
                continue
            if s.location_id in seen:
                errors.append(f"order {s.location_id}: served twice")
            seen[s.location_id] = r.vehicle_id
            if not o.required_skills <= vt.skills:
                errors.append(f"{where}: lacks skills {sorted(o.required_skills - vt.skills)}"
                              f" for order {o.id}")  # fmt: skip
            if o.time_windows and not any(
                a - tol_s <= s.start_s <= b + tol_s for a, b in o.time_windows
            ):
                errors.append(f"{where}: order {o.id} served at {s.start_s:.1f} s outside "
                              f"{o.time_windows}")  # fmt: skip
            if s.departure_s + tol_s < s.start_s + o.service_s:
                errors.append(f"{where}: order {o.id} service too short")
        elif s.kind == "unload":
            unloads += 1
            f = facilities.get(s.location_id)
            if f is None:
                errors.append(f"{where}: unload at {s.location_id}, not a facility")
                continue
            if f.time_window and not (
                f.time_window[0] - tol_s <= s.start_s <= f.time_window[1] + tol_s
            ):
                errors.append(f"{where}: unload at {f.id} at {s.start_s:.1f} s outside hours")
            if s.departure_s + tol_s < s.start_s + f.unload_s:
                errors.append(f"{where}: unload at {f.id} too short")
    start, end = v[0].departure_s, v[-1].departure_s
    if start + tol_s < vt.shift[0] or end > vt.shift[1] + tol_s:
        errors.append(f"{where}: {start:.1f}-{end:.1f} s outside shift {vt.shift}")
    sd = depots[vt.start_id].time_window if vt.start_id in depots else None
    if sd and not (sd[0] - tol_s <= start <= sd[1] + tol_s):
        errors.append(f"{where}: leaves {vt.start_id} at {start:.1f} s outside {sd}")
    ed = depots[vt.end_id].time_window if vt.end_id in depots else None
    if ed and v[-1].arrival_s > ed[1] + tol_s:
        errors.append(f"{where}: back at {vt.end_id} at {v[-1].arrival_s:.1f} s, after "
                      f"it closes ({ed[1]:g} s)")  # fmt: skip
    if vt.max_duration_s is not None and end - start > vt.max_duration_s + tol_s:
        errors.append(f"{where}: duration {end - start:.1f} s > {vt.max_duration_s}")
    slack_m = 0.5 * len(v)  # engines round each leg to whole metres
    if vt.max_distance_m is not None and total_m > vt.max_distance_m + slack_m:
        errors.append(f"{where}: distance {total_m:.1f} m > {vt.max_distance_m}")
    if vt.max_unloads is not None and unloads > vt.max_unloads:
        errors.append(f"{where}: {unloads} unloads > {vt.max_unloads}")
    if vt.break_window is not None:
        b0, b1 = vt.break_window
        need = b0 + vt.break_s > start + tol_s and end > b1 + tol_s
        if need and not r.breaks:
            errors.append(f"{where}: no break although the route spans the break window")
        for k in r.breaks:
            if (
                not (b0 - tol_s <= k.start_s <= b1 + tol_s)
                or k.end_s + tol_s < k.start_s + vt.break_s
            ):
                errors.append(f"{where}: break {k.start_s:.1f}-{k.end_s:.1f} s outside "
                              f"window {vt.break_window} or too short")  # fmt: skip
            for s in v:
                if (
                    s.kind in ("order", "unload")
                    and k.start_s + tol_s < s.departure_s
                    and s.start_s + tol_s < k.end_s
                ):
                    errors.append(f"{where}: break overlaps the service at {s.location_id}")
    if abs(total_m - r.distance_m) > 1e-6 * max(1.0, total_m):
        errors.append(f"{where}: reported distance {r.distance_m} != {total_m}")
    return errors


def check_plan(plan: RoutePlan, problem: RoutingProblem, *, tol_s: float = 1e-3) -> list[str]:
    """Every constraint a plan breaks, as messages; empty when feasible.

    Independent of the engines: recomputes travel from the problem's matrices and
    checks each order served once or reported unserved, vehicles used at most once,
    skills, every load dimension after every stop, time windows, facility and depot
    hours, shifts, maximum duration and distance, breaks, unload limits and the
    reported totals.
    """
    errors: list[str] = []
    ctx = _context(problem)
    types_by_vehicle = dict(problem.vehicles())
    seen: dict[str, str] = {}
    used: set[str] = set()
    for r in plan.routes:
        where = f"route {r.vehicle_id}"
        vt = types_by_vehicle.get(r.vehicle_id)
        if vt is None:
            errors.append(f"{where}: unknown vehicle")
            continue
        if r.vehicle_id in used:
            errors.append(f"{where}: vehicle used twice")
        used.add(r.vehicle_id)
        errors += _route_errors(r, vt, problem, ctx, seen, tol_s)
    unserved = {u.order_id for u in plan.unserved}
    for o in problem.orders:
        if o.id in seen and o.id in unserved:
            errors.append(f"order {o.id}: both served and unserved")
        if o.id not in seen and o.id not in unserved:
            errors.append(f"order {o.id}: neither served nor reported unserved")
    return errors
