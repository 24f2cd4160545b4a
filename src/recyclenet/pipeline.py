"""The one composition of network, matrices and models used by the CLI, the API and the demo.

``plan_siting``: road network (walking by default) → demand and candidate sites (from
files or derived from the OSM extract) → matrix → :func:`solve_siting` → plan, with
GeoJSON layers.

``plan_routes``: road network → one matrix per vehicle road profile over depots,
facilities and orders (orders a profile cannot reach become unreachable for it) →
:func:`solve_routing` → plan, with GeoJSON whose route lines follow the roads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping
from shapely.geometry.polygon import orient

from .errors import InputError
from .geo import to_metric, utm_crs
from .matrix import Matrix, build_matrix
from .network import PathFinder, RoadNetwork, load_network
from .network.service_area import service_area
from .network.zones import RestrictionZone, read_restriction_zones
from .options import ROUTING_DEFAULTS, SITING_DEFAULTS, RoutingOptions, SitingOptions
from .points import Points
from .progress import phase_lines
from .readers import read_demand as read_demand  # re-exported: one reader, in readers
from .readers import read_sites as read_sites
from .routing import (
    Depot,
    Facility,
    Order,
    RoutePlan,
    RoutingProblem,
    VehicleType,
    plan_to_geojson,
    solve_routing,
)
from .routing.zones import ZonedProblem, ZoneViolation, restrict_to_zones, zone_violations
from .siting import Demand, Site, SitingPlan, SitingProblem, solve_siting, solve_two_tier
from .siting.defaults import DEFAULT_HOUSEHOLDS_PER_STATION

if TYPE_CHECKING:
    from .siting.demand import DemandEstimate

# --------------------------------------------------------------------------- siting


@dataclass(frozen=True)
class SitingRun:
    """Everything a siting run produced."""

    plan: SitingPlan
    problem: SitingProblem
    network: RoadNetwork
    centres: SitingPlan | None = None
    """Tier 2 (open station → sorting centre), when centres were given."""
    centre_sites: tuple[Site, ...] = ()
    demand_estimate: DemandEstimate | None = None
    """Where derived demand came from (households by source, density), when derived."""

    def to_dict(self) -> dict[str, Any]:
        """The plan as JSON; with tier 2 under ``centres``, derived demand's account under
        ``demand_estimate`` and the unassigned households under ``unassigned``."""
        doc = self.plan.to_dict(self.problem)
        if self.centres is not None:
            doc["centres"] = self.centres.to_dict()
        if self.demand_estimate is not None:
            doc["demand_estimate"] = self.demand_estimate.to_dict()
        doc["unassigned"] = self.unassigned_households()
        return doc

    def unassigned_households(self) -> dict[str, Any]:
        """Households left unassigned, in total and by reason."""
        hh = {d.id: d.households for d in self.problem.demand}
        by_reason: dict[str, float] = {}
        for did in self.plan.unassigned_ids:
            why = self.plan.unassigned_reasons.get(did, "not assigned")
            by_reason[why] = by_reason.get(why, 0.0) + hh[did]
        return {"demand_points": len(self.plan.unassigned_ids),
                "households": round(sum(by_reason.values()), 2),
                "households_by_reason": {k: round(v, 2) for k, v in by_reason.items()}}  # fmt: skip

    def coverage_layer(self) -> dict[str, Any]:
        """One network service-area Polygon per open station (RFC 7946, CCW exterior).

        The streets reachable within the problem's radius (in its metric), buffered by
        :data:`STREET_HALF_WIDTH_M` and with enclosed block interiors filled; without a
        radius, the station's farthest assigned demand point sets the budget.
        """
        sites = {s.id: s for s in self.problem.sites}
        metric = self.problem.metric
        farthest: dict[str, float] = {}
        households: dict[str, float] = {}
        demand = {d.id: d for d in self.problem.demand}
        for a in self.plan.assignment:
            cost = a.distance_m if metric == "distance_m" else a.duration_s
            if cost is not None and np.isfinite(cost):
                farthest[a.site_id] = max(farthest.get(a.site_id, 0.0), float(cost))
            households[a.site_id] = (households.get(a.site_id, 0.0)
                                     + demand[a.demand_id].households * a.share)  # fmt: skip
        features = []
        for sid in self.plan.open_ids:
            if self.problem.radius is not None:
                budget, source = float(self.problem.radius), "plan_radius"
            else:
                budget, source = farthest.get(sid, 0.0), "farthest_assigned"
            area = service_area(self.network, sites[sid].lon, sites[sid].lat, budget,
                                metric=metric)  # fmt: skip
            parts = list(getattr(area, "geoms", [area]))
            outline = orient(Polygon(max(parts, key=lambda g: g.area).exterior), 1.0)
            area_m2 = _area_m2(outline)
            features.append({
                "type": "Feature", "id": sid, "geometry": mapping(outline),
                "properties": {"site_id": sid, "method": "network_service_area",
                               "metric": metric, "radius": budget, "radius_source": source,
                               "area_m2": round(float(area_m2), 1),
                               "households": round(households.get(sid, 0.0), 2)},
            })  # fmt: skip
        return {"type": "FeatureCollection", "features": features}

    def to_geodataframes(self, *, coverage: bool = True) -> dict[str, Any]:
        """The layers as GeoDataFrames (EPSG:4326), one geometry type each: ``stations``,
        ``assignments``, ``unassigned``, ``coverage`` (and ``centres``, ``centre_links``)."""
        from .export.layers import layer_frames

        return layer_frames(self.geojson_layers(coverage=coverage))

    def geojson_layers(self, *, coverage: bool = True) -> dict[str, dict[str, Any]]:
        """``stations``, ``assignments``, ``coverage`` (and ``centres``) layers (RFC 7946)."""
        layers = siting_geojson(self.plan, self.problem)
        if coverage:
            layers["coverage"] = self.coverage_layer()
        if self.centres is not None:
            layers["centres"] = _centre_layer(self.centres, self.centre_sites, self.problem)
        return layers


def plan_siting(
    network: str | Path | RoadNetwork,
    options: SitingOptions | None = None,
    *,
    demand: Sequence[Demand] | None = None,
    sites: Sequence[Site] | None = None,
    centres: Sequence[Site] | None = None,
    cache_dir: str | Path | None = None,
    urban_context: str = "auto",
    households_total: float | None = None,
    demand_districts: str | Path | None = None,
    population_raster: str | Path | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    **changes: Any,
) -> SitingRun:
    """Site stations on a real network; demand and sites derived from OSM when not given.

    Parameters
    ----------
    network : path, sample name or RoadNetwork
    options : SitingOptions, optional
        Model, profile, metric, p, radius, households per station, budget, existing
        stations, uncoverable demand, ..., time limit and seed (see
        :class:`~recyclenet.options.SitingOptions`; default :data:`SITING_DEFAULTS`).
    demand, sites : sequence, optional
        Derived from the OSM extract when not given (``cell_m``, ``road_spacing_m``).
    centres : sequence of Site, optional
        Sorting centres (capacity in tonnes/year). When given, the open stations are
        then assigned to centres by a capacitated model on the ``centre_profile`` road
        network (two tiers in sequence, see :func:`solve_two_tier`).
    urban_context, households_total, demand_districts, population_raster
        How demand is derived when no demand is given (see
        :func:`recyclenet.siting.demand.estimate_demand`): the urban context of residential
        land without mapped buildings, and calibration to a total, to district totals
        (GeoJSON with ``households``) or to a population raster (GeoTIFF).
    progress : callable, optional
        Live reports while solving: phase, engine, elapsed, time limit, best objective,
        bound and gap (see :func:`recyclenet.siting.solve_siting`; two tiers:
        :func:`recyclenet.siting.solve_two_tier`).
    **changes
        Option fields by name (``model="p_median", p=3``), applied over ``options``.
    """
    from .osm_features import read_osm_features
    from .siting.demand import estimate_demand
    from .siting.osm_inputs import candidate_sites

    o = SitingOptions.from_mapping({**(options or SITING_DEFAULTS).to_dict(), **changes},
                                   where="plan_siting")  # fmt: skip
    net = (network if isinstance(network, RoadNetwork)
           else load_network(network, profile=o.profile))  # fmt: skip
    estimate = None
    if demand is None or sites is None:
        if isinstance(network, RoadNetwork):
            raise InputError("give demand and sites, or a network source to derive them from")
        features = read_osm_features(network)
        if demand is None:
            estimate = estimate_demand(features, cell_m=o.cell_m, urban_context=urban_context,
                                       households_total=households_total,
                                       districts=demand_districts,
                                       population_raster=population_raster)  # fmt: skip
            demand = estimate.demand
        if sites is None:
            sites = candidate_sites(net, features, road_spacing_m=o.road_spacing_m)
    s_pts = Points.from_located(sites)
    centre_matrix = None
    if centres:
        truck = net.with_profile(o.centre_profile)
        centre_matrix = build_matrix(truck, s_pts, Points.from_located(centres),
                                     max_snap_distance_m=o.max_snap_distance_m,
                                     cache_dir=cache_dir, too_far="unreachable")  # fmt: skip
        sites = _truck_reachable(sites, centre_matrix, o.centre_profile)
    d_pts = Points.from_located(demand)
    matrix = build_matrix(net, d_pts, s_pts, max_snap_distance_m=o.max_snap_distance_m,
                          cache_dir=cache_dir, too_far="unreachable")  # fmt: skip
    problem = SitingProblem(
        demand=tuple(demand), sites=tuple(sites), matrix=matrix,
        model=o.model, metric=o.metric, p=o.p, radius=o.radius,  # type: ignore[arg-type]
        households_per_station=o.households_per_station, budget=o.budget,
        keep_existing=o.keep_existing,  # type: ignore[arg-type]
        uncoverable=o.uncoverable,  # type: ignore[arg-type]
    )  # fmt: skip
    if not centres:
        plan = solve_siting(problem, time_limit_s=o.time_limit_s, seed=o.seed,
                            progress=progress)  # fmt: skip
        return SitingRun(plan=plan, problem=problem, network=net, demand_estimate=estimate)
    assert centre_matrix is not None
    two = solve_two_tier(problem, centres, centre_matrix, metric=o.metric,
                         time_limit_s=o.time_limit_s, seed=o.seed,
                         progress=progress)  # fmt: skip
    return SitingRun(plan=two.stations, problem=problem, network=net, centres=two.centres,
                     centre_sites=tuple(centres), demand_estimate=estimate)  # fmt: skip


def _truck_reachable(sites: Sequence[Site], centre_matrix: Matrix, profile: str) -> list[Site]:
    """Sites from which a collection vehicle reaches some centre; others can't open.

    A candidate that no centre reaches on the ``profile`` network (e.g. in a pedestrian
    zone far from truck roads) becomes ``forbidden``: nobody could empty it. An existing
    or required station that no centre reaches is an error naming it.
    """
    from dataclasses import replace

    reach = np.isfinite(np.asarray(centre_matrix.duration_s)).any(axis=1)
    cut = {centre_matrix.origin_ids[int(i)] for i in np.nonzero(~reach)[0]}
    stuck = [s.id for s in sites if s.id in cut and s.status in ("existing", "required")]
    if stuck:
        raise InputError(
            f"{len(stuck)} existing or required station(s) cannot be reached by the "
            f"{profile!r} profile from any sorting centre: {', '.join(stuck[:10])}; check "
            "truck access near them, raise max_snap_distance_m, or mark them as candidates"
        )
    return [replace(s, status="forbidden") if s.id in cut else s for s in sites]


def siting_geojson(plan: SitingPlan, problem: SitingProblem) -> dict[str, dict[str, Any]]:
    """Stations (open, kept, closed) and demand points with their assigned site."""
    site_by_id = {s.id: s for s in problem.sites}
    load: dict[str, float] = {}
    demand_by_id = {d.id: d for d in problem.demand}
    for a in plan.assignment:
        load[a.site_id] = load.get(a.site_id, 0.0) + demand_by_id[a.demand_id].households * a.share
    stations = []
    for sid in list(plan.open_ids) + list(plan.closed_ids):
        s = site_by_id[sid]
        state = ("closed" if sid in plan.closed_ids else "kept" if sid in plan.kept_ids
                 else "opened")  # fmt: skip
        stations.append({
            "type": "Feature", "id": sid,
            "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            "properties": {"site_id": sid, "state": state, "status": s.status,
                           "households": round(load.get(sid, 0.0), 2),
                           "capacity": s.capacity, "fixed_cost": s.fixed_cost},
        })  # fmt: skip
    assignments = []
    site_of = plan.site_of()
    for a in plan.assignment:
        if site_of.get(a.demand_id) != a.site_id:
            continue
        d, s = demand_by_id[a.demand_id], site_by_id[a.site_id]
        assignments.append({
            "type": "Feature", "id": f"{a.demand_id}->{a.site_id}",
            "geometry": {"type": "LineString", "coordinates": [[d.lon, d.lat], [s.lon, s.lat]]},
            "properties": {"demand_id": d.id, "site_id": s.id, "households": d.households,
                           "distance_m": _finite(a.distance_m),
                           "duration_s": _finite(a.duration_s)},
        })  # fmt: skip
    for did in plan.unassigned_ids:
        d = demand_by_id[did]
        assignments.append({
            "type": "Feature", "id": f"{did}->none",
            "geometry": {"type": "Point", "coordinates": [d.lon, d.lat]},
            "properties": {"demand_id": did, "site_id": None, "households": d.households},
        })  # fmt: skip
    return {
        "stations": {"type": "FeatureCollection", "features": stations},
        "assignments": {"type": "FeatureCollection", "features": assignments},
    }


def _area_m2(polygon: Polygon) -> float:
    """Area in m² of a lon/lat polygon, in its local UTM zone."""
    west, south, east, north = polygon.bounds
    crs = utm_crs((west + east) / 2, (south + north) / 2)
    projected = shapely.transform(
        polygon, lambda c: np.column_stack(to_metric(crs, c[:, 0], c[:, 1]))
    )
    return float(shapely.area(projected))


def _centre_layer(
    plan: SitingPlan, centres: Sequence[Site], problem: SitingProblem
) -> dict[str, Any]:
    """Sorting centres with their load, and station → centre lines."""
    site_by_id = {s.id: s for s in (*problem.sites, *centres)}
    features: list[dict[str, Any]] = []
    for cid in plan.open_ids:
        c = site_by_id[cid]
        features.append({
            "type": "Feature", "id": cid,
            "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
            "properties": {"centre_id": cid, "capacity_t_per_year": c.capacity,
                           "load_t_per_year": _finite(plan.indicators.load_by_site.get(cid, 0.0))},
        })  # fmt: skip
    for a in plan.assignment:
        s, c = site_by_id[a.demand_id], site_by_id[a.site_id]
        features.append({
            "type": "Feature", "id": f"{a.demand_id}->{a.site_id}",
            "geometry": {"type": "LineString", "coordinates": [[s.lon, s.lat], [c.lon, c.lat]]},
            "properties": {"station_id": s.id, "centre_id": c.id, "share": a.share,
                           "distance_m": _finite(a.distance_m)},
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def _finite(x: float) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


# --------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class RoutingRun:
    """Everything a routing run produced."""

    plan: RoutePlan
    problem: RoutingProblem
    networks: dict[str, RoadNetwork] = field(default_factory=dict)
    zones: ZonedProblem | None = None
    """Restriction zones applied (legs between stops outside them avoid them)."""

    def leg_path(self) -> Callable[[str, str, str], list[tuple[float, float]]]:
        """``path(profile, from_id, to_id)``: a leg's lon/lat path on the roads it uses."""
        finders: dict[tuple[str, bool], PathFinder] = {}
        problem = self.problem
        located: list[Order | Depot | Facility] = [*problem.orders, *problem.depots,
                                                   *problem.facilities]  # fmt: skip
        where = {x.id: x for x in located}
        used: dict[str, set[str]] = {}
        for r in self.plan.routes:
            used.setdefault(r.profile, set()).update(v.location_id for v in r.visits)

        def path(profile: str, a: str, b: str) -> list[tuple[float, float]]:
            free = self.zones.leg_network(profile, a, b) if self.zones is not None else None
            key = (profile, free is not None)
            if key not in finders:
                pts = Points.from_located(where[i] for i in sorted(used[profile]))
                net = free if free is not None else self.networks[profile]
                finders[key] = PathFinder(net, pts, max_snap_distance_m=np.inf)
            coords = finders[key].route(a, b).geometry.coords
            return [(float(x), float(y)) for x, y in coords]

        return path

    def zone_violations(self) -> list[ZoneViolation]:
        """Legs and stops inside a restriction zone while it is closed (none if no zones)."""
        if self.zones is None:
            return []
        return zone_violations(self.zones, self.plan, self.leg_path())

    def to_geodataframes(self) -> dict[str, Any]:
        """``routes`` (LineStrings along the roads), ``stops`` and ``unserved`` (Points) as
        GeoDataFrames (EPSG:4326)."""
        from .export.layers import layer_frames

        return layer_frames({"routes": self.geojson()})

    def geojson(self) -> dict[str, Any]:
        """Routes as LineStrings that follow the roads, stops and unserved orders."""
        path = self.leg_path()

        def leg(profile: str, a: str, b: str, pa: tuple[float, float],
                pb: tuple[float, float]) -> list[tuple[float, float]]:  # fmt: skip
            if a == b:
                return [pa, pb]
            return [pa, *path(profile, a, b), pb]

        return plan_to_geojson(self.plan, self.problem, leg_geometry=leg)


