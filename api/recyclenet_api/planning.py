"""Siting and routing jobs: payload -> library objects -> pipeline -> stored JSON result.

The routers turn request bodies into *payloads* (plain JSON records, see
:func:`siting_payload_records` in the routers) and call the converters here once in the
request, so bad input is a 422 before any job is queued; the job functions call the same
converters again in the worker process and then :func:`recyclenet.pipeline.plan_siting`
or :func:`recyclenet.pipeline.plan_routes`.

A job result is everything the plan endpoints serve, computed once and stored with the
(immutable) plan::

    {"kind": "siting" | "routing", "network_id", "input_crs", "profile" | "profiles",
     "plan": SitingPlan.to_dict() | RoutePlan.to_dict(),
     "indicators": {...},                      # GET /plans/{id}/indicators
     "layers": {"stations", "assignments", "coverage"} | {"routes", "stops"}}

Every layer is an RFC 7946 FeatureCollection (WGS-84 lon/lat) with an ``id`` on every
feature.

A routing payload with ``"replan": {"parent_plan_id", "plan", "now_s", "done_order_ids",
"cancelled_order_ids"}`` re-plans a plan in progress (:func:`recyclenet.routing.replan`);
its result adds ``"replan": {"parent_plan_id", "now_s", "done_order_ids",
"cancelled_order_ids", "added_order_ids", "fixed"}``.

Coordinates (``?crs=``): payloads and results are WGS-84 only. The routers convert a
request's lon/lat from its datum once, with :func:`records_to_wgs84`, before the
converters above validate them (so their errors still name ids), and record the datum as
``payload["crs"]`` (a result's ``input_crs``). Output layers are converted when served
(:func:`recyclenet.geo.geojson_to_crs`), bounding boxes with
:func:`recyclenet.geo.bbox_to_wgs84` and :func:`recyclenet.geo.bbox_from_wgs84`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from recyclenet import geo
from recyclenet.errors import InputError
from recyclenet.network.zones import read_restriction_zones
from recyclenet.routing.problem import DEFAULT_ORDER_SNAP_LIMIT_M

from .tasks import Progress, _noop, to_jsonable

if TYPE_CHECKING:
    from recyclenet.pipeline import RoutingRun
    from recyclenet.routing import Depot, Facility, Order, RoutePlan, VehicleType
    from recyclenet.siting import Demand, Site


class PayloadError(InputError):
    """An :class:`InputError` that knows which request field it is about.

    ``field`` is the dotted path below ``body`` (``orders.features.3``), so a router can
    answer 422 naming the field path with the library's message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _dup_check(ids: Sequence[str], label: str, seen: dict[str, str] | None = None) -> None:
    seen = {} if seen is None else seen
    for i, pid in enumerate(ids):
        where = f"{label}.{i}"
        if pid in seen:
            raise PayloadError(
                where,
                f"duplicate id {pid!r} (also at {seen[pid]}); ids must be unique"
                + (" across depots, facilities and orders" if label != "fleet" else ""),
            )
        seen[pid] = where


# ---------------------------------------------------------------------- coordinates
def records_to_wgs84(
    records: Sequence[dict[str, Any]], crs: str, label: str
) -> list[dict[str, Any]]:
    """Point records (``{"id", "lon", "lat", ...}``) with lon/lat given in ``crs``, as copies
    with lon/lat in WGS-84 degrees (:func:`recyclenet.geo.to_wgs84`, exact inverse).

    The one place the service converts request coordinates; WGS-84 records are returned
    unchanged.

    Parameters
    ----------
    records : sequence of dict
        Each with ``id``, ``lon`` and ``lat`` (degrees in ``crs``, already range-checked).
    crs : {"wgs84", "gcj02", "bd09"} or an alias of :func:`recyclenet.geo.check_crs`
    label : str
        Field path of the records below ``body`` (``orders.features``), for errors.

    Raises
    ------
    PayloadError
        On ``{label}.{i}`` when a point has no WGS-84 equivalent in lon/lat range (BD-09
        within ~0.007 degrees of the antimeridian or the poles), naming the ids and the
        values given.
    """
    system = geo.check_crs(crs, what="crs")
    if system == "wgs84" or not records:
        return [dict(r) for r in records]
    lon = np.array([float(r["lon"]) for r in records], dtype=np.float64)
    lat = np.array([float(r["lat"]) for r in records], dtype=np.float64)
    try:
        x, y = geo.to_wgs84(lon, lat, system)
    except InputError as exc:
        raise PayloadError(label, f"{exc} (converting {system} to WGS-84)") from None
    bad = np.nonzero(~((np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)))[0]
    if len(bad):
        listed = ", ".join(f"{records[i]['id']} ({lon[i]}, {lat[i]})" for i in bad[:10])
        raise PayloadError(
            f"{label}.{int(bad[0])}",
            f"{len(bad)} point(s) leave the lon/lat range once converted from {system} to "
            f"WGS-84: {listed}",
        )
    return [{**r, "lon": float(a), "lat": float(b)} for r, a, b in zip(records, x, y)]


