"""Two tiers: stations, then sorting centres.

Two tiers (:func:`solve_two_tier`) are solved in sequence: stations first (their
model as given), then sorting centres as a CFLP whose demand points are the open
stations with the tonnage assigned to them. Why, and at what cost: the joint model
(station choice, station -> centre single-source assignment and centre capacities in
one MIP, :func:`solve_two_tier_joint`) needs an exchange rate between household access
(households x metres) and money, which the bureau's question does not give, and it is
much larger (pairs x centres flow variables). On the 60-point, 12-station, 4-centre
case of ``tests/siting/test_two_tier.py::test_sequence_vs_joint`` the sequence's total
(access at 0.001 per household-metre + centre fixed and transport cost) is 4.5% above
the joint optimum; in exchange each tier is optimal for its own objective and reports
its own bound and gap. Use the joint function when an exchange rate is agreed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..deadline import Deadline
from ..errors import InputError
from ..matrix import Matrix
from ..progress import Progress
from ._context import site_rules
from ._ortools import SolverName, solve_mip
from .linear_model import LinearModel
from .plan import SitingPlan, TwoTierPlan
from .problem import Demand, Site, SitingProblem
from .solve import solve_siting

FloatArray = npt.NDArray[np.float64]


def station_demand(
    plan: SitingPlan, demand: Sequence[Demand], sites_by_id: Mapping[str, Site]
) -> list[Demand]:
    """Open stations of ``plan`` as demand points of the sorting-centre tier.

    Each open station carries the households and the kg/year (by material) of the
    demand assigned to it; its weight is its tonnes/year.
    """
    dem = {d.id: d for d in demand}
    hh: dict[str, float] = {}
    kg: dict[str, dict[str, float]] = {}
    for a in plan.assignment:
        d = dem[a.demand_id]
        hh[a.site_id] = hh.get(a.site_id, 0.0) + d.households * a.share
        tgt = kg.setdefault(a.site_id, {})
        for mat, v in d.kg_per_year.items():
            tgt[mat] = tgt.get(mat, 0.0) + v * a.share
    out = []
    for sid in plan.open_ids:
        s = sites_by_id[sid]
        t = sum(kg.get(sid, {}).values()) / 1000.0
        out.append(Demand(sid, s.lon, s.lat, households=hh.get(sid, 0.0), weight=t,
                          kg_per_year=kg.get(sid, {})))  # fmt: skip
    return out


def centre_problem(
    stations: SitingProblem,
    plan: SitingPlan,
    centres: Sequence[Site],
    centre_matrix: Matrix,
    *,
    metric: str = "distance_m",
    cost_per_unit: float = 1.0,
    budget: float | None = None,
    p: int | None = None,
    single_source: bool = True,
    keep_existing: str = "all",
) -> SitingProblem:
    """The tier-2 CFLP: open stations of ``plan`` as demand, loads in tonnes/year.

    Each open station becomes a demand point with the households and the kg/year (by
    material) of the demand assigned to it; its weight is its tonnage, so the
    assignment cost is ``cost_per_unit`` × tonnes/year × metric (e.g. money per
    tonne-metre). ``centre_matrix`` rows are station site ids, columns centre ids.
    """
    demand = station_demand(plan, stations.demand, {s.id: s for s in stations.sites})
    return SitingProblem(
        demand=tuple(demand),
        sites=tuple(centres),
        matrix=centre_matrix,
        model="cflp",
        metric=metric,  # type: ignore[arg-type]
        p=p,
        budget=budget,
        capacity_unit="t_per_year",
        single_source=single_source,
        cost_per_unit=cost_per_unit,
        keep_existing=keep_existing,  # type: ignore[arg-type]
    )


def solve_two_tier(
    stations: SitingProblem,
    centres: Sequence[Site],
    centre_matrix: Matrix,
    *,
    metric: str = "distance_m",
    cost_per_unit: float = 1.0,
    budget: float | None = None,
    p: int | None = None,
    single_source: bool = True,
    time_limit_s: float = 60.0,
    seed: int = 0,
    solver: SolverName = "highs",
    progress: Progress | None = None,
) -> TwoTierPlan:
    """Stations, then sorting centres (in sequence; see the module docstring).

    Parameters
    ----------
    stations : SitingProblem
        Tier 1 (any model).
    centres : sequence of Site
        Sorting-centre sites; capacities in tonnes/year.
    centre_matrix : Matrix
        Rows: station site ids (at least the ones that can open); columns: centre ids.
    metric, cost_per_unit, budget, p, single_source
        Options of the tier-2 CFLP (see :func:`centre_problem`).
    time_limit_s : float
        Split: 60% for tier 1, the rest (plus what tier 1 left) for tier 2.
    seed : int
    solver : {"highs", "scip"}
    progress : callable, optional
        Each tier's reports (see :func:`solve_siting`), phases prefixed ``stations: `` and
        ``centres: ``; elapsed time and share are of the whole two-tier time limit.

    Returns
    -------
    TwoTierPlan
    """
    t0 = time.perf_counter()
    deadline = Deadline.after(time_limit_s)
    plan1 = solve_siting(stations, time_limit_s=0.6 * time_limit_s, seed=seed, solver=solver,
                         deadline=deadline.share(0.6),
                         progress=_tier(progress, "stations"))  # fmt: skip
    if not plan1.open_ids:
        raise InputError(
            f"tier 1 gave no open station (status {plan1.status}); cannot site sorting centres"
        )
    prob2 = centre_problem(
        stations,
        plan1,
        centres,
        centre_matrix,
        metric=metric,
        cost_per_unit=cost_per_unit,
        budget=budget,
        p=p,
        single_source=single_source,
    )
    # tier 2 gets what is left, at least half a second (a greedy plan needs no more)
    left = max(0.5, deadline.remaining_s())
    plan2 = solve_siting(prob2, time_limit_s=left, seed=seed, solver=solver,
                         deadline=deadline.within(left) if deadline.remaining_s() >= 0.5
                         else Deadline.after(left),
                         progress=_tier(progress, "centres"))  # fmt: skip
    return TwoTierPlan(plan1, plan2, time.perf_counter() - t0)


def _tier(progress: Progress | None, tier: str) -> Progress | None:
    """``progress`` with the tier's name before each phase."""
    if progress is None:
        return None
    return lambda p: progress({**p, "phase": f"{tier}: {p['phase']}", "tier": tier})


