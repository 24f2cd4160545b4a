"""Capacitated models: min stations (capacitated covering) and CFLP.

min stations
    A capacitated covering model (pairs within the radius, capacity = site capacity
    or the households-per-station norm), objective = number of stations + a tie-break
    on weighted access that is < 0.5 in total.
CFLP
    Strong capacitated facility location (x_ij <= y_j, the aggregate capacity cut),
    single-source (binary x) by default, multi-source on request.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import numpy.typing as npt

from . import _models
from ._context import (
    FULL_LIST_PAIRS,
    OPTIMALITY_GAP,
    Outcome,
    SolveContext,
    infeasible,
    relative_gap,
)
from ._ortools import MipResult, SolverName, solve_mip
from .plan import PlanStatus
from .problem import SitingProblem

_log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: CFLP: cheapest sites per demand point in the first restricted model.
CFLP_INITIAL_LIST = 10


def solve_capacitated(
    problem: SitingProblem,
    cost: FloatArray,
    metric: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    n, m = cost.shape
    deadline, solver, seed, threads = ctx.deadline, ctx.solver, ctx.seed, ctx.threads
    load = problem.load_array()
    capacity = problem.capacity_array()
    if problem.model == "min_stations":
        assert problem.radius is not None
        ok = np.isfinite(cost) & (cost <= problem.radius)
        # rows: the demand the model covers (all of it unless uncoverable="leave")
        rows = np.nonzero(ok.any(axis=1))[0]
        pi, pj = np.nonzero(ok[rows])
        scale = float(weight.sum()) * problem.radius
        pair_cost = 0.5 * weight[rows[pi]] * cost[rows[pi], pj] / max(scale, 1e-12)
        site_cost = np.ones(m)
        offset = 0.0
        left = n - rows.size
    else:
        return _cflp(problem, cost, weight, rules, ctx)
    built = _models.capacitated(
        rows.size,
        pi.astype(np.int64),
        pj.astype(np.int64),
        pair_cost,
        load[rows],
        capacity,
        site_cost,
        rules,
        single_source=problem.single_source,
        offset=offset,
    )
    res: MipResult = solve_mip(
        built.model,
        time_limit_s=max(0.1, deadline - time.perf_counter()),
        solver=solver,
        seed=seed,
        threads=threads,
    )
    if res.status == "infeasible":
        return infeasible(
            solver, "no assignment respects the capacities, radius, budget and p together"
        )
    if res.values is None:
        return Outcome(
            None,
            "time_limit_no_solution",
            math.nan,
            res.bound,
            solver,
            f"{solver} found no solution within the time limit",
        )
    y = built.y(res.values)
    x = built.pair_values(res.values)
    sel = x > 1e-6
    shares = [
        (int(rows[a]), int(b), float(v)) for a, b, v in zip(pi[sel], pj[sel], x[sel], strict=True)
    ]
    objective = float(y.sum())
    bound = math.ceil(res.bound - 0.5 - 1e-9) if math.isfinite(res.bound) else math.nan
    gap = relative_gap(objective, bound)
    status: PlanStatus = (
        "optimal" if res.status == "optimal" or gap <= OPTIMALITY_GAP else "feasible"
    )
    return Outcome(
        y,
        status,
        objective,
        bound,
        solver,
        ("proven optimal" if status == "optimal" else "time limit reached")
        + (f"; {left} demand point(s) with no site within the radius left unassigned"
           if left else ""),
        shares=shares,
    )  # fmt: skip


def _cflp(
    problem: SitingProblem,
    cost: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    """CFLP over each demand point's cheapest sites, with overflow, grown until unused.

    Each round's MIP optimum is a lower bound. Rows that use their overflow get their
    list doubled plus every site open in that round. With split demand, each round's
    open set is also completed into a feasible plan by a transportation LP over all
    pairs (an upper bound), so a plan is returned even if the last round is cut short.
    """
    n, m = cost.shape
    deadline, solver, seed, threads = ctx.deadline, ctx.solver, ctx.seed, ctx.threads
    load = problem.load_array()
    capacity = problem.capacity_array()
    with np.errstate(invalid="ignore"):
        unit = problem.cost_per_unit * weight[:, None] * cost
    unit = np.where(rules.allowed[None, :] & np.isfinite(cost), unit, np.inf)
    order = np.argsort(unit, axis=1, kind="stable")
    srt = np.take_along_axis(unit, order, axis=1)
    finite = np.isfinite(unit)
    finite_count = finite.sum(axis=1)
    if n * int(rules.allowed.sum()) <= FULL_LIST_PAIRS:
        k_row = finite_count.copy()
    else:
        k_row = np.minimum(finite_count, CFLP_INITIAL_LIST)
    extra = np.zeros((n, m), dtype=bool)
    site_cost = rules.fixed_cost - rules.closing_cost
    offset = float(rules.closing_cost.sum())
    lower = -math.inf
    best: tuple[float, BoolArray, list[tuple[int, int, float]]] | None = None
    rounds = 0
    proven = False
    while True:
        rounds += 1
        listed = extra.copy()
        rr, cc = np.nonzero(np.arange(m)[None, :] < k_row[:, None])
        listed[rr, order[rr, cc]] = True
        listed &= finite
        pi, pj = np.nonzero(listed)
        pi, pj = pi.astype(np.int64), pj.astype(np.int64)
        o_rows = np.nonzero((finite & ~listed).any(axis=1))[0].astype(np.int64)
        o_cost = srt[o_rows, k_row[o_rows]]
        built = _models.capacitated(
            n,
            pi,
            pj,
            unit[pi, pj],
            load,
            capacity,
            site_cost,
            rules,
            single_source=problem.single_source,
            offset=offset,
            overflow_rows=o_rows,
            overflow_cost=o_cost,
        )
        res = solve_mip(
            built.model,
            time_limit_s=max(0.1, deadline - time.perf_counter()),
            solver=solver,
            seed=seed,
            threads=threads,
        )
        _log.debug(
            "cflp round %d: %d pairs, %d overflow rows, %s obj %.9g bound %.9g in %.2f s",
            rounds,
            pi.size,
            o_rows.size,
            res.status,
            res.objective,
            res.bound,
            res.time_s,
        )
        if res.status == "infeasible":
            return infeasible(
                solver, "no assignment respects the capacities, budget and p together"
            )
        if math.isfinite(res.bound):
            lower = max(lower, res.bound)
        if res.values is None:
            break
        y = built.y(res.values)
        used = built.extra_values(res.values) > 1e-7
        if not used.any():
            x = built.pair_values(res.values)
            sel = x > 1e-6
            shares = [
                (int(a), int(b), float(v)) for a, b, v in zip(pi[sel], pj[sel], x[sel], strict=True)
            ]
            if best is None or res.objective < best[0]:
                best = (res.objective, y, shares)
            proven = res.status == "optimal"
            break
        if not problem.single_source:
            repaired = _transport(
                problem, unit, y, load, capacity, site_cost, offset, rules, deadline, solver
            )
            if repaired is not None and (best is None or repaired[0] < best[0]):
                best = repaired
        if best is not None and best[0] - lower <= OPTIMALITY_GAP * max(1.0, abs(best[0])):
            proven = True
            break
        if res.status != "optimal" or deadline - time.perf_counter() < 0.2:
            break
        rows = o_rows[used]
        k_row[rows] = np.minimum(finite_count[rows], 2 * k_row[rows])
        extra[np.ix_(rows, np.nonzero(y)[0])] = True
    if best is None:
        return Outcome(
            None,
            "time_limit_no_solution",
            math.nan,
            lower,
            solver,
            f"{solver} found no complete plan within the time limit",
        )
    objective, y, shares = best
    bound = objective if proven else lower
    gap = relative_gap(objective, bound)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    return Outcome(
        y,
        status,
        objective,
        bound,
        solver,
        f"proven optimal in {rounds} round(s)" if status == "optimal" else "time limit reached",
        shares=shares,
    )


def _transport(
    problem: SitingProblem,
    unit: FloatArray,
    y: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    site_cost: FloatArray,
    offset: float,
    rules: _models.SiteRules,
    deadline: float,
    solver: SolverName,
) -> tuple[float, BoolArray, list[tuple[int, int, float]]] | None:
    """Cheapest split assignment to the open sites ``y`` (an LP); None if infeasible."""
    n = unit.shape[0]
    ok = np.isfinite(unit) & y[None, :]
    pi, pj = np.nonzero(ok)
    fixed = _models.SiteRules(
        forced=y.copy(),
        allowed=y.copy(),
        fixed_cost=rules.fixed_cost,
        closing_cost=rules.closing_cost,
        p=None,
        p_exact=False,
        budget=None,
    )
    built = _models.capacitated(
        n,
        pi.astype(np.int64),
        pj.astype(np.int64),
        unit[pi, pj],
        load,
        capacity,
        site_cost,
        fixed,
        single_source=False,
        offset=offset,
    )
    res = solve_mip(
        built.model, time_limit_s=max(0.1, deadline - time.perf_counter()), solver=solver
    )
    if res.values is None:
        return None
    x = built.pair_values(res.values)
    sel = x > 1e-6
    shares = [(int(a), int(b), float(v)) for a, b, v in zip(pi[sel], pj[sel], x[sel], strict=True)]
    return res.objective, y, shares
