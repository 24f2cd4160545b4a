"""Maximal coverage: greedy + interchange on the 0/1 "not covered" cost, then the MCLP.

The heuristic is the p-median one (:mod:`.heuristics`) on the cost "1 if not covered";
the exact model is the classic MCLP with continuous coverage variables over the sites
within the radius (:func:`._models.max_coverage`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt

from .. import progress
from . import _models
from ._context import OPTIMALITY_GAP, Outcome, SolveContext, infeasible, relative_gap, within_budget
from .heuristics import covering_pairs, greedy_interchange
from .plan import PlanStatus
from .problem import SitingProblem

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def solve_max_coverage(
    problem: SitingProblem,
    metric: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    n, m = metric.shape
    deadline, solver = ctx.perf_deadline(), ctx.solver
    assert rules.p is not None and problem.radius is not None
    radius = problem.radius
    covers = (metric <= radius) & rules.allowed[None, :]
    cost01 = np.where(covers, 0.0, 1.0)
    cost01[:, ~rules.allowed] = np.inf
    pairs = covering_pairs(np.where(rules.allowed[None, :], metric, np.inf), radius)
    forced = np.nonzero(rules.forced)[0]
    budget_s = max(0.0, deadline - time.perf_counter())
    progress.phase("heuristic", "greedy+interchange")
    heur = greedy_interchange(
        cost01,
        weight,
        rules.p,
        forced=forced,
        allowed=rules.allowed,
        pairs=pairs,
        time_limit_s=0.3 * budget_s,
    )
    heur_mask = np.zeros(m, dtype=bool)
    heur_mask[heur.open_sites] = True
    total = float(weight.sum())
    best_open: BoolArray | None = None
    best_obj = -math.inf
    if within_budget(rules, heur_mask):
        best_open, best_obj = heur_mask, total - heur.objective
        progress.incumbent("greedy+interchange", best_obj, force=True)
    rows = np.nonzero(covers.any(axis=1) & (weight > 0))[0]
    upper = float(weight[rows].sum())
    progress.bound(upper)  # every coverable household covered
    solver_used = "heuristic"
    message = ""
    if rows.size:
        pos = np.full(n, -1)
        pos[rows] = np.arange(rows.size)
        ci, cj = np.nonzero(covers[rows])
        built = _models.max_coverage(
            rows.size, weight[rows], ci.astype(np.int64), cj.astype(np.int64), rules
        )
        progress.phase("mip", solver)
        res = ctx.mip(built.model)
        if res.status == "infeasible":
            return infeasible(solver, "the model is infeasible (budget, required sites or p)")
        if math.isfinite(res.bound):
            upper = min(upper, res.bound)
        if res.values is not None:
            y = built.y(res.values)
            val = float(weight[(covers[:, y]).any(axis=1)].sum())
            if val > best_obj:
                best_open, best_obj = y, val
            solver_used = solver
            if res.status == "optimal":
                upper = min(upper, res.objective)
            progress.incumbent(solver, val, force=True)
        else:
            message = f"{solver} found no solution within the time limit"
        progress.bound(upper)
    if best_open is None:
        return Outcome(None, "time_limit_no_solution", math.nan, upper, solver_used, message)
    gap = relative_gap(best_obj, upper)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    return Outcome(
        best_open,
        status,
        best_obj,
        upper,
        solver_used,
        message or ("proven optimal" if status == "optimal" else "time limit reached"),
        heuristic_objective=total - heur.objective,
    )
