"""Routing by parts: split the day's orders by depot or by area, then share the vehicles.

Stage 1 (one task per part, in parallel on the cluster). Orders are split

- by depot (``by="depot"``): each order goes to the depot with the shortest round trip
  (depot → order → depot, in seconds, over the road profiles of the vehicles based
  there) that still has room for it: a depot takes orders up to ``depot_fill`` (90%)
  of its vehicles' total kg and m³, and the orders with the most to lose (the largest
  gap between their nearest and second-nearest depot) are placed first. Measured on
  Campo Grande (3,000 pickups, 6 depots with equal fleets, 60 s): without the room rule
  the two central depots got 879 and 708 orders for 37 trucks each, dropped 160, and
  stage 2 served those from far depots at 272 km, 17% of the total (1,632 km); with it
  every order was served in stage 1, at 1,581 km. A part holds the
  vehicles that start at its depot; depots without orders keep theirs for stage 2.
- by geographic cluster (``by="cluster"``): k-means on the orders' positions in local
  UTM metres (``scipy.cluster.vq.kmeans2``, started from a deterministic farthest-point
  seeding, so the same orders give the same parts). Clusters are not balanced. Each
  vehicle type's count is split across the parts in proportion to their demand (the
  part's share of the total kg and of the total m³, averaged over the dimensions with
  demand), rounded by largest remainder; a part left without any vehicle then takes one
  from the part with the most, while that part keeps at least one.

Each part is a :class:`~recyclenet.routing.RoutingProblem` with its orders, its share of
the fleet, every depot and every unloading facility (the sorting centres are shared),
and the block of each road-profile matrix over its locations; the block goes to the
worker that solves it (scattered on its own), not the whole matrix.

Stage 2 (the coupling): the orders no part served, and the orders of parts that got no
vehicle, are offered together to every vehicle that no part used (vehicles of depots
without orders, and vehicles a part was given but left at its depot), in one more
solve. Orders no vehicle of the whole fleet could serve (found by
:func:`~recyclenet.routing.diagnose` on the whole problem) keep that reason; the other
orders still unserved are reported as ``fleet`` (required) or ``cost`` (optional), with
what the part and stage 2 said.

Time: ``time_limit_s`` is the budget of the whole decomposed solve on one worker: the
parts share ``(1 - stage2_share) × time_limit_s`` in proportion to their orders (each at
least ``min_part_time_s``), and stage 2 gets ``stage2_share × time_limit_s``. With W
workers the wall time of stage 1 is about 1/W of its share.

The merged :class:`~recyclenet.routing.RoutePlan` uses the vehicle ids of the whole
problem (a part's ``truck-1`` becomes the fleet's ``truck-4`` when the earlier parts
hold ``truck-1`` to ``truck-3``), so :func:`~recyclenet.routing.check_plan` against the
whole problem holds; every route's times, distances and costs come from the same
matrices as the monolithic solve.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import InputError
from ..geo import to_metric, utm_crs
from ..routing import RoutePlan, RoutingProblem, Unserved, VehicleType, diagnose, solve_routing
from ..routing.plan import Route, Status
from ..routing.solve import ENGINES, Engine
from .cluster import Progress, TaskFailure, run_tasks, worker_count

if TYPE_CHECKING:
    from distributed import Client

Partition = Literal["depot", "cluster"]
PARTITIONS: tuple[str, ...] = ("depot", "cluster")
STAGE2 = "stage2"
"""Part id of the reconciliation solve in statistics."""
DEPOT_FILL = 0.9
"""By depot: share of a depot's fleet capacity (kg and m³) its orders may fill."""


# --------------------------------------------------------------------------- partition