def routing_problem(
    network: str | Path | RoadNetwork,
    *,
    orders: Sequence[Order],
    fleet: Sequence[VehicleType],
    depots: Sequence[Depot],
    facilities: Sequence[Facility] = (),
    max_snap_distance_m: float = ROUTING_DEFAULTS.max_snap_distance_m,
    cache_dir: str | Path | None = None,
    speed_model: str | None = ROUTING_DEFAULTS.speed_model,
    period: str | None = ROUTING_DEFAULTS.period,
    order_snap_limit_m: float = ROUTING_DEFAULTS.order_snap_limit_m,
) -> tuple[RoutingProblem, dict[str, RoadNetwork]]:
    """The routing problem on real roads: one matrix per vehicle road profile.

    Matrices cover depots, facilities and orders; points a profile cannot reach (snapped
    farther than ``max_snap_distance_m`` metres from its roads) are unreachable to the
    vehicles of that profile. ``speed_model`` (free_flow, urban) and ``period`` (see
    :func:`load_network`) default to the given network's, or free flow by day. Returns the
    problem and the road network of each profile. Orders farther than
    ``order_snap_limit_m`` from a profile's roads are unserved by its vehicles (reason
    ``off_road``, with the distance).

    Raises
    ------
    InputError
        Points that look like latitude and longitude swapped (outside the network, but
        on it with the two exchanged), naming them.
    """
    if not fleet:
        raise InputError("the fleet is empty; give at least one vehicle type")
    profiles = sorted({vt.profile for vt in fleet})
    base = (network if isinstance(network, RoadNetwork)
            else load_network(network, profile=profiles[0]))  # fmt: skip
    base = base.with_conditions(speed_model=speed_model, period=period)
    nets = {prof: base.with_profile(prof) for prof in profiles}
    locations: list[Depot | Facility | Order] = [*depots, *facilities, *orders]
    check_lonlat_order(base.bbox, locations)
    pts = Points.from_located(locations)
    matrices: dict[str, Matrix] = {}
    for prof, net in nets.items():
        matrices[prof] = build_matrix(net, pts, max_snap_distance_m=max_snap_distance_m,
                                      cache_dir=cache_dir, too_far="unreachable")  # fmt: skip
    problem = RoutingProblem(orders=tuple(orders), vehicle_types=tuple(fleet),
                             depots=tuple(depots), matrices=matrices,
                             facilities=tuple(facilities),
                             order_snap_limit_m=order_snap_limit_m)  # fmt: skip
    return problem, nets


