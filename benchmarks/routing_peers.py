"""recyclenet's routing against the solvers it competes with, on the same instances and time.

Usage::

    python benchmarks/routing_peers.py PATH_TO_BENCHMARKS --time-limit-s 30 \
        [--instances X-n101-k25,...,R101,...] [--solvers auto,pyvrp,pyvrp-direct,vroom,ortools]
        [--seed 1]

``PATH_TO_BENCHMARKS`` is the shared benchmark folder (``cvrp/X``, ``vrptw/solomon``
with their ``bks.csv``). Default instances: the six CVRPLIB X instances of issue #18 and
one Solomon instance of each class (R1, R2, C1, C2, RC1, RC2), distance-only convention
(conventions in ``_instances.py``). Solvers, one after the other, each with the whole
machine for ``--time-limit-s`` seconds:

- ``auto``: recyclenet ``solve_routing(engine="auto")`` (both cores);
- ``pyvrp``: recyclenet ``solve_routing(engine="pyvrp")`` (one core);
- ``pyvrp-direct``: ``pyvrp.solve`` with ``MaxRuntime`` on the data a PyVRP user builds
  (``pyvrp.read``; one core);
- ``vroom``: pyvroom, exploration level 5, two threads, ``timeout`` = the limit;
- ``ortools``: OR-Tools routing directly, path cheapest arc (parallel cheapest
  insertion with time windows) then guided local search (one core).

Every cost is recomputed from the returned routes on the instance's integer matrix and
every solution is checked (each customer once, capacity, time windows); a solver whose
answer fails is shown as ``fail``. Prints the gap to the optimum per instance and
solver, the mean per set, and the load average during each instance (2 cores shared
with other work make absolute figures noisy; every solver of a row ran in the same
minutes). The peers come from the ``bench`` extra: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from _instances import Dense, dense, instance_files, optimum, pyvrp_data, scale
from recyclenet.routing import solve_routing
from recyclenet.routing.instances import bounded_fleet_size, load_instance, read_cvrp

X_DEFAULT = "X-n101-k25,X-n129-k18,X-n153-k22,X-n204-k19,X-n247-k50,X-n256-k16"
SOLOMON_DEFAULT = "R101,R201,C101,C201,RC101,RC201"
SOLVERS = ("auto", "pyvrp", "pyvrp-direct", "vroom", "ortools")
Routes = list[list[int]]  # customer indices (1..n) per route, depot 0 left out


def check(inst: Dense, routes: Routes) -> float:
    """Cost of the routes on the instance (integer units), NaN when infeasible."""
    n = len(inst.demand) - 1
    seen = sorted(c for r in routes for c in r)
    if seen != list(range(1, n + 1)):
        return math.nan
    if len([r for r in routes if r]) > inst.vehicles:
        return math.nan
    total = 0
    for r in routes:
        if not r:
            continue
        if inst.demand[r].sum() > inst.capacity:
            return math.nan
        t, prev = float(inst.ready[0]), 0
        for c in r:
            total += int(inst.dist[prev, c])
            t = max(t + inst.dist[prev, c], inst.ready[c])
            if t > inst.due[c]:
                return math.nan
            t += inst.service[c]
            prev = c
        total += int(inst.dist[prev, 0])
        if t + inst.dist[prev, 0] > inst.due[0]:
            return math.nan
    return float(total)


def run_recyclenet(engine: str) -> Callable[[str, Path, Dense, float, int], Routes]:
    def run(kind: str, path: Path, inst: Dense, limit: float, seed: int) -> Routes:
        problem = load_instance(path)
        plan = solve_routing(problem, engine=engine, time_limit_s=limit, seed=seed)  # type: ignore[arg-type]
        if plan.unserved:
            return []
        return [[int(oid[1:]) for oid in r.order_ids] for r in plan.routes]

    return run


def run_pyvrp_direct(kind: str, path: Path, inst: Dense, limit: float, seed: int) -> Routes:
    import pyvrp
    from pyvrp.stop import MaxRuntime

    res = pyvrp.solve(pyvrp_data(kind, path), stop=MaxRuntime(limit), seed=seed,
                      collect_stats=False)  # fmt: skip
    if not res.is_feasible():
        return []
    # client k is location k + 1 (the depot is location 0)
    return [[a.idx + 1 for a in list(r.schedule())[1:-1] if not a.is_depot()]
            for r in res.best.routes()]  # fmt: skip


def run_vroom(kind: str, path: Path, inst: Dense, limit: float, seed: int) -> Routes:
    import vroom

    n = len(inst.demand)
    problem = vroom.Input()
    problem.set_durations_matrix("car", inst.dist)
    problem.set_costs_matrix("car", inst.dist)
    tw = vroom.TimeWindow(int(inst.ready[0]), int(inst.due[0]))
    problem.add_vehicle([vroom.Vehicle(k, start=0, end=0, capacity=[int(inst.capacity)],
                                       time_window=tw) for k in range(inst.vehicles)])  # fmt: skip
    problem.add_job([vroom.Job(i, location=i, default_service=int(inst.service[i]),
                               delivery=[int(inst.demand[i])],
                               time_windows=[vroom.TimeWindow(int(inst.ready[i]),
                                                              int(inst.due[i]))])
                     for i in range(1, n)])  # fmt: skip
    sol = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=limit))
    routes: dict[int, list[int]] = {}
    for row in sol.routes.itertuples():
        if row.type == "job":
            routes.setdefault(int(row.vehicle_id), []).append(int(row.id))
    return list(routes.values())


def run_ortools(kind: str, path: Path, inst: Dense, limit: float, seed: int) -> Routes:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(inst.demand)
    # an unlimited X fleet as one vehicle per customer makes OR-Tools crawl: give it a
    # fleet larger than any optimum needs
    fleet = (bounded_fleet_size(read_cvrp(path)[3]) if kind == "cvrp"
             else load_instance(path).vehicle_types[0].count)  # fmt: skip
    manager = pywrapcp.RoutingIndexManager(n, fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    dist = inst.dist.tolist()
    service = inst.service.tolist()
    demand = inst.demand.tolist()

    def arc(i: int, j: int) -> int:
        return dist[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def travel(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return dist[a][b] + service[a]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(arc))
    load = routing.RegisterUnaryTransitCallback(lambda i: demand[manager.IndexToNode(i)])
    routing.AddDimension(load, 0, int(inst.capacity), True, "load")
    if kind == "solomon":
        routing.AddDimension(routing.RegisterTransitCallback(travel), int(inst.due[0]),
                             int(inst.due[0]), False, "time")  # fmt: skip
        time_dim = routing.GetDimensionOrDie("time")
        for i in range(1, n):
            time_dim.CumulVar(manager.NodeToIndex(i)).SetRange(int(inst.ready[i]),
                                                               int(inst.due[i]))  # fmt: skip
    params = pywrapcp.DefaultRoutingSearchParameters()
    first = routing_enums_pb2.FirstSolutionStrategy
    params.first_solution_strategy = (first.PARALLEL_CHEAPEST_INSERTION if kind == "solomon"
                                      else first.PATH_CHEAPEST_ARC)  # fmt: skip
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)  # fmt: skip
    params.time_limit.FromMilliseconds(int(limit * 1000))
    sol = routing.SolveWithParameters(params)
    if sol is None:
        return []
    routes = []
    for v in range(fleet):
        idx, r = routing.Start(v), []
        idx = sol.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            r.append(manager.IndexToNode(idx))
            idx = sol.Value(routing.NextVar(idx))
        routes.append(r)
    return routes


RUNNERS: dict[str, Callable[[str, Path, Dense, float, int], Routes]] = {
    "auto": run_recyclenet("auto"),
    "pyvrp": run_recyclenet("pyvrp"),
    "pyvrp-direct": run_pyvrp_direct,
    "vroom": run_vroom,
    "ortools": run_ortools,
}


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path)
    ap.add_argument("--time-limit-s", type=float, default=30.0)
    ap.add_argument("--instances", default=f"{X_DEFAULT},{SOLOMON_DEFAULT}")
    ap.add_argument("--solvers", default=",".join(SOLVERS))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    solvers = [s for s in args.solvers.split(",") if s]
    bad = sorted(set(solvers) - set(SOLVERS))
    if bad:
        ap.error(f"unknown solvers {bad}; choose from {SOLVERS}")
    print(f"time limit {args.time_limit_s:g} s per solver and instance, seed {args.seed}, "
          f"{os.cpu_count()} cores; load average at start {os.getloadavg()[0]:.2f}")  # fmt: skip
    head = f"{'instance':<12}{'optimum':>9}" + "".join(f"{s:>14}" for s in solvers)
    print(head + f"{'load':>7}")
    gaps: dict[tuple[str, str], list[float]] = {}
    for kind, path in instance_files(args.root, args.instances.split(",")):
        inst = dense(kind, path)
        opt = optimum(args.root, kind, path.stem)
        row = f"{path.stem:<12}{opt:>9.1f}"
        loads = []
        for s in solvers:
            t = time.perf_counter()
            try:
                cost = check(inst, RUNNERS[s](kind, path, inst, args.time_limit_s, args.seed))
            except Exception as exc:  # a peer failing is a result, not a crash
                print(f"  {s} on {path.stem}: {type(exc).__name__}: {exc}", file=sys.stderr)
                cost = math.nan
            loads.append(os.getloadavg()[0])
            gap = 100.0 * (cost / scale(kind) - opt) / opt
            gaps.setdefault((kind, s), []).append(gap)
            if time.perf_counter() - t > 1.5 * args.time_limit_s + 5:
                row += "       (slow)"
            row += f"{gap:>13.2f}%" if math.isfinite(gap) else f"{'fail':>14}"
        print(row + f"{np.mean(loads):>7.2f}", flush=True)
    print()
    for kind, label in (("cvrp", "CVRPLIB X"), ("solomon", "Solomon")):
        if not any(k == kind for k, _s in gaps):
            continue
        row = f"{'mean ' + label:<21}"
        for s in solvers:
            g = gaps[(kind, s)]
            ok = [x for x in g if math.isfinite(x)]
            row += f"{sum(ok) / len(ok):>13.2f}%" if len(ok) == len(g) else f"{'fail':>14}"
        print(row)
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
