"""The routing problem: pickup orders, a fleet, depots, unloading facilities, matrices.

All values are plain immutable data, validated when built. Times are seconds from
midnight of the planning day, durations seconds, distances metres, weights kg and
volumes m³. Coordinates are WGS-84 lon/lat (EPSG:4326) and are only carried along for
output: every travel time and distance comes from the :class:`~recyclenet.Matrix` of
the vehicle's road profile.
"""

from __future__ import annotations

import itertools
import math
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from ..catalog import REFRIGERANT_SKILL, STOP_BASE_SERVICE_S, Catalog, default_catalog
from ..errors import InputError
from ..matrix import Matrix

FloatArray = npt.NDArray[np.float64]

#: Load dimensions, in the order every per-dimension tuple uses.
DIMENSIONS: tuple[str, ...] = ("load_kg", "volume_m3")

#: The end of the planning horizon when nothing else is given: 48 h, so overnight
#: windows of a day can be expressed.
HORIZON_S = 48 * 3600.0

#: Orders farther than this from the nearest road of a vehicle's profile are not served
#: by it (reason ``off_road``): a point in a lake, a river or a park, or off the map.
DEFAULT_ORDER_SNAP_LIMIT_M = 250.0

OrderKind = Literal["pickup", "delivery"]
TimeWindow = tuple[float, float]


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{what} id must be a non-empty string, got {value!r}")
    return value


