"""OR-Tools routing adapter: the only module that imports ``ortools``.

Model
-----
Nodes are: one node per depot or facility used as a start or end, one per order, and
``k`` optional copies of every facility (free to skip) for mid-shift unloading.

- Time dimension (s): transit(i, j) = service(i) + travel_profile(i, j) (+ unload time
  when j is an end facility); slack is waiting; order windows are cumul domains (gaps
  between several windows removed); shift and depot hours bound start/end cumuls;
  maximum duration is a span bound; cost per hour is a span cost; breaks are fixed
  duration intervals (``SetBreakIntervalsOfVehicle``).
- One load dimension per load unit (0.1 kg, litre): pickups add, deliveries subtract
  (the start cumul is the delivery load taken from the depot); a facility copy
  subtracts a big value and its slack (0..2·big) lets the load restart anywhere in
  [0, capacity]: unloading, and taking on the next trip's delivery containers.
- Distance dimension (m) only for maximum distances; arc costs are per vehicle type
  (cost per km); fixed cost per used vehicle.
- Every order is a disjunction: optional orders with their penalty, required ones with
  a prohibitive penalty (times 1 + priority), so the search always returns a plan.
- Skills and pre-solve eligibility become allowed vehicles per order.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from .. import progress
from ..deadline import Deadline
from . import _scale as sc
from .plan import EngineResult, RawRoute
from .problem import DIMENSIONS, Order, RoutingProblem, VehicleType
from .unserved import Diagnosis

ENGINE = "ortools"
_FIRST = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
_FIRST_MULTI_TRIP = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
_ON = 3  # OptionalBoolean.BOOL_TRUE
#: Weight of the slack left in an order's window in the greedy warm start (tuned on a
#: synthetic 500-order multi-trip day: 0 -> 84, 0.1 -> 77, 0.3 -> 83 orders left out).
_URGENCY = 0.1
#: Operators that insert an order together with an unload stop (off by default).
_MULTI_TRIP_OPERATORS: tuple[str, ...] = ()


def solve_ortools(
    problem: RoutingProblem,
    diagnosis: Diagnosis,
    *,
    deadline: Deadline,
    seed: int = 0,
    locks: Mapping[str, Sequence[str]] | None = None,
    fixed_start_s: Mapping[str, float] | None = None,
    release_s: float | None = None,
    solution_limit: int | None = None,
) -> EngineResult:
    """Solve with OR-Tools routing (guided local search) until ``deadline``.

    Parameters
    ----------
    problem : RoutingProblem
    diagnosis : Diagnosis
        Orders in ``diagnosis.unserved`` are left out; the others may only go to
        their ``allowed_types``.
    deadline : Deadline
        When to stop, model building included.
    seed : int
        Unused by OR-Tools routing (deterministic given the time); kept for symmetry.
    locks : mapping vehicle id -> stop ids, optional
        Fixed route prefixes (orders and facility ids) for re-planning.
    fixed_start_s : mapping vehicle id -> s, optional
        Departure times of vehicles that already left.
    release_s : float, optional
        No unlocked stop starts before this time, and vehicles that have not left
        leave at or after it.
    solution_limit : int, optional
        Stop after this many solutions (with :meth:`Deadline.never`: reproducible).
    """
    t0 = time.perf_counter()
    del seed
    locks = dict(locks or {})
    fixed_start_s = dict(fixed_start_s or {})
    excluded = {u.order_id for u in diagnosis.unserved}
    orders = [o for o in problem.orders if o.id not in excluded]
    vehicles = problem.vehicles()
    nv = len(vehicles)
    pos = {k: i for i, k in enumerate(problem.location_ids)}
    facilities = {f.id: f for f in problem.facilities}
    depots = {d.id: d for d in problem.depots}

    # ---- nodes
    terminal_ids = sorted({v.start_id for _, v in vehicles} | {v.end_id for _, v in vehicles},
                          key=problem.location_ids.index)  # fmt: skip
    node_loc: list[str] = list(terminal_ids)
    node_kind: list[str] = ["terminal"] * len(terminal_ids)
    first_order = len(node_loc)
    for o in orders:
        node_loc.append(o.id)
        node_kind.append("order")
    copies: dict[str, list[int]] = {}
    if problem.facilities and orders:
        k = _unload_copies(problem, orders, nv)
        locked_fac: dict[str, int] = {}
        for stops in locks.values():
            for s in stops:
                if s in facilities:
                    locked_fac[s] = locked_fac.get(s, 0) + 1
        for f in problem.facilities:
            copies[f.id] = []
            for _ in range(k + locked_fac.get(f.id, 0)):
                copies[f.id].append(len(node_loc))
                node_loc.append(f.id)
                node_kind.append("unload")
    n = len(node_loc)
    node_pos = np.array([pos[x] for x in node_loc])
    term_node = {loc: i for i, loc in enumerate(terminal_ids)}
    starts = [term_node[v.start_id] for _, v in vehicles]
    ends = [term_node[v.end_id] for _, v in vehicles]
    manager = pywrapcp.RoutingIndexManager(n, nv, starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    def idx(node: int) -> int:
        return int(manager.NodeToIndex(node))

    order_of = {first_order + i: o for i, o in enumerate(orders)}
    service = np.zeros(n, dtype=np.int64)
    for node, o in order_of.items():
        service[node] = sc.time_up(o.service_s)
    for ids in copies.values():
        for node in ids:
            service[node] = sc.time_up(facilities[node_loc[node]].unload_s)
    end_unload = np.zeros(n, dtype=np.int64)
    for loc, node in term_node.items():
        if loc in facilities and node in ends:
            end_unload[node] = sc.time_up(facilities[loc].unload_s)

    horizon = sc.time_up(max(v.shift[1] for _, v in vehicles)) + 1

    # ---- per vehicle type: time, distance and cost matrices
    type_ids = [v.id for v in problem.vehicle_types]
    time_cb: dict[str, int] = {}
    dist_cb: dict[str, int] = {}
    cost_cb: dict[str, int] = {}
    need_distance = any(v.max_distance_m is not None for v in problem.vehicle_types)
    tmats: dict[str, np.ndarray] = {}
    dmats: dict[str, np.ndarray] = {}
    for vt in problem.vehicle_types:
        dur, dist = problem.travel(vt.profile)
        sub = np.ix_(node_pos, node_pos)
        tm = sc.int_duration(dur[sub])
        dm = sc.int_distance(dist[sub])
        tmat = tm + service[:, None] + end_unload[None, :]
        np.fill_diagonal(tmat, service)
        tmat = np.minimum(tmat, sc.UNREACHABLE)
        cmat = np.rint(dm.astype(np.float64) * sc.cost_per_m(vt.cost_per_km)).astype(np.int64)
        tmats[vt.id], dmats[vt.id] = tmat, dm
        time_cb[vt.id] = routing.RegisterTransitMatrix(tmat.tolist())
        cost_cb[vt.id] = routing.RegisterTransitMatrix(cmat.tolist())
        if need_distance:
            dist_cb[vt.id] = routing.RegisterTransitMatrix(dm.tolist())
    vtype = [v for _, v in vehicles]
    for i, vt in enumerate(vtype):
        routing.SetArcCostEvaluatorOfVehicle(cost_cb[vt.id], i)
        routing.SetFixedCostOfVehicle(sc.cost_int(vt.fixed_cost), i)

    routing.AddDimensionWithVehicleTransits(
        [time_cb[vt.id] for vt in vtype], horizon, horizon, False, "time"
    )
    tdim = routing.GetDimensionOrDie("time")
    for i, vt in enumerate(vtype):
        tdim.SetSpanCostCoefficientForVehicle(sc.cost_per_s(vt.cost_per_hour), i)
        if vt.max_duration_s is not None:
            tdim.SetSpanUpperBoundForVehicle(sc.time_down(vt.max_duration_s), i)
    if need_distance:
        caps = [sc.UNREACHABLE if vt.max_distance_m is None else int(vt.max_distance_m)
                for vt in vtype]  # fmt: skip
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [dist_cb[vt.id] for vt in vtype], 0, caps, True, "distance"
        )

    # ---- load dimensions
    has_delivery = any(o.kind == "delivery" for o in orders)
    pickup_dem = np.zeros((len(DIMENSIONS), n), dtype=np.int64)
    vehicle_caps = np.zeros((len(DIMENSIONS), nv), dtype=np.int64)
    for d, name in enumerate(DIMENSIONS):
        dem = np.zeros(n, dtype=np.int64)
        for node, o in order_of.items():
            q = sc.demand_int(o.demand)[d]
            dem[node] = q if o.kind == "pickup" else -q
        if not dem.any():
            continue
        total = int(np.abs(dem).sum()) + 1
        caps = [sc.capacity_int(vt.capacity, total)[d] for vt in vtype]
        caps = [min(c, total) for c in caps]
        pickup_dem[d] = np.maximum(dem, 0)
        vehicle_caps[d] = caps
        big = max(caps)
        for ids in copies.values():
            dem[ids] = -big
        cb = routing.RegisterUnaryTransitVector(dem.tolist())
        slack = 2 * big if copies else 0
        routing.AddDimensionWithVehicleCapacity(cb, slack, caps, not has_delivery, name)
        if copies:
            ldim = routing.GetDimensionOrDie(name)
            for node in range(n):
                if node_kind[node] != "unload" and node not in term_node.values():
                    ldim.SlackVar(idx(node)).SetValue(0)
            for i in range(nv):
                ldim.SlackVar(routing.Start(i)).SetValue(0)
    if copies and any(vt.max_unloads is not None for vt in vtype):
        cnt = np.zeros(n, dtype=np.int64)
        for ids in copies.values():
            cnt[ids] = 1
        cb = routing.RegisterUnaryTransitVector(cnt.tolist())
        caps = [n if vt.max_unloads is None else vt.max_unloads for vt in vtype]
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "unloads")

    # ---- windows, shifts, depots
    locked_nodes: set[int] = set()
    lock_nodes: list[list[int]] = [[] for _ in range(nv)]
    vid_pos = {vid: i for i, (vid, _) in enumerate(vehicles)}
    order_node = {o.id: node for node, o in order_of.items()}
    free_copy = {f: list(ids) for f, ids in copies.items()}
    for vid, stops in locks.items():
        for s in stops:
            node = free_copy[s].pop() if s in facilities else order_node[s]
            lock_nodes[vid_pos[vid]].append(idx(node))
            locked_nodes.add(node)
    for node, o in order_of.items():
        cum = tdim.CumulVar(idx(node))
        if node in locked_nodes:
            continue
        if o.time_windows:
            lo = sc.time_up(o.time_windows[0][0])
            hi = sc.time_down(o.time_windows[-1][1])
            cum.SetRange(lo, max(lo, hi))
            for (_, b), (a, _) in zip(o.time_windows, o.time_windows[1:]):
                if sc.time_up(a) - 1 >= sc.time_down(b) + 1:
                    cum.RemoveInterval(sc.time_down(b) + 1, sc.time_up(a) - 1)
        if release_s is not None:
            cum.SetMin(max(cum.Min(), sc.time_up(release_s)))
    for ids in copies.values():
        for node in ids:
            f = facilities[node_loc[node]]
            cum = tdim.CumulVar(idx(node))
            if f.time_window:
                cum.SetRange(sc.time_up(f.time_window[0]), sc.time_down(f.time_window[1]))
            if release_s is not None and node not in locked_nodes:
                cum.SetMin(max(cum.Min(), sc.time_up(release_s)))
    for i, (vid, vt) in enumerate(vehicles):
        lo, hi = sc.time_up(vt.shift[0]), sc.time_down(vt.shift[1])
        sd = depots[vt.start_id].time_window
        s_lo, s_hi = lo, hi
        if sd:
            s_lo, s_hi = max(lo, sc.time_up(sd[0])), min(hi, sc.time_down(sd[1]))
        if vid in fixed_start_s:
            s_lo = s_hi = sc.time_down(fixed_start_s[vid])
        elif release_s is not None:
            s_lo = max(s_lo, sc.time_up(release_s))
        tdim.CumulVar(routing.Start(i)).SetRange(s_lo, max(s_lo, s_hi))
        e_hi = hi
        ed = depots[vt.end_id].time_window if vt.end_id in depots else None
        if ed:
            e_hi = min(e_hi, sc.time_down(ed[1]))
        tdim.CumulVar(routing.End(i)).SetMax(e_hi)
        routing.AddVariableMaximizedByFinalizer(tdim.CumulVar(routing.Start(i)))
        routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(i)))

    # ---- breaks
    breaks: dict[int, pywrapcp.IntervalVar] = {}
    if any(vt.break_window is not None for vt in vtype):
        # indexed by routing *index* (the list becomes a transit callback, which OR-Tools
        # calls with indices): with two or more start/end nodes indices and nodes differ,
        # and a node-indexed list let breaks overlap services (routes without a break)
        visit_transit = [int(service[manager.IndexToNode(x)]) for x in range(routing.Size())]
        visit_transit += [0] * nv  # end indices
        for i, vt in enumerate(vtype):
            if vt.break_window is None:
                continue
            b0, b1 = sc.time_up(vt.break_window[0]), sc.time_down(vt.break_window[1])
            iv = solver.FixedDurationIntervalVar(b0, max(b0, b1), sc.time_up(vt.break_s), False,
                                                 f"break-{i}")  # fmt: skip
            tdim.SetBreakIntervalsOfVehicle([iv], i, visit_transit)
            routing.AddIntervalToAssignment(iv)
            breaks[i] = iv

    # ---- disjunctions and allowed vehicles
    type_pos: dict[str, list[int]] = {t: [] for t in type_ids}
    for i, vt in enumerate(vtype):
        type_pos[vt.id].append(i)
    for node, o in order_of.items():
        index = idx(node)
        pen = sc.REQUIRED_PENALTY * (1 + o.priority) if o.required else sc.cost_int(o.penalty or 0)
        routing.AddDisjunction([index], pen)
        allowed = diagnosis.allowed_types.get(o.id, tuple(type_ids))
        if len(allowed) < len(type_ids):
            # SetAllowedVehiclesForIndex's SWIG wrapper rejects Python lists (9.15);
            # restricting the vehicle variable is equivalent (-1: not performed)
            routing.VehicleVar(index).SetValues(
                [-1, *sorted(i for t in allowed for i in type_pos[t])]
            )
    for ids in copies.values():
        for node in ids:
            routing.AddDisjunction([idx(node)], 0)

    # ---- search
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = _FIRST_MULTI_TRIP if copies or breaks else _FIRST
    if copies:
        for name in _MULTI_TRIP_OPERATORS:
            setattr(params.local_search_operators, name, _ON)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        if solution_limit is None  # reproducible runs descend to a local optimum and stop
        else routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    )
    _limit(params, deadline, solution_limit)
    routing.CloseModelWithParameters(params)
    if any(lock_nodes) and not routing.ApplyLocksToAllVehicles(lock_nodes, False):
        from ..errors import InputError

        raise InputError("the fixed route prefixes are inconsistent (a stop locked twice?)")
    initial = None
    if copies and not any(lock_nodes) and not has_delivery:
        greedy = _greedy_multi_trip(
            vehicles, tmats, dmats, order_of, copies, pickup_dem, vehicle_caps, diagnosis,
            lambda node: (tdim.CumulVar(idx(node)).Min(), tdim.CumulVar(idx(node)).Max()),
            [(tdim.CumulVar(routing.Start(i)).Min(), tdim.CumulVar(routing.End(i)).Max())
             for i in range(nv)], starts, ends,
        )  # fmt: skip
        # the greedy works on nodes; OR-Tools reads routes of indices (they differ when
        # there are several start/end nodes)
        initial = routing.ReadAssignmentFromRoutes([[idx(x) for x in r] for r in greedy], True)
    _limit(params, deadline, solution_limit)

    def _report() -> None:
        cost = routing.CostVar().Max()
        if cost < sc.REQUIRED_PENALTY:  # every required order placed
            progress.incumbent(ENGINE, cost / sc.COST_SCALE)

    routing.AddAtSolutionCallback(_report)
    if initial is not None:
        assignment = routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        assignment = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - t0
    if assignment is None:
        return EngineResult(ENGINE, (), False, elapsed, {"status": int(routing.status())})

    routes: list[RawRoute] = []
    for i, (vid, _vt) in enumerate(vehicles):
        index = routing.Start(i)
        start_s = float(assignment.Value(tdim.CumulVar(index)))
        seq: list[int] = []
        index = assignment.Value(routing.NextVar(index))
        while not routing.IsEnd(index):
            seq.append(index)
            index = assignment.Value(routing.NextVar(index))
        if not seq:
            continue
        stops = tuple(node_loc[manager.IndexToNode(x)] for x in seq)
        leg = None
        if i in breaks:
            b = assignment.StartValue(breaks[i])
            cum = [start_s] + [float(assignment.Value(tdim.CumulVar(x))) for x in seq]
            cum.append(float(assignment.Value(tdim.CumulVar(routing.End(i)))))
            nodes = [manager.IndexToNode(routing.Start(i))] + [manager.IndexToNode(x)
                                                                 for x in seq]  # fmt: skip
            if cum[0] <= b < cum[-1]:
                for k in range(len(nodes)):
                    if b >= cum[k] + service[nodes[k]] - 1e-9 and b < cum[k + 1]:
                        leg = k
                        break
        routes.append(RawRoute(vid, stops, start_s, leg))
    return EngineResult(
        ENGINE, tuple(routes), True, elapsed,
        {"objective_scaled": int(assignment.ObjectiveValue()), "nodes": n},
    )  # fmt: skip


def _limit(params: Any, deadline: Deadline, solution_limit: int | None) -> None:
    """Stop at the deadline, or after ``solution_limit`` solutions (the wall clock then
    plays no part, so the search is reproducible)."""
    remaining = deadline.remaining_s()
    if solution_limit is not None:
        params.solution_limit = int(solution_limit)
    if math.isfinite(remaining):
        params.time_limit.FromMilliseconds(int(max(0.05, remaining) * 1000))


def _unload_copies(problem: RoutingProblem, orders: Sequence, nv: int) -> int:
    """How many optional copies of each facility to offer."""
    vts = problem.vehicle_types
    if all(v.max_unloads is not None for v in vts):
        return max(1, min(len(orders), sum(v.count * (v.max_unloads or 0) for v in vts)))
    est = 0
    for d in range(len(DIMENSIONS)):
        total = sum(o.demand[d] for o in orders)
        caps = [v.capacity[d] for v in vts if math.isfinite(v.capacity[d]) and v.capacity[d] > 0]
        if caps and total > 0:
            est = max(est, math.ceil(total / min(caps)))
    return max(1, min(len(orders), est + nv))


def _greedy_multi_trip(
    vehicles: Sequence[tuple[str, VehicleType]],
    tmats: Mapping[str, np.ndarray],
    dmats: Mapping[str, np.ndarray],
    order_of: Mapping[int, Order],
    copies: Mapping[str, list[int]],
    demand: np.ndarray,
    caps: np.ndarray,
    diagnosis: Diagnosis,
    window: Callable[[int], tuple[int, int]],
    shifts: Sequence[tuple[int, int]],
    starts: Sequence[int],
    ends: Sequence[int],
) -> list[list[int]]:
    """Nearest-feasible-order routes with an unload whenever the next order does not fit.

    A warm start for multi-trip problems: OR-Tools' insertion heuristics only insert an
    order where it fits, and an unload stop on its own never lowers the cost, so they
    leave most orders out once vehicles are full. Windows are the outer bounds of each
    order's domain (gaps between several windows are ignored, which the solver's reading
    of the routes then rejects), breaks are ignored; any route OR-Tools cannot accept
    just means no warm start.
    """
    nodes = np.array(sorted(order_of), dtype=np.int64)
    lo = np.array([window(int(x))[0] for x in nodes], dtype=np.int64)
    hi = np.array([window(int(x))[1] for x in nodes], dtype=np.int64)
    free = np.ones(len(nodes), dtype=bool)
    free_copies = {f: list(ids) for f, ids in copies.items()}
    fac_nodes = {f: ids[0] for f, ids in copies.items()}
    routes: list[list[int]] = [[] for _ in vehicles]
    order_ids = [order_of[int(x)].id for x in nodes]
    by_cap = sorted(range(len(vehicles)), key=lambda i: -int(caps[:, i].sum()))
    for v in by_cap:
        _vid, vt = vehicles[v]
        allowed = np.array([vt.id in diagnosis.allowed_types.get(o, ()) for o in order_ids])
        tm, dm = tmats[vt.id], dmats[vt.id]
        t, end_max = shifts[v]
        cur, load = starts[v], np.zeros(caps.shape[0], dtype=np.int64)
        dist = 0
        max_dist = sc.UNREACHABLE if vt.max_distance_m is None else int(vt.max_distance_m)
        max_span = sc.UNREACHABLE if vt.max_duration_s is None else int(vt.max_duration_s)
        t0 = t
        unloads = 0
        while True:
            cand = free & allowed
            if not cand.any():
                break
            arrive = t + tm[cur, nodes]
            begin = np.maximum(arrive, lo)
            back = begin + tm[nodes, ends[v]]
            ok = cand & (begin <= hi) & (back <= end_max) & (back - t0 <= max_span)
            ok &= dist + dm[cur, nodes] + dm[nodes, ends[v]] <= max_dist
            fits = ok & np.all(load[:, None] + demand[:, nodes] <= caps[:, v : v + 1], axis=0)
            if fits.any():
                # time to get there plus a share of the slack left in its window:
                # orders about to close go first
                score = (begin - t) + _URGENCY * np.minimum(hi - begin, 4 * 3600)
                k = int(np.argmin(np.where(fits, score, np.iinfo(np.int64).max)))
                node = int(nodes[k])
                routes[v].append(node)
                free[k] = False
                dist += int(dm[cur, node])
                t, cur = int(begin[k]), node
                load = load + demand[:, node]
                continue
            if (
                not ok.any()
                or not copies
                or (vt.max_unloads is not None and unloads >= vt.max_unloads)
            ):
                break
            # unload at the facility reachable soonest, if it still leaves time
            best = None
            for f, ids in free_copies.items():
                if not ids:
                    continue
                node = fac_nodes[f]
                a, b = window(ids[-1])
                begin_f = max(t + int(tm[cur, node]), a)
                if begin_f <= b and (best is None or begin_f < best[0]):
                    best = (begin_f, f)
            if best is None:
                break
            copy = free_copies[best[1]].pop()
            routes[v].append(copy)
            dist += int(dm[cur, copy])
            t, cur = best[0], copy
            load = np.zeros_like(load)
            unloads += 1
        while routes[v] and routes[v][-1] in {c for ids in copies.values() for c in ids}:
            routes[v].pop()  # no unload right before the end
    return routes
