"""A routing request (:class:`recyclenet_api.schemas.RoutingJob`) -> the library's orders,
fleet, depots, facilities, zones and, when re-planning, the plan in progress."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recyclenet.errors import InputError

from ..schemas.geo import OrderProperties
from ..schemas.routing import RoutingJob, VehicleTypeIn
from .points import PayloadError, Placed, build_each, dup_check

if TYPE_CHECKING:
    from recyclenet.network.zones import RestrictionZone
    from recyclenet.routing import Depot, Facility, Order, RoutePlan, VehicleType


@dataclass(frozen=True)
class RoutingInputs:
    """Library objects of a routing request, in WGS-84."""

    orders: list[Order]
    fleet: list[VehicleType]
    depots: list[Depot]
    facilities: list[Facility]
    restriction_zones: tuple[RestrictionZone, ...] | None


@dataclass(frozen=True)
class ReplanInputs:
    """A re-planning request checked against its orders and fleet: the plan in progress,
    the orders it was made for (served or unserved) and the added ones, in request order."""

    plan: RoutePlan
    plan_doc: dict[str, Any]
    old: list[Order]
    added: list[Order]


def _window(value: Sequence[float] | None) -> tuple[float, float] | None:
    return None if value is None else (float(value[0]), float(value[1]))


def build_orders(features: Sequence[Any], label: str, crs: str) -> list[Order]:
    """Orders from :class:`~recyclenet_api.schemas.geo.OrderFeature` s; ``items``
    (category -> count) derives weight, volume, service time and skills from the
    catalogue unless ``load_kg``, ``volume_m3`` or ``service_s`` are given."""
    from recyclenet.routing import Order

    def make(p: Placed[OrderProperties]) -> Order:
        props = p.properties
        return Order.from_items(
            p.id, p.lon, p.lat, dict(props.items),
            load_kg=props.load_kg, volume_m3=props.volume_m3, service_s=props.service_s,
            required_skills=list(props.skills),
            time_windows=[(float(a), float(b)) for a, b in props.time_windows],
            kind=props.kind, required=props.required, penalty=props.penalty,
            priority=props.priority,
        )  # fmt: skip

    return build_each(features, label, crs, make)


def build_depots(features: Sequence[Any], label: str, crs: str) -> list[Depot]:
    from recyclenet.routing import Depot

    return build_each(features, label, crs, lambda p: Depot(
        p.id, p.lon, p.lat, time_window=_window(p.properties.time_window)))  # fmt: skip


def build_facilities(features: Sequence[Any], label: str, crs: str) -> list[Facility]:
    from recyclenet.routing import Facility

    return build_each(features, label, crs, lambda p: Facility(
        p.id, p.lon, p.lat, unload_s=p.properties.unload_s,
        time_window=_window(p.properties.time_window),
        capacity_kg=p.properties.capacity_kg))  # fmt: skip


def default_fleet(depot_id: str) -> list[VehicleType]:
    """The packaged default fleet (``data/fleet_default.csv``: electric tricycles and
    4.2 m box trucks), starting and ending at ``depot_id``."""
    from dataclasses import replace

    from recyclenet.routing import read_fleet

    return [replace(vt, start_id=depot_id, end_id=depot_id) for vt in read_fleet()]


def build_fleet(
    types: Sequence[VehicleTypeIn] | None,
    depots: Sequence[Depot],
    facilities: Sequence[Facility],
) -> list[VehicleType]:
    """Vehicle types of the request (None: the default fleet at the first depot)."""
    import recyclenet as rn
    from recyclenet.routing import VehicleType

    if types is None:
        return default_fleet(depots[0].id)
    dup_check([vt.id for vt in types], "fleet")
    depot_ids = {d.id for d in depots}
    end_ids = depot_ids | {f.id for f in facilities}
    out = []
    for i, vt in enumerate(types):
        if vt.start_id not in depot_ids:
            raise PayloadError(
                f"fleet.{i}.start_id",
                f"vehicle type {vt.id!r}: start_id {vt.start_id!r} is not a depot id "
                f"(depots: {sorted(depot_ids)[:10]})",
            )
        if vt.end_id and vt.end_id not in end_ids:
            raise PayloadError(
                f"fleet.{i}.end_id",
                f"vehicle type {vt.id!r}: end_id {vt.end_id!r} is not a depot or facility id",
            )
        try:
            profile = rn.get_profile(vt.profile).name
        except InputError as exc:
            raise PayloadError(f"fleet.{i}.profile", str(exc)) from None
        try:
            out.append(
                VehicleType(
                    id=vt.id, count=vt.count, capacity_kg=vt.capacity_kg,
                    capacity_m3=vt.capacity_m3, start_id=vt.start_id, end_id=vt.end_id or "",
                    shift=(float(vt.shift[0]), float(vt.shift[1])),
                    max_duration_s=vt.max_duration_s, max_distance_m=vt.max_distance_m,
                    break_window=_window(vt.break_window), break_s=vt.break_s,
                    fixed_cost=vt.fixed_cost, cost_per_km=vt.cost_per_km,
                    cost_per_hour=vt.cost_per_hour, skills=frozenset(vt.skills),
                    profile=profile, max_unloads=vt.max_unloads,
                )
            )  # fmt: skip
        except InputError as exc:
            raise PayloadError(f"fleet.{i}", str(exc)) from None
    return out


def routing_inputs(job: RoutingJob) -> RoutingInputs:
    """The library objects of a routing job, every request-level check done (ids unique
    across depots, facilities and orders; fleet ends known; period and zones readable).

    Raises
    ------
    PayloadError
        Naming the field below ``body`` and the ids.
    """
    from recyclenet.network.hours import get_period
    from recyclenet.network.zones import read_restriction_zones

    body, crs = job.request, job.crs
    facilities_in = body.facilities.features if body.facilities is not None else []
    depots = build_depots(body.depots.features, "depots.features", crs)
    facilities = build_facilities(facilities_in, "facilities.features", crs)
    orders = build_orders(body.orders.features, "orders.features", crs)
    seen: dict[str, str] = {}
    for label, places in (("depots.features", depots), ("facilities.features", facilities),
                          ("orders.features", orders)):  # fmt: skip
        dup_check([p.id for p in places], label, seen)
    fleet = build_fleet(body.fleet, depots, facilities)
    if body.period is not None:
        try:
            get_period(body.period)
        except InputError as exc:
            raise PayloadError("period", str(exc)) from None
    zones = None
    if body.restriction_zones is not None:
        try:
            zones = read_restriction_zones(body.restriction_zones, crs=crs)
        except (InputError, ValueError) as exc:
            raise PayloadError("restriction_zones", str(exc)) from None
    if body.replan is not None and body.engine == "pyvrp":
        raise PayloadError("engine", "re-planning uses the OR-Tools engine (it locks the done "
                           "stops); give engine 'auto' or 'ortools'")  # fmt: skip
    return RoutingInputs(orders, fleet, depots, facilities, zones)


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


def replan_inputs(job: RoutingJob, inputs: RoutingInputs) -> ReplanInputs:
    """Check a re-planning job against its orders and fleet, before any solving.

    The plan is the stored parent's (``job.parent.plan``, resolved from ``plan_id`` when
    queued) or the request's inline ``replan.plan``.

    Raises
    ------
    PayloadError
        Naming the field (``replan.plan_id`` or ``replan.plan``, ``orders``, ``replan``)
        and the ids that do not match.
    """
    from recyclenet.routing import RoutePlan
    from recyclenet.routing.check import check_plan_ids
    from recyclenet.routing.replan import fixed_stops

    rp = job.request.replan
    if rp is None:
        raise PayloadError("replan", "this request does not re-plan")
    plan_field = "replan.plan_id" if rp.plan_id is not None else "replan.plan"
    if job.parent is not None and job.parent.plan is not None:
        doc = job.parent.plan
    else:
        doc = plan_document(rp.plan or {})
    try:
        plan = RoutePlan.from_dict(doc)
    except InputError as exc:
        raise PayloadError(plan_field, str(exc)) from None
    orders = inputs.orders
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
        check_plan_ids(plan, orders=old, vehicle_types=inputs.fleet, depots=inputs.depots,
                       facilities=inputs.facilities)  # fmt: skip
    except InputError as exc:
        raise PayloadError(
            plan_field, f"{exc} (re-plan with the fleet, depots and facilities of the plan)"
        ) from None
    try:
        fixed_stops(
            plan,
            order_ids=in_plan,
            fixed_order_ids=rp.done_order_ids,
            cancelled_order_ids=rp.cancelled_order_ids,
            added_order_ids=[o.id for o in added],
        )
    except InputError as exc:
        raise PayloadError("replan", str(exc)) from None
    return ReplanInputs(plan, doc, old, added)
