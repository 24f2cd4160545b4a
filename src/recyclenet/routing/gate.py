"""The feasibility gate: every engine's routes are checked, and repaired when they fail.

:func:`repair` evaluates each route on the problem's float matrices and runs
:func:`~recyclenet.routing.check.route_violations` on it. A failing route first gets its
break placed again (:func:`~recyclenet.routing.breaks.place_breaks`); then the visits
named by its violations are dropped, and for route-level violations (shift, duration,
distance, missing break) the order whose removal helps most, until the route holds. The
dropped orders are then re-inserted where they fit at least added cost (any route of an
allowed vehicle type, or an unused vehicle), while time remains; the rest are reported
unserved (``fleet``, or ``cost`` for optional orders). What comes out passes
:func:`~recyclenet.routing.check.check_plan`, which the caller verifies again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..deadline import Deadline
from .breaks import place_breaks
from .check import Violation, check_context, facility_intake_kg, route_violations
from .delivery import feasible_variant
from .evaluate import evaluate_route
from .plan import RawRoute, Route, Unserved
from .problem import RoutingProblem, VehicleType
from .unserved import Diagnosis


@dataclass
class RepairReport:
    """What the gate did to one engine's routes."""

    violations: list[Violation] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    reinserted: list[str] = field(default_factory=list)
    #: order id -> the facility that had no room for it (reason ``facility_capacity``)
    no_room: dict[str, str] = field(default_factory=dict)
    #: (vehicle id, from facility, to facility): unloads moved to a facility with room
    moved_unloads: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (the first 20 violations)."""
        return {
            "violations": len(self.violations),
            "violation_kinds": sorted({v.kind for v in self.violations}),
            "first_violations": [v.to_dict() for v in self.violations[:20]],
            "dropped": list(self.dropped),
            "reinserted": list(self.reinserted),
            "no_room": dict(self.no_room),
            "moved_unloads": [list(m) for m in self.moved_unloads],
        }

    def unserved(self, problem: RoutingProblem) -> list[Unserved]:
        """The orders no facility had room for, as unserved orders."""
        caps = {f.id: f.capacity_kg for f in problem.facilities}
        return [Unserved(oid, "facility_capacity",
                         f"order {oid!r}: facility {fid!r} is full for the day (capacity_kg "
                         f"{caps.get(fid)}) and no other facility within reach has room")
                for oid, fid in sorted(self.no_room.items())]  # fmt: skip


class _Eval:
    """Evaluate and check one route, with breaks placed for vehicles that take one."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.problem = problem
        self.ctx = check_context(problem)
        self.types = dict(problem.vehicles())

    def route(
        self, raw: RawRoute, *, replace_break: bool
    ) -> tuple[RawRoute, Route, list[Violation]]:
        vt = self.types[raw.vehicle_id]
        if replace_break and vt.break_window is not None:
            (raw,) = place_breaks(self.problem, [raw])
        r = evaluate_route(self.problem, raw, vt)
        return raw, r, route_violations(r, vt, self.problem, self.ctx, {})


def _score(violations: Sequence[Violation]) -> tuple[int, float]:
    return len(violations), sum(v.amount for v in violations)


def _strip_unloads(stops: Sequence[str], facility_ids: set[str]) -> tuple[str, ...]:
    """Drop unload stops with nothing picked up since the start or the previous unload."""
    out: list[str] = []
    for s in stops:
        if s in facility_ids and (not out or out[-1] in facility_ids):
            continue
        out.append(s)
    return tuple(out)


