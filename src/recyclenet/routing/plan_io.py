"""Plans to and from JSON-ready dicts (stored plans, API responses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, get_args

from ..errors import InputError
from .check import check_plan_ids
from .plan import REASONS, Break, Route, RoutePlan, Status, Unserved, Visit, VisitKind
from .problem import RoutingProblem


def plan_to_dict(plan: RoutePlan) -> dict[str, Any]:
    """A plan as a JSON-ready dict (plain str, float, list, dict)."""
    return {
        "status": plan.status,
        "engine": plan.engine,
        "cost": plan.cost,
        "penalty_cost": plan.penalty_cost,
        "objective": plan.objective,
        "distance_m": plan.distance_m,
        "duration_s": plan.duration_s,
        "vehicle_km": plan.vehicle_km,
        "vehicle_hours": plan.vehicle_hours,
        "kg_by_material": dict(plan.kg_by_material),
        "tonnes_by_material": {k: v / 1000.0 for k, v in plan.kg_by_material.items()},
        "time_s": plan.time_s,
        "statistics": dict(plan.statistics),
        "routes": [
            {
                "vehicle_id": r.vehicle_id,
                "vehicle_type_id": r.vehicle_type_id,
                "profile": r.profile,
                "distance_m": r.distance_m,
                "duration_s": r.duration_s,
                "cost": r.cost,
                "collected_kg": r.collected_kg,
                "delivered_kg": r.delivered_kg,
                "end_load_kg": r.end_load_kg,
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
            for r in plan.routes
        ],
        "unserved": [
            {"order_id": u.order_id, "reason": u.reason, "message": u.message}
            for u in plan.unserved
        ],
    }


def plan_from_dict(doc: Mapping[str, Any], problem: RoutingProblem | None = None) -> RoutePlan:
    """Rebuild a plan from :meth:`to_dict` output (e.g. a stored plan, parsed JSON).

    The derived members of the dict (``objective``, ``vehicle_km``,
    ``vehicle_hours``, ``tonnes_by_material``, per route ``collected_kg``,
    ``delivered_kg`` and ``end_load_kg``) are ignored; everything else is taken
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