# ---------------------------------------------------------------------- siting
def build_demand(records: Sequence[dict[str, Any]], label: str) -> list[Demand]:
    """Demand points from ``{"id", "lon", "lat", "households", "weight", "kg_per_year"}``."""
    from recyclenet.siting import Demand

    _dup_check([str(r["id"]) for r in records], label)
    out = []
    for i, r in enumerate(records):
        try:
            out.append(
                Demand(
                    id=str(r["id"]),
                    lon=float(r["lon"]),
                    lat=float(r["lat"]),
                    households=float(r.get("households", 1.0)),
                    weight=None if r.get("weight") is None else float(r["weight"]),
                    kg_per_year=dict(r.get("kg_per_year") or {}),
                )
            )
        except InputError as exc:
            raise PayloadError(f"{label}.{i}", str(exc)) from None
    return out


def build_sites(records: Sequence[dict[str, Any]], label: str) -> list[Site]:
    """Sites from ``{"id", "lon", "lat", "status", "fixed_cost", "capacity", "closing_cost"}``."""
    from recyclenet.siting import Site

    _dup_check([str(r["id"]) for r in records], label)
    out = []
    for i, r in enumerate(records):
        try:
            out.append(
                Site(
                    id=str(r["id"]),
                    lon=float(r["lon"]),
                    lat=float(r["lat"]),
                    status=r.get("status", "candidate"),
                    fixed_cost=float(r.get("fixed_cost", 0.0)),
                    capacity=None if r.get("capacity") is None else float(r["capacity"]),
                    closing_cost=float(r.get("closing_cost", 0.0)),
                )
            )
        except InputError as exc:
            raise PayloadError(f"{label}.{i}", str(exc)) from None
    return out


def siting_inputs(
    payload: dict[str, Any],
) -> tuple[list[Demand] | None, list[Site] | None, list[Site] | None]:
    """Library demand, sites and centres of a siting payload (None: derive / no tier 2)."""
    demand = payload.get("demand")
    sites = payload.get("sites")
    centres = payload.get("centres")
    return (
        build_demand(demand, "demand.features") if demand is not None else None,
        build_sites(sites, "sites.features") if sites is not None else None,
        build_sites(centres, "centres.features") if centres is not None else None,
    )


