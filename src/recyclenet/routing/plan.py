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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ..errors import InputError
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

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], problem: RoutingProblem | None = None) -> RoutePlan:
        """Rebuild a plan from :meth:`to_dict` output (e.g. a stored plan, parsed JSON).

        The derived members of the dict (``objective``, ``vehicle_km``,
        ``vehicle_hours``, ``tonnes_by_material``) are ignored; everything else is taken
        as stored, so ``RoutePlan.from_dict(p.to_dict()).to_dict() == p.to_dict()``.
        Times stay seconds from midnight, distances metres, loads kg and m³.

        Parameters
        ----------
        doc : mapping
            What :meth:`to_dict` returned.
        problem : RoutingProblem, optional
            The problem the plan was made for; when given, every order, vehicle and
            location id of the plan is checked against it (:func:`check_plan_ids`).

        Returns
        -------
        RoutePlan

        Raises
        ------
        InputError
            A member is missing or has the wrong type (the message names its path, e.g.
            ``routes[1].visits[3].arrival_s``), or, with ``problem``, the plan names ids
            the problem does not have.
        """
        plan = _plan_from_dict(doc)
        if problem is not None:
            check_plan_ids(
                plan,
                orders=problem.orders,
                vehicle_types=problem.vehicle_types,
                depots=problem.depots,
                facilities=problem.facilities,
            )
        return plan


# --------------------------------------------------------------------------- loading


def _get(doc: Any, key: str, where: str) -> Any:
    if not isinstance(doc, Mapping):
        raise InputError(
            f"plan {where or 'document'}: expected an object, got {type(doc).__name__}"
        )
    if key not in doc:
        raise InputError(f"plan {where + '.' if where else ''}{key}: missing")
    return doc[key]


def _num(doc: Any, key: str, where: str) -> float:
    value = _get(doc, key, where)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InputError(f"plan {where + '.' if where else ''}{key}: {value!r} is not a number")
    return float(value)


def _text(doc: Any, key: str, where: str, *, optional: bool = False) -> Any:
    value = _get(doc, key, where)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InputError(f"plan {where + '.' if where else ''}{key}: {value!r} is not a string")
    return value


def _choice(doc: Any, key: str, where: str, allowed: Sequence[str]) -> Any:
    value = _text(doc, key, where)
    if value not in allowed:
        raise InputError(
            f"plan {where + '.' if where else ''}{key}: {value!r} is not one of {list(allowed)}"
        )
    return value


def _list(doc: Any, key: str, where: str) -> list[Any]:
    value = _get(doc, key, where)
    if not isinstance(value, list | tuple):
        raise InputError(f"plan {where + '.' if where else ''}{key}: expected a list")
    return list(value)


def _plan_from_dict(doc: Mapping[str, Any]) -> RoutePlan:
    routes = []
    for i, r in enumerate(_list(doc, "routes", "")):
        w = f"routes[{i}]"
        visits = []
        for k, v in enumerate(_list(r, "visits", w)):
            wv = f"{w}.visits[{k}]"
            visits.append(
                Visit(
                    kind=_choice(v, "kind", wv, get_args(VisitKind)),
                    location_id=_text(v, "location_id", wv),
                    order_id=_text(v, "order_id", wv, optional=True),
                    arrival_s=_num(v, "arrival_s", wv),
                    start_s=_num(v, "start_s", wv),
                    departure_s=_num(v, "departure_s", wv),
                    load_kg=_num(v, "load_kg", wv),
                    volume_m3=_num(v, "volume_m3", wv),
                    distance_from_previous_m=_num(v, "distance_from_previous_m", wv),
                    travel_from_previous_s=_num(v, "travel_from_previous_s", wv),
                )
            )
        if len(visits) < 2 or visits[0].kind != "start" or visits[-1].kind != "end":
            raise InputError(f"plan {w}.visits: must run from a 'start' visit to an 'end' visit")
        breaks = [
            Break(
                start_s=_num(b, "start_s", f"{w}.breaks[{k}]"),
                end_s=_num(b, "end_s", f"{w}.breaks[{k}]"),
                after_location_id=_text(b, "after_location_id", f"{w}.breaks[{k}]"),
            )
            for k, b in enumerate(_list(r, "breaks", w))
        ]
        routes.append(
            Route(
                vehicle_id=_text(r, "vehicle_id", w),
                vehicle_type_id=_text(r, "vehicle_type_id", w),
                profile=_text(r, "profile", w),
                visits=tuple(visits),
                breaks=tuple(breaks),
                distance_m=_num(r, "distance_m", w),
                duration_s=_num(r, "duration_s", w),
                cost=_num(r, "cost", w),
            )
        )
    unserved = [
        Unserved(
            order_id=_text(u, "order_id", f"unserved[{k}]"),
            reason=_choice(u, "reason", f"unserved[{k}]", REASONS),
            message=_text(u, "message", f"unserved[{k}]"),
        )
        for k, u in enumerate(_list(doc, "unserved", ""))
    ]
    kg = _get(doc, "kg_by_material", "")
    if not isinstance(kg, Mapping):
        raise InputError("plan kg_by_material: expected an object material -> kg")
    stats = doc.get("statistics") or {}
    if not isinstance(stats, Mapping):
        raise InputError("plan statistics: expected an object")
    return RoutePlan(
        routes=tuple(routes),
        unserved=tuple(unserved),
        status=_choice(doc, "status", "", get_args(Status)),
        engine=_text(doc, "engine", ""),
        cost=_num(doc, "cost", ""),
        penalty_cost=_num(doc, "penalty_cost", ""),
        distance_m=_num(doc, "distance_m", ""),
        duration_s=_num(doc, "duration_s", ""),
        kg_by_material={str(k): _num(kg, k, "kg_by_material") for k in kg},
        time_s=_num(doc, "time_s", "") if "time_s" in doc else 0.0,
        statistics=dict(stats),
    )