def solve_two_tier_joint(
    stations: SitingProblem,
    centres: Sequence[Site],
    centre_matrix: Matrix,
    *,
    access_cost_per_unit: float,
    metric: str = "distance_m",
    cost_per_unit: float = 1.0,
    time_limit_s: float = 60.0,
    seed: int = 0,
) -> tuple[float, float, list[str], list[str]]:
    """Joint two-tier MIP, for measuring the sequence (p-median tier 1 only).

    Minimises ``access_cost_per_unit`` × Σ weight × metric (tier 1) + Σ centre fixed
    cost + ``cost_per_unit`` × Σ tonnes × metric (tier 2), with p stations, single-source
    station → centre assignment and centre capacities (t/year).

    Returns
    -------
    total_cost, bound : float
    station_ids, centre_ids : list of str
        Open stations and centres.
    """
    if stations.model != "p_median":
        raise InputError("solve_two_tier_joint supports a p-median tier 1 only")
    import scipy.sparse as sp

    c1 = stations.cost_array()
    w = stations.weight_array()
    t = np.array([d.t_per_year for d in stations.demand])
    n, m = c1.shape
    sub = centre_matrix.select(stations.site_ids, [c.id for c in centres])
    c2 = np.asarray(getattr(sub, metric), dtype=float)
    k = len(centres)
    cap = np.array([math.inf if c.capacity is None else c.capacity for c in centres])
    f = np.array([c.fixed_cost for c in centres])
    rules = site_rules(stations)
    pi, pj = np.nonzero(np.isfinite(c1))
    npair = pi.size
    # variables: y (m) | x (npair) | u (k) | v (m*k) | g (m*k)
    oy, ox, ou, ov, og = 0, m, m + npair, m + npair + k, m + npair + k + m * k
    nv = og + m * k
    big_t = float(t.sum())
    obj = np.zeros(nv)
    obj[ox:ou] = access_cost_per_unit * w[pi] * c1[pi, pj]
    obj[ou:ov] = f
    c2f = np.where(np.isfinite(c2), c2, 0.0)
    obj[og:] = cost_per_unit * c2f.ravel()
    lb = np.zeros(nv)
    ub = np.ones(nv)
    lb[oy:ox] = rules.forced
    ub[oy:ox] = rules.allowed
    ub[ov:og] = np.isfinite(c2).ravel()
    ub[og:] = np.where(np.isfinite(c2).ravel(), big_t, 0.0)
    is_int = np.zeros(nv, dtype=bool)
    is_int[oy:ox] = True
    is_int[ou:og] = True
    rows: list[npt.NDArray[np.int64]] = []
    cols: list[npt.NDArray[np.int64]] = []
    vals: list[FloatArray] = []
    rlb: list[float] = []
    rub: list[float] = []
    r = 0

    def add(cs: Sequence[int], vs: Sequence[float], lo: float, hi: float) -> None:
        nonlocal r
        rows.append(np.full(len(cs), r, dtype=np.int64))
        cols.append(np.asarray(cs, dtype=np.int64))
        vals.append(np.asarray(vs, dtype=float))
        rlb.append(lo)
        rub.append(hi)
        r += 1

    for i in range(n):
        sel = np.nonzero(pi == i)[0]
        add(list(ox + sel), [1.0] * sel.size, 1.0, 1.0)
    for e in range(npair):
        add([ox + e, oy + int(pj[e])], [1.0, -1.0], -math.inf, 0.0)
    add(list(range(oy, ox)), [1.0] * m, float(stations.p or 0), float(stations.p or 0))
    for s in range(m):
        add([ov + s * k + c for c in range(k)] + [oy + s], [1.0] * k + [-1.0], 0.0, 0.0)
        sel = np.nonzero(pj == s)[0]
        add(
            [og + s * k + c for c in range(k)] + list(ox + sel),
            [1.0] * k + list(-t[pi[sel]]),
            0.0,
            0.0,
        )
        for c in range(k):
            add([og + s * k + c, ov + s * k + c], [1.0, -big_t], -math.inf, 0.0)
            add([ov + s * k + c, ou + c], [1.0, -1.0], -math.inf, 0.0)
    for c in range(k):
        if math.isfinite(cap[c]):
            add(
                [og + s * k + c for s in range(m)] + [ou + c], [1.0] * m + [-cap[c]], -math.inf, 0.0
            )
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, nv)
    )
    model = LinearModel(lb, ub, obj, is_int, A, np.array(rlb), np.array(rub))
    res = solve_mip(model, time_limit_s=time_limit_s, seed=seed)
    if res.values is None:
        return math.nan, res.bound, [], []
    y = res.values[oy:ox] > 0.5
    u = res.values[ou:ov] > 0.5
    return (
        res.objective,
        res.bound,
        [stations.site_ids[j] for j in np.nonzero(y)[0]],
        [centres[int(c)].id for c in np.nonzero(u)[0]],
    )