def _fix_route(ev: _Eval, raw: RawRoute, facility_ids: set[str],
               final_stop: str | None) -> tuple[RawRoute, list[str]]:  # fmt: skip
    """Drop visits until the route holds; returns the route and the dropped order ids."""
    dropped: list[str] = []
    raw, _r, bad = ev.route(raw, replace_break=False)
    if not bad:
        return raw, dropped
    raw, _r, bad = ev.route(raw, replace_break=True)
    while bad:
        orders = [s for s in raw.stops if s not in facility_ids]
        if not orders:
            return RawRoute(raw.vehicle_id, (), raw.start_s), dropped
        named = [v.order_id for v in bad if v.order_id in orders]
        if named:
            victim = named[0]
        else:  # route-level: the removal that helps most (ties: the later order)
            best: tuple[tuple[int, float], int] | None = None
            victim = orders[-1]
            for k, o in enumerate(orders):
                trial = _without(raw, o, facility_ids, final_stop)
                score = _score(ev.route(trial, replace_break=True)[2])
                if best is None or (score, -k) < (best[0], -best[1]):
                    best, victim = (score, k), o
        dropped.append(victim)
        raw = _without(raw, victim, facility_ids, final_stop)
        if not raw.stops:
            return raw, dropped
        raw, _r, bad = ev.route(raw, replace_break=True)
    return raw, dropped


def _without(raw: RawRoute, order_id: str, facility_ids: set[str],
             final_stop: str | None) -> RawRoute:  # fmt: skip
    stops = _strip_unloads([s for s in raw.stops if s != order_id], facility_ids)
    if final_stop is not None:
        if all(s in facility_ids for s in stops):
            stops = ()
        elif stops[-1] not in facility_ids:
            stops = (*stops, final_stop)
    return RawRoute(raw.vehicle_id, stops, raw.start_s, None)


def _cost(r: Route) -> float:
    return r.cost


def _idle_start(problem: RoutingProblem, vt: VehicleType, order_id: str) -> float:
    """When an idle vehicle leaves to serve one order: in time for its first window."""
    start = vt.shift[0]
    dep = next((d for d in problem.depots if d.id == vt.start_id), None)
    if dep is not None and dep.time_window is not None:
        start = max(start, dep.time_window[0])
    o = problem.orders_by_id[order_id]
    if o.time_windows:
        dur, _dist = problem.travel(vt.profile)
        pos = problem.position
        start = max(start, o.time_windows[0][0] - float(dur[pos[vt.start_id], pos[order_id]]))
    return start


def repair(
    problem: RoutingProblem,
    raw_routes: Sequence[RawRoute],
    diagnosis: Diagnosis,
    *,
    deadline: Deadline,
    final_stops: Mapping[str, str] | None = None,
) -> tuple[tuple[RawRoute, ...], RepairReport]:
    """Routes that pass the checks, made from ``raw_routes``.

    Parameters
    ----------
    problem : RoutingProblem
        The problem the routes are checked against.
    raw_routes : sequence of RawRoute
        An engine's routes.
    diagnosis : Diagnosis
        Which vehicle types may serve each order (re-insertion keeps to them).
    deadline : Deadline
        Re-insertion stops when it expires (the dropping part always completes).
    final_stops : mapping vehicle type id -> facility id, optional
        Vehicles that must end with an unload there (see :mod:`.delivery`): routes
        keep one as their last stop, and new routes get one.
    """
    final_stops = dict(final_stops or {})
    ev = _Eval(problem)
    facility_ids = {f.id for f in problem.facilities}
    report = RepairReport()
    seen: set[str] = set()
    routes: dict[str, RawRoute] = {}
    for raw in raw_routes:
        if not raw.stops:
            continue
        vt = ev.types[raw.vehicle_id]
        # an order on two routes, or a vehicle twice: keep the first
        if raw.vehicle_id in routes:
            report.dropped.extend(s for s in raw.stops if s not in facility_ids)
            continue
        twice = [s for s in raw.stops if s in seen]
        if twice:
            report.dropped.extend(twice)
            raw = RawRoute(raw.vehicle_id, tuple(s for s in raw.stops if s not in seen),
                           raw.start_s, None)  # fmt: skip
        seen.update(s for s in raw.stops if s not in facility_ids)
        _raw, _r, bad = ev.route(raw, replace_break=False)
        report.violations.extend(bad)
        fixed, dropped = _fix_route(ev, raw, facility_ids, final_stops.get(vt.id))
        report.dropped.extend(dropped)
        routes[raw.vehicle_id] = fixed
    if report.dropped:
        _reinsert(problem, ev, routes, report, diagnosis, deadline, facility_ids, final_stops)
    if any(f.capacity_kg is not None for f in problem.facilities):
        _fit_facility_capacity(ev, routes, report, facility_ids, final_stops)
    out = tuple(r for r in routes.values() if any(s not in facility_ids for s in r.stops))
    return out, report


