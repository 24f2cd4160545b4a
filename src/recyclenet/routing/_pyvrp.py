"""PyVRP adapter: the only module that imports ``pyvrp``.

Mapping
-------
- Every depot and facility is a PyVRP depot; facilities are the vehicles' reload
  depots (unloading mid-shift, with their unload time as depot service duration).
- Orders are clients (pickup or delivery amounts per load dimension); an order with
  several time windows becomes one client per window in a mutually exclusive group;
  optional orders are optional clients with their penalty as prize. Required orders
  are required clients: PyVRP's search is about three times faster per iteration
  without optional clients (measured in ``benchmarks/routing_pyvrp_parity.py``). When
  the fleet cannot serve them all (a required client that cannot be fitted makes the
  whole result infeasible), every order becomes optional, required ones with a prize
  ten times the cost of a vehicle's whole day (times 1 + priority), so that PyVRP still
  returns routes and leaves out an order only when nothing else works.
- Costs at their natural scale where that is exact, travel times, windows and shifts
  only when they can bind (:func:`needs_duration`): a plain CVRP is the same data as
  PyVRP's own reader builds.
- Vehicle types map one to one (shift, maximum duration and distance, costs, road
  profile index). Skills and the other pre-solve eligibility rules become one extra
  load dimension per vehicle type that some orders may not use: those orders weigh
  :func:`eligibility_weight` in it and that type has capacity 0. The weight makes an
  order on a type it may not use cost more than a vehicle's whole day even at PyVRP's
  lowest penalty: with a weight of 1 the penalty (at most ``max_penalty`` per unit) was
  below the fixed cost of the one allowed vehicle, so on tiny park sub-problems PyVRP
  kept the cheap forbidden vehicle and never found a feasible plan.

Breaks and fixed route prefixes (re-planning) do not fit PyVRP's model:
:func:`fits_pyvrp` says so and the caller uses OR-Tools.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.PenaltyManager import PenaltyParams
from pyvrp.solve import SolveParams

from .. import progress
from ..deadline import Deadline
from . import _scale as sc
from .plan import EngineResult, RawRoute
from .problem import DIMENSIONS, Order, RoutingProblem, VehicleType
from .unserved import Diagnosis

ENGINE = "pyvrp"
_MAX = 2**62
_MAX_RELOADS = 2**64 - 1  # PyVRP's default: no limit


#: No-improvement rule: a search stops once it has run :data:`PATIENCE_ITERS_PER_CLIENT`
#: iterations per client (at least :data:`PATIENCE_MIN_ITERS`), and
#: :data:`PATIENCE_FACTOR` times as many as it took to find its best solution, without
#: improving it (counted in iterations, not seconds, so it does not depend on the load).
PATIENCE_MIN_ITERS = 2_000
PATIENCE_ITERS_PER_CLIENT = 100
PATIENCE_FACTOR = 2.0
#: The model with required clients is given up for the one with prizes (the fleet may
#: not serve every order) when no feasible solution was found within this share of the
#: time or this many iterations.
INFEASIBLE_SWITCH_SHARE = 0.2
INFEASIBLE_SWITCH_ITERS = 5_000
_INFEASIBLE_COST = 2**62  # PyVRP's cost of an infeasible solution is the int64 maximum


class _Stop:
    """PyVRP stopping criterion: the deadline, the no-improvement rule and, for the
    required-clients model, the switch to the prize model.

    A :class:`~recyclenet.deadline.Deadline`, not PyVRP's ``MaxRuntime``: that starts
    its clock after the initial local search, so it overruns the limit on large
    instances.
    """

    def __init__(
        self, deadline: Deadline, *, patience: int | None, switch_at: Deadline | None
    ) -> None:
        self._deadline = deadline
        self._patience = patience
        self._switch_at = switch_at
        self.iterations = 0
        self.cost_scale = 0.0  # PyVRP cost units per currency unit, for progress reports
        self._best: float = math.inf
        self._best_iter = 0
        self.reason = "time limit"

    def __call__(self, best_cost: float) -> bool:
        self.iterations += 1
        if best_cost < self._best:
            self._best, self._best_iter = best_cost, self.iterations
            if best_cost < _INFEASIBLE_COST and self.cost_scale:
                progress.incumbent(ENGINE, best_cost / self.cost_scale)
        if self._deadline.expired():
            self.reason = "time limit"
            return True
        if best_cost >= _INFEASIBLE_COST and self._switch_at is not None:
            if self._switch_at.expired() or self.iterations >= INFEASIBLE_SWITCH_ITERS:
                self.reason = "no feasible solution with every required order"
                return True
            return False
        # the prize model counts toward the rule even while infeasible: without a
        # deadline (deterministic mode) nothing else would end it
        since = self.iterations - self._best_iter
        if self._patience is not None and since >= max(
            self._patience, PATIENCE_FACTOR * self._best_iter
        ):
            self.reason = f"no improvement in {since} iterations"
            return True
        return False


@dataclass(frozen=True)
class Model:
    """A routing problem as PyVRP data, and what is needed to read its solutions back.

    Attributes
    ----------
    data : pyvrp.ProblemData
    client_order, depot_ids : list of str
        Order id of each client, id of each depot (depots, then facilities).
    required : bool
        Required orders are required clients; otherwise every order is an optional
        client, required ones with a prize above any route (used when the fleet may not
        serve every order).
    duration : bool
        Whether the model has travel times, time windows and shifts; a problem where
        none of them can bind (no windows, no cost per hour, no maximum duration, every
        possible route shorter than the shift) has none.
    cost_scale : float
        Scaled cost units per currency unit; ``exact`` says whether every cost is a
        whole number at that scale (no rounding).
    penalty_factor : float
        Multiplier of PyVRP's default penalty bounds.
    """

    data: pyvrp.ProblemData
    client_order: list[str]
    depot_ids: list[str]
    required: bool
    duration: bool
    cost_scale: float
    exact: bool
    penalty_factor: float

    def describe(self) -> dict[str, Any]:
        """The model's choices, for a plan's statistics."""
        return {"required_clients": self.required, "duration_dimension": self.duration,
                "cost_scale": self.cost_scale, "exact_costs": self.exact}  # fmt: skip

    def params(self) -> SolveParams:
        """PyVRP's parameters: its defaults, penalty bounds scaled with the costs."""
        if self.penalty_factor == 1.0:
            return SolveParams()
        f = self.penalty_factor
        return SolveParams(penalty=PenaltyParams(min_penalty=0.1 * f, max_penalty=100_000.0 * f))


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


