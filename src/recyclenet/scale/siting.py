"""Siting by districts: solve each district on its own, then share the sorting centres.

Stage 1 (one task per district, in parallel on the cluster): the demand points and
candidate sites that fall in a district (:mod:`.districts`) form a
:class:`~recyclenet.siting.SitingProblem` with the same model and options as the whole
problem, solved by :func:`~recyclenet.siting.solve_siting`. Its matrix is either the
district's block of a given demand × site matrix (scattered to the worker that solves
it), or built on the worker from the road network, which is sent to every worker once.

How ``p`` is split (p-median, max coverage, and CFLP when ``p`` is given): each
district with demand gets its share of the total demand weight, rounded by largest
remainder, at least 1 and at least its sites that must stay open (required, or existing
with ``keep_existing="all"``), at most its usable (not forbidden) sites. A district
without demand keeps only its sites that must stay open. Min stations needs no split:
each district opens the fewest stations that cover it. A budget couples the districts
and is not split: give it per district or solve the whole problem.

Stage 2 (the coupling): the open stations of every district, with the households and
kg/year by material assigned to them, are the demand points of one capacitated facility
location problem against the sorting centres (capacities in tonnes/year), as in
:func:`~recyclenet.siting.solve_two_tier`. Solved per district, each district would
send its stations to the centres nearest to it, ignoring what the other districts send;
``statistics["centres_over_capacity_if_nearest"]`` shows the overload that would give.

What the decomposition costs: a demand point may only use a station of its own
district, so near borders it can be farther from its station than in the monolithic
plan, and ``p`` is split by rule rather than by the optimiser. The merged objective is
the sum of the district objectives (same unit as the monolithic one), and the merged
bound is the sum of the district bounds: a bound of the decomposed problem, not of the
monolithic one. ``tests/scale/test_scale_siting.py`` measures the gap on the Helsinki
sample.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..matrix import Matrix, build_matrix
from ..network import DEFAULT_MAX_SNAP_DISTANCE_M
from ..options import SITING_DEFAULTS
from ..points import Points
from ..siting import Demand, Site, SitingPlan, SitingProblem, solve_siting
from ..siting.assemble import assignment_indicators
from ..siting.plan import Assignment, Indicators, PlanStatus
from ..siting.two_tier import station_demand
from .cluster import Progress, TaskFailure, run_tasks, share, worker_count
from .districts import (
    District,
    DistrictAssignment,
    Outside,
    assign_to_districts,
    check_districts,
)

if TYPE_CHECKING:
    from distributed import Client

    from ..network import RoadNetwork

FloatArray = npt.NDArray[np.float64]

#: SitingProblem fields that every district inherits from the whole problem.
OPTION_FIELDS: tuple[str, ...] = (
    "model",
    "metric",
    "p",
    "radius",
    "households_per_station",
    "keep_existing",
    "capacity_unit",
    "single_source",
    "cost_per_unit",
)
_STATUS_ORDER: tuple[str, ...] = ("optimal", "feasible", "time_limit_no_solution", "infeasible")


# --------------------------------------------------------------------------- p split


def split_p(
    p: int,
    weight: Mapping[str, float],
    usable: Mapping[str, int],
    forced: Mapping[str, int],
) -> dict[str, int]:
    """Split ``p`` sites across districts in proportion to their demand weight.

    Parameters
    ----------
    p : int
        Sites to open in total (counting the ones that must stay open).
    weight : mapping district id -> float
        Demand weight per district (households by default); 0 for a district without
        demand.
    usable, forced : mapping district id -> int
        Usable (not forbidden) sites, and sites that must stay open, per district.

    Returns
    -------
    dict district id -> int
        Districts with demand get ``max(1, forced)`` first, then one site at a time goes
        to the district furthest below its quota ``p × weight / total weight`` (largest
        remainder), never above its usable sites. Districts without demand get their
        forced sites only.

    Raises
    ------
    InputError
        ``p`` is below what the districts need at least, or above what they can open.
    """
    with_demand = [k for k in weight if weight[k] > 0]
    out = {k: (max(1, forced.get(k, 0)) if k in with_demand else forced.get(k, 0)) for k in weight}
    no_site = [k for k in with_demand if usable.get(k, 0) == 0]
    if no_site:
        raise InputError(
            f"districts {no_site[:10]} have demand but no usable candidate site; add sites "
            "there, assign their points to the nearest district, or drop these districts"
        )
    need = sum(out.values())
    if need > p:
        raise InputError(
            f"p = {p} is below the {need} sites the districts need at least (one per district "
            f"with demand, {len(with_demand)}, and every site that must stay open); raise p or "
            "merge districts"
        )
    total_w = float(sum(weight[k] for k in with_demand))
    quota = {k: p * weight[k] / total_w for k in with_demand}
    order = {k: i for i, k in enumerate(weight)}
    while sum(out.values()) < p:
        room = [k for k in with_demand if out[k] < usable[k]]
        if not room:
            raise InputError(
                f"p = {p} is above the {sum(out.values())} usable sites in the districts "
                "with demand; lower p"
            )
        best = min(room, key=lambda k: (-(quota[k] - out[k]), -weight[k], order[k]))
        out[best] += 1
    return out


# --------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class _DistrictTask:
    """What a worker needs to solve one district (internal)."""

    district_id: str
    demand: tuple[Demand, ...]
    sites: tuple[Site, ...]
    options: Mapping[str, Any]
    matrix: Matrix | None
    max_snap_distance_m: float
    time_limit_s: float
    seed: int


def _solve_district(task: _DistrictTask, network: RoadNetwork | None) -> SitingPlan:
    """Worker: build the district's problem (and its matrix if needed) and solve it."""
    matrix = task.matrix
    if matrix is None:
        if network is None:
            raise InputError(f"district {task.district_id!r}: no matrix and no road network")
        matrix = build_matrix(
            network,
            Points.from_located(task.demand),
            Points.from_located(task.sites),
            max_snap_distance_m=task.max_snap_distance_m,
            too_far="unreachable",
            workers=1,
        )
    problem = SitingProblem(demand=task.demand, sites=task.sites, matrix=matrix, **task.options)
    return solve_siting(problem, time_limit_s=task.time_limit_s, seed=task.seed)