def _fit_facility_capacity(ev: _Eval, routes: dict[str, RawRoute], report: RepairReport,
                           facility_ids: set[str],
                           final_stops: Mapping[str, str]) -> None:  # fmt: skip
    """Bring every facility within its ``capacity_kg`` for the day.

    While a facility takes too much: move one of its unloads (the cheapest detour first)
    to a facility with room where the route stays feasible; when none can move, leave
    out one order unloaded there (optional before required, low priority first, then the
    one whose load best covers the excess), recorded in ``report.no_room``. Each step
    lowers the excess or the served orders, so it ends.
    """
    problem = ev.problem
    caps = {f.id: f.capacity_kg for f in problem.facilities if f.capacity_kg is not None}
    facilities = [f.id for f in problem.facilities]
    pos = problem.position
    while True:
        evaluated = {v: ev.route(r, replace_break=False)[1] for v, r in routes.items() if r.stops}
        intake = facility_intake_kg(evaluated.values())
        over = sorted(((kg - caps[f], f) for f, kg in intake.items()
                       if f in caps and kg > caps[f] + 1e-6), reverse=True)  # fmt: skip
        if not over:
            return
        excess, fid = over[0]
        # (detour s, vehicle, stop index, kg unloaded there) of every unload at fid
        unloads: list[tuple[float, str, int, float]] = []
        for vid, route in evaluated.items():
            dur, _dist = problem.travel(ev.types[vid].profile)
            for i, visit in enumerate(route.visits[1:-1], start=1):
                if visit.kind == "unload" and visit.location_id == fid:
                    kg = route.visits[i - 1].load_kg
                    a, b = (
                        pos[route.visits[i - 1].location_id],
                        pos[route.visits[i + 1].location_id],
                    )
                    unloads.append((float(dur[a, pos[fid]] + dur[pos[fid], b]), vid, i - 1, kg))
        if _move_an_unload(ev, routes, report, intake, caps, facilities, fid, sorted(unloads)):
            continue
        # leave out one order unloaded at fid
        candidates = _unloaded_at(ev, routes, facility_ids, fid, excess)
        if not candidates:  # nothing to leave out (loads from deliveries only): give up
            return
        _key, vid, oid = min(candidates)
        final = final_stops.get(ev.types[vid].id)
        fixed, dropped = _fix_route(ev, _without(routes[vid], oid, facility_ids, final),
                                    facility_ids, final)  # fmt: skip
        routes[vid] = fixed
        report.no_room[oid] = fid
        report.dropped.extend(dropped)


def _unloaded_at(ev: _Eval, routes: Mapping[str, RawRoute], facility_ids: set[str], fid: str,
                 excess: float) -> list[tuple[tuple[bool, int, int, float], str, str]]:  # fmt: skip
    """(preference key, vehicle, order) of each pickup unloaded at ``fid``; the smallest
    key is the order to leave out first: optional before required, low priority first,
    then the smallest load that covers ``excess`` kg, else the largest load."""
    orders = ev.problem.orders_by_id
    out: list[tuple[tuple[bool, int, int, float], str, str]] = []

    def offer(batch: Sequence[str], vid: str) -> None:
        for oid in batch:
            kg = orders[oid].load_kg
            fits = kg >= excess - 1e-6
            key = (orders[oid].required, orders[oid].priority, 0 if fits else 1,
                   kg if fits else -kg)  # fmt: skip
            out.append((key, vid, oid))

    for vid, raw in routes.items():
        batch: list[str] = []
        for stop in raw.stops:
            if stop in facility_ids:
                if stop == fid:
                    offer(batch, vid)
                batch = []
            elif orders[stop].kind == "pickup":
                batch.append(stop)
        if ev.types[vid].end_id == fid:  # a route ending at the facility unloads there
            offer(batch, vid)
    return out