def siting_indicators(plan_dict: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /plans/{id}/indicators`` shows for a siting plan."""
    return {
        "model": plan_dict["model"],
        "metric": plan_dict["metric"],
        "status": plan_dict["status"],
        "objective": plan_dict["objective"],
        "bound": plan_dict["bound"],
        "gap": plan_dict["gap"],
        "time_s": plan_dict["time_s"],
        "solver": plan_dict["solver"],
        "stations_open": len(plan_dict["open_ids"]),
        "stations_opened": len(plan_dict["opened_ids"]),
        "stations_kept": len(plan_dict["kept_ids"]),
        "stations_closed": len(plan_dict["closed_ids"]),
        "demand_points_assigned": len({a["demand_id"] for a in plan_dict["assignment"]}),
        "demand_points_unassigned": len(plan_dict["unassigned_ids"]),
        **plan_dict["indicators"],
    }


@contextmanager
def districts_file(doc: Mapping[str, Any] | None) -> Iterator[Path | None]:
    """A request's districts GeoJSON as the file the library reads (None: no districts);
    removed afterwards."""
    if doc is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="recyclenet-") as tmp:
        path = Path(tmp) / "demand_districts.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
        yield path


def siting_task(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """Site stations (:func:`recyclenet.pipeline.plan_siting`) and store the layers."""
    from recyclenet.pipeline import plan_siting

    net_ref = payload["network"]
    demand, sites, centres = siting_inputs(payload)
    progress({"phase": "building matrix and solving", "model": payload["model"]})
    with districts_file(payload.get("demand_districts")) as districts:
        run = plan_siting(
            net_ref["source"],
            model=payload["model"],
            demand=demand,
            sites=sites,
            profile=payload["profile"],
            metric=payload["metric"],
            p=payload.get("p"),
            radius=payload.get("radius"),
            households_per_station=float(payload["households_per_station"]),
            budget=payload.get("budget"),
            keep_existing=payload.get("keep_existing", "all"),
            uncoverable=payload.get("uncoverable", "raise"),
            centres=centres,
            cell_m=float(payload["cell_m"]),
            road_spacing_m=float(payload["road_spacing_m"]),
            max_snap_distance_m=float(payload["max_snap_distance_m"]),
            time_limit_s=float(payload["time_limit_s"]),
            seed=int(payload["seed"]),
            urban_context=payload.get("urban_context", "auto"),
            households_total=payload.get("households_total"),
            demand_districts=districts,
            # while solving: phase, engine, elapsed, share of the time limit, incumbent
            # objective, bound and gap
            progress=lambda p: progress(
                {**p, "phase": f"solving: {p['phase']}", "model": payload["model"]}
            ),
        )
    progress({"phase": "writing layers", "objective": run.plan.objective})
    plan_dict = to_jsonable(run.to_dict())
    layers = run.geojson_layers()
    return {
        "kind": "siting",
        "network_id": net_ref["id"],
        "input_crs": payload.get("crs", "wgs84"),
        "profile": payload["profile"],
        "demand_source": "request" if demand is not None else "osm",
        "sites_source": "request" if sites is not None else "osm",
        "plan": plan_dict,
        "indicators": siting_indicators(plan_dict),
        "layers": to_jsonable(layers),
    }


# ---------------------------------------------------------------------- routing
def _window(value: Any) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def build_orders(records: Sequence[dict[str, Any]], label: str) -> list[Order]:
    """Orders from records with the :class:`recyclenet.routing.Order` fields; ``items``
    (category -> count) derives weight, volume, service time and skills from the
    catalogue unless ``load_kg``, ``volume_m3`` or ``service_s`` are given."""
    from recyclenet.routing import Order

    out = []
    for i, r in enumerate(records):
        oid = str(r["id"])
        try:
            out.append(
                Order.from_items(
                    oid,
                    float(r["lon"]),
                    float(r["lat"]),
                    dict(r.get("items") or {}),
                    load_kg=r.get("load_kg"),
                    volume_m3=r.get("volume_m3"),
                    service_s=r.get("service_s"),
                    required_skills=list(r.get("skills") or []),
                    time_windows=[_window(w) for w in r.get("time_windows") or []],
                    kind=r.get("kind", "pickup"),
                    required=bool(r.get("required", True)),
                    penalty=r.get("penalty"),
                    priority=int(r.get("priority", 0)),
                )
            )
        except InputError as exc:
            raise PayloadError(f"{label}.{i}", str(exc)) from None
    return out


def build_depots(records: Sequence[dict[str, Any]], label: str) -> list[Depot]:
    from recyclenet.routing import Depot

    out = []
    for i, r in enumerate(records):
        try:
            out.append(Depot(str(r["id"]), float(r["lon"]), float(r["lat"]),
                             time_window=_window(r.get("time_window"))))  # fmt: skip
        except InputError as exc:
            raise PayloadError(f"{label}.{i}", str(exc)) from None
    return out


def build_facilities(records: Sequence[dict[str, Any]], label: str) -> list[Facility]:
    from recyclenet.routing import Facility

    out = []
    for i, r in enumerate(records):
        try:
            out.append(Facility(str(r["id"]), float(r["lon"]), float(r["lat"]),
                                unload_s=float(r.get("unload_s", 0.0)),
                                time_window=_window(r.get("time_window")),
                                capacity_kg=None if r.get("capacity_kg") is None
                                else float(r["capacity_kg"])))  # fmt: skip
        except InputError as exc:
            raise PayloadError(f"{label}.{i}", str(exc)) from None
    return out


def default_fleet(depot_id: str) -> list[VehicleType]:
    """The packaged default fleet (``data/fleet_default.csv``: electric tricycles and
    4.2 m box trucks), starting and ending at ``depot_id``."""
    from dataclasses import replace

    from recyclenet.routing import read_fleet

    return [replace(vt, start_id=depot_id, end_id=depot_id) for vt in read_fleet()]


def build_fleet(
    records: Sequence[dict[str, Any]] | None,
    depots: Sequence[Depot],
    facilities: Sequence[Facility],
) -> list[VehicleType]:
    from recyclenet.routing import VehicleType

    if records is None:
        return default_fleet(depots[0].id)
    _dup_check([str(r["id"]) for r in records], "fleet")
    depot_ids = {d.id for d in depots}
    end_ids = depot_ids | {f.id for f in facilities}
    out = []
    for i, r in enumerate(records):
        if r["start_id"] not in depot_ids:
            raise PayloadError(
                f"fleet.{i}.start_id",
                f"vehicle type {r['id']!r}: start_id {r['start_id']!r} is not a depot id "
                f"(depots: {sorted(depot_ids)[:10]})",
            )
        if r.get("end_id") and r["end_id"] not in end_ids:
            raise PayloadError(
                f"fleet.{i}.end_id",
                f"vehicle type {r['id']!r}: end_id {r['end_id']!r} is not a depot or facility id",
            )
        try:
            out.append(
                VehicleType(
                    id=str(r["id"]),
                    count=int(r.get("count", 1)),
                    capacity_kg=r.get("capacity_kg"),
                    capacity_m3=r.get("capacity_m3"),
                    start_id=str(r["start_id"]),
                    end_id=str(r.get("end_id") or ""),
                    shift=_window(r.get("shift")) or (0.0, 48 * 3600.0),
                    max_duration_s=r.get("max_duration_s"),
                    max_distance_m=r.get("max_distance_m"),
                    break_window=_window(r.get("break_window")),
                    break_s=float(r.get("break_s", 0.0)),
                    fixed_cost=float(r.get("fixed_cost", 0.0)),
                    cost_per_km=float(r.get("cost_per_km", 1.0)),
                    cost_per_hour=float(r.get("cost_per_hour", 0.0)),
                    skills=frozenset(r.get("skills") or ()),
                    profile=str(r.get("profile", "car")),
                    max_unloads=r.get("max_unloads"),
                )
            )
        except InputError as exc:
            raise PayloadError(f"fleet.{i}", str(exc)) from None
    return out


def routing_inputs(
    payload: dict[str, Any],
) -> tuple[list[Order], list[VehicleType], list[Depot], list[Facility]]:
    """Library orders, fleet, depots and facilities of a routing payload."""
    seen: dict[str, str] = {}
    _dup_check([str(r["id"]) for r in payload["depots"]], "depots.features", seen)
    _dup_check([str(r["id"]) for r in payload.get("facilities") or []],
               "facilities.features", seen)  # fmt: skip
    _dup_check([str(r["id"]) for r in payload["orders"]], "orders.features", seen)
    depots = build_depots(payload["depots"], "depots.features")
    facilities = build_facilities(payload.get("facilities") or [], "facilities.features")
    orders = build_orders(payload["orders"], "orders.features")
    fleet = build_fleet(payload.get("fleet"), depots, facilities)
    return orders, fleet, depots, facilities


def _route_layers(geojson: dict[str, Any]) -> dict[str, Any]:
    """Split the pipeline's FeatureCollection into routes and stops, with feature ids."""
    routes, stops = [], []
    for f in geojson["features"]:
        p = f["properties"]
        if p.get("kind") == "route":
            routes.append({**f, "id": p["vehicle_id"]})
        elif p.get("kind") == "unserved":
            stops.append({**f, "id": f"unserved:{p['order_id']}"})
        else:
            stops.append({**f, "id": f"{p['vehicle_id']}:{p['sequence']}"})
    return {
        "routes": {"type": "FeatureCollection", "features": routes},
        "stops": {"type": "FeatureCollection", "features": stops},
    }


def routing_indicators(plan_dict: dict[str, Any], n_orders: int) -> dict[str, Any]:
    """What ``GET /plans/{id}/indicators`` shows for a route plan."""
    by_reason: dict[str, int] = {}
    for u in plan_dict["unserved"]:
        by_reason[u["reason"]] = by_reason.get(u["reason"], 0) + 1
    served = sum(1 for r in plan_dict["routes"] for v in r["visits"] if v["order_id"])
    kg = plan_dict["kg_by_material"]
    return {
        "status": plan_dict["status"],
        "engine": plan_dict["engine"],
        "vehicle_km": plan_dict["vehicle_km"],
        "vehicle_hours": plan_dict["vehicle_hours"],
        "cost": plan_dict["cost"],
        "penalty_cost": plan_dict["penalty_cost"],
        "objective": plan_dict["objective"],
        "kg_by_material": kg,
        "kg_total": sum(v for v in kg.values() if v is not None),
        "tonnes_by_material": plan_dict["tonnes_by_material"],
        "orders_total": n_orders,
        "served_count": served,
        "unserved_count": len(plan_dict["unserved"]),
        "unserved_by_reason": by_reason,
        "vehicles_used": len(plan_dict["routes"]),
        "unload_stops": sum(
            1 for r in plan_dict["routes"] for v in r["visits"] if v["kind"] == "unload"
        ),
        "time_s": plan_dict["time_s"],
    }


def routing_task(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """Plan a day's routes (:func:`recyclenet.pipeline.plan_routes`) and store the layers.

    A payload with ``replan`` goes to :func:`replan_task`.
    """
    from recyclenet.pipeline import plan_routes

    if payload.get("replan"):
        return replan_task(payload, progress=progress)
    net_ref = payload["network"]
    orders, fleet, depots, facilities = routing_inputs(payload)
    n = len(orders)
    progress({"phase": "building matrices and solving", "orders": n})
    run = plan_routes(
        net_ref["source"],
        orders=orders,
        fleet=fleet,
        depots=depots,
        facilities=facilities,
        engine=payload["engine"],
        time_limit_s=float(payload["time_limit_s"]),
        seed=int(payload["seed"]),
        max_snap_distance_m=float(payload["max_snap_distance_m"]),
        order_snap_limit_m=float(payload.get("order_snap_limit_m", DEFAULT_ORDER_SNAP_LIMIT_M)),
        speed_model=payload.get("speed_model"),
        period=payload.get("period"),
        restriction_zones=read_restriction_zones(payload["restriction_zones"])
        if payload.get("restriction_zones")
        else None,
        deterministic=bool(payload.get("deterministic", False)),
        # while solving: elapsed, share of the time limit, incumbent cost, engine
        progress=lambda p: progress({**p, "phase": f"solving: {p['phase']}", "orders": n}),
    )
    progress({"phase": "writing layers", "objective": run.plan.objective})
    return routing_result(payload, run)


def routing_result(payload: dict[str, Any], run: RoutingRun) -> dict[str, Any]:
    """What a routing job stores: the plan, its indicators and its layers."""
    plan_dict = to_jsonable(run.plan.to_dict())
    return {
        "kind": "routing",
        "network_id": payload["network"]["id"],
        "input_crs": payload.get("crs", "wgs84"),
        "profiles": sorted({vt.profile for vt in run.problem.vehicle_types}),
        "fleet": "request" if payload.get("fleet") is not None else "default",
        "plan": plan_dict,
        "indicators": routing_indicators(plan_dict, len(run.problem.orders)),
        "layers": to_jsonable(_route_layers(run.geojson())),
    }


# ---------------------------------------------------------------------- re-planning
def plan_document(doc: Mapping[str, Any], field: str = "replan.plan") -> dict[str, Any]:
    """The route plan dict inside a plan JSON.

    Accepts the body of ``GET /plans/{id}``, its ``data`` member, or ``data.plan`` (what
    :meth:`recyclenet.routing.RoutePlan.to_dict` made).

    Raises
    ------
    PayloadError
        On ``field`` when the document is not a routing plan.
    """
    inner: Any = doc
    if isinstance(inner.get("data"), Mapping):
        inner = inner["data"]
    kind = inner.get("kind")
    if kind is not None and kind != "routing":
        raise PayloadError(field, f"this is a {kind!r} plan; re-planning needs a routing plan")
    if isinstance(inner.get("plan"), Mapping):
        inner = inner["plan"]
    if not isinstance(inner.get("routes"), list) or not isinstance(inner.get("unserved"), list):
        raise PayloadError(
            field,
            "not a routing plan: give the JSON of GET /plans/{id} for a routing plan, its "
            "'data' member, or 'data.plan' (with 'routes' and 'unserved')",
        )
    return dict(inner)


def replan_inputs(
    payload: dict[str, Any],
    orders: Sequence[Order],
    fleet: Sequence[VehicleType],
    depots: Sequence[Depot],
    facilities: Sequence[Facility],
) -> tuple[RoutePlan, list[Order], list[Order]]:
    """Check a re-planning payload against its orders and fleet, before any solving.

    Returns the plan, the orders it was made for (those it names, served or unserved)
    and the added orders (the request's other orders), in request order.

    Raises
    ------
    PayloadError
        Naming the field (``replan.plan_id`` or ``replan.plan``, ``orders``, ``replan``)
        and the ids that do not match.
    """
    from recyclenet.routing import RoutePlan
    from recyclenet.routing.check import check_plan_ids
    from recyclenet.routing.replan import fixed_stops

    rp = payload["replan"]
    plan_field = "replan.plan_id" if rp.get("parent_plan_id") else "replan.plan"
    try:
        plan = RoutePlan.from_dict(rp["plan"])
    except InputError as exc:
        raise PayloadError(plan_field, str(exc)) from None
    in_plan = set(plan.served_order_ids) | {u.order_id for u in plan.unserved}
    missing = sorted(in_plan - {o.id for o in orders})
    if missing:
        raise PayloadError(
            "orders",
            f"orders {missing[:10]}{' ...' if len(missing) > 10 else ''} of the plan are not in "
            "orders; send every order of the plan (served or unserved) and list the ones to "
            "drop in replan.cancelled_order_ids",
        )
    old = [o for o in orders if o.id in in_plan]
    added = [o for o in orders if o.id not in in_plan]
    try:
        check_plan_ids(plan, orders=old, vehicle_types=fleet, depots=depots, facilities=facilities)
    except InputError as exc:
        raise PayloadError(
            plan_field, f"{exc} (re-plan with the fleet, depots and facilities of the plan)"
        ) from None
    try:
        fixed_stops(
            plan,
            order_ids=in_plan,
            fixed_order_ids=rp.get("done_order_ids") or (),
            cancelled_order_ids=rp.get("cancelled_order_ids") or (),
            added_order_ids=[o.id for o in added],
        )
    except InputError as exc:
        raise PayloadError("replan", str(exc)) from None
    return plan, old, added


def replan_task(payload: dict[str, Any], *, progress: Progress = _noop) -> dict[str, Any]:
    """Re-plan a plan in progress (:func:`recyclenet.routing.replan`) and store the layers.

    The done or started stops stay; the plan's other orders, minus the cancelled ones,
    plus the added ones are planned again from ``now_s`` (seconds from midnight).
    """
    from recyclenet.pipeline import RoutingRun, routing_problem
    from recyclenet.routing import RoutePlan, replan

    net_ref = payload["network"]
    rp = payload["replan"]
    orders, fleet, depots, facilities = routing_inputs(payload)
    _, old, added = replan_inputs(payload, orders, fleet, depots, facilities)
    done = list(rp.get("done_order_ids") or [])
    cancelled = list(rp.get("cancelled_order_ids") or [])
    progress({"phase": "building matrices", "orders": len(orders), "done": len(done)})
    problem, nets = routing_problem(
        net_ref["source"],
        orders=orders,
        fleet=fleet,
        depots=depots,
        facilities=facilities,
        max_snap_distance_m=float(payload["max_snap_distance_m"]),
    )
    before = problem.with_orders(old)
    plan = RoutePlan.from_dict(rp["plan"], before)
    progress({"phase": "re-planning", "orders": len(orders), "done": len(done)})
    new_plan = replan(
        plan,
        before,
        fixed_order_ids=done,
        added_orders=added,
        cancelled_order_ids=cancelled,
        matrices=problem.matrices,
        now_s=float(rp["now_s"]),
        time_limit_s=float(payload["time_limit_s"]),
        seed=int(payload["seed"]),
    )
    gone = set(cancelled)
    after = problem.with_orders([o for o in old if o.id not in gone] + added)
    run = RoutingRun(plan=new_plan, problem=after, networks=nets)
    progress({"phase": "writing layers", "objective": new_plan.objective})
    result = routing_result(payload, run)
    return {
        **result,
        "replan": {
            "parent_plan_id": rp.get("parent_plan_id"),
            "now_s": float(rp["now_s"]),
            "done_order_ids": done,
            "cancelled_order_ids": cancelled,
            "added_order_ids": [o.id for o in added],
            "fixed": result["plan"]["statistics"].get("fixed", {}),
        },
    }
