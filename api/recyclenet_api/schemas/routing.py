"""``/routing``: a day's orders and fleet, re-planning, its job and its result."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recyclenet.geo import CoordSystem
from recyclenet.options import ROUTING_DEFAULTS

from .common import (
    _EXAMPLE_NETWORK_ID,
    _NETWORK_ID_DOC,
    HORIZON_S,
    FeatureCollectionOut,
    JobSpec,
    PlanName,
    PlanTags,
    StoredDoc,
    _In,
)
from .geo import (
    DepotCollection,
    FacilityCollection,
    OrderCollection,
    TimeWindowIn,
    _point,
    _window_check,
)


class VehicleTypeIn(_In):
    """``count`` identical vehicles (ids ``{id}-1``, ``{id}-2``, ...)."""

    id: str = Field(min_length=1, max_length=100)
    count: int = Field(default=1, ge=1, le=1000)
    capacity_kg: float | None = Field(default=None, ge=0, le=1e7, description="None: no limit.")
    capacity_m3: float | None = Field(default=None, ge=0, le=1e5, description="None: no limit.")
    start_id: str = Field(min_length=1, max_length=200, description="A depot id.")
    end_id: str | None = Field(
        default=None, max_length=200, description="Depot or facility id; default start_id."
    )
    shift: TimeWindowIn = Field(default=(0.0, HORIZON_S), description="[start_s, end_s].")
    max_duration_s: float | None = Field(default=None, ge=0, le=HORIZON_S)
    max_distance_m: float | None = Field(default=None, ge=0, le=1e7)
    break_window: TimeWindowIn | None = Field(
        default=None, description="[earliest_s, latest_s] start of the break."
    )
    break_s: float = Field(default=0.0, ge=0, le=HORIZON_S)
    fixed_cost: float = Field(default=0.0, ge=0, le=1e9)
    cost_per_km: float = Field(default=1.0, ge=0, le=1e6)
    cost_per_hour: float = Field(default=0.0, ge=0, le=1e6)
    skills: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=20
    )
    profile: str = Field(default="car", min_length=1, max_length=100, description="Road profile.")
    max_unloads: int | None = Field(default=None, ge=0, le=100)

    _windows = field_validator("shift", "break_window")(lambda cls, v: _window_check(v))


ROUTING_EXAMPLE: dict[str, Any] = {
    "network_id": _EXAMPLE_NETWORK_ID,
    "orders": {
        "type": "FeatureCollection",
        "features": [
            _point("o001", 24.953349, 60.176572, items={"tv": 1}, time_windows=[[28800, 43200]]),
            _point(
                "o002",
                24.949451,
                60.169883,
                items={"refrigerator": 1},
                time_windows=[[32400, 46800]],
            ),
            _point(
                "o003",
                24.949328,
                60.168989,
                items={"washing_machine": 1},
                time_windows=[[46800, 61200]],
            ),
            _point("o006", 24.949013, 60.172314, items={"scrap_ferrous": 80}),
            _point(
                "o010", 24.949815, 60.164512, items={"refrigerator": 1}, required=False, penalty=500
            ),
        ],
    },
    "depots": {
        "type": "FeatureCollection",
        "features": [_point("depot", 24.93666, 60.164199)],
    },
    "facilities": {
        "type": "FeatureCollection",
        "features": [_point("sorting_centre", 24.952246, 60.178364, unload_s=900)],
    },
    "fleet": [
        {
            "id": "tricycle",
            "count": 2,
            "capacity_kg": 300,
            "capacity_m3": 1.5,
            "start_id": "depot",
            "shift": [28800, 64800],
            "cost_per_km": 0.3,
            "cost_per_hour": 30,
            "fixed_cost": 20,
            "profile": "tricycle",
        },
        {
            "id": "box_truck",
            "count": 1,
            "capacity_kg": 2000,
            "capacity_m3": 16,
            "start_id": "depot",
            "shift": [28800, 64800],
            "cost_per_km": 1.5,
            "cost_per_hour": 60,
            "fixed_cost": 150,
            "skills": ["refrigerant"],
            "profile": "box_truck_4_2m",
        },
    ],
    "engine": "auto",
    "time_limit_s": 5,
}


_EXAMPLE_PLAN_ID = "5e2d8c7b1a9f4e3d8c6b5a4f3e2d1c0b"

OrderId = Annotated[str, Field(min_length=1, max_length=200)]


class ReplanIn(_In):
    """A plan in progress, to re-plan the rest of the day (``POST /routing``).

    Give the plan by ``plan_id`` (a stored routing plan of this API key) or inline as
    ``plan`` (the JSON of ``GET /plans/{id}``, its ``data``, or ``data.plan``). The
    request's ``orders`` must hold every order the plan names (served or unserved):
    orders the plan does not name are the new ones, and orders to drop are listed in
    ``cancelled_order_ids``. The fleet, depots and facilities must be those of the plan.

    A vehicle's state is the prefix of its route that is done or started: list those
    orders in ``done_order_ids`` (on each route they must be its first orders). They stay
    on their vehicle in their order and at their planned times, with the unload stops
    between them; everything else is planned again, starting no earlier than ``now_s``
    (vehicles that have not left yet leave at or after it). Re-planning uses the OR-Tools
    engine. The result is a new plan linking to its parent (``links.parent``); stored plans
    never change.
    """

    plan_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Id of the stored routing plan being carried out (from the job's "
        "`plan_id`); 404 if this API key has no such plan.",
    )
    plan: dict[str, Any] | None = Field(
        default=None,
        description="Instead of plan_id: the plan JSON as returned by GET /plans/{id} (or "
        "its `data`, or `data.plan`).",
    )
    now_s: float = Field(
        ge=0,
        le=HORIZON_S,
        description="Current time of day, seconds from midnight (36000 = 10:00).",
    )
    done_order_ids: list[OrderId] = Field(
        default_factory=list,
        max_length=100_000,
        description="Orders done or started; on each route they must be its first orders.",
    )
    cancelled_order_ids: list[OrderId] = Field(
        default_factory=list,
        max_length=100_000,
        description="Orders of the plan to drop (not done or started ones).",
    )

    @model_validator(mode="after")
    def _one_plan(self) -> ReplanIn:
        if (self.plan_id is None) == (self.plan is None):
            raise ValueError("give exactly one of plan_id (a stored plan) and plan (its JSON)")
        return self


REPLAN_EXAMPLE: dict[str, Any] = {
    **ROUTING_EXAMPLE,
    "orders": {
        "type": "FeatureCollection",
        "features": [
            *ROUTING_EXAMPLE["orders"]["features"],
            _point(
                "o020",
                24.945611,
                60.171214,
                items={"scrap_ferrous": 40},
                time_windows=[[39600, 46800]],
                priority=1,
            ),
        ],
    },
    "replan": {
        "plan_id": _EXAMPLE_PLAN_ID,
        "now_s": 39600,
        "done_order_ids": ["o006"],
        "cancelled_order_ids": [],
    },
}
"""Re-plan the routing example's plan at 11:00 with an urgent order (o020, 11:00-13:00);
paste the plan id of the example's job. ``o006`` is the first stop of ``tricycle-1`` in
that plan."""


class RoutingCreate(_In):
    """Today's pickup orders and the fleet (issue #4), optionally re-planning a plan.

    Orders, depots and facilities are GeoJSON FeatureCollections of Points. Omit
    ``fleet`` for the default fleet (``data/fleet_default.csv``: 4 electric tricycles and
    2 box trucks of 4.2 m, shifts 08:00-18:00 with a 30-minute break) starting and ending
    at the first depot. With ``replan``, the orders are the day's orders and the plan in
    progress is re-optimised (see :class:`ReplanIn`).
    """

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        strict=True,
        json_schema_extra={"examples": [ROUTING_EXAMPLE]},
    )

    network_id: str = Field(min_length=1, max_length=64, description=_NETWORK_ID_DOC)
    orders: OrderCollection
    depots: DepotCollection
    facilities: FacilityCollection | None = Field(
        default=None, description="Sorting centres or transfer stations for mid-shift unloads."
    )
    fleet: list[VehicleTypeIn] | None = Field(
        default=None, min_length=1, max_length=100, description="Omit: the default fleet."
    )
    engine: Literal["auto", "ortools", "pyvrp"] = ROUTING_DEFAULTS.engine
    max_snap_distance_m: float = Field(
        default=ROUTING_DEFAULTS.max_snap_distance_m, gt=0, le=10_000
    )
    order_snap_limit_m: float = Field(
        default=ROUTING_DEFAULTS.order_snap_limit_m,
        gt=0,
        le=10_000,
        description="Orders farther from a vehicle's roads are unserved by it (off_road).",
    )
    time_limit_s: float | None = Field(
        default=None, gt=0, description="Solver time limit; the server caps it."
    )
    seed: int = Field(default=ROUTING_DEFAULTS.seed, ge=0, le=2**31 - 1)
    deterministic: bool = Field(
        default=False,
        description="Same inputs and seed, same plan byte for byte: the searches stop on "
        "iteration counts, not the clock (the time limit is then not enforced).",
    )
    speed_model: Literal["free_flow", "urban"] = Field(
        default="free_flow",
        description="free_flow: speed limits and class defaults; urban: congested speeds of "
        "a dense Chinese city centre by road class for the period (AMap/Baidu reports).",
    )
    period: str | None = Field(
        default=None,
        max_length=200,
        description="When the vehicles drive: day (default, Mo-Fr 06:00-22:00), peak, "
        "offpeak, night, opening hours ('Sa 08:00-12:00') or a departure time ('Mo 07:30'). "
        "Time-conditional access (hgv:conditional) is applied for it.",
    )
    restriction_zones: dict[str, Any] | None = Field(
        default=None,
        description="Restriction zones (货车限行区): a GeoJSON FeatureCollection of polygons "
        "(lon/lat in the datum of ?crs=) with properties id, vehicles ('hgv', 'all' or "
        "profile names) and closed (hours, e.g. '07:00-20:00'). While a zone is closed the "
        "vehicles it binds keep out; stops inside get its open hours or are unserved.",
    )
    replan: ReplanIn | None = Field(
        default=None,
        description="A plan in progress to re-plan: the done or started stops stay, the "
        "rest of the day (with new and without cancelled orders) is planned again.",
    )
    name: PlanName
    tags: PlanTags


class ParentPlan(BaseModel):
    """The plan a re-planning request carries on, resolved when it was queued: ``id`` of
    the stored parent (None for an inline plan that is not a stored one), and the route
    plan dict itself when it was named by ``plan_id`` (an inline plan stays in the
    request)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = None
    plan: dict[str, Any] | None = None


