"""RoutePlan as GeoJSON (RFC 7946: WGS-84 lon/lat, lon first) and as text tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .plan import RoutePlan
from .problem import RoutingProblem

#: ``leg_geometry(profile, from_id, to_id, from_lonlat, to_lonlat)`` -> lon/lat points of
#: the road path between two stops (first and last included). The default is the
#: straight segment; pass the road network's path geometry to follow the roads.
LegGeometry = Callable[
    [str, str, str, tuple[float, float], tuple[float, float]], Sequence[tuple[float, float]]
]


def _straight(
    profile: str, a: str, b: str, pa: tuple[float, float], pb: tuple[float, float]
) -> Sequence[tuple[float, float]]:
    return [pa, pb]


def _clock(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{int(t % 60):02d}"


def plan_to_geojson(
    plan: RoutePlan, problem: RoutingProblem, *, leg_geometry: LegGeometry | None = None
) -> dict[str, Any]:
    """A FeatureCollection: one LineString per route, one Point per stop.

    Route properties: vehicle id and type, distance_m, duration_s, cost. Stop
    properties: vehicle id, sequence (0 = start), kind, location and order ids,
    arrival/start/departure in seconds and as ``HH:MM:SS``, load after the stop, and
    the order's items. Unserved orders are Points with ``kind: "unserved"`` and their
    reason.
    """
    geometry = leg_geometry or _straight
    where = {o.id: (o.lon, o.lat) for o in problem.orders}
    where.update({d.id: (d.lon, d.lat) for d in problem.depots})
    where.update({f.id: (f.lon, f.lat) for f in problem.facilities})
    orders = {o.id: o for o in problem.orders}
    features: list[dict[str, Any]] = []
    for r in plan.routes:
        coords: list[list[float]] = []
        for a, b in zip(r.visits, r.visits[1:]):
            pts = geometry(r.profile, a.location_id, b.location_id, where[a.location_id],
                           where[b.location_id])  # fmt: skip
            seg = [[float(x), float(y)] for x, y in pts]
            coords.extend(seg[1:] if coords and seg and coords[-1] == seg[0] else seg)
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": coords},
            "properties": {"kind": "route", "vehicle_id": r.vehicle_id,
                           "vehicle_type_id": r.vehicle_type_id, "distance_m": r.distance_m,
                           "duration_s": r.duration_s, "cost": r.cost},
        })  # fmt: skip
        for seq, v in enumerate(r.visits):
            o = orders.get(v.order_id or "")
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(where[v.location_id])},
                "properties": {
                    "kind": v.kind, "vehicle_id": r.vehicle_id, "sequence": seq,
                    "location_id": v.location_id, "order_id": v.order_id,
                    "arrival_s": v.arrival_s, "start_s": v.start_s,
                    "departure_s": v.departure_s, "arrival": _clock(v.arrival_s),
                    "start": _clock(v.start_s), "departure": _clock(v.departure_s),
                    "load_kg": v.load_kg, "volume_m3": v.volume_m3,
                    "items": [{"category": i.category, "count": i.count} for i in o.items]
                    if o else [],
                },
            })  # fmt: skip
    for u in plan.unserved:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(where[u.order_id])},
            "properties": {"kind": "unserved", "order_id": u.order_id, "reason": u.reason,
                           "message": u.message},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def route_tables(plan: RoutePlan) -> str:
    """One plain-text table per route (stops, times, loads), then the unserved orders."""
    lines = [
        f"engine {plan.engine}, status {plan.status}: {len(plan.routes)} routes, "
        f"{plan.vehicle_km:.1f} vehicle-km, {plan.vehicle_hours:.2f} vehicle-h, "
        f"cost {plan.cost:.2f} (+ penalties {plan.penalty_cost:.2f}), "
        f"{len(plan.unserved)} unserved"
    ]
    for r in plan.routes:
        lines.append("")
        lines.append(f"{r.vehicle_id} ({r.vehicle_type_id}): {r.distance_m / 1000:.2f} km, "
                     f"{r.duration_s / 3600:.2f} h, cost {r.cost:.2f}")  # fmt: skip
        delivered = ", ".join(f"{kg:.1f} kg at {f}" for f, kg in r.delivered_kg.items())
        lines.append(
            f"  collected {r.collected_kg:.1f} kg; delivered {delivered or 'nothing'}"
            + (f"; {r.end_load_kg:.1f} kg still on board" if r.end_load_kg > 0 else "")
        )
        lines.append(f"  {'#':>3} {'kind':<7}{'stop':<16}{'arrive':>9}{'start':>9}{'leave':>9}"
                     f"{'kg':>9}{'m3':>7}")  # fmt: skip
        for k, v in enumerate(r.visits):
            lines.append(f"  {k:>3} {v.kind:<7}{v.location_id[:15]:<16}{_clock(v.arrival_s):>9}"
                         f"{_clock(v.start_s):>9}{_clock(v.departure_s):>9}"
                         f"{v.load_kg:>9.1f}{v.volume_m3:>7.2f}")  # fmt: skip
        for b in r.breaks:
            lines.append(f"      break {_clock(b.start_s)}-{_clock(b.end_s)} after "
                         f"{b.after_location_id}")  # fmt: skip
    if plan.unserved:
        lines.append("")
        lines.append("unserved:")
        lines.extend(f"  {u.order_id}: {u.reason}: {u.message}" for u in plan.unserved)
    return "\n".join(lines)
