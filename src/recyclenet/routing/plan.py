"""RoutePlan and its parts: the engine-independent result of routing.

Engines only decide *which vehicle visits what in which order*, when it leaves and
where its break goes (:class:`RawRoute`). Everything reported (arrival, start of service,
departure, loads, distance, duration, cost) is recomputed from the problem's float
matrices (:mod:`.evaluate`), so both engines give the same plan for the same sequences.
Times are seconds from midnight, distances metres, loads kg and m³.

The routing core, one module per concern: plan types here; :mod:`.plan_io` (to and from
JSON-ready dicts); :mod:`.evaluate` (scheduling and costing routes, :func:`build_plan`);
:mod:`.breaks` (placing breaks in routes of engines without a break model);
:mod:`.check` (:func:`check_plan` and its structured :class:`Violation` values).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .problem import RoutingProblem

VisitKind = Literal["start", "order", "unload", "end"]
ReasonCode = Literal[
    "off_road", "capacity", "time_window", "skill", "unreachable", "shift", "cost", "fleet",
    "facility_capacity",
]
Status = Literal["feasible", "no_orders", "no_solution"]

#: Reason codes of unserved orders. ``fleet``: a required order that fits some vehicle
#: on its own but found no room in the fleet within the time limit; ``off_road``: farther
#: from every vehicle's roads than ``RoutingProblem.order_snap_limit_m``;
#: ``facility_capacity``: no facility it could be unloaded at has room left in the day.
REASONS: tuple[str, ...] = (
    "off_road", "capacity", "time_window", "skill", "unreachable", "shift", "cost", "fleet",
    "facility_capacity",
)  # fmt: skip


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
        """Facility ids of the unload stops (mid-shift and final), in order."""
        return tuple(v.location_id for v in self.visits if v.kind == "unload")

    @property
    def collected_kg(self) -> float:
        """kg picked up on the route."""
        return sum(max(0.0, v.load_kg - a.load_kg)
                   for a, v in itertools.pairwise(self.visits) if v.kind == "order")  # fmt: skip

    @property
    def delivered_kg(self) -> dict[str, float]:
        """kg unloaded per facility id (unload stops, and the end when it is a facility)."""
        out: dict[str, float] = {}
        for a, v in itertools.pairwise(self.visits):
            kg = a.load_kg if v.kind == "unload" else a.load_kg - v.load_kg
            if v.kind in ("unload", "end") and kg > 1e-9:
                out[v.location_id] = out.get(v.location_id, 0.0) + kg
        return out

    @property
    def end_load_kg(self) -> float:
        """kg still on board when the vehicle is back (0 when the day ends delivered)."""
        return self.visits[-1].load_kg


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
        """JSON-ready dict (plain str, float, list, dict); see :mod:`.plan_io`."""
        from .plan_io import plan_to_dict

        return plan_to_dict(self)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], problem: RoutingProblem | None = None) -> RoutePlan:
        """Rebuild a plan from :meth:`to_dict` output; see :func:`.plan_io.plan_from_dict`."""
        from .plan_io import plan_from_dict

        return plan_from_dict(doc, problem)