def fleet_may_fall_short(problem: RoutingProblem, orders: list[Order]) -> bool:
    """True when the fleet surely cannot carry every required order: more required load
    in some dimension than all vehicles hold in one trip each, with no facility to
    unload at. (False says nothing: windows and shifts may still leave orders out.)"""
    if problem.facilities:
        return False
    for dim in range(len(DIMENSIONS)):
        for kind in ("pickup", "delivery"):
            need = sum(o.demand[dim] for o in orders if o.required and o.kind == kind)
            room = sum(v.count * v.capacity[dim] for v in problem.vehicle_types)
            if need > room * (1 + 1e-9):
                return True
    return False


def needs_duration(problem: RoutingProblem, orders: list[Order]) -> bool:
    """Whether travel times can matter: windows, hours or cost per hour, a maximum
    duration, facilities, or a shift shorter than the longest route the orders allow.

    That longest route is bounded by the departure leg plus, for as many orders as fit
    in one load (pickups and deliveries counted apart), the largest service time plus
    longest leg out of each order.
    """
    if any(o.time_windows for o in orders) or problem.facilities:
        return True
    if any(d.time_window is not None for d in problem.depots):
        return True
    if any(v.cost_per_hour > 0 or v.max_duration_s is not None for v in problem.vehicle_types):
        return True
    pos = problem.position
    rows = np.array([pos[o.id] for o in orders])
    service = np.array([o.service_s for o in orders])
    for vt in problem.vehicle_types:
        dur, _dist = problem.travel(vt.profile)
        cols = np.append(rows, pos[vt.end_id])
        legs = dur[np.ix_(rows, cols)]
        first = dur[pos[vt.start_id], rows]
        if not (np.isfinite(legs).all() and np.isfinite(first).all()):
            return True
        out = np.sort(service + legs.max(axis=1))[::-1]
        fit = 0
        for kind in ("pickup", "delivery"):
            idx = [i for i, o in enumerate(orders) if o.kind == kind]
            fit += min(_fit_count([orders[i].demand[d] for i in idx], vt.capacity[d])
                       for d in range(len(DIMENSIONS)))  # fmt: skip
        longest = float(first.max()) + float(out[:fit].sum())
        if longest > vt.shift[1] - vt.shift[0]:
            return True
    return False


