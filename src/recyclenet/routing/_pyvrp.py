"""PyVRP adapter: the only module that imports ``pyvrp``.

Mapping
-------
- Every depot and facility is a PyVRP depot; facilities are the vehicles' reload
  depots (unloading mid-shift, with their unload time as depot service duration).
- Orders are clients (pickup or delivery amounts per load dimension); an order with
  several time windows becomes one client per window in a mutually exclusive group;
  optional orders are optional clients with their penalty as prize. Required orders
  are optional clients too, with a prize ten times the cost of a vehicle's whole day
  (times 1 + priority): PyVRP then still returns routes when the fleet cannot serve every
  order (a required client that cannot be fitted makes its whole result infeasible),
  and leaves out an order only when nothing else works.
- Vehicle types map one to one (shift, maximum duration and distance, costs, road
  profile index). Skills and the other pre-solve eligibility rules become one extra
  load dimension per vehicle type that some orders may not use: those orders weigh 1
  in it and that type has capacity 0.

Breaks and fixed route prefixes (re-planning) do not fit PyVRP's model:
:func:`fits_pyvrp` says so and the caller uses OR-Tools.
"""

from __future__ import annotations

import time

import numpy as np
import pyvrp
from pyvrp.PenaltyManager import PenaltyParams
from pyvrp.solve import SolveParams

from ..deadline import Deadline
from . import _scale as sc
from .plan import EngineResult, RawRoute
from .problem import DIMENSIONS, RoutingProblem, VehicleType
from .unserved import Diagnosis

ENGINE = "pyvrp"
_MAX = 2**62
_MAX_RELOADS = 2**64 - 1  # PyVRP's default: no limit


class _Stop:
    """Stop at the :class:`~recyclenet.deadline.Deadline`.

    PyVRP's ``MaxRuntime`` starts its clock at its first call, after the initial local
    search, so it overruns the limit on large instances; this one does not.
    """

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline

    def __call__(self, best_cost: float) -> bool:
        return self._deadline.expired()


def _day_cost(problem: RoutingProblem, vt: VehicleType) -> float:
    """An upper bound of what one order can cost to serve: a vehicle's whole day."""
    _dur, dist = problem.travel(vt.profile)
    finite = dist[np.isfinite(dist)]
    longest_m = float(finite.max()) if finite.size else 0.0
    hours = (vt.shift[1] - vt.shift[0]) / 3600.0
    return vt.fixed_cost + vt.cost_per_km * 2 * longest_m / 1000.0 + vt.cost_per_hour * hours + 1.0


def fits_pyvrp(problem: RoutingProblem) -> tuple[bool, str]:
    """Whether the problem fits PyVRP's model, and why not when it does not."""
    with_break = [v.id for v in problem.vehicle_types if v.break_window is not None]
    if with_break:
        return False, f"vehicle types {with_break} have breaks (PyVRP has no break model)"
    if not problem.orders:
        return False, "no orders"
    return True, ""