def _check_nonneg(value: float | None, what: str, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InputError(f"{what}={value!r} must be a finite number")
    if value < 0:
        raise InputError(f"{what}={value!r} must be >= 0")


def _check_lonlat(lon: float, lat: float, what: str) -> None:
    if not (isinstance(lon, int | float) and isinstance(lat, int | float)):
        raise InputError(f"{what}: lon/lat must be numbers, got {lon!r}, {lat!r}")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise InputError(
            f"{what}: lon={lon}, lat={lat} is not a WGS-84 lon/lat pair "
            "(lon in [-180, 180], lat in [-90, 90]; lon comes first)"
        )


def _check_windows(windows: Iterable[Sequence[float]], what: str) -> tuple[TimeWindow, ...]:
    out: list[TimeWindow] = []
    for w in windows:
        if len(w) != 2:
            raise InputError(f"{what}: time window {w!r} must be a pair (open_s, close_s)")
        a, b = float(w[0]), float(w[1])
        if not (math.isfinite(a) and math.isfinite(b)) or a < 0:
            raise InputError(f"{what}: time window {w!r} must be finite seconds >= 0")
        if b < a:
            raise InputError(
                f"{what}: time window ({a:g}, {b:g}) ends before it starts; "
                "give (open_s, close_s) with open_s <= close_s"
            )
        out.append((a, b))
    out.sort()
    for (_a0, b0), (a1, _b1) in itertools.pairwise(out):
        if a1 <= b0:
            raise InputError(
                f"{what}: time windows overlap or touch at {a1:g} s (window ending {b0:g}); "
                "merge them into one"
            )
    return tuple(out)


@dataclass(frozen=True)
class ItemLine:
    """Items of one category in an order.

    Attributes
    ----------
    category : str
        Catalogue category.
    material : str
        Reporting group (from the catalogue).
    count : float
        Pieces, or kilograms for items counted by kg.
    load_kg, volume_m3 : float
        Weight and volume of the whole line.
    """

    category: str
    material: str
    count: float
    load_kg: float
    volume_m3: float


@dataclass(frozen=True)
class Order:
    """One pickup (or delivery) at a customer.

    Use :meth:`from_items` to derive weight, volume, service time and skills from the
    item catalogue.

    Attributes
    ----------
    id : str
        Unique among every location id of the problem.
    lon, lat : float
        WGS-84 position (for output only; travel comes from the matrices).
    load_kg, volume_m3 : float
        Demand in each load dimension.
    time_windows : tuple of (open_s, close_s)
        Allowed start of service, seconds from midnight; empty: any time.
    service_s : float
        Time spent at the stop.
    kind : {"pickup", "delivery"}
        A pickup loads the vehicle (the main case); a delivery (an empty container
        dropped off) is carried from the depot or the last unloading facility.
    required : bool
        Required orders are dropped only when they cannot be served at all.
    penalty : float or None
        Cost of not serving an optional order (same unit as the vehicle costs).
        Required orders get a prohibitive penalty instead.
    priority : int
        0 or more; among required orders that cannot all be fitted, higher priority
        ones are served first.
    required_skills : frozenset of str
        The serving vehicle type must have every one.
    items : tuple of ItemLine
        What the order carries (for totals by material).
    """

    id: str
    lon: float
    lat: float
    load_kg: float = 0.0
    volume_m3: float = 0.0
    time_windows: tuple[TimeWindow, ...] = ()
    service_s: float = 0.0
    kind: OrderKind = "pickup"
    required: bool = True
    penalty: float | None = None
    priority: int = 0
    required_skills: frozenset[str] = frozenset()
    items: tuple[ItemLine, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.id, "order")
        what = f"order {self.id!r}"
        _check_lonlat(self.lon, self.lat, what)
        for name in ("load_kg", "volume_m3", "service_s"):
            _check_nonneg(getattr(self, name), f"{what} {name}")
        object.__setattr__(self, "time_windows", _check_windows(self.time_windows, what))
        if self.kind not in ("pickup", "delivery"):
            raise InputError(f"{what}: kind={self.kind!r} must be 'pickup' or 'delivery'")
        if not isinstance(self.priority, int) or self.priority < 0:
            raise InputError(f"{what}: priority={self.priority!r} must be an integer >= 0")
        if self.required and self.penalty is not None:
            raise InputError(
                f"{what}: a penalty only applies to optional orders; set required=False "
                "or drop the penalty"
            )
        if not self.required:
            if self.penalty is None:
                raise InputError(f"{what}: an optional order needs a penalty (cost if dropped)")
            _check_nonneg(self.penalty, f"{what} penalty")
        object.__setattr__(self, "required_skills", frozenset(self.required_skills))
        object.__setattr__(self, "items", tuple(self.items))

    @property
    def demand(self) -> tuple[float, ...]:
        """Demand per dimension of :data:`DIMENSIONS`."""
        return (self.load_kg, self.volume_m3)

    @classmethod
    def from_items(
        cls,
        id: str,
        lon: float,
        lat: float,
        items: Mapping[str, float] | Iterable[tuple[str, float]],
        *,
        catalog: Catalog | None = None,
        load_kg: float | None = None,
        volume_m3: float | None = None,
        service_s: float | None = None,
        required_skills: Iterable[str] = (),
        **kwargs: object,
    ) -> Order:
        """Build an order from catalogue items; explicit values override derived ones.

        Parameters
        ----------
        items : mapping or pairs category -> count
            Pieces, or kg for categories counted by kg.
        catalog : Catalog, optional
            Default: the packaged catalogue.
        load_kg, volume_m3, service_s : float, optional
            Overrides of the sums derived from the items. ``service_s`` defaults to
            :data:`~recyclenet.catalog.STOP_BASE_SERVICE_S` plus the per-unit times.
        required_skills : iterable of str
            Added to ``"refrigerant"`` when an item needs a refrigerant crew.
        **kwargs
            Other :class:`Order` fields (time_windows, kind, required, ...).
        """
        catalog = default_catalog() if catalog is None else catalog
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        lines: list[ItemLine] = []
        skills = set(required_skills)
        service = STOP_BASE_SERVICE_S
        for category, count in pairs:
            item = catalog.lookup(category, context=f"order {id!r}")
            _check_nonneg(count, f"order {id!r} item {category!r} count")
            lines.append(
                ItemLine(
                    category=category,
                    material=item.material,
                    count=float(count),
                    load_kg=item.kg_per_unit * count,
                    volume_m3=item.m3_per_unit * count,
                )
            )
            service += item.service_s_per_unit * count
            if item.needs_refrigerant_crew and count > 0:
                skills.add(REFRIGERANT_SKILL)
        return cls(
            id=id,
            lon=lon,
            lat=lat,
            load_kg=sum(x.load_kg for x in lines) if load_kg is None else load_kg,
            volume_m3=sum(x.volume_m3 for x in lines) if volume_m3 is None else volume_m3,
            service_s=service if service_s is None else service_s,
            required_skills=frozenset(skills),
            items=tuple(lines),
            **kwargs,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class Depot:
    """Where vehicles start and end their day.

    Attributes
    ----------
    id : str
    lon, lat : float
    time_window : (open_s, close_s) or None
        Opening hours; vehicles leave and return within them.
    """

    id: str
    lon: float
    lat: float
    time_window: TimeWindow | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "depot")
        _check_lonlat(self.lon, self.lat, f"depot {self.id!r}")
        if self.time_window is not None:
            (tw,) = _check_windows([self.time_window], f"depot {self.id!r}")
            object.__setattr__(self, "time_window", tw)


@dataclass(frozen=True)
class Facility:
    """A sorting centre or transfer station where a vehicle unloads mid-shift.

    After an unload the vehicle is empty of pickups (and may take on new delivery
    containers) and continues: multi-trip routes.

    Attributes
    ----------
    id : str
    lon, lat : float
    unload_s : float
        Time to unload, seconds.
    time_window : (open_s, close_s) or None
        Opening hours for the start of unloading.
    capacity_kg : float or None
        kg the facility takes in the planning day, over every unload of every route
        (None: no limit). Routes unload at the nearest facility with room; what no
        facility has room for is left unserved with reason ``facility_capacity``.
    """

    id: str
    lon: float
    lat: float
    unload_s: float = 0.0
    time_window: TimeWindow | None = None
    capacity_kg: float | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "facility")
        _check_lonlat(self.lon, self.lat, f"facility {self.id!r}")
        _check_nonneg(self.unload_s, f"facility {self.id!r} unload_s")
        _check_nonneg(self.capacity_kg, f"facility {self.id!r} capacity_kg", allow_none=True)
        if self.time_window is not None:
            (tw,) = _check_windows([self.time_window], f"facility {self.id!r}")
            object.__setattr__(self, "time_window", tw)