def _fit_count(demands: list[float], capacity: float) -> int:
    """Most demands that fit together in ``capacity``."""
    if math.isinf(capacity):
        return len(demands)
    total, k = 0.0, 0
    for q in sorted(demands):
        total += q
        if total > capacity * (1 + 1e-9):
            break
        k += 1
    return k


def eligibility_weight(day_cost: int, penalty_factor: float, n_clients: int) -> int:
    """Weight of an order in the eligibility dimension of a vehicle type it may not use:
    one unit over capacity then costs at least ``day_cost`` (scaled) at PyVRP's lowest
    penalty, so no route is cheap enough to pay for it; bounded so that every client on
    one route at PyVRP's highest penalty stays within int64."""
    lowest = PenaltyParams().min_penalty * penalty_factor
    highest = PenaltyParams().max_penalty * penalty_factor
    bound = int(2**62 / ((n_clients + 1) * highest))
    return max(1, min(math.ceil(day_cost / lowest), bound))


def build_model(problem: RoutingProblem, diagnosis: Diagnosis, *, required: bool) -> Model:
    """The problem as PyVRP data (orders in ``diagnosis.unserved`` left out).

    ``required``: required orders become required clients (see :class:`Model`).
    """
    excluded = {u.order_id for u in diagnosis.unserved}
    orders = [o for o in problem.orders if o.id not in excluded]
    types_ = problem.vehicle_types
    per_km = [v.cost_per_km for v in types_]
    per_hour = [v.cost_per_hour for v in types_]
    scale, exact = sc.pyvrp_cost_scale(
        per_km, per_hour,
        [v.fixed_cost for v in types_] + [o.penalty for o in orders if o.penalty is not None],
    )  # fmt: skip
    duration = needs_duration(problem, orders)

    def cost(c: float) -> int:
        return round(c * scale)

    def up(t: float) -> int:
        return sc.time_up(t) if duration else 0

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
        if dep.time_window is None:
            depots.append(pyvrp.Depot(pos[dep.id], name=dep.id))
            continue
        tw = dep.time_window
        depots.append(pyvrp.Depot(pos[dep.id], tw_early=sc.time_up(tw[0]),
                                  tw_late=sc.time_down(tw[1]), name=dep.id))  # fmt: skip
    for f in problem.facilities:
        tw = f.time_window or (0.0, sc.UNREACHABLE)
        depots.append(pyvrp.Depot(pos[f.id], tw_early=sc.time_up(tw[0]),
                                  tw_late=sc.time_down(tw[1]),
                                  service_duration=sc.time_up(f.unload_s), name=f.id))  # fmt: skip

    # eligibility dimensions: one per vehicle type some order may not use
    type_ids = [v.id for v in types_]
    restricted = [t for t in type_ids
                  if any(t not in diagnosis.allowed_types[o.id] for o in orders)]  # fmt: skip
    # load dimensions some vehicle type limits, at their natural scale where exact
    dims = [d for d in range(len(DIMENSIONS))
            if any(not math.isinf(v.capacity[d]) for v in types_)]  # fmt: skip
    lscale = tuple(
        sc.natural_load_scale([o.demand[d] for o in orders]
                              + [v.capacity[d] for v in types_ if not math.isinf(v.capacity[d])],
                              d)
        for d in dims
    )  # fmt: skip
    nd = len(dims)
    day_cost = max(cost(_day_cost(problem, vt)) for vt in types_)
    required_prize = 10 * day_cost
    penalty_factor = sc.pyvrp_penalty_factor(scale, per_km, per_hour)
    n_clients = sum(max(1, len(o.time_windows)) if duration else 1 for o in orders)
    elig_w = eligibility_weight(day_cost, penalty_factor, n_clients)
    clients: list[pyvrp.Client] = []
    groups: list[pyvrp.ClientGroup] = []
    client_order: list[str] = []
    totals = [0] * nd
    for o in orders:
        q = sc.demand_int(tuple(o.demand[d] for d in dims), lscale)
        for dim in range(nd):
            totals[dim] += q[dim]
        elig = [0 if t in diagnosis.allowed_types[o.id] else elig_w for t in restricted]
        load = q + elig
        pickup = load if o.kind == "pickup" else [0] * nd + elig
        delivery = load[:nd] + [0] * len(restricted) if o.kind == "delivery" else []
        must = required and o.required
        if o.required:
            prize = 0 if must else required_prize * (1 + o.priority)
        else:
            prize = cost(o.penalty or 0.0)
        windows = o.time_windows if duration and o.time_windows else ()
        grouped = len(windows) > 1
        if grouped:  # one client per window, exactly one of them served when required
            groups.append(pyvrp.ClientGroup(required=must, name=o.id))
        for w in windows or (None,):
            win: dict[str, int] = {} if w is None else {"tw_early": sc.time_up(w[0]),
                                                        "tw_late": sc.time_down(w[1])}  # fmt: skip
            clients.append(pyvrp.Client(
                pos[o.id],
                delivery=delivery or [0] * len(pickup),
                pickup=pickup,
                service_duration=up(o.service_s),
                prize=prize,
                required=must and not grouped,
                group=len(groups) - 1 if grouped else None,
                name=o.id,
                **win,
            ))  # fmt: skip
            client_order.append(o.id)
            if grouped:
                groups[-1].add_client(len(clients) - 1)

    profiles = sorted({v.profile for v in types_})
    dist_m, dur_m = [], []
    for p in profiles:
        dur, dist = problem.travel(p)
        dm = sc.int_distance(dist)
        tm = sc.int_duration(dur) if duration else np.zeros_like(dm)
        np.fill_diagonal(dm, 0)
        np.fill_diagonal(tm, 0)
        dist_m.append(np.ascontiguousarray(dm))
        dur_m.append(np.ascontiguousarray(tm))

    fac_depots = [depot_pos[f.id] for f in problem.facilities]
    vehicle_types = []
    for vt in types_:
        cap = sc.capacity_int(tuple(vt.capacity[d] for d in dims), max(totals, default=0) + 1,
                              lscale)  # fmt: skip
        cap += [0 if vt.id == t else (len(clients) + 1) * elig_w for t in restricted]
        times: dict[str, Any] = {}
        if duration:
            end_unload = next((sc.time_up(f.unload_s) for f in problem.facilities
                               if f.id == vt.end_id), 0)  # fmt: skip
            sd = next(d for d in problem.depots if d.id == vt.start_id).time_window
            times = {
                "tw_early": sc.time_up(max(vt.shift[0], sd[0] if sd else 0.0)),
                "tw_late": sc.time_down(vt.shift[1]) - end_unload,
                "shift_duration": (_MAX if vt.max_duration_s is None
                                   else sc.time_down(vt.max_duration_s) - end_unload),
            }  # fmt: skip
            if sd:
                times["start_late"] = sc.time_down(min(vt.shift[1], sd[1]))
        vehicle_types.append(pyvrp.VehicleType(
            num_available=vt.count,
            capacity=cap,
            start_depot=depot_pos[vt.start_id],
            end_depot=depot_pos[vt.end_id],
            fixed_cost=cost(vt.fixed_cost),
            max_distance=_MAX if vt.max_distance_m is None else int(vt.max_distance_m),
            unit_distance_cost=cost(vt.cost_per_km / 1000.0),
            unit_duration_cost=cost(vt.cost_per_hour / 3600.0),
            profile=profiles.index(vt.profile),
            reload_depots=fac_depots,
            max_reloads=_MAX_RELOADS if vt.max_unloads is None else vt.max_unloads,
            name=vt.id,
            **times,
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
    return Model(data, client_order, depot_ids, required, duration, scale, exact,
                 penalty_factor)  # fmt: skip


def solve_pyvrp(
    problem: RoutingProblem,
    diagnosis: Diagnosis,
    *,
    deadline: Deadline,
    seed: int = 0,
    patience: bool = True,
) -> EngineResult:
    """Solve with PyVRP's iterated local search until ``deadline``.

    Required orders are required clients unless the fleet surely falls short
    (:func:`fleet_may_fall_short`); when no feasible solution with every required order
    turns up early (see :data:`INFEASIBLE_SWITCH_SHARE`), the rest of the time goes to
    the model where every order is optional, required ones with a large prize, so that
    the routes still serve what they can. ``patience``: stop on the no-improvement rule
    (:data:`PATIENCE_ITERS_PER_CLIENT`) before the deadline.

    Returns a result with ``found=False`` when the best solution is infeasible. Its
    ``detail`` says what time the search had: ``search_left_s``, the time left when
    PyVRP started; ``search_s`` and ``cpu_s``, the wall and CPU seconds of this call.
    """
    t0 = time.perf_counter()
    c0 = time.process_time()
    ok, why = fits_pyvrp(problem)
    if not ok:
        raise ValueError(f"problem does not fit PyVRP: {why}")
    excluded = {u.order_id for u in diagnosis.unserved}
    orders = [o for o in problem.orders if o.id not in excluded]
    if not orders:
        return EngineResult(ENGINE, (), True, time.perf_counter() - t0)
    required = not fleet_may_fall_short(problem, orders)
    runs: list[dict[str, Any]] = []
    while True:
        model = build_model(problem, diagnosis, required=required)
        switch_at = None
        if required:
            switch_at = deadline.share(INFEASIBLE_SWITCH_SHARE)
        wait = max(PATIENCE_MIN_ITERS, PATIENCE_ITERS_PER_CLIENT * model.data.num_clients)
        stop = _Stop(deadline, patience=wait if patience else None, switch_at=switch_at)
        stop.cost_scale = float(model.describe().get("cost_scale") or 0.0)
        left = deadline.remaining_s()
        with warnings.catch_warnings():  # expected while the fleet falls short
            warnings.simplefilter("ignore", PenaltyBoundWarning)
            res = pyvrp.solve(model.data, stop=stop, seed=seed, collect_stats=False,
                              params=model.params())  # fmt: skip
        best = res.best
        runs.append({**model.describe(), "iterations": res.num_iterations,
                     "stopped": stop.reason, "feasible": best.is_feasible(),
                     "search_left_s": round(left, 3) if math.isfinite(left) else None})  # fmt: skip
        if best.is_feasible() or not required or deadline.remaining_s() < 0.05:
            break
        required = False  # no feasible plan serves every required order: prizes instead
    elapsed = time.perf_counter() - t0
    detail: dict[str, Any] = {**runs[-1], "seed": seed, "search_s": round(elapsed, 3),
                              "cpu_s": round(time.process_time() - c0, 3)}  # fmt: skip
    if len(runs) > 1:
        detail["first_model"] = runs[0]
    if not best.is_feasible():
        return EngineResult(ENGINE, (), False, elapsed,
                            {**detail, "reason": "no feasible solution"})  # fmt: skip
    return EngineResult(ENGINE, _routes(problem, model, best), True, elapsed,
                        {**detail, "objective_scaled": int(res.cost())})  # fmt: skip


def _routes(problem: RoutingProblem, model: Model, best: pyvrp.Solution) -> tuple[RawRoute, ...]:
    used: dict[int, int] = {}
    routes = []
    for route in best.routes():
        vt_idx = route.vehicle_type()
        vt = problem.vehicle_types[vt_idx]
        nth = used.get(vt_idx, 0)
        used[vt_idx] = nth + 1
        acts = list(route.schedule())
        stops = [model.depot_ids[act.idx] if act.is_depot() else model.client_order[act.idx]
                 for act in acts[1:-1]]  # fmt: skip
        start = float(route.start_time()) if model.duration else vt.shift[0]
        routes.append(RawRoute(vt.vehicle_ids[nth], tuple(stops), start, None))
    return tuple(routes)