class RoutingJob(JobSpec):
    """The stored payload of a routing job: the request in the datum it was given in
    (``crs``); :func:`recyclenet_api.converters.routing.routing_inputs` converts it."""

    request: RoutingCreate
    crs: CoordSystem = "wgs84"
    parent: ParentPlan | None = Field(default=None, description="With request.replan.")


# ---------------------------------------------------------------------- the result
class VisitOut(StoredDoc):
    kind: Literal["start", "order", "unload", "end"]
    location_id: str = Field(description="Depot, order or facility id.")
    order_id: str | None
    arrival_s: float = Field(description="Seconds from midnight.")
    start_s: float = Field(description="Start of service, after any waiting and break.")
    departure_s: float
    load_kg: float = Field(description="On board after the stop, kg.")
    volume_m3: float = Field(description="On board after the stop, m³.")
    distance_from_previous_m: float = 0.0
    travel_from_previous_s: float = 0.0


class BreakOut(StoredDoc):
    start_s: float
    end_s: float
    after_location_id: str


class RouteOut(StoredDoc):
    vehicle_id: str
    vehicle_type_id: str
    profile: str
    distance_m: float
    duration_s: float
    cost: float
    collected_kg: float | None = Field(default=None, description="Picked up on the route, kg.")
    delivered_kg: dict[str, float] = Field(
        default_factory=dict, description="Unloaded by facility id, kg."
    )
    end_load_kg: float | None = Field(
        default=None, description="On board at the end (0: every load is unloaded)."
    )
    visits: list[VisitOut]
    breaks: list[BreakOut] = Field(default_factory=list)