@dataclass(frozen=True)
class VehicleType:
    """``count`` identical vehicles; vehicle ids are ``f"{id}-{k}"``, k = 1..count.

    Attributes
    ----------
    id : str
    count : int
        Vehicles available (>= 1).
    capacity_kg, capacity_m3 : float or None
        Capacity per dimension; None: unlimited.
    start_id : str
        Depot the vehicles start from.
    end_id : str
        Depot or facility where the day ends; empty: ``start_id``. Ending at a facility
        includes its unloading time.
    shift : (start_s, end_s)
        The vehicles leave at or after ``start_s`` and are back by ``end_s``.
    max_duration_s, max_distance_m : float or None
        Limits per vehicle-day (duration includes waiting, service and breaks).
    break_window : (earliest_s, latest_s) or None
        When the break must start; needs ``break_s > 0``.
    break_s : float
        Break length, seconds.
    fixed_cost, cost_per_km, cost_per_hour : float
        Cost per vehicle used, per km driven, per hour from leaving to returning.
    skills : frozenset of str
    profile : str
        Road profile: key of the matrix in :attr:`RoutingProblem.matrices`.
    max_unloads : int or None
        Cap on unload stops per vehicle; None: as many as useful.
    """

    id: str
    count: int = 1
    capacity_kg: float | None = None
    capacity_m3: float | None = None
    start_id: str = ""
    end_id: str = ""
    shift: TimeWindow = (0.0, HORIZON_S)
    max_duration_s: float | None = None
    max_distance_m: float | None = None
    break_window: TimeWindow | None = None
    break_s: float = 0.0
    fixed_cost: float = 0.0
    cost_per_km: float = 1.0
    cost_per_hour: float = 0.0
    skills: frozenset[str] = frozenset()
    profile: str = "car"
    max_unloads: int | None = None

    def __post_init__(self) -> None:
        _check_id(self.id, "vehicle type")
        what = f"vehicle type {self.id!r}"
        if not isinstance(self.count, int) or isinstance(self.count, bool) or self.count < 1:
            raise InputError(f"{what}: count={self.count!r} must be an integer >= 1")
        for name in ("capacity_kg", "capacity_m3", "max_duration_s", "max_distance_m"):
            _check_nonneg(getattr(self, name), f"{what} {name}", allow_none=True)
        for name in ("break_s", "fixed_cost", "cost_per_km", "cost_per_hour"):
            _check_nonneg(getattr(self, name), f"{what} {name}")
        if not self.start_id:
            raise InputError(f"{what}: start_id (a depot id) is required")
        if not self.end_id:
            object.__setattr__(self, "end_id", self.start_id)
        (shift,) = _check_windows([self.shift], f"{what} shift")
        object.__setattr__(self, "shift", shift)
        if self.break_window is not None:
            (bw,) = _check_windows([self.break_window], f"{what} break_window")
            object.__setattr__(self, "break_window", bw)
            if self.break_s <= 0:
                raise InputError(f"{what}: break_window given but break_s is 0")
        elif self.break_s > 0:
            raise InputError(f"{what}: break_s given without break_window")
        if self.max_unloads is not None and (
            not isinstance(self.max_unloads, int) or self.max_unloads < 0
        ):
            raise InputError(f"{what}: max_unloads={self.max_unloads!r} must be an int >= 0")
        object.__setattr__(self, "skills", frozenset(self.skills))

    @property
    def capacity(self) -> tuple[float, ...]:
        """Capacity per dimension of :data:`DIMENSIONS` (inf when unlimited)."""
        return tuple(
            math.inf if c is None else float(c) for c in (self.capacity_kg, self.capacity_m3)
        )

    @property
    def vehicle_ids(self) -> tuple[str, ...]:
        """Ids of the individual vehicles."""
        return tuple(f"{self.id}-{k}" for k in range(1, self.count + 1))