def _solve_problem(problem: SitingProblem, time_limit_s: float, seed: int) -> SitingPlan:
    """Worker: solve one siting problem (the sorting-centre stage)."""
    return solve_siting(problem, time_limit_s=time_limit_s, seed=seed)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class DistrictSitingRun:
    """The merged answer of a district decomposition and its parts.

    Attributes
    ----------
    plan : SitingPlan
        Stations over every district: open sites, demand → station assignment,
        objective = sum of the district objectives, bound = sum of their bounds,
        indicators over all demand (points outside every district count as unassigned).
    districts : tuple of District
    district_plans : dict district id -> SitingPlan
    failures : dict district id -> str
        Districts that could not be solved, with the error; their demand is unassigned.
    p_by_district : dict district id -> int
        The split of ``p`` (empty for min stations).
    demand_districts, site_districts : DistrictAssignment
        Where each demand point and site went, and which fell outside.
    centres : SitingPlan or None
        Stage 2: open station → sorting centre (CFLP, capacities in t/year).
    centre_sites : tuple of Site
    time_s : float
        Wall time of the whole decomposed solve, seconds.
    statistics : dict
        Per-district sizes and times, workers, and the centre overload that
        per-district centre choices would have given.
    """

    plan: SitingPlan
    districts: tuple[District, ...]
    district_plans: dict[str, SitingPlan]
    failures: dict[str, str]
    p_by_district: dict[str, int]
    demand_districts: DistrictAssignment
    site_districts: DistrictAssignment
    centres: SitingPlan | None = None
    centre_sites: tuple[Site, ...] = ()
    time_s: float = 0.0
    statistics: dict[str, Any] = field(default_factory=dict)

    def district_rows(self) -> list[dict[str, Any]]:
        """One row per district: id, name, sizes, p, status, objective, time."""
        sizes = self.statistics.get("districts", {})
        rows = []
        for d in self.districts:
            plan = self.district_plans.get(d.id)
            rows.append(
                {
                    "district_id": d.id,
                    "name": d.name,
                    "demand": sizes.get(d.id, {}).get("demand", 0),
                    "sites": sizes.get(d.id, {}).get("sites", 0),
                    "p": self.p_by_district.get(d.id),
                    "open": len(plan.open_ids) if plan else 0,
                    "status": plan.status
                    if plan
                    else ("failed" if d.id in self.failures else "empty"),
                    "objective": _num(plan.objective) if plan else None,
                    "time_s": round(plan.time_s, 3) if plan else None,
                    "error": self.failures.get(d.id, ""),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the merged plan, the centres, and the decomposition."""
        doc = self.plan.to_dict()
        if self.centres is not None:
            doc["centres"] = self.centres.to_dict()
        doc["decomposition"] = {
            "by": "district",
            "districts": self.district_rows(),
            "outside_demand_ids": list(self.demand_districts.outside_ids),
            "outside_site_ids": list(self.site_districts.outside_ids),
            "moved_demand_ids": list(self.demand_districts.moved_ids),
            "time_s": round(self.time_s, 3),
            "statistics": {k: v for k, v in self.statistics.items() if k != "districts"},
        }
        return doc

    def summary(self) -> str:
        """A few lines: merged plan, districts, centres."""
        failed = f", {len(self.failures)} failed" if self.failures else ""
        lines = [
            self.plan.summary(),
            f"{len(self.districts)} districts{failed}; "
            f"{len(self.demand_districts.outside_ids)} demand points outside every "
            f"district; {self.time_s:.1f} s",
        ]
        if self.centres is not None:
            lines.append("sorting centres: " + self.centres.summary().splitlines()[0])
        return "\n".join(lines)


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# --------------------------------------------------------------------------- entry points


def solve_siting_by_district(
    problem: SitingProblem,
    districts: Sequence[District],
    *,
    outside: Outside = "report",
    centres: Sequence[Site] = (),
    centre_matrix: Matrix | None = None,
    centre_network: RoadNetwork | None = None,
    centre_cost_per_unit: float = 1.0,
    client: Client | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> DistrictSitingRun:
    """Solve a siting problem district by district, from its demand × site matrix.

    Parameters
    ----------
    problem : SitingProblem
        The whole problem; each district inherits its model and options (not its
        budget, see the module docstring). Not modified.
    districts : sequence of District
    outside : {"report", "nearest"}
        Demand points and sites outside every district: left out (reported), or given
        to the nearest district.
    centres : sequence of Site, optional
        Sorting centres (capacity in tonnes/year): adds the coupling stage.
    centre_matrix : Matrix, optional
        Rows: station site ids (at least the ones that open); columns: centre ids.
    centre_network : RoadNetwork, optional
        Instead of ``centre_matrix``: the truck network to build it on (open stations ×
        centres) after stage 1.
    centre_cost_per_unit : float
        CFLP money per tonne/year × metric unit of the station → centre trips.
    client : distributed.Client, optional
        Where the districts run; None: one after another in this process.
    time_limit_s : float, default 30
        Per district (they run in parallel), and for the centre stage, seconds.
    seed : int
    progress : callable, optional
        ``progress(done, total, district_id, failure_or_None)``.

    Returns
    -------
    DistrictSitingRun
    """
    options = {k: getattr(problem, k) for k in OPTION_FIELDS}
    if problem.budget is not None:
        raise InputError(_BUDGET_MESSAGE)
    return _by_district(
        problem.demand,
        problem.sites,
        districts,
        options,
        matrix=problem.matrix,
        network=None,
        max_snap_distance_m=DEFAULT_MAX_SNAP_DISTANCE_M,
        outside=outside,
        centres=centres,
        centre_matrix=centre_matrix,
        centre_network=centre_network,
        centre_cost_per_unit=centre_cost_per_unit,
        client=client,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
    )


def site_by_district(
    network: RoadNetwork,
    demand: Sequence[Demand],
    sites: Sequence[Site],
    districts: Sequence[District],
    *,
    model: str = "p_median",
    metric: str = "distance_m",
    p: int | None = None,
    radius: float | None = None,
    households_per_station: float = SITING_DEFAULTS.households_per_station,
    keep_existing: str = SITING_DEFAULTS.keep_existing,
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
    outside: Outside = "report",
    centres: Sequence[Site] = (),
    centre_matrix: Matrix | None = None,
    centre_network: RoadNetwork | None = None,
    centre_cost_per_unit: float = 1.0,
    client: Client | None = None,
    time_limit_s: float = 30.0,
    seed: int = 0,
    progress: Progress | None = None,
) -> DistrictSitingRun:
    """Site stations district by district on a road network, without a city-wide matrix.

    The network goes to every worker once; each worker builds the matrix of its
    district only (demand × sites in the district), so the work grows with the sum of
    the district sizes squared, not with the city's. Options as in
    :func:`~recyclenet.pipeline.plan_siting` and :func:`solve_siting_by_district`;
    ``network`` is the road network of the trips to stations (walking by default in the
    pipeline), ``radius`` in metres or seconds (``metric``).
    """
    from .cluster import portable_network

    options = {
        "model": model,
        "metric": metric,
        "p": p,
        "radius": radius,
        "households_per_station": households_per_station,
        "keep_existing": keep_existing,
    }
    return _by_district(
        tuple(demand),
        tuple(sites),
        districts,
        options,
        matrix=None,
        network=portable_network(network),
        max_snap_distance_m=max_snap_distance_m,
        outside=outside,
        centres=centres,
        centre_matrix=centre_matrix,
        centre_network=centre_network,
        centre_cost_per_unit=centre_cost_per_unit,
        client=client,
        time_limit_s=time_limit_s,
        seed=seed,
        progress=progress,
    )


_BUDGET_MESSAGE = (
    "budget: the decomposition by district does not split a budget (it couples "
    "the districts); drop it, or solve the whole problem"
)


def _by_district(
    demand: Sequence[Demand],
    sites: Sequence[Site],
    districts: Sequence[District],
    options: dict[str, Any],
    *,
    matrix: Matrix | None,
    network: RoadNetwork | None,
    max_snap_distance_m: float,
    outside: Outside,
    centres: Sequence[Site],
    centre_matrix: Matrix | None,
    centre_network: RoadNetwork | None,
    centre_cost_per_unit: float,
    client: Client | None,
    time_limit_s: float,
    seed: int,
    progress: Progress | None,
) -> DistrictSitingRun:
    t0 = time.perf_counter()
    districts = check_districts(districts)
    if not (
        isinstance(time_limit_s, int | float) and time_limit_s > 0 and math.isfinite(time_limit_s)
    ):
        raise InputError(f"time_limit_s must be a positive number of seconds, got {time_limit_s!r}")
    if centres and centre_matrix is None and centre_network is None:
        raise InputError("centres given without centre_matrix or centre_network; give one of them")
    demand = tuple(demand)
    sites = tuple(sites)
    d_in = assign_to_districts(
        [d.id for d in demand],
        [d.lon for d in demand],
        [d.lat for d in demand],
        districts,
        outside=outside,
    )
    s_in = assign_to_districts(
        [s.id for s in sites],
        [s.lon for s in sites],
        [s.lat for s in sites],
        districts,
        outside=outside,
    )
    by_d: dict[str, list[Demand]] = {k.id: [] for k in districts}
    by_s: dict[str, list[Site]] = {k.id: [] for k in districts}
    for d in demand:
        if d.id in d_in.district_of:
            by_d[d_in.district_of[d.id]].append(d)
    for s in sites:
        if s.id in s_in.district_of:
            by_s[s_in.district_of[s.id]].append(s)
    keep_all = options.get("keep_existing", "all") == "all"

    def must_open(s: Site) -> bool:
        return s.status == "required" or (s.status == "existing" and keep_all)

    weight = {
        k: float(sum(float(d.weight or 0.0) for d in by_d[k])) if by_d[k] else 0.0 for k in by_d
    }
    has_demand = {k: bool(by_d[k]) for k in by_d}
    usable = {k: sum(s.status != "forbidden" for s in by_s[k]) for k in by_s}
    # a district with demand and no usable site fails on its own; p goes to the others
    failures: dict[str, str] = {
        k: "no usable candidate site in the district"
        for k in by_d
        if has_demand[k] and not usable[k]
    }
    p_total = options.get("p")
    p_split: dict[str, int] = {}
    if p_total is not None:
        # a district with points of zero weight still needs a station
        p_split = split_p(
            int(p_total),
            {k: (weight[k] or 1e-9) if has_demand[k] and usable[k] else 0.0 for k in by_d},
            usable,
            {k: sum(must_open(s) for s in by_s[k]) for k in by_s},
        )
    tasks: dict[str, tuple[Any, ...]] = {}
    idle_open: list[str] = []  # sites that must stay open in districts without demand
    idle_closed: list[str] = []  # existing sites there that may close
    shared_net = share(client, network) if network is not None else None
    for k in districts:
        if not has_demand[k.id]:
            idle_open += [s.id for s in by_s[k.id] if must_open(s)]
            idle_closed += [s.id for s in by_s[k.id] if s.status == "existing" and not keep_all]
            continue
        if k.id in failures:
            continue
        opts = dict(options)
        if p_total is not None:
            opts["p"] = p_split[k.id]
        sub = None
        if matrix is not None:
            sub = matrix.select([d.id for d in by_d[k.id]], [s.id for s in by_s[k.id]])
        tasks[k.id] = (
            _DistrictTask(
                k.id,
                tuple(by_d[k.id]),
                tuple(by_s[k.id]),
                opts,
                sub,
                max_snap_distance_m,
                float(time_limit_s),
                seed,
            ),
            shared_net,
        )
    results = run_tasks(
        client,
        _solve_district,
        tasks,
        scatter_first=matrix is not None,
        progress=progress,
        name="district",
    )
    plans: dict[str, SitingPlan] = {}
    for kid, res in results.items():
        if isinstance(res, TaskFailure):
            failures[kid] = str(res)
        else:
            plans[kid] = res
    sites_by_id = {s.id: s for s in sites}
    merged = _merge_plans(
        [plans[k.id] for k in districts if k.id in plans],
        demand,
        sites_by_id,
        options,
        idle_open=idle_open,
        idle_closed=idle_closed,
        failures=failures,
        time_s=time.perf_counter() - t0,
    )
    stats: dict[str, Any] = {
        "districts": {
            k.id: {"demand": len(by_d[k.id]), "sites": len(by_s[k.id])} for k in districts
        },
        "workers": worker_count(client),
        "stage1_s": round(time.perf_counter() - t0, 3),
    }
    centre_plan = None
    if centres and merged.open_ids:
        t1 = time.perf_counter()
        centre_plan, overload = _centre_stage(
            merged,
            demand,
            sites_by_id,
            tuple(centres),
            centre_matrix,
            centre_network,
            options,
            centre_cost_per_unit,
            max_snap_distance_m,
            client,
            time_limit_s,
            seed,
        )
        stats["centres_over_capacity_if_nearest"] = overload
        stats["stage2_s"] = round(time.perf_counter() - t1, 3)
    return DistrictSitingRun(
        plan=merged,
        districts=districts,
        district_plans=plans,
        failures=failures,
        p_by_district=p_split,
        demand_districts=d_in,
        site_districts=s_in,
        centres=centre_plan,
        centre_sites=tuple(centres),
        time_s=time.perf_counter() - t0,
        statistics=stats,
    )


# --------------------------------------------------------------------------- merging


def _merge_plans(
    plans: Sequence[SitingPlan],
    demand: Sequence[Demand],
    sites_by_id: Mapping[str, Site],
    options: Mapping[str, Any],
    *,
    idle_open: Sequence[str],
    idle_closed: Sequence[str],
    failures: Mapping[str, str],
    time_s: float,
) -> SitingPlan:
    """One plan over all demand from the district plans (ids kept, totals summed)."""
    assignment = tuple(a for p in plans for a in p.assignment)
    open_ids = tuple(i for p in plans for i in p.open_ids) + tuple(idle_open)
    assigned = {a.demand_id for a in assignment}
    unassigned = tuple(d.id for d in demand if d.id not in assigned)
    existing_open = {i for i in open_ids if sites_by_id[i].status == "existing"}
    closed = tuple(i for p in plans for i in p.closed_ids) + tuple(idle_closed)
    if plans:
        status: PlanStatus = max((p.status for p in plans), key=_STATUS_ORDER.index)
        objective = float(sum(p.objective for p in plans))
        bound = float(sum(p.bound for p in plans))
    else:
        status, objective, bound = "infeasible", math.nan, math.nan
    gap = (
        abs(objective - bound) / max(abs(objective), 1e-12)
        if math.isfinite(objective) and math.isfinite(bound)
        else math.nan
    )
    message = f"{len(plans)} districts solved"
    if failures:
        message += "; failed: " + "; ".join(f"{k}: {v}" for k, v in failures.items())
    solvers = sorted({p.solver for p in plans if p.solver})
    return SitingPlan(
        model=str(options["model"]),
        metric=str(options["metric"]),
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        time_s=time_s,
        open_ids=open_ids,
        opened_ids=tuple(i for i in open_ids if i not in existing_open),
        kept_ids=tuple(i for i in open_ids if i in existing_open),
        closed_ids=closed,
        assignment=assignment,
        unassigned_ids=unassigned,
        indicators=_indicators(assignment, demand, sites_by_id, open_ids, options),
        solver="districts:" + "+".join(solvers),
        message=message,
    )


def _indicators(
    assignment: Sequence[Assignment],
    demand: Sequence[Demand],
    sites_by_id: Mapping[str, Site],
    open_ids: Sequence[str],
    options: Mapping[str, Any],
) -> Indicators:
    """The plan indicators of :mod:`recyclenet.siting.plan`, over every demand point."""
    by_id = {d.id: d for d in demand}
    hh_total = float(sum(d.households for d in demand))
    t_unit = options.get("capacity_unit", "households") == "t_per_year"
    w_h = np.array([by_id[a.demand_id].households * a.share for a in assignment])
    load = np.array(
        [
            (by_id[a.demand_id].t_per_year if t_unit else by_id[a.demand_id].households) * a.share
            for a in assignment
        ]
    )
    dist = np.array([a.distance_m for a in assignment], dtype=float)
    dur = np.array([a.duration_s for a in assignment], dtype=float)
    radius = options.get("radius")
    within = math.nan
    if radius is not None and hh_total > 0:
        cost = dist if options.get("metric", "distance_m") == "distance_m" else dur
        within = float((w_h * (cost <= float(radius))).sum() / hh_total)
    site_hh: dict[str, float] = dict.fromkeys(open_ids, 0.0)
    site_load: dict[str, float] = dict.fromkeys(open_ids, 0.0)
    for a, h, ld in zip(assignment, w_h.tolist(), load.tolist()):
        site_hh[a.site_id] = site_hh.get(a.site_id, 0.0) + h
        site_load[a.site_id] = site_load.get(a.site_id, 0.0) + ld
    norm = (
        float(options.get("households_per_station", SITING_DEFAULTS.households_per_station))
        if options.get("model") == "min_stations"
        else math.inf
    )

    def cap(i: str) -> float:
        c = sites_by_id[i].capacity
        return norm if c is None else float(c)

    return assignment_indicators(
        households_total=hh_total,
        weights=w_h,
        distance_m=dist,
        duration_s=dur,
        share_within_radius=within,
        households_by_site={i: site_hh[i] for i in open_ids},
        load_by_site={i: site_load[i] for i in open_ids},
        capacity_by_site={i: cap(i) for i in open_ids},
    )


# --------------------------------------------------------------------------- stage 2


def _centre_stage(
    plan: SitingPlan,
    demand: Sequence[Demand],
    sites_by_id: Mapping[str, Site],
    centres: tuple[Site, ...],
    centre_matrix: Matrix | None,
    centre_network: RoadNetwork | None,
    options: Mapping[str, Any],
    cost_per_unit: float,
    max_snap_distance_m: float,
    client: Client | None,
    time_limit_s: float,
    seed: int,
) -> tuple[SitingPlan, dict[str, float]]:
    """Stage 2: one CFLP of every open station against the shared centre capacities."""
    stations = station_demand(plan, demand, sites_by_id)
    if centre_matrix is None:
        assert centre_network is not None
        centre_matrix = build_matrix(
            centre_network,
            Points.from_located(stations),
            Points.from_located(centres),
            max_snap_distance_m=max_snap_distance_m,
            too_far="unreachable",
        )
    metric = str(options.get("metric", "distance_m"))
    problem = SitingProblem(
        demand=tuple(stations),
        sites=centres,
        matrix=centre_matrix,
        model="cflp",
        metric=metric,  # type: ignore[arg-type]
        capacity_unit="t_per_year",
        single_source=True,
        cost_per_unit=cost_per_unit,
    )
    res = run_tasks(
        client, _solve_problem, {"centres": (problem, time_limit_s, seed)}, name="centres"
    )["centres"]
    if isinstance(res, TaskFailure):
        raise InputError(f"sorting-centre stage failed: {res}")
    # what each district choosing on its own (nearest reachable centre) would load
    cost = problem.cost_array()
    load: dict[str, float] = {}
    for i, st in enumerate(stations):
        if np.isfinite(cost[i]).any():
            cid = centres[int(np.argmin(cost[i]))].id
            load[cid] = load.get(cid, 0.0) + st.t_per_year
    over = {
        c.id: round(load[c.id], 3)
        for c in centres
        if c.capacity is not None and load.get(c.id, 0.0) > c.capacity * (1 + 1e-9)
    }
    return res, over