class UnservedOut(StoredDoc):
    order_id: str
    reason: str = Field(description="Why (capacity, time_window, off_road, skills, ...).")
    message: str = ""


class RoutePlanDoc(StoredDoc):
    """The plan (:meth:`recyclenet.routing.RoutePlan.to_dict`)."""

    status: str
    engine: str
    cost: float | None
    penalty_cost: float | None
    objective: float | None
    distance_m: float | None
    duration_s: float | None
    vehicle_km: float | None
    vehicle_hours: float | None
    kg_by_material: dict[str, float | None]
    tonnes_by_material: dict[str, float | None]
    time_s: float
    statistics: dict[str, Any] = Field(default_factory=dict)
    routes: list[RouteOut]
    unserved: list[UnservedOut]


class RoutingIndicators(StoredDoc):
    """``GET /plans/{id}/indicators`` of a route plan."""

    status: str
    engine: str
    vehicle_km: float | None
    vehicle_hours: float | None
    cost: float | None
    penalty_cost: float | None
    objective: float | None
    kg_by_material: dict[str, float | None]
    kg_total: float
    tonnes_by_material: dict[str, float | None]
    orders_total: int
    served_count: int
    unserved_count: int
    unserved_by_reason: dict[str, int]
    vehicles_used: int
    unload_stops: int | None = None
    time_s: float


class ReplanOut(StoredDoc):
    """What a re-planned plan carried on from (``links.parent``)."""

    parent_plan_id: str | None
    now_s: float
    done_order_ids: list[str]
    cancelled_order_ids: list[str]
    added_order_ids: list[str]
    fixed: dict[str, Any] = Field(default_factory=dict)


class RoutingData(BaseModel):
    """A route plan as ``GET /plans/{id}`` shows it (its layers are linked)."""

    kind: Literal["routing"]
    network_id: str
    input_crs: str = Field(default="wgs84", description="The datum the request was in.")
    profiles: list[str] = Field(default_factory=list, description="Road profiles used.")
    fleet: Literal["request", "default"] | None = None
    plan: RoutePlanDoc
    indicators: RoutingIndicators
    replan: ReplanOut | None = None


class RoutingResult(RoutingData):
    """What a routing job stores: the plan and its ``routes`` and ``stops`` layers."""

    layers: dict[str, FeatureCollectionOut]