def partition_orders(
    problem: RoutingProblem,
    *,
    by: Partition = "depot",
    n_parts: int | None = None,
    depot_fill: float | None = DEPOT_FILL,
) -> dict[str, tuple[str, ...]]:
    """Split the order ids of a problem into parts.

    Parameters
    ----------
    problem : RoutingProblem
    by : {"depot", "cluster"}
        See the module docstring.
    n_parts : int, optional
        Number of clusters (``by="cluster"``; default: the number of depots, at least
        2). Ignored by depot.
    depot_fill : float or None, default 0.9
        ``by="depot"``: an order goes to the nearest depot whose vehicles still have
        room for it, each depot filled up to this share of its fleet's total kg and m³;
        None: the nearest depot whatever its fleet.

    Returns
    -------
    dict part id -> tuple of order ids
        Part ids are depot ids, or ``cluster-1`` … ``cluster-k`` (numbered west to
        east by centroid); parts without orders are left out.
    """
    if by not in PARTITIONS:
        raise InputError(f"by must be one of {PARTITIONS}, got {by!r}")
    orders = problem.orders
    if not orders:
        return {}
    if by == "depot":
        return _by_depot(problem, depot_fill)
    k = max(2, len(problem.depots)) if n_parts is None else n_parts
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"n_parts must be an integer >= 1, got {n_parts!r}")
    k = min(k, len(orders))
    lon = np.array([o.lon for o in orders])
    lat = np.array([o.lat for o in orders])
    crs = utm_crs(float(lon.mean()), float(lat.mean()))
    x, y = to_metric(crs, lon, lat)
    labels = kmeans_labels(np.column_stack([x, y]), k)
    parts: list[tuple[float, tuple[str, ...]]] = []
    for c in range(k):
        sel = np.nonzero(labels == c)[0]
        if sel.size:
            parts.append((float(x[sel].mean()), tuple(orders[int(i)].id for i in sel)))
    parts.sort(key=lambda t: t[0])
    return {f"cluster-{n}": ids for n, (_, ids) in enumerate(parts, start=1)}