def _listed(ids: Iterable[str]) -> str:
    out = sorted(set(ids))
    return f"{out[:10]}{' ...' if len(out) > 10 else ''}"


def check_plan_ids(
    plan: RoutePlan,
    *,
    orders: Iterable[Order],
    vehicle_types: Iterable[VehicleType],
    depots: Iterable[Depot],
    facilities: Iterable[Facility] = (),
) -> None:
    """Check that a plan was made for these orders, fleet, depots and facilities.

    Only ids are compared (no matrices needed): every served or unserved order is one of
    ``orders`` and every one of ``orders`` is served or unserved, each once; every route's
    vehicle exists in the fleet with the same type and road profile, starts and ends at
    its type's depot (or end facility), and unloads at facilities only.

    Raises
    ------
    InputError
        Naming every mismatched id, and what would fix it.
    """
    order_ids = {o.id for o in orders}
    type_of = {vid: vt for vt in vehicle_types for vid in vt.vehicle_ids}
    facility_ids = {f.id for f in facilities}
    depot_ids = {d.id for d in depots}
    errors: list[str] = []
    served = [i for r in plan.routes for i in r.order_ids]
    unserved = [u.order_id for u in plan.unserved]
    mentioned = set(served) | set(unserved)
    if unknown := set(served) - order_ids:
        errors.append(f"the plan serves orders {_listed(unknown)} that are not in the orders")
    if unknown := set(unserved) - order_ids:
        errors.append(
            f"the plan lists as unserved orders {_listed(unknown)} that are not in the orders"
        )
    if absent := order_ids - mentioned:
        errors.append(f"orders {_listed(absent)} are neither served nor unserved in the plan")
    if twice := {i for i in served if served.count(i) > 1}:
        errors.append(f"orders {_listed(twice)} are served more than once")
    if both := set(served) & set(unserved):
        errors.append(f"orders {_listed(both)} are both served and unserved")
    vehicles = [r.vehicle_id for r in plan.routes]
    if unknown := set(vehicles) - set(type_of):
        errors.append(
            f"the plan routes vehicles {_listed(unknown)} that are not in the fleet "
            f"(vehicles are '{{type id}}-{{k}}', k = 1..count; fleet: {_listed(type_of)})"
        )
    if twice := {v for v in vehicles if vehicles.count(v) > 1}:
        errors.append(f"vehicles {_listed(twice)} have more than one route")
    for r in plan.routes:
        vt = type_of.get(r.vehicle_id)
        where = f"route {r.vehicle_id}"
        if vt is not None:
            if r.vehicle_type_id != vt.id or r.profile != vt.profile:
                errors.append(
                    f"{where}: type {r.vehicle_type_id!r} with profile {r.profile!r} in the "
                    f"plan, {vt.id!r} with profile {vt.profile!r} in the fleet"
                )
            if r.visits[0].location_id != vt.start_id or r.visits[-1].location_id != vt.end_id:
                errors.append(
                    f"{where}: runs {r.visits[0].location_id!r} -> "
                    f"{r.visits[-1].location_id!r}, the fleet's vehicle {vt.start_id!r} -> "
                    f"{vt.end_id!r}"
                )
        if r.visits[0].location_id not in depot_ids:
            errors.append(f"{where}: starts at {r.visits[0].location_id!r}, not a depot id")
        if bad := {v.location_id for v in r.visits if v.kind == "unload"} - facility_ids:
            errors.append(f"{where}: unloads at {_listed(bad)}, which are not facility ids")
        if bad := {
            v.location_id
            for v in r.visits
            if (v.kind == "order") != (v.order_id is not None)
            or (v.kind == "order" and v.location_id != v.order_id)
        }:
            errors.append(f"{where}: order visits at {_listed(bad)} do not match their order_id")
    if errors:
        raise InputError("the plan does not match its problem: " + "; ".join(errors))


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