@dataclass(frozen=True)
class RoutingProblem:
    """Everything a routing engine needs.

    Attributes
    ----------
    orders : tuple of Order
    vehicle_types : tuple of VehicleType
    depots : tuple of Depot
    facilities : tuple of Facility
    matrices : mapping profile name -> Matrix
        One matrix per road profile named by a vehicle type. Each must have every
        location id (depots, facilities, orders) among its origins and destinations;
        ``inf`` marks unreachable pairs.
    order_snap_limit_m : float
        An order whose snap distance (``Matrix.snap_distance_m``) in a vehicle's profile
        is larger is not served by that vehicle (reason ``off_road``, with the distance).
    """

    orders: tuple[Order, ...]
    vehicle_types: tuple[VehicleType, ...]
    depots: tuple[Depot, ...]
    matrices: Mapping[str, Matrix] = field(compare=False)  # arrays: compared by the caller
    facilities: tuple[Facility, ...] = ()
    order_snap_limit_m: float = DEFAULT_ORDER_SNAP_LIMIT_M
    _travel: Mapping[str, tuple[FloatArray, FloatArray]] = field(
        init=False, repr=False, compare=False
    )
    _position: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _orders_by_id: Mapping[str, Order] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("orders", "vehicle_types", "depots", "facilities"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.vehicle_types:
            raise InputError("the fleet is empty: give at least one vehicle type")
        lim = self.order_snap_limit_m
        if isinstance(lim, bool) or not isinstance(lim, int | float) or not lim > 0:
            raise InputError(f"order_snap_limit_m={lim!r} must be a positive number of metres")
        if not self.depots:
            raise InputError("no depot: give at least one depot for the vehicles to start from")
        for name, cls in (("orders", Order), ("vehicle_types", VehicleType),
                          ("depots", Depot), ("facilities", Facility)):  # fmt: skip
            bad = [x for x in getattr(self, name) if not isinstance(x, cls)]
            if bad:
                raise InputError(f"{name} must hold {cls.__name__} values, got {bad[0]!r}")
        ids = self.location_ids
        counts: dict[str, int] = {}
        for i in ids:
            counts[i] = counts.get(i, 0) + 1
        dup = sorted(i for i, c in counts.items() if c > 1)
        if dup:
            raise InputError(f"duplicate location ids (orders, depots, facilities): {dup[:10]}")
        vt_ids = [v.id for v in self.vehicle_types]
        if len(set(vt_ids)) != len(vt_ids):
            raise InputError(
                f"duplicate vehicle type ids: {sorted({i for i in vt_ids if vt_ids.count(i) > 1})}"
            )
        depot_ids = {d.id for d in self.depots}
        facility_ids = {f.id for f in self.facilities}
        for v in self.vehicle_types:
            if v.start_id not in depot_ids:
                raise InputError(
                    f"vehicle type {v.id!r}: start_id {v.start_id!r} is not a depot id "
                    f"(depots: {sorted(depot_ids)})"
                )
            if v.end_id not in depot_ids | facility_ids:
                raise InputError(
                    f"vehicle type {v.id!r}: end_id {v.end_id!r} is neither a depot nor a "
                    "facility id"
                )
        matrices = dict(self.matrices)
        missing = sorted({v.profile for v in self.vehicle_types} - set(matrices))
        if missing:
            raise InputError(
                f"no matrix for road profile(s) {missing} used by vehicle types "
                f"{[v.id for v in self.vehicle_types if v.profile in missing]}"
            )
        travel: dict[str, tuple[FloatArray, FloatArray]] = {}
        for profile, m in matrices.items():
            if not isinstance(m, Matrix):
                raise InputError(f"matrices[{profile!r}] must be a Matrix")
            for label, have in (("origin", m.origin_ids), ("destination", m.destination_ids)):
                absent = sorted(set(ids) - set(have))
                if absent:
                    raise InputError(
                        f"matrix of profile {profile!r} lacks {label} ids {absent[:10]}"
                        f"{' ...' if len(absent) > 10 else ''}; build it over every order, "
                        "depot and facility"
                    )
            sub = m if m.origin_ids == ids and m.destination_ids == ids else m.select(ids, ids)
            travel[profile] = (sub.duration_s, sub.distance_m)
        object.__setattr__(self, "matrices", types.MappingProxyType(matrices))
        object.__setattr__(self, "_travel", types.MappingProxyType(travel))
        object.__setattr__(
            self, "_position", types.MappingProxyType({k: i for i, k in enumerate(ids)})
        )
        object.__setattr__(
            self, "_orders_by_id", types.MappingProxyType({o.id: o for o in self.orders})
        )

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # mappingproxy does not pickle; rebuild (and revalidate) from plain values
        return (
            RoutingProblem,
            (self.orders, self.vehicle_types, self.depots, dict(self.matrices), self.facilities,
             self.order_snap_limit_m),
        )

    @property
    def location_ids(self) -> tuple[str, ...]:
        """Depot, facility, then order ids: the row order of :meth:`travel`."""
        return (
            tuple(d.id for d in self.depots)
            + tuple(f.id for f in self.facilities)
            + tuple(o.id for o in self.orders)
        )

    def travel(self, profile: str) -> tuple[FloatArray, FloatArray]:
        """``(duration_s, distance_m)`` over :attr:`location_ids` for a road profile."""
        return self._travel[profile]

    @property
    def orders_by_id(self) -> Mapping[str, Order]:
        """Order id -> order."""
        return self._orders_by_id

    @property
    def position(self) -> Mapping[str, int]:
        """Location id -> row of :meth:`travel`."""
        return self._position

    def order(self, order_id: str) -> Order:
        """The order with this id."""
        try:
            return self._orders_by_id[order_id]
        except KeyError:
            raise InputError(f"unknown order id {order_id!r}") from None

    def vehicle_type(self, type_id: str) -> VehicleType:
        """The vehicle type with this id."""
        for v in self.vehicle_types:
            if v.id == type_id:
                return v
        raise InputError(f"unknown vehicle type id {type_id!r}")

    def vehicles(self) -> list[tuple[str, VehicleType]]:
        """Every individual vehicle as ``(vehicle_id, vehicle_type)``, in fleet order."""
        return [(vid, v) for v in self.vehicle_types for vid in v.vehicle_ids]

    def with_orders(
        self, orders: Sequence[Order], matrices: Mapping[str, Matrix] | None = None
    ) -> RoutingProblem:
        """A copy with other orders (and optionally other matrices)."""
        return replace(
            self, orders=tuple(orders), matrices=self.matrices if matrices is None else matrices
        )