def kmeans_labels(xy: np.ndarray, k: int, *, iterations: int = 30) -> np.ndarray:
    """K-means cluster labels of points (metres), deterministic.

    Farthest-point seeding from the point nearest the centroid, then
    ``scipy.cluster.vq.kmeans2`` from those centres.
    """
    from scipy.cluster.vq import kmeans2

    xy = np.asarray(xy, dtype=np.float64)
    first = int(np.argmin(((xy - xy.mean(axis=0)) ** 2).sum(axis=1)))
    chosen = [first]
    dist = ((xy - xy[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((xy - xy[nxt]) ** 2).sum(axis=1))
    _, labels = kmeans2(xy, xy[chosen].copy(), iter=iterations, minit="matrix", missing="warn")
    return np.asarray(labels)


def _by_depot(problem: RoutingProblem, fill: float | None) -> dict[str, tuple[str, ...]]:
    if fill is not None and not (0.0 < fill <= 1.0):
        raise InputError(f"depot_fill={fill!r} must be in (0, 1], or None")
    based: dict[str, list[VehicleType]] = {}
    for vt in problem.vehicle_types:
        based.setdefault(vt.start_id, []).append(vt)
    depots = [d.id for d in problem.depots if d.id in based]
    pos = problem.position
    n = len(problem.orders)
    times = np.full((len(depots), n), np.inf)
    cols = np.array([pos[o.id] for o in problem.orders], dtype=np.int64)
    for k, did in enumerate(depots):
        for prof in sorted({vt.profile for vt in based[did]}):
            dur, _ = problem.travel(prof)
            trip = dur[pos[did], cols] + dur[cols, pos[did]]
            times[k] = np.minimum(times[k], trip)
    choice = np.argmin(times, axis=0)  # unreachable from every depot: the first depot
    if fill is not None and len(depots) > 1:
        room = np.array(
            [
                [fill * sum(vt.count * vt.capacity[d] for vt in based[did]) for d in range(2)]
                for did in depots
            ]
        )
        demand = np.array([o.demand for o in problem.orders], dtype=float)
        choice = _assign_with_room(times, room, demand)
    out: dict[str, tuple[str, ...]] = {}
    for k, did in enumerate(depots):
        ids = tuple(problem.orders[int(i)].id for i in np.nonzero(choice == k)[0])
        if ids:
            out[did] = ids
    return out


def _assign_with_room(times: np.ndarray, room: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Orders to depots by regret: nearest depot with room, most-to-lose orders first.

    ``times`` is depots × orders (seconds, inf = unreachable), ``room`` depots × load
    dimensions, ``demand`` orders × dimensions. The orders whose second-nearest depot is
    farthest behind their nearest are placed first; an order no depot has room for goes
    to its nearest depot (stage 2 picks up what that depot's vehicles cannot carry).
    """
    choice = np.argmin(times, axis=0)
    if times.shape[0] < 2:
        return choice
    ranked = np.sort(times, axis=0)
    with np.errstate(invalid="ignore"):
        regret = ranked[1] - ranked[0]
    regret = np.where(np.isnan(regret), -np.inf, regret)  # unreachable everywhere: last
    left = room.astype(float).copy()
    for i in np.argsort(-regret, kind="stable"):
        for k in np.argsort(times[:, i], kind="stable"):
            if not np.isfinite(times[k, i]):
                break
            if np.all(demand[i] <= left[k] + 1e-9):
                choice[i] = k
                left[k] -= demand[i]
                break
    return choice


def split_fleet(
    problem: RoutingProblem, parts: Mapping[str, Sequence[str]], *, by: Partition = "depot"
) -> dict[str, dict[str, int]]:
    """Vehicles of each type given to each part (see the module docstring).

    Returns
    -------
    dict part id -> (vehicle type id -> count)
        Counts of 0 are left out; vehicles not given to any part wait for stage 2.
    """
    if by == "depot":
        return {
            pid: {vt.id: vt.count for vt in problem.vehicle_types if vt.start_id == pid}
            for pid in parts
        }
    ids = list(parts)
    demand = np.array(
        [[sum(problem.order(o).demand[d] for o in parts[p]) for d in range(2)] for p in ids],
        dtype=float,
    )
    totals = demand.sum(axis=0)
    dims = totals > 0
    if dims.any():
        share = (demand[:, dims] / totals[dims]).mean(axis=1)
    else:
        sizes = np.array([len(parts[p]) for p in ids], dtype=float)
        share = sizes / sizes.sum()
    counts = np.zeros((len(ids), len(problem.vehicle_types)), dtype=np.int64)
    for t, vt in enumerate(problem.vehicle_types):
        counts[:, t] = largest_remainder(vt.count, share)
    for k in range(len(ids)):  # every part gets a vehicle if the fleet allows
        if counts[k].sum() == 0:
            donor = int(np.argmax(counts.sum(axis=1)))
            if counts[donor].sum() <= 1:
                break
            t = int(np.argmax(counts[donor]))
            counts[donor, t] -= 1
            counts[k, t] += 1
    return {
        p: {
            vt.id: int(counts[k, t])
            for t, vt in enumerate(problem.vehicle_types)
            if counts[k, t] > 0
        }
        for k, p in enumerate(ids)
    }


def largest_remainder(total: int, share: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``share`` (Hamilton's method).

    Ties go to the earlier position.
    """
    share = np.asarray(share, dtype=float)
    quota = total * share / share.sum() if share.sum() > 0 else np.zeros_like(share)
    base = np.floor(quota + 1e-9).astype(np.int64)
    left = int(total - base.sum())
    order = sorted(range(len(share)), key=lambda i: (-(quota[i] - base[i]), i))
    for i in order[:left]:
        base[i] += 1
    return base


# --------------------------------------------------------------------------- solving


def _solve_part(
    problem: RoutingProblem, engine: Engine, time_limit_s: float, seed: int
) -> RoutePlan:
    """Worker: solve one part (or stage 2)."""
    return solve_routing(problem, engine=engine, time_limit_s=time_limit_s, seed=seed)


@dataclass(frozen=True)
class PartResult:
    """One part of stage 1 (or stage 2).

    Attributes
    ----------
    part_id : str
    order_ids : tuple of str
    fleet : dict vehicle type id -> count
    vehicle_ids : dict local vehicle id -> vehicle id of the whole problem
    plan : RoutePlan or None
        None when the part had no vehicle or its task failed.
    error : str
    time_limit_s : float
    """

    part_id: str
    order_ids: tuple[str, ...]
    fleet: dict[str, int]
    vehicle_ids: dict[str, str]
    plan: RoutePlan | None
    error: str = ""
    time_limit_s: float = 0.0


@dataclass(frozen=True)
class DecomposedRouting:
    """The merged plan of a decomposed routing solve, and its parts.

    Attributes
    ----------
    plan : RoutePlan
        Every route (vehicle ids of the whole problem) and every unserved order with a
        reason; totals over all routes.
    parts : dict part id -> PartResult
    stage2 : PartResult or None
        The reconciliation solve (None when nothing was left to offer, or no vehicle).
    by : str
    time_s : float
        Wall time, seconds.
    statistics : dict
    """

    plan: RoutePlan
    parts: dict[str, PartResult]
    stage2: PartResult | None
    by: str
    time_s: float
    statistics: dict[str, Any] = field(default_factory=dict)

    def part_rows(self) -> list[dict[str, Any]]:
        """One row per part (and stage 2): orders, vehicles, served, cost, time."""
        rows = []
        for p in [*self.parts.values(), *([self.stage2] if self.stage2 else [])]:
            plan = p.plan
            rows.append(
                {
                    "part_id": p.part_id,
                    "orders": len(p.order_ids),
                    "vehicles": sum(p.fleet.values()),
                    "routes": len(plan.routes) if plan else 0,
                    "served": len(plan.served_order_ids) if plan else 0,
                    "cost": round(plan.cost, 2) if plan else None,
                    "status": plan.status if plan else ("failed" if p.error else "no vehicle"),
                    "time_s": round(plan.time_s, 3) if plan else None,
                    "time_limit_s": round(p.time_limit_s, 3),
                    "error": p.error,
                }
            )
        return rows


def solve_routing_decomposed(
    problem: RoutingProblem,
    *,
    by: Partition = "depot",
    n_parts: int | None = None,
    depot_fill: float | None = DEPOT_FILL,
    engine: Engine = "auto",
    time_limit_s: float = 10.0,
    min_part_time_s: float = 1.0,
    stage2_share: float = 0.2,
    seed: int = 0,
    client: Client | None = None,
    progress: Progress | None = None,
) -> DecomposedRouting:
    """Solve a routing problem part by part (stage 1), then share the vehicles (stage 2).

    Parameters
    ----------
    problem : RoutingProblem
        The whole day; not modified. The merged plan is checked against it.
    by : {"depot", "cluster"}
    n_parts : int, optional
        Clusters for ``by="cluster"``.
    depot_fill : float or None, default 0.9
        ``by="depot"``: see :func:`partition_orders`.
    engine : {"auto", "ortools", "pyvrp"}
        Engine of every solve. ``auto`` runs both engines side by side in each task (two
        processes per worker): prefer one engine when the workers fill the cores.
    time_limit_s : float, default 10
        Budget of the whole solve on one worker, seconds (see the module docstring).
    min_part_time_s : float, default 1
        Floor of each part's time limit, seconds.
    stage2_share : float, default 0.2
        Share of the budget for stage 2 (in [0, 1)).
    seed : int
    client : distributed.Client, optional
        None: parts run one after another in this process.
    progress : callable, optional
        ``progress(done, total, part_id, failure_or_None)``.

    Returns
    -------
    DecomposedRouting
    """
    t0 = time.perf_counter()
    if not (
        isinstance(time_limit_s, int | float) and math.isfinite(time_limit_s) and time_limit_s > 0
    ):
        raise InputError(f"time_limit_s={time_limit_s!r} must be a positive number of seconds")
    if engine not in ENGINES:
        raise InputError(f"engine={engine!r} must be one of {ENGINES}")
    if not (0.0 <= stage2_share < 1.0):
        raise InputError(f"stage2_share={stage2_share!r} must be in [0, 1)")
    parts = partition_orders(problem, by=by, n_parts=n_parts, depot_fill=depot_fill)
    fleet = split_fleet(problem, parts, by=by)
    n_orders = max(1, len(problem.orders))
    stage1_s = (1.0 - stage2_share) * float(time_limit_s)
    # vehicle ids of the whole problem, handed out part by part
    pool = {vt.id: list(vt.vehicle_ids) for vt in problem.vehicle_types}
    tasks: dict[str, tuple[Any, ...]] = {}
    info: dict[str, tuple[dict[str, str], float]] = {}
    for pid, order_ids in parts.items():
        counts = fleet.get(pid, {})
        mapping: dict[str, str] = {}
        for tid, c in counts.items():
            taken, pool[tid] = pool[tid][:c], pool[tid][c:]
            mapping.update({f"{tid}-{k}": vid for k, vid in enumerate(taken, start=1)})
        limit = max(float(min_part_time_s), stage1_s * len(order_ids) / n_orders)
        info[pid] = (mapping, limit)
        if counts:
            sub = _sub_problem(problem, order_ids, counts)
            tasks[pid] = (sub, engine, limit, seed)
    results = run_tasks(
        client, _solve_part, tasks, scatter_first=True, progress=progress, name="routing-part"
    )
    part_results: dict[str, PartResult] = {}
    for pid, order_ids in parts.items():
        mapping, limit = info[pid]
        res = results.get(pid)
        plan = res if isinstance(res, RoutePlan) else None
        error = str(res) if isinstance(res, TaskFailure) else ""
        if plan is not None:
            plan = _renamed(plan, mapping)
        part_results[pid] = PartResult(
            pid, order_ids, fleet.get(pid, {}), mapping, plan, error, limit
        )
    t_stage1 = time.perf_counter() - t0
    whole = diagnose(problem)
    never = {u.order_id: u for u in whole.unserved}
    used = {r.vehicle_id for p in part_results.values() if p.plan for r in p.plan.routes}
    served1 = {i for p in part_results.values() if p.plan for i in p.plan.served_order_ids}
    left = [o.id for o in problem.orders if o.id not in served1 and o.id not in never]
    spare = {vt.id: [v for v in vt.vehicle_ids if v not in used] for vt in problem.vehicle_types}
    stage2: PartResult | None = None
    if left and any(spare.values()):
        counts = {t: len(v) for t, v in spare.items() if v}
        mapping = {f"{t}-{k}": vid for t, v in spare.items() for k, vid in enumerate(v, start=1)}
        limit = max(float(min_part_time_s), stage2_share * float(time_limit_s))
        sub = _sub_problem(problem, left, counts)
        res2 = run_tasks(
            client,
            _solve_part,
            {STAGE2: (sub, engine, limit, seed)},
            scatter_first=True,
            name="routing-stage2",
        )[STAGE2]
        plan2 = _renamed(res2, mapping) if isinstance(res2, RoutePlan) else None
        stage2 = PartResult(
            STAGE2,
            tuple(left),
            counts,
            mapping,
            plan2,
            str(res2) if isinstance(res2, TaskFailure) else "",
            limit,
        )
    merged = _merge(problem, part_results, stage2, never, time.perf_counter() - t0)
    stats = {
        "by": by,
        "parts": len(parts),
        "workers": worker_count(client),
        "stage1_s": round(t_stage1, 3),
        "time_limit_s": float(time_limit_s),
        "served_after_stage1": len(served1),
        "served_after_stage2": len(merged.served_order_ids),
        "offered_in_stage2": len(left) if stage2 is not None else 0,
    }
    merged = replace(merged, statistics={**merged.statistics, "decomposition": stats})
    return DecomposedRouting(merged, part_results, stage2, by, time.perf_counter() - t0, stats)


def _sub_problem(
    problem: RoutingProblem, order_ids: Sequence[str], counts: Mapping[str, int]
) -> RoutingProblem:
    """The problem restricted to some orders and vehicle counts, with matrix blocks."""
    types = tuple(
        replace(vt, count=counts[vt.id]) for vt in problem.vehicle_types if counts.get(vt.id, 0) > 0
    )
    orders = tuple(problem.order(i) for i in order_ids)
    ids = [*(d.id for d in problem.depots), *(f.id for f in problem.facilities), *order_ids]
    profiles = {vt.profile for vt in types}
    matrices = {p: m.select(ids, ids) for p, m in problem.matrices.items() if p in profiles}
    return RoutingProblem(
        orders=orders,
        vehicle_types=types,
        depots=problem.depots,
        matrices=matrices,
        facilities=problem.facilities,
        order_snap_limit_m=problem.order_snap_limit_m,
    )


def _renamed(plan: RoutePlan, mapping: Mapping[str, str]) -> RoutePlan:
    routes = tuple(replace(r, vehicle_id=mapping[r.vehicle_id]) for r in plan.routes)
    return replace(plan, routes=routes)


def _merge(
    problem: RoutingProblem,
    parts: Mapping[str, PartResult],
    stage2: PartResult | None,
    never: Mapping[str, Unserved],
    time_s: float,
) -> RoutePlan:
    solved = [p for p in [*parts.values(), *([stage2] if stage2 else [])] if p.plan is not None]
    routes: list[Route] = [r for p in solved if p.plan for r in p.plan.routes]
    served = {i for r in routes for i in r.order_ids}
    said: dict[str, Unserved] = {}
    for p in solved:  # stage 2 last: its word on an order wins
        assert p.plan is not None
        said.update({u.order_id: u for u in p.plan.unserved})
    part_of = {o: p.part_id for p in parts.values() for o in p.order_ids}
    unserved: list[Unserved] = []
    for o in problem.orders:
        if o.id in served:
            continue
        if o.id in never:
            unserved.append(never[o.id])
            continue
        reason = "fleet" if o.required else "cost"
        before = said.get(o.id)
        detail = f" ({before.reason}: {before.message})" if before else ""
        where = part_of.get(o.id, "?")
        unserved.append(
            Unserved(
                o.id,
                reason,  # type: ignore[arg-type]
                f"order {o.id!r}: left out by the decomposition: part "
                f"{where!r} and the vehicles left for stage 2 did not take "
                f"it{detail}",
            )
        )
    unserved.sort(key=lambda u: u.order_id)
    by_id = problem.orders_by_id
    penalty = sum(
        by_id[u.order_id].penalty or 0.0 for u in unserved if not by_id[u.order_id].required
    )
    kg: dict[str, float] = {}
    for p in solved:
        assert p.plan is not None
        for mat, v in p.plan.kg_by_material.items():
            kg[mat] = kg.get(mat, 0.0) + v
    statuses = {p.plan.status for p in solved if p.plan}
    status: Status
    if not problem.orders or len(never) == len(problem.orders):
        status = "no_orders"
    elif "feasible" in statuses:
        status = "feasible"
    else:
        status = "no_solution"
    engines = sorted({p.plan.engine for p in solved if p.plan and p.plan.engine != "none"})
    return RoutePlan(
        routes=tuple(routes),
        unserved=tuple(unserved),
        status=status,
        engine="+".join(engines) or "none",
        cost=sum(r.cost for r in routes),
        penalty_cost=penalty,
        distance_m=sum(r.distance_m for r in routes),
        duration_s=sum(r.duration_s for r in routes),
        kg_by_material=kg,
        time_s=time_s,
        statistics={
            "parts": {
                p.part_id: {"orders": len(p.order_ids), "engine": p.plan.engine if p.plan else None}
                for p in [*parts.values(), *([stage2] if stage2 else [])]
            }
        },
    )