def check_lonlat_order(bbox: Sequence[float],
                       located: Sequence[Depot | Facility | Order]) -> None:  # fmt: skip
    """Raise InputError when points lie outside the network's area (``bbox`` = west,
    south, east, north, widened by a tenth) but inside it with longitude and latitude
    exchanged: a table with its lon/lat columns swapped."""
    west, south, east, north = bbox
    mx, my = 0.1 * (east - west) + 0.01, 0.1 * (north - south) + 0.01

    def on_map(lon: float, lat: float) -> bool:
        return west - mx <= lon <= east + mx and south - my <= lat <= north + my

    bad = [x for x in located if not on_map(x.lon, x.lat) and on_map(x.lat, x.lon)]
    if bad:
        x = bad[0]
        ids = [b.id for b in bad[:10]]
        raise InputError(
            f"{len(bad)} point(s) look like latitude and longitude swapped: {ids}"
            f"{' ...' if len(bad) > 10 else ''}; {x.id!r} at lon={x.lon:g}, lat={x.lat:g} is "
            f"outside the road network (lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f})"
            f" but lon={x.lat:g}, lat={x.lon:g} is on it: give longitude first (x, then y)"
        )


def plan_routes(
    network: str | Path | RoadNetwork,
    options: RoutingOptions | None = None,
    *,
    orders: Sequence[Order],
    fleet: Sequence[VehicleType],
    depots: Sequence[Depot],
    facilities: Sequence[Facility] = (),
    cache_dir: str | Path | None = None,
    restriction_zones: Sequence[RestrictionZone] | str | Path | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    **changes: Any,
) -> RoutingRun:
    """Plan a day's pickups on a real road network (see :func:`routing_problem`).

    ``options`` (:class:`~recyclenet.options.RoutingOptions`: engine, time limit, seed,
    snapping, off-road limit, speed model, period, deterministic; default
    :data:`ROUTING_DEFAULTS`), with ``changes`` (option fields by name,
    ``engine="pyvrp"``) applied over it. ``deterministic``: the same inputs and seed give
    the same plan, byte for byte; ``progress``: live reports while solving (both: see
    :func:`~recyclenet.routing.solve_routing`).
    ``restriction_zones`` (zones or a GeoJSON file, see
    :func:`~recyclenet.network.zones.read_restriction_zones`): areas closed to some
    vehicles at some hours on the planning day (the first day of ``period``); see
    :mod:`recyclenet.routing.zones` for what is applied and approximated.
    """
    o = RoutingOptions.from_mapping({**(options or ROUTING_DEFAULTS).to_dict(), **changes},
                                    where="plan_routes")  # fmt: skip
    max_snap_distance_m = o.max_snap_distance_m
    problem, nets = routing_problem(network, orders=orders, fleet=fleet, depots=depots,
                                    facilities=facilities, cache_dir=cache_dir,
                                    max_snap_distance_m=max_snap_distance_m,
                                    speed_model=o.speed_model, period=o.period,
                                    order_snap_limit_m=o.order_snap_limit_m)  # fmt: skip
    zoned = None
    if restriction_zones:
        zones = (
            read_restriction_zones(restriction_zones)
            if isinstance(restriction_zones, (str, Path))
            else tuple(restriction_zones)
        )
        weekday = next(iter(nets.values())).conditions.period.first_weekday
        zoned = restrict_to_zones(
            problem,
            nets,
            zones,
            weekday=weekday,
            max_snap_distance_m=max_snap_distance_m,
            cache_dir=None if cache_dir is None else str(cache_dir),
        )
        problem = zoned.problem  # fmt: skip
    plan = solve_routing(problem, engine=o.engine, time_limit_s=o.time_limit_s, seed=o.seed,
                         deterministic=o.deterministic, progress=progress)
    if zoned is not None:
        plan = zoned.annotate(plan)
    return RoutingRun(plan=plan, problem=problem, networks=nets, zones=zoned)