def solve_pyvrp(
    problem: RoutingProblem, diagnosis: Diagnosis, *, deadline: Deadline, seed: int = 0
) -> EngineResult:
    """Solve with PyVRP's iterated local search until ``deadline``.

    Returns a result with ``found=False`` when the best solution is infeasible (for
    instance required orders that do not all fit in the fleet).
    """
    t0 = time.perf_counter()
    ok, why = fits_pyvrp(problem)
    if not ok:
        raise ValueError(f"problem does not fit PyVRP: {why}")
    excluded = {u.order_id for u in diagnosis.unserved}
    orders = [o for o in problem.orders if o.id not in excluded]
    if not orders:
        return EngineResult(ENGINE, (), True, time.perf_counter() - t0)
    scale = sc.pyvrp_cost_scale(
        [v.cost_per_km for v in problem.vehicle_types],
        [v.cost_per_hour for v in problem.vehicle_types],
    )

    def cost(c: float) -> int:
        return round(c * scale)

    loc_ids = problem.location_ids
    pos = {k: i for i, k in enumerate(loc_ids)}
    lonlat = {o.id: (o.lon, o.lat) for o in orders}
    lonlat.update({d.id: (d.lon, d.lat) for d in problem.depots})
    lonlat.update({f.id: (f.lon, f.lat) for f in problem.facilities})
    locations = [pyvrp.Location(*lonlat.get(k, (0.0, 0.0)), name=k) for k in loc_ids]

    depot_ids = [d.id for d in problem.depots] + [f.id for f in problem.facilities]
    depot_pos = {k: i for i, k in enumerate(depot_ids)}
    depots = []
    for dep in problem.depots:
        tw = dep.time_window or (0.0, sc.UNREACHABLE)
        depots.append(pyvrp.Depot(pos[dep.id], tw_early=sc.time_up(tw[0]),
                                  tw_late=sc.time_down(tw[1]), name=dep.id))  # fmt: skip
    for f in problem.facilities:
        tw = f.time_window or (0.0, sc.UNREACHABLE)
        depots.append(pyvrp.Depot(pos[f.id], tw_early=sc.time_up(tw[0]),
                                  tw_late=sc.time_down(tw[1]),
                                  service_duration=sc.time_up(f.unload_s), name=f.id))  # fmt: skip

    # eligibility dimensions: one per vehicle type some order may not use
    type_ids = [v.id for v in problem.vehicle_types]
    restricted = [t for t in type_ids
                  if any(t not in diagnosis.allowed_types[o.id] for o in orders)]  # fmt: skip
    nd = len(DIMENSIONS)
    required_prize = 10 * max(cost(_day_cost(problem, vt)) for vt in problem.vehicle_types)
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    client_order: list[str] = []
    totals = [0] * nd
    for o in orders:
        q = sc.demand_int(o.demand)
        for dim in range(nd):
            totals[dim] += q[dim]
        elig = [0 if t in diagnosis.allowed_types[o.id] else 1 for t in restricted]
        load = q + elig
        pickup = load if o.kind == "pickup" else [0] * nd + elig
        delivery = load[:nd] + [0] * len(restricted) if o.kind == "delivery" else []
        prize = required_prize * (1 + o.priority) if o.required else cost(o.penalty or 0.0)
        windows = o.time_windows or ((0.0, float(sc.UNREACHABLE)),)
        grouped = len(windows) > 1
        if grouped:
            groups.append(pyvrp.ClientGroup(required=False, name=o.id))
        for a, b in windows:
            clients.append(pyvrp.Client(
                pos[o.id],
                delivery=delivery or [0] * len(pickup),
                pickup=pickup,
                service_duration=sc.time_up(o.service_s),
                tw_early=sc.time_up(a),
                tw_late=sc.time_down(b),
                prize=prize,
                required=False,
                group=len(groups) - 1 if grouped else None,
                name=o.id,
            ))  # fmt: skip
            client_order.append(o.id)
            if grouped:
                groups[-1].add_client(len(clients) - 1)

    profiles = sorted({v.profile for v in problem.vehicle_types})
    dist_m, dur_m = [], []
    for p in profiles:
        dur, dist = problem.travel(p)
        dm, tm = sc.int_distance(dist), sc.int_duration(dur)
        np.fill_diagonal(dm, 0)
        np.fill_diagonal(tm, 0)
        dist_m.append(np.ascontiguousarray(dm))
        dur_m.append(np.ascontiguousarray(tm))

    fac_depots = [depot_pos[f.id] for f in problem.facilities]
    vehicle_types = []
    for vt in problem.vehicle_types:
        cap = sc.capacity_int(vt.capacity, max(totals) + 1)
        cap += [0 if vt.id == t else len(clients) + 1 for t in restricted]
        end_unload = next((sc.time_up(f.unload_s) for f in problem.facilities
                           if f.id == vt.end_id), 0)  # fmt: skip
        sd = next(d for d in problem.depots if d.id == vt.start_id).time_window
        early = sc.time_up(max(vt.shift[0], sd[0] if sd else 0.0))
        late_start = sc.time_down(min(vt.shift[1], sd[1])) if sd else None
        late = sc.time_down(vt.shift[1]) - end_unload
        max_dur = (_MAX if vt.max_duration_s is None
                   else sc.time_down(vt.max_duration_s) - end_unload)  # fmt: skip
        max_reloads = _MAX_RELOADS if vt.max_unloads is None else vt.max_unloads
        vehicle_types.append(pyvrp.VehicleType(
            num_available=vt.count,
            capacity=cap,
            start_depot=depot_pos[vt.start_id],
            end_depot=depot_pos[vt.end_id],
            fixed_cost=cost(vt.fixed_cost),
            tw_early=early,
            tw_late=late,
            shift_duration=max_dur,
            max_distance=_MAX if vt.max_distance_m is None else int(vt.max_distance_m),
            unit_distance_cost=cost(vt.cost_per_km / 1000.0),
            unit_duration_cost=cost(vt.cost_per_hour / 3600.0),
            profile=profiles.index(vt.profile),
            start_late=late_start,
            reload_depots=fac_depots,
            max_reloads=max_reloads,
            name=vt.id,
        ))  # fmt: skip
    data = pyvrp.ProblemData(
        locations,
        clients,
        depots,
        vehicle_types,
        dist_m,  # type: ignore[arg-type]
        dur_m,  # type: ignore[arg-type]
        groups=groups,
    )
    factor = sc.PYVRP_COST_PER_M
    params = SolveParams(
        penalty=PenaltyParams(min_penalty=0.1 * factor, max_penalty=100_000.0 * factor)
    )
    res = pyvrp.solve(data, stop=_Stop(deadline), seed=seed, collect_stats=False,
                      params=params)  # fmt: skip
    best = res.best
    elapsed = time.perf_counter() - t0
    if not best.is_feasible():
        return EngineResult(ENGINE, (), False, elapsed, {"reason": "no feasible solution"})
    used: dict[int, int] = {}
    routes = []
    for route in best.routes():
        vt_idx = route.vehicle_type()
        nth = used.get(vt_idx, 0)
        used[vt_idx] = nth + 1
        vid = problem.vehicle_types[vt_idx].vehicle_ids[nth]
        acts = list(route.schedule())
        stops = [depot_ids[act.idx] if act.is_depot() else client_order[act.idx]
                 for act in acts[1:-1]]  # fmt: skip
        routes.append(RawRoute(vid, tuple(stops), float(route.start_time()), None))
    return EngineResult(
        ENGINE,
        tuple(routes),
        True,
        elapsed,
        {"objective_scaled": int(res.cost()), "iterations": res.num_iterations},
    )
