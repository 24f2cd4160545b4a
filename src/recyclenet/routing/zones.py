"""Restriction zones in a routing problem: closed-hour paths avoid them, stops inside wait.

For every road profile a zone applies to (see
:class:`~recyclenet.network.zones.RestrictionZone`) and that is closed at some time of
its vehicles' shifts on the planning day:

- **Paths** between two stops outside every such zone come from a second network without
  the zone's edges (a second matrix), so they never enter it. Paths to or from a stop
  inside a zone use the full network: they are driven while the zone is open (below).
- **Stops inside a zone** get their time windows cut to the zone's open hours, shortened
  by the fastest time to drive in from outside the zone and back out, and by the service
  time, so the vehicle enters and leaves while it is open. The cut applies to the order,
  so also to vehicles the zone does not bind (tricycles under a truck zone lose the
  closed hours too: legal, but stricter than needed). An order with no open time left
  for some bound profile keeps its windows and is unreachable for the bound profiles
  instead, so the others can still serve it (unserved with a message naming the zone if
  nobody can).
- Depots and facilities inside a zone closed during their vehicles' shifts are an input
  error.

Approximations (what this misses): outside-to-outside paths avoid the zone all day, even
in its open hours (conservative: longer, never illegal); a path into a zone is assumed
to enter it by the fastest way in from outside, so a leg that crosses the zone for
longer than that (a through-path before reaching the stop) can enter it earlier than its
opening; :func:`zone_violations` checks route geometry with times and reports such legs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from ..errors import InputError
from ..matrix import Matrix, build_matrix
from ..network.road_network import RoadNetwork
from ..network.snap import snap_points
from ..network.zones import RestrictionZone, inside_zone, zone_edge_mask
from ..points import Points
from .plan import RoutePlan
from .problem import HORIZON_S, Depot, Facility, Order, RoutingProblem

Interval = tuple[float, float]


@dataclass(frozen=True, eq=False)
class ZonedProblem:
    """A routing problem with restriction zones applied, and what geometry needs.

    Attributes
    ----------
    problem : RoutingProblem
        Orders with cut windows; matrices avoiding the zones.
    zone_free : dict profile -> RoadNetwork
        The network without the edges of the zones bound to that profile.
    inside : dict profile -> frozenset of location ids
        Stops inside a zone bound to that profile (their legs use the full network).
    blocked : dict order id -> message
        Orders made unreachable for some profiles by a zone, and why.
    zones : tuple of RestrictionZone
    weekday : int
        Planning day (0 = Monday).
    """

    problem: RoutingProblem
    zone_free: dict[str, RoadNetwork]
    inside: dict[str, frozenset[str]]
    blocked: dict[str, str]
    zones: tuple[RestrictionZone, ...]
    weekday: int = 0
    cut_windows: dict[str, tuple[Interval, ...]] = field(default_factory=dict)

    def leg_network(self, profile: str, a: str, b: str) -> RoadNetwork | None:
        """The zone-free network for a leg between two outside stops, else None (full)."""
        net = self.zone_free.get(profile)
        if net is None or a in self.inside[profile] or b in self.inside[profile]:
            return None
        return net

    def annotate(self, plan: RoutePlan) -> RoutePlan:
        """The plan with the zone named in the messages of the orders it left unserved."""
        if not self.blocked:
            return plan
        unserved = tuple(
            dataclasses.replace(u, message=f"{u.message}; {self.blocked[u.order_id]}")
            if u.order_id in self.blocked else u
            for u in plan.unserved
        )  # fmt: skip
        return dataclasses.replace(plan, unserved=unserved)


def _subtract(window: Interval, closed: list[Interval]) -> list[Interval]:
    out = [window]
    for a, b in closed:
        nxt = []
        for x, y in out:
            if b <= x or a >= y:
                nxt.append((x, y))
                continue
            if a > x:
                nxt.append((x, a))
            if b < y:
                nxt.append((b, y))
        out = nxt
    return out


def _closed_on_day(zones: list[RestrictionZone], weekday: int) -> list[Interval]:
    """Closed intervals of the planning day and, for long shifts, the next day."""
    out: list[Interval] = []
    for z in zones:
        out += z.closed_intervals_s(weekday)
        out += [(a + 86_400.0, b + 86_400.0) for a, b in z.closed_intervals_s((weekday + 1) % 7)]
    return out


def _access_times(
    net: RoadNetwork, outside_nodes: np.ndarray, points: Points
) -> tuple[np.ndarray, np.ndarray]:
    """Fastest time from outside the zone to each point, and from it back out (s)."""
    n = net.n_nodes
    src = np.full(len(outside_nodes), n)
    rows = np.concatenate([net.edge_u, src])
    cols = np.concatenate([net.edge_v, outside_nodes])
    w = np.concatenate([net.edge_duration_s, np.full(len(outside_nodes), 1e-9)])
    fwd = sp.csr_matrix((w, (rows, cols)), shape=(n + 1, n + 1))
    bwd = sp.csr_matrix((w, (cols, rows)), shape=(n + 1, n + 1))
    d_in = dijkstra(fwd, indices=n)
    d_out = dijkstra(bwd, indices=n)
    snapped = snap_points(net, points, max_snap_distance_m=math.inf)
    t_in = np.full(len(points.ids), np.inf)
    t_out = np.full(len(points.ids), np.inf)
    for i in range(len(points.ids)):
        for e, f in snapped.placements(net, i):
            dur = float(net.edge_duration_s[e])
            t_in[i] = min(t_in[i], d_in[net.edge_u[e]] + f * dur)
            t_out[i] = min(t_out[i], d_out[net.edge_v[e]] + (1 - f) * dur)
    return t_in, t_out


def restrict_to_zones(
    problem: RoutingProblem,
    networks: dict[str, RoadNetwork],
    zones: Sequence[RestrictionZone],
    *,
    weekday: int = 0,
    max_snap_distance_m: float,
    cache_dir: str | None = None,
) -> ZonedProblem:
    """Apply restriction zones to a routing problem (see the module docstring).

    ``networks`` are the full road networks by profile (as :func:`routing_problem`
    returns them); ``weekday`` (0 = Monday) picks the zones' closed hours.
    """
    zones = tuple(zones)
    fleet_profiles = {vt.profile for vt in problem.vehicle_types}
    where = {x.id: x for x in _located(problem)}
    ids = problem.location_ids
    pts = Points.from_located(where[i] for i in ids)
    in_zones = dict(zip(ids, inside_zone(zones, pts.lon, pts.lat)))
    matrices = dict(problem.matrices)
    zone_free: dict[str, RoadNetwork] = {}
    inside: dict[str, frozenset[str]] = {}
    blocked: dict[str, str] = {}
    windows: dict[str, list[Interval] | None] = {}  # order id -> cut windows (None: blocked)
    prev: list[Interval] | None
    bound_profiles: dict[str, set[str]] = {}  # order id -> profiles it is closed to
    for prof in sorted(fleet_profiles):
        net = networks[prof]
        types = [vt for vt in problem.vehicle_types if vt.profile == prof]
        shifts = [vt.shift for vt in types]
        own = [z for z in zones if z.applies_to(net.profile)]
        closed = _closed_on_day(own, weekday)
        if not own or not any(_subtract(s, closed) != [s] for s in shifts):
            continue  # no zone binds this profile during its shifts
        active = [z for z in own if any(_subtract(s, _closed_on_day([z], weekday)) != [s]
                                        for s in shifts)]  # fmt: skip
        for x in _located(problem)[: len(problem.depots) + len(problem.facilities)]:
            hit = [z.id for z in in_zones[x.id] if z in active]
            if hit:
                raise InputError(
                    f"{x.id} ({x.lon:.6f}, {x.lat:.6f}) is inside restriction zone(s) {hit}, "
                    f"closed to {prof!r} during its shift; move it or change the zone's hours"
                )
        drop = zone_edge_mask(net, active)
        free = net.without_edges(drop, label=f"restriction zones {[z.id for z in active]}")
        zone_free[prof] = free
        inside_ids = [i for i in ids if any(z in active for z in in_zones[i])]
        inside[prof] = frozenset(inside_ids)
        free_m = build_matrix(free, pts, max_snap_distance_m=max_snap_distance_m,
                              cache_dir=cache_dir, too_far="unreachable")  # fmt: skip
        full = problem.matrices[prof].select(ids, ids)
        mask = np.array([i in inside[prof] for i in ids])
        use_full = mask[:, None] | mask[None, :]
        dur = np.where(use_full, full.duration_s, free_m.duration_s)
        dist = np.where(use_full, full.distance_m, free_m.distance_m)
        pos = {i: k for k, i in enumerate(ids)}
        ends = sorted({pos[vt.start_id] for vt in types} | {pos[vt.end_id] for vt in types})
        for o in problem.orders:
            k = pos[o.id]
            if o.id in inside[prof] or not np.isfinite(full.duration_s[ends, k]).any():
                continue
            if not (np.isfinite(dur[ends, k]).any() and np.isfinite(dur[k, ends]).any()):
                names = ", ".join(z.id for z in active)
                blocked.setdefault(o.id, f"reachable by {prof!r} only through restriction "
                                         f"zone(s) {names} while closed")  # fmt: skip
        outside_nodes = np.unique(np.concatenate([free.edge_u, free.edge_v]))
        in_pts = Points.from_located(where[i] for i in inside_ids) if inside_ids else None
        t_in, t_out = (_access_times(net, outside_nodes, in_pts) if in_pts is not None
                       else (np.array([]), np.array([])))  # fmt: skip
        start, end = min(s[0] for s in shifts), max(s[1] for s in shifts)
        for k, oid in enumerate(inside_ids):
            o = problem.orders_by_id[oid]
            zclosed = _closed_on_day([z for z in in_zones[oid] if z in active], weekday)
            opened = _subtract((start, min(end, HORIZON_S)), zclosed)
            cut: list[Interval] = []
            for a, b in opened:
                a2 = a + (t_in[k] if a > start else 0.0)
                b2 = b - o.service_s - (t_out[k] if b < end else 0.0)
                for wa, wb in o.time_windows or ((0.0, HORIZON_S),):
                    lo, hi = max(a2, wa), min(b2, wb)
                    if lo <= hi:
                        cut.append((lo, hi))
            bound_profiles.setdefault(oid, set()).add(prof)
            # several bound profiles: the first one's cut windows (None once any is blocked)
            prev = windows.get(oid, [])
            windows[oid] = None if prev is None or not cut else (prev or cut)
            names = ", ".join(f"{z.id} (closed {z.closed})" for z in in_zones[oid])
            if not cut:
                blocked[oid] = f"inside restriction zone {names}: no open hours for {prof!r}"
        matrices[prof] = Matrix(
            ids,
            ids,
            dur,
            dist,
            profile=prof,
            snap_distance_m=dict(problem.matrices[prof].snap_distance_m),
        )
    # windows: cut the order's own windows when every profile is bound; else block
    orders: list[Order] = []
    cut_windows: dict[str, tuple[Interval, ...]] = {}
    for o in problem.orders:
        if o.id not in windows:
            orders.append(o)
            continue
        bound = bound_profiles[o.id]
        kept = windows[o.id]
        if kept:  # every bound profile has open hours: cut the order's windows to them
            merged = tuple(sorted(set(kept)))
            cut_windows[o.id] = merged
            orders.append(dataclasses.replace(o, time_windows=merged))
            continue
        orders.append(o)
        names = ", ".join(f"{z.id} (closed {z.closed})" for z in in_zones[o.id])
        blocked.setdefault(o.id, f"inside restriction zone {names}, closed to "
                                 f"{sorted(bound)} during their shifts")  # fmt: skip
        for prof in bound:
            m = matrices[prof]
            i = ids.index(o.id)
            d, s = np.array(m.duration_s), np.array(m.distance_m)
            d[i, :] = d[:, i] = np.inf
            s[i, :] = s[:, i] = np.inf
            d[i, i] = s[i, i] = 0.0
            matrices[prof] = Matrix(ids, ids, d, s, profile=prof,
                                    snap_distance_m=dict(m.snap_distance_m))  # fmt: skip
    new = RoutingProblem(orders=tuple(orders), vehicle_types=problem.vehicle_types,
                         depots=problem.depots, matrices=matrices,
                         facilities=problem.facilities,
                         order_snap_limit_m=problem.order_snap_limit_m)  # fmt: skip
    return ZonedProblem(problem=new, zone_free=zone_free, inside=inside, blocked=blocked,
                        zones=zones, weekday=weekday, cut_windows=cut_windows)  # fmt: skip


@dataclass(frozen=True)
class ZoneViolation:
    """A route leg or stop inside a zone while it is closed to the vehicle."""

    vehicle_id: str
    zone_id: str
    from_id: str
    to_id: str
    interval_s: Interval


def zone_violations(
    zoned: ZonedProblem,
    plan: RoutePlan,
    leg_geometry: Callable[[str, str, str], list[tuple[float, float]]],
) -> list[ZoneViolation]:
    """Legs and stops of ``plan`` inside a zone while it is closed to their vehicle.

    ``leg_geometry(profile, from_id, to_id)`` gives a leg's lon/lat path. A leg is inside
    a zone from its first entry to its last exit, timed in proportion to the length driven
    along the path (departure to arrival; speeds that differ along the leg make this an
    approximation); a stop from arrival to departure.
    """
    problem = zoned.problem
    out: list[ZoneViolation] = []
    for r in plan.routes:
        prof = r.profile
        net = zoned.zone_free.get(prof)
        if net is None:
            continue
        own = [z for z in zoned.zones if z.applies_to(net.profile)]
        for prev, visit in zip(r.visits, r.visits[1:]):
            legs = [(prev.location_id, visit.location_id, prev.departure_s, visit.arrival_s),
                    (visit.location_id, visit.location_id, visit.arrival_s,
                     visit.departure_s)]  # fmt: skip
            for a, b, t0, t1 in legs:
                if a == b and t0 == t1:
                    continue
                coords = leg_geometry(prof, a, b) if a != b else [_lonlat(problem, a)]
                geom = (shapely.LineString(coords) if len(coords) > 1
                        else shapely.Point(coords[0]))  # fmt: skip
                for z in own:
                    if not shapely.intersects(z.geometry, geom):
                        continue
                    t_in, t_out = _time_inside(geom, z.geometry, t0, t1)
                    closed = _closed_on_day([z], zoned.weekday)
                    if any(a2 < t_out and t_in < b2 for a2, b2 in closed):
                        out.append(ZoneViolation(r.vehicle_id, z.id, a, b, (t0, t1)))
    return out


def _time_inside(geom: shapely.Geometry, zone: shapely.Geometry, t0: float,
                 t1: float) -> Interval:  # fmt: skip
    """When a leg driven from ``t0`` to ``t1`` is inside ``zone``: first entry to last
    exit, by the share of the path's length before them (a point: the whole interval)."""
    if not isinstance(geom, shapely.LineString) or geom.length <= 0:
        return t0, t1
    inside = shapely.intersection(geom, zone)
    parts = [g for g in getattr(inside, "geoms", [inside]) if not g.is_empty]
    at = [geom.project(shapely.Point(c)) for g in parts for c in g.coords]
    if not at:
        return t0, t1
    f0, f1 = min(at) / geom.length, max(at) / geom.length
    return t0 + f0 * (t1 - t0), t0 + f1 * (t1 - t0)


def _located(problem: RoutingProblem) -> list[Depot | Facility | Order]:
    return [*problem.depots, *problem.facilities, *problem.orders]


def _lonlat(problem: RoutingProblem, loc_id: str) -> tuple[float, float]:
    for x in _located(problem):
        if x.id == loc_id:
            return (float(x.lon), float(x.lat))
    raise InputError(f"unknown location {loc_id!r}")