# --------------------------------------------------------------------------- demo


def demo_run(
    network: str | Path,
    *,
    out: Path,
    seed: int = 7,
    radius_m: float = 500.0,
    time_limit_s: float = 10.0,
    lang: str = "en",
    crs: str = "wgs84",
    speed_model: str = "free_flow",
    period: str | None = None,
    restriction_zones: Sequence[RestrictionZone] | None = None,
    formats: str | Sequence[str] = ("geojson",),
    progress: Any = print,
    urban_context: str = "auto",
    households_total: float | None = None,
    population_raster: str | Path | None = None,
) -> list[str]:
    """The demo: site stations and a sorting centre, plan one seeded day, write outputs.

    Demand is derived from the extract (:func:`recyclenet.siting.demand.estimate_demand`,
    with ``urban_context``, ``households_total`` and ``population_raster``); demand no
    station can serve is left unassigned and reported with the reason.

    Writes to ``out``: ``network_info.json``, ``siting_plan.json``,
    ``routing_plan.json``, the GeoJSON layers (in ``crs``: wgs84, gcj02 or bd09),
    ``routes.txt``, ``map.html`` (offline), ``siting_map.png``, ``routes_map.png``,
    ``indicators.json``, ``report.html`` and ``report.md`` (labels in ``lang``: en or
    zh). The trucks drive under ``speed_model`` and ``period`` (see :func:`load_network`)
    and keep out of ``restriction_zones`` while they are closed (see :func:`plan_routes`).
    Returns the summary lines, in ``lang``.
    """
    from .actuals.run import demo_actuals
    from .export.files import indicator_table, write_plan_files
    from .export.map_html import roads_layer, write_map_html
    from .export.map_png import write_map_pngs
    from .export.report import headline, write_report
    from .geo import check_crs
    from .i18n import check_lang, label
    from .indicators import indicators_to_dict, plan_indicators
    from .routing import read_fleet, route_tables
    from .scenario import sample_day

    check_lang(lang)
    system = check_crs(crs)

    progress(f"loading road network {network!s} ...")
    walk = load_network(network, profile="walk", speed_model=speed_model, period=period)
    drive = walk.with_profile("box_truck_4_2m")
    info = drive.info()
    progress(f"{info['nodes']} nodes, {info['edges']} edges (truck), {info['length_km']} km")
    derived = _derived_inputs(network, walk, urban_context=urban_context,
                              households_total=households_total,
                              population_raster=population_raster)  # fmt: skip
    estimate = derived.pop("estimate")
    for line in estimate.summary_lines():
        progress(f"demand: {line}")
    # a centre can take the whole area's recyclables (the demo routes to one centre)
    tonnes = sum(d.t_per_year for d in derived["demand"])
    centre_t = max(200.0, float(np.ceil(1.2 * tonnes)))
    # sorting-centre candidates and the depot: road nodes at the edge of the area
    west, south, east, north = drive.bbox
    corners = {"centre_sw": (west, south), "centre_ne": (east, north),
               "centre_se": (east, south)}  # fmt: skip
    centres = []
    for cid, (lon, lat) in corners.items():
        node = int(np.argmin((drive.node_lon - lon) ** 2 + (drive.node_lat - lat) ** 2))
        centres.append(Site(id=cid, lon=float(drive.node_lon[node]),
                            lat=float(drive.node_lat[node]), capacity=centre_t,
                            fixed_cost=100_000.0))  # fmt: skip
    progress(f"siting stations (min stations, {radius_m:g} m walk, "
             f"{DEFAULT_HOUSEHOLDS_PER_STATION:,.0f} households each, "
             "keeping OSM recycling points) and a sorting centre ...")  # fmt: skip
    siting = plan_siting(walk, model="min_stations", radius=radius_m, centres=centres,
                         time_limit_s=time_limit_s, seed=seed, uncoverable="leave",
                         progress=phase_lines("siting", progress), **derived)  # fmt: skip
    siting = replace(siting, demand_estimate=estimate)
    left = siting.unassigned_households()
    if left["demand_points"]:
        why = "; ".join(f"{k}: {v:,.0f}" for k, v in left["households_by_reason"].items())
        progress(f"unassigned: {left['households']:,.0f} households in "
                 f"{left['demand_points']} demand point(s) ({why})")  # fmt: skip
    for line in siting.plan.warnings:
        progress(f"warning: {line}")
    assert siting.centres is not None
    open_centres = [c for c in centres if c.id in set(siting.centres.open_ids)]
    open_ids = set(siting.plan.open_ids)
    stations = [s for s in siting.problem.sites if s.id in open_ids]
    progress(f"{len(stations)} stations, sorting centres {[c.id for c in open_centres]}; "
             f"generating one day of pickups (seed {seed}) ...")  # fmt: skip
    orders = sample_day(siting.problem.demand, stations, seed=seed)
    dnode = int(np.argmin((drive.node_lon - west) ** 2 + (drive.node_lat - north) ** 2))
    depot = Depot("depot", float(drive.node_lon[dnode]), float(drive.node_lat[dnode]))
    # every open centre takes loads, at most its yearly capacity's daily share; each route
    # ends empty at the nearest one with room (routing.delivery)
    facilities = [Facility(f"unload_{c.id}", c.lon, c.lat, unload_s=900.0,
                           capacity_kg=None if c.capacity is None
                           else round(c.capacity * 1000.0 / 365.0, 1))
                  for c in open_centres]  # fmt: skip
    progress(f"routing {len(orders)} orders with the default mixed fleet ...")
    routing = plan_routes(drive, orders=orders, fleet=read_fleet(), depots=[depot],
                          facilities=facilities, time_limit_s=time_limit_s, seed=seed,
                          restriction_zones=restriction_zones,
                          deterministic=True,  # the report can be regenerated
                          progress=phase_lines("routing", progress))  # fmt: skip
    progress("writing plans and GeoJSON layers ...")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "network_info.json", info)
    write_json(out / "siting_plan.json", siting.to_dict())
    siting_layers = siting.geojson_layers()
    routes_layer = routing.geojson()
    summary = {**{f"siting.{k}": v for k, v in siting.to_dict().items()},
               **{f"routing.{k}": v for k, v in routing.plan.to_dict().items()}}  # fmt: skip
    table = indicator_table(plan_indicators(siting, routing), lang)
    write_plan_files(out, {**siting_layers, "routes": routes_layer}, formats=formats,
                     crs=system, lang=lang, summary=summary, indicators=table)  # fmt: skip
    write_json(out / "routing_plan.json", routing.plan.to_dict())
    (out / "routes.txt").write_text(route_tables(routing.plan), encoding="utf-8")
    progress("drawing the maps (HTML, PNG) ...")
    layers = {"roads": roads_layer(drive), **siting_layers, "routes": routes_layer}
    write_map_html(out / "map.html", layers, title=f"{label('map_title', lang)} · {network}",
                   lang=lang)  # fmt: skip
    pngs = write_map_pngs(out, layers, lang=lang)
    progress("indicators and report ...")
    indicators = plan_indicators(siting, routing)
    write_json(out / "indicators.json", indicators_to_dict(indicators))
    plan = routing.plan
    solved = [
        siting.plan.summary().splitlines()[0],
        f"routes: engine {plan.engine}, {plan.status}",
    ]
    progress("a seeded month of collection records: plan versus actual, evaluation ...")
    actuals = demo_actuals(out, siting, routing, stations_layer=siting_layers["stations"],
                           roads_layer=layers["roads"], seed=seed, lang=lang)  # fmt: skip
    for suffix in ("html", "md"):
        write_report(out / f"report.{suffix}", indicators, lang=lang,
                     title=f"{label('map_title', lang)} · {network}",
                     summary=[*solved, *actuals.summary], images=pngs,
                     sections=actuals.sections)  # fmt: skip
    return [*headline(indicators, lang), *solved, *actuals.summary]