def _move_an_unload(ev: _Eval, routes: dict[str, RawRoute], report: RepairReport,
                    intake: Mapping[str, float], caps: Mapping[str, float],
                    facilities: Sequence[str], fid: str,
                    unloads: Sequence[tuple[float, str, int, float]]) -> bool:  # fmt: skip
    """Move one unload at ``fid`` to another facility with room, keeping its route
    feasible; True when one moved."""
    for _detour, vid, k, kg in unloads:
        raw = routes[vid]
        for other in facilities:
            if other == fid or intake.get(other, 0.0) + kg > caps.get(other, float("inf")) + 1e-6:
                continue
            stops = (*raw.stops[:k], other, *raw.stops[k + 1 :])
            cand, _r, bad = ev.route(RawRoute(vid, stops, raw.start_s, None), replace_break=True)
            moved = cand if not bad else feasible_variant(ev.problem, cand, ev.types[vid], ev.ctx)
            if moved is not None:
                routes[vid] = moved
                report.moved_unloads.append((vid, fid, other))
                return True
    return False


def _reinsert(problem: RoutingProblem, ev: _Eval, routes: dict[str, RawRoute],
              report: RepairReport, diagnosis: Diagnosis, deadline: Deadline,
              facility_ids: set[str], final_stops: Mapping[str, str]) -> None:  # fmt: skip
    """Cheapest feasible insertion of each dropped order, required and urgent ones first."""
    orders = problem.orders_by_id
    todo = sorted(set(report.dropped), key=lambda o: (not orders[o].required,
                                                      -orders[o].priority, o))  # fmt: skip
    all_types = tuple(vt.id for vt in problem.vehicle_types)
    cost_now = {v: evaluate_route(problem, r, ev.types[v]).cost for v, r in routes.items()
                if r.stops}  # fmt: skip
    for oid in todo:
        if deadline.expired():
            break
        allowed = set(diagnosis.allowed_types.get(oid, all_types))
        best: tuple[float, RawRoute] | None = None
        idle_tried: set[str] = set()
        for vid, vt in ev.types.items():
            if vt.id not in allowed:
                continue
            raw = routes.get(vid)
            if raw is None or not raw.stops:
                if vt.id in idle_tried:  # one idle vehicle per type is enough
                    continue
                idle_tried.add(vt.id)
                stops: tuple[str, ...] = ()
                start = _idle_start(problem, vt, oid)
                base = 0.0
            else:
                stops, start, base = raw.stops, raw.start_s, cost_now[vid]
            final = final_stops.get(vt.id)
            n_pos = len(stops) - (1 if final is not None and stops else 0)
            for k in range(max(0, n_pos) + 1):
                new = (*stops[:k], oid, *stops[k:])
                if final is not None and new[-1] not in facility_ids:
                    new = (*new, final)
                cand, r, bad = ev.route(RawRoute(vid, new, start, None), replace_break=True)
                if bad:
                    continue
                delta = _cost(r) - base
                if best is None or delta < best[0]:
                    best = (delta, cand)
            if deadline.expired():
                break
        if best is None:
            continue
        cand = best[1]
        routes[cand.vehicle_id] = cand
        cost_now[cand.vehicle_id] = evaluate_route(problem, cand, ev.types[cand.vehicle_id]).cost
        report.reinserted.append(oid)
