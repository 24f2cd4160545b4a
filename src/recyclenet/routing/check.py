"""Feasibility of plans: :func:`check_plan` and its structured :class:`Violation` values.

Independent of the engines: travel is recomputed from the problem's float matrices.
Modelled on VROOM's ``solution/violations.h``: each violation names its kind, the
vehicle and the order (or stop) concerned, and how much the limit is exceeded by.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import InputError
from .plan import Route, RoutePlan
from .problem import Depot, Facility, Order, RoutingProblem, VehicleType

_EPS_LOAD = 1e-6

ViolationKind = Literal[
    "unknown_vehicle", "vehicle_twice", "wrong_start", "wrong_end", "unreachable",
    "travel_time", "capacity", "unknown_order", "served_twice", "skill", "time_window",
    "service_time", "not_facility", "facility_hours", "unload_time", "shift", "depot_hours",
    "max_duration", "max_distance", "max_unloads", "missing_break", "break_window",
    "break_overlap", "loaded_at_end", "distance_total", "served_and_unserved", "unaccounted",
    "facility_capacity",
]  # fmt: skip

#: Kinds whose ``amount`` is in seconds, metres, kg (first load dimension) or a count;
#: the others are 1 (it happened).
AMOUNT_UNITS: Mapping[str, str] = {
    "travel_time": "s", "time_window": "s", "service_time": "s", "facility_hours": "s",
    "unload_time": "s", "shift": "s", "depot_hours": "s", "max_duration": "s",
    "break_window": "s", "break_overlap": "s", "max_distance": "m", "distance_total": "m",
    "capacity": "kg", "loaded_at_end": "kg", "facility_capacity": "kg", "max_unloads": "count",
    "missing_break": "s",
}  # fmt: skip


@dataclass(frozen=True)
class Violation:
    """One broken constraint of a plan.

    Attributes
    ----------
    kind : str
        What is broken (:data:`ViolationKind`).
    vehicle_id : str or None
        The route concerned (None for order-level ones such as ``unaccounted``).
    order_id : str or None
        The order, or the stop id (facility, depot) where it happens; None for
        route-level ones (shift, duration, distance, missing break).
    amount : float
        By how much, in the unit of :data:`AMOUNT_UNITS` (1 when it is a yes/no).
    message : str
        A sentence for people.
    """

    kind: ViolationKind
    vehicle_id: str | None
    order_id: str | None
    amount: float
    message: str

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return {"kind": self.kind, "vehicle_id": self.vehicle_id, "order_id": self.order_id,
                "amount": self.amount, "message": self.message}  # fmt: skip


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


CheckContext = tuple[
    Mapping[str, int], Mapping[str, Order], dict[str, Facility], dict[str, Depot], frozenset[str]
]


def check_context(problem: RoutingProblem) -> CheckContext:
    """Lookups :func:`route_violations` needs, built once per problem (the last: vehicle
    types that must come back empty, see :mod:`.delivery`)."""
    from .delivery import final_legs

    return (
        problem.position,
        problem.orders_by_id,
        {f.id: f for f in problem.facilities},
        {d.id: d for d in problem.depots},
        frozenset(final_legs(problem)),
    )


def route_violations(r: Route, vt: VehicleType, problem: RoutingProblem, ctx: CheckContext,
                     seen: dict[str, str], tol_s: float = 1e-3) -> list[Violation]:  # fmt: skip
    """Constraint violations of one route (``seen``: order id -> vehicle, updated)."""
    pos, orders, facilities, depots, end_empty = ctx
    out: list[Violation] = []
    vid = r.vehicle_id
    where = f"route {vid}"

    def bad(kind: ViolationKind, order_id: str | None, amount: float, msg: str) -> None:
        out.append(Violation(kind, vid, order_id, float(amount), f"{where}: {msg}"))

    v = r.visits
    if v[0].kind != "start" or v[0].location_id != vt.start_id:
        bad("wrong_start", v[0].location_id, 1, f"does not start at {vt.start_id}")
    if v[-1].kind != "end" or v[-1].location_id != vt.end_id:
        bad("wrong_end", v[-1].location_id, 1, f"does not end at {vt.end_id}")
    dur, dist = problem.travel(vt.profile)
    cap = vt.capacity
    total_m = 0.0
    unloads = 0
    for a, b in itertools.pairwise(v):
        travel = float(dur[pos[a.location_id], pos[b.location_id]])
        leg_m = float(dist[pos[a.location_id], pos[b.location_id]])
        total_m += leg_m
        if not math.isfinite(travel):
            bad(
                "unreachable",
                b.order_id or b.location_id,
                1,
                f"{a.location_id} -> {b.location_id} is unreachable for profile {vt.profile}",
            )
            continue
        brk = sum(
            k.end_s - k.start_s
            for k in r.breaks
            if k.after_location_id == a.location_id
            and a.departure_s - tol_s <= k.start_s <= b.start_s + tol_s
        )
        early = a.departure_s + travel + brk - b.start_s
        if early > tol_s:
            bad(
                "travel_time",
                b.order_id or b.location_id,
                early,
                f"starts at {b.location_id} at {b.start_s:.1f} s, before it can get there "
                f"({a.departure_s + travel + brk:.1f} s)",
            )
    for s in v:
        over = max([-x for x in s.load] + [x - c for x, c in zip(s.load, cap)])
        if any(x < -_EPS_LOAD for x in s.load) or any(
            x > c * (1 + 1e-9) + _EPS_LOAD for x, c in zip(s.load, cap)
        ):
            bad(
                "capacity",
                s.order_id or s.location_id,
                over,
                f"load {s.load} at {s.location_id} outside capacity {cap}",
            )
        if s.kind == "order":
            o = orders.get(s.location_id)
            if o is None:
                bad("unknown_order", s.location_id, 1, f"unknown order {s.location_id}")
                continue
            if s.location_id in seen:
                bad("served_twice", o.id, 1, f"order {o.id} served twice")
            seen[s.location_id] = vid
            if not o.required_skills <= vt.skills:
                bad(
                    "skill",
                    o.id,
                    len(o.required_skills - vt.skills),
                    f"lacks skills {sorted(o.required_skills - vt.skills)} for order {o.id}",
                )
            if o.time_windows and not any(
                a - tol_s <= s.start_s <= b + tol_s for a, b in o.time_windows
            ):
                miss = min(max(a - s.start_s, s.start_s - b) for a, b in o.time_windows)
                bad(
                    "time_window",
                    o.id,
                    miss,
                    f"order {o.id} served at {s.start_s:.1f} s outside {o.time_windows}",
                )
            short = s.start_s + o.service_s - s.departure_s
            if short > tol_s:
                bad("service_time", o.id, short, f"order {o.id} service too short")
        elif s.kind == "unload":
            unloads += 1
            f = facilities.get(s.location_id)
            if f is None:
                bad("not_facility", s.location_id, 1, f"unload at {s.location_id}, not a facility")
                continue
            if f.time_window and not (
                f.time_window[0] - tol_s <= s.start_s <= f.time_window[1] + tol_s
            ):
                miss = max(f.time_window[0] - s.start_s, s.start_s - f.time_window[1])
                bad(
                    "facility_hours",
                    f.id,
                    miss,
                    f"unload at {f.id} at {s.start_s:.1f} s outside hours {f.time_window}",
                )
            short = s.start_s + f.unload_s - s.departure_s
            if short > tol_s:
                bad("unload_time", f.id, short, f"unload at {f.id} too short")
    start, end = v[0].departure_s, v[-1].departure_s
    out_of_shift = max(vt.shift[0] - start, end - vt.shift[1])
    if out_of_shift > tol_s:
        bad("shift", None, out_of_shift, f"{start:.1f}-{end:.1f} s outside shift {vt.shift}")
    sd = depots[vt.start_id].time_window if vt.start_id in depots else None
    if sd and not (sd[0] - tol_s <= start <= sd[1] + tol_s):
        bad(
            "depot_hours",
            vt.start_id,
            max(sd[0] - start, start - sd[1]),
            f"leaves {vt.start_id} at {start:.1f} s outside {sd}",
        )
    ed = depots[vt.end_id].time_window if vt.end_id in depots else None
    if ed and v[-1].arrival_s > ed[1] + tol_s:
        bad(
            "depot_hours",
            vt.end_id,
            v[-1].arrival_s - ed[1],
            f"back at {vt.end_id} at {v[-1].arrival_s:.1f} s, after it closes ({ed[1]:g} s)",
        )
    if vt.max_duration_s is not None and end - start > vt.max_duration_s + tol_s:
        bad(
            "max_duration",
            None,
            end - start - vt.max_duration_s,
            f"duration {end - start:.1f} s > {vt.max_duration_s}",
        )
    slack_m = 0.5 * len(v)  # engines round each leg to whole metres
    if vt.max_distance_m is not None and total_m > vt.max_distance_m + slack_m:
        bad(
            "max_distance",
            None,
            total_m - vt.max_distance_m,
            f"distance {total_m:.1f} m > {vt.max_distance_m}",
        )
    if len(v) >= 3 and v[-2].kind == "unload" and vt.end_id not in facilities:
        unloads -= 1  # the day's final delivery is not a mid-shift unload
    if vt.max_unloads is not None and unloads > vt.max_unloads:
        bad("max_unloads", None, unloads - vt.max_unloads, f"{unloads} unloads > {vt.max_unloads}")
    if vt.id in end_empty and len(v) >= 2:
        left = v[-2].load[0]
        if v[-2].kind != "start" and any(x > _EPS_LOAD for x in v[-2].load):
            bad(
                "loaded_at_end",
                v[-2].order_id or v[-2].location_id,
                left,
                f"returns to {vt.end_id} with {left:.1f} kg on board (unload at a facility first)",
            )
    if vt.break_window is not None:
        b0, b1 = vt.break_window
        need = b0 + vt.break_s > start + tol_s and end > b1 + tol_s
        if need and not r.breaks:
            bad(
                "missing_break",
                None,
                vt.break_s,
                f"no break although the route ({start:.1f}-{end:.1f} s) spans the break "
                f"window {vt.break_window}",
            )
        for k in r.breaks:
            miss = max(b0 - k.start_s, k.start_s - b1, k.start_s + vt.break_s - k.end_s)
            if miss > tol_s:
                bad(
                    "break_window",
                    None,
                    miss,
                    f"break {k.start_s:.1f}-{k.end_s:.1f} s outside window {vt.break_window} "
                    "or too short",
                )
            for s in v:
                if (
                    s.kind in ("order", "unload")
                    and k.start_s + tol_s < s.departure_s
                    and s.start_s + tol_s < k.end_s
                ):
                    bad(
                        "break_overlap",
                        s.order_id or s.location_id,
                        min(k.end_s, s.departure_s) - max(k.start_s, s.start_s),
                        f"break overlaps the service at {s.location_id}",
                    )
    if abs(total_m - r.distance_m) > 1e-6 * max(1.0, total_m):
        bad(
            "distance_total",
            None,
            abs(total_m - r.distance_m),
            f"reported distance {r.distance_m} != {total_m}",
        )
    return out


def facility_intake_kg(routes: Iterable[Route]) -> dict[str, float]:
    """kg unloaded per facility id over ``routes`` (mid-shift and final unloads)."""
    out: dict[str, float] = {}
    for r in routes:
        for fid, kg in r.delivered_kg.items():
            out[fid] = out.get(fid, 0.0) + kg
    return out


def facility_capacity_violations(
    routes: Iterable[Route], problem: RoutingProblem
) -> list[Violation]:
    """One ``facility_capacity`` violation per facility that takes more than its
    ``capacity_kg`` over the day (``order_id`` is the facility id)."""
    caps = {f.id: f.capacity_kg for f in problem.facilities if f.capacity_kg is not None}
    out = []
    for fid, kg in sorted(facility_intake_kg(routes).items()):
        cap = caps.get(fid)
        if cap is not None and kg > cap * (1 + 1e-9) + _EPS_LOAD:
            out.append(Violation("facility_capacity", None, fid, kg - cap,
                                 f"facility {fid} takes {kg:.1f} kg in the day, more than "
                                 f"its capacity_kg {cap:g}"))  # fmt: skip
    return out


def check_plan(plan: RoutePlan, problem: RoutingProblem, *, tol_s: float = 1e-3) -> list[Violation]:
    """Every constraint a plan breaks; empty when feasible.

    Independent of the engines: recomputes travel from the problem's matrices and
    checks each order served once or reported unserved, vehicles used at most once,
    skills, every load dimension after every stop, time windows, facility and depot
    hours, facilities' daily capacity, shifts, maximum duration and distance, breaks,
    unload limits, that routes come back empty when the problem has facilities (the
    day's collection delivered, :mod:`.delivery`) and the reported totals.

    Returns
    -------
    list of Violation
        ``str(v)`` is a sentence; ``v.kind``, ``v.vehicle_id``, ``v.order_id`` and
        ``v.amount`` are for programs.
    """
    out: list[Violation] = []
    ctx = check_context(problem)
    types_by_vehicle = dict(problem.vehicles())
    seen: dict[str, str] = {}
    used: set[str] = set()
    for r in plan.routes:
        where = f"route {r.vehicle_id}"
        vt = types_by_vehicle.get(r.vehicle_id)
        if vt is None:
            out.append(Violation("unknown_vehicle", r.vehicle_id, None, 1,
                                 f"{where}: unknown vehicle"))  # fmt: skip
            continue
        if r.vehicle_id in used:
            out.append(Violation("vehicle_twice", r.vehicle_id, None, 1,
                                 f"{where}: vehicle used twice"))  # fmt: skip
        used.add(r.vehicle_id)
        out += route_violations(r, vt, problem, ctx, seen, tol_s)
    out += facility_capacity_violations(plan.routes, problem)
    unserved = {u.order_id for u in plan.unserved}
    for o in problem.orders:
        if o.id in seen and o.id in unserved:
            out.append(Violation("served_and_unserved", seen[o.id], o.id, 1,
                                 f"order {o.id}: both served and unserved"))  # fmt: skip
        if o.id not in seen and o.id not in unserved:
            msg = f"order {o.id}: neither served nor reported unserved"
            out.append(Violation("unaccounted", None, o.id, 1, msg))
    return out