def _derived_inputs(network: str | Path, walk: RoadNetwork, **demand: Any) -> dict[str, Any]:
    """Demand (with its estimate) and candidate sites derived from the OSM extract."""
    from .osm_features import read_osm_features
    from .siting.demand import estimate_demand
    from .siting.osm_inputs import candidate_sites

    features = read_osm_features(network)
    estimate = estimate_demand(features, **demand)
    return {"demand": estimate.demand, "sites": candidate_sites(walk, features),
            "estimate": estimate}  # fmt: skip


def write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as UTF-8 JSON (names kept as written, no NaN), creating the folder."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False),
                    encoding="utf-8")  # fmt: skip


# --------------------------------------------------------------------------- industrial parks


def plan_park_files(
    park: str | Path | Any,
    network: str | Path | RoadNetwork,
    *,
    out: Path | None = None,
    lang: str = "en",
    time_limit_s: float = 30.0,
    single_source: bool | None = None,
    unplaced: str = "raise",
    crs: str | None = None,
    seed: int = 0,
    cache_dir: str | Path | None = None,
    progress: Any = None,
) -> Any:
    """Plan an industrial park (issue #16) and optionally write its files to ``out``.

    ``park`` is a ``.yaml``/``.xlsx`` path, the YAML document as a mapping (the service's
    body), or a :class:`recyclenet.parks.model.Park`. Returns the
    :class:`recyclenet.parks.plan.ParkRun`; see :func:`recyclenet.parks.plan.plan_park`.
    """
    from collections.abc import Mapping

    from .parks.io import park_from_doc, read_park
    from .parks.model import Park
    from .parks.plan import plan_park, write_park_outputs

    if isinstance(park, Park):
        model = park
    elif isinstance(park, Mapping):
        model = park_from_doc(park, crs=crs, source="park")
    else:
        model = read_park(park, crs=crs)
    run = plan_park(model, network, time_limit_s=time_limit_s, single_source=single_source,
                    unplaced=unplaced, seed=seed, cache_dir=cache_dir,  # type: ignore[arg-type]
                    progress=progress or (lambda _: None))  # fmt: skip
    if out is not None:
        write_park_outputs(run, out, lang=lang)
    return run
