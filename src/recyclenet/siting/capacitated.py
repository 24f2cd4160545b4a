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
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from .. import progress
from ..errors import SolverError
from . import _models
from . import capacitated_heuristics as ch
from ._context import (
    FULL_LIST_PAIRS,
    OPTIMALITY_GAP,
    Outcome,
    SolveContext,
    infeasible,
    relative_gap,
    within_budget,
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
#: Sites per demand point in the CFLP heuristic's lists (more only if capacity needs it).
CFLP_HEURISTIC_LIST = 30
#: Share of the time limit the heuristic may use at most (it usually needs far less).
HEURISTIC_SHARE = 0.4
#: Below this many seconds left the MIP is not started (the heuristic plan stands).
MIN_MIP_S = 0.3
#: Min stations: share of the time left for the LP relaxation's bound before the MIP.
LP_SHARE = 0.3
#: CFLP: share of the time left for the Lagrangian bound after the greedy.
LAGRANGIAN_SHARE = 0.15


def solve_capacitated(
    problem: SitingProblem,
    cost: FloatArray,
    weight: FloatArray,
    load: FloatArray,
    split: BoolArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    """Min stations or CFLP on the rows given (uncoverable rows already removed).

    ``split`` marks rows whose load is above every single site's capacity: they may be
    split across sites whatever ``single_source`` says.
    """
    if problem.model == "cflp":
        return _cflp(problem, cost, weight, load, split, rules, ctx)
    return _min_stations(problem, cost, weight, load, split, rules, ctx)


def _min_stations(
    problem: SitingProblem,
    cost: FloatArray,
    weight: FloatArray,
    load: FloatArray,
    split: BoolArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    """Greedy cover + drop, then the capacitated covering MIP capped at the greedy count."""
    n, m = cost.shape
    solver = ctx.solver
    capacity = problem.capacity_array()
    assert problem.radius is not None
    ok = np.isfinite(cost) & (cost <= problem.radius) & rules.allowed[None, :]
    pi, pj = np.nonzero(ok)
    pi, pj = pi.astype(np.int64), pj.astype(np.int64)
    scale = float(weight.sum()) * problem.radius
    pair_cost = 0.5 * weight[pi] * cost[pi, pj] / max(scale, 1e-12)
    if not problem.single_source:
        split = np.ones(n, dtype=bool)
    start = time.perf_counter()
    heur_deadline = start + HEURISTIC_SHARE * ctx.remaining_s()
    progress.phase("heuristic", "greedy cover")
    pairs = ch.Pairs.build(pi, pj, pair_cost, n, m)
    heur = ch.greedy_cover(pairs, forced=rules.forced, allowed=rules.allowed, load=load,
                           capacity=capacity, split=split, deadline=heur_deadline)  # fmt: skip
    split = split | _split_by(heur, n)  # rows the greedy had to split to fit the capacities
    best: ch.Solution | None = None
    if (
        heur.feasible
        and within_budget(rules, heur.open_mask)
        and (rules.p is None or heur.open_mask.sum() <= rules.p)
    ):
        best = heur
    heur_count = float(heur.open_mask.sum()) if best is not None else math.nan
    lower = float(ch.capacity_lower_bound(load, capacity, rules.allowed, rules.forced))
    progress.incumbent("greedy cover", heur_count, force=True)
    progress.bound(lower)  # total load over the largest capacities
    solver_used = "heuristic"
    message = ""
    mip_rules = rules
    if best is not None:  # the MIP only looks for plans with no more stations
        cap_p = int(best.open_mask.sum()) if rules.p is None else min(rules.p, int(heur_count))
        mip_rules = replace(rules, p=cap_p, p_exact=False)
    proven = best is not None and heur_count <= lower
    built = None
    if not proven and ctx.remaining_s() > MIN_MIP_S:
        built = _models.capacitated(n, pi, pj, pair_cost, load, capacity, np.ones(m), mip_rules,
                                    single_source=True, split_rows=split)  # fmt: skip
        if best is not None and ctx.remaining_s() > 3 * MIN_MIP_S:
            # the LP relaxation: a bound on the count even when the MIP is cut short
            lp = replace(built.model, is_integer=np.zeros_like(built.model.is_integer))
            progress.phase("bound", f"{solver} LP relaxation")
            lp_res = ctx.mip(lp, share=LP_SHARE)
            if lp_res.status == "optimal" and math.isfinite(lp_res.objective):
                lower = max(lower, float(math.ceil(lp_res.objective - 0.5 - 1e-9)))
                progress.bound(lower)
            proven = heur_count <= lower
    if built is not None and not proven and ctx.remaining_s() > MIN_MIP_S:
        progress.phase("mip", solver)
        res: MipResult = ctx.mip(built.model)
        if res.status == "infeasible" and best is None:
            return infeasible(
                solver, "no assignment respects the capacities, radius, budget and p together"
            )
        if math.isfinite(res.bound):
            lower = max(lower, float(math.ceil(res.bound - 0.5 - 1e-9)))
            progress.bound(lower)
        if res.values is not None:
            y = built.y(res.values)
            x = built.pair_values(res.values)
            sel = x > 1e-6
            shares = [(int(a), int(b), float(v))
                      for a, b, v in zip(pi[sel], pj[sel], x[sel], strict=True)]  # fmt: skip
            mip_obj = float(y.sum()) + float((pair_cost * x).sum())
            if best is None or mip_obj < best.open_mask.sum() + best.assign_cost - 1e-9:
                best = ch.Solution(y, shares, np.zeros(0, dtype=np.int64), mip_obj - y.sum())
                solver_used = solver
            progress.incumbent(solver, float(y.sum()), force=True)
            if res.status == "optimal":
                proven = True
        elif res.status != "infeasible":
            message = f"{solver} found no better plan within the time limit"
    if best is None:
        return Outcome(None, "time_limit_no_solution", math.nan, lower, solver_used,
                       "neither the greedy cover nor the MIP found a plan within the time "
                       "limit (budget or p too tight?)")  # fmt: skip
    best = _drop_empty(best, rules)
    objective = float(best.open_mask.sum())
    if proven:
        lower = max(lower, objective)
    gap = relative_gap(objective, lower)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    origin = ("greedy cover + drop heuristic" if solver_used == "heuristic"
              else f"{solver} improved the greedy cover")  # fmt: skip
    if status == "optimal":
        message = f"{origin}; proven optimal"
    else:
        message = f"{origin}; " + (message or "time limit reached")
    check_shares(best.shares, best.open_mask, ok, load, capacity, split)
    return Outcome(best.open_mask, status, objective, lower, solver_used, message,
                   shares=best.shares, heuristic_objective=heur_count)  # fmt: skip


def _split_by(sol: ch.Solution, n: int) -> BoolArray:
    """Rows (of ``n``) a heuristic solution serves from more than one site."""
    rows = np.array([i for i, _, sh in sol.shares if sh > 1e-4], dtype=np.int64)
    return np.bincount(rows, minlength=n)[:n] > 1


def check_shares(
    shares: list[tuple[int, int, float]],
    open_mask: BoolArray,
    reach: BoolArray,
    load: FloatArray,
    capacity: FloatArray,
    split: BoolArray,
) -> None:
    """Check a capacitated assignment before it becomes a plan.

    Every row served in full by open sites in its reach, only split rows in parts, no
    site above its capacity. Raises :class:`SolverError` naming the first violation (a
    bug, never an input problem).
    """
    n = load.size
    total = np.zeros(n)
    parts = np.zeros(n, dtype=np.int64)
    served = np.zeros(open_mask.size)
    for i, j, sh in shares:
        if not (open_mask[j] and reach[i, j]) or sh < -1e-9:
            raise SolverError(f"row {i} assigned to site {j} that is closed or out of reach")
        total[i] += sh
        parts[i] += sh > 1e-4  # MIP noise on a binary is not a split
        served[j] += sh * load[i]
    bad = np.nonzero(np.abs(total - 1.0) > 1e-5)[0]
    if bad.size:
        raise SolverError(f"rows {bad[:10].tolist()} are not served in full")
    bad = np.nonzero((parts > 1) & ~split)[0]
    if bad.size:
        raise SolverError(f"single-source rows {bad[:10].tolist()} are split")
    over = np.nonzero(served > capacity * (1 + 1e-5) + 1e-5)[0]
    if over.size:
        raise SolverError(f"sites {over[:10].tolist()} above their capacity")


def _drop_empty(
    sol: ch.Solution, rules: _models.SiteRules, keep_also: BoolArray | None = None
) -> ch.Solution:
    """Close open sites that serve nobody, unless they must (or ``keep_also``) stay open."""
    used = np.zeros(sol.open_mask.size, dtype=bool)
    for _, j, s in sol.shares:
        if s > 0:
            used[j] = True
    stay = rules.forced if keep_also is None else rules.forced | keep_also
    keep = sol.open_mask & (used | stay)
    return ch.Solution(keep, sol.shares, sol.left, sol.assign_cost)


def _cflp(
    problem: SitingProblem,
    cost: FloatArray,
    weight: FloatArray,
    load: FloatArray,
    split: BoolArray,
    rules: _models.SiteRules,
    ctx: SolveContext,
) -> Outcome:
    """Greedy start, then CFLP over each demand point's cheapest sites, grown until unused.

    The greedy (add by saving, open for capacity, drop) gives the incumbent. Each
    round's MIP optimum is a lower bound. Rows that use their overflow get their list
    doubled plus every site open in that round. With split demand, each round's open
    set is also completed into a feasible plan by a transportation LP over all pairs
    (an upper bound). The best plan found is returned, so the heuristic plan stands
    when the MIP is cut short.
    """
    n, m = cost.shape
    deadline, solver = ctx.perf_deadline(), ctx.solver
    capacity = problem.capacity_array()
    if not problem.single_source:
        split = np.ones(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        unit = problem.cost_per_unit * weight[:, None] * cost
    unit = np.where(rules.allowed[None, :] & np.isfinite(cost), unit, np.inf)
    order = np.argsort(unit, axis=1, kind="stable")
    srt = np.take_along_axis(unit, order, axis=1)
    finite = np.isfinite(unit)
    finite_count = finite.sum(axis=1)
    site_cost = rules.fixed_cost - rules.closing_cost
    offset = float(rules.closing_cost.sum())
    best: tuple[float, BoolArray, list[tuple[int, int, float]]] | None = None
    heur_obj = math.nan
    start = time.perf_counter()
    heur_deadline = start + HEURISTIC_SHARE * max(0.0, deadline - start)
    progress.phase("heuristic", "greedy+drop")
    for k in (CFLP_HEURISTIC_LIST, m):  # short lists first; all pairs if capacity needs it
        k_h = np.minimum(finite_count, k)
        rr, cc = np.nonzero(np.arange(min(k, m))[None, :] < k_h[:, None])
        hj = order[rr, cc].astype(np.int64)
        pairs = ch.Pairs.build(rr.astype(np.int64), hj, unit[rr, hj], n, m)
        heur = ch.greedy_cflp(pairs, forced=rules.forced, allowed=rules.allowed, load=load,
                              capacity=capacity, split=split, site_cost=site_cost,
                              deadline=heur_deadline)  # fmt: skip
        if heur.feasible or k >= m or time.perf_counter() > heur_deadline:
            break
    split = split | _split_by(heur, n)  # rows the greedy had to split to fit the capacities
    if (
        heur.feasible
        and within_budget(rules, heur.open_mask)
        and (rules.p is None or heur.open_mask.sum() <= rules.p)
    ):
        heur_obj = float(site_cost[heur.open_mask].sum()) + heur.assign_cost + offset
        best = (heur_obj, heur.open_mask, heur.shares)
        progress.incumbent("greedy+drop", heur_obj, force=True)
    solver_used = "heuristic"
    if n * int(rules.allowed.sum()) <= FULL_LIST_PAIRS:
        k_row = finite_count.copy()
    else:
        k_row = np.minimum(finite_count, CFLP_INITIAL_LIST)
    extra = np.zeros((n, m), dtype=bool)
    site_cost = rules.fixed_cost - rules.closing_cost
    offset = float(rules.closing_cost.sum())
    lower = -math.inf
    if best is not None:  # Lagrangian bound: may prove the greedy plan without a MIP
        lag_deadline = time.perf_counter() + LAGRANGIAN_SHARE * max(0.0, ctx.remaining_s())
        progress.phase("bound", "lagrangian")
        lower = offset + ch.cflp_lagrangian_bound(
            unit, load, capacity, site_cost, forced=rules.forced, allowed=rules.allowed,
            upper=best[0] - offset, deadline=lag_deadline,
        )  # fmt: skip
        progress.bound(lower)
    rounds = 0
    proven = best is not None and best[0] - lower <= OPTIMALITY_GAP * max(1.0, abs(best[0]))
    while not proven and ctx.remaining_s() > MIN_MIP_S:
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
            single_source=True,
            offset=offset,
            overflow_rows=o_rows,
            overflow_cost=o_cost,
            split_rows=split,
        )
        progress.phase("mip", solver)
        res = ctx.mip(built.model)
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
            if best is not None:
                break  # cannot happen with a feasible incumbent; keep it
            return infeasible(
                solver, "no assignment respects the capacities, budget and p together"
            )
        if math.isfinite(res.bound):
            lower = max(lower, res.bound)
            progress.bound(lower)
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
            if best is None or res.objective < best[0] - 1e-9 * max(1.0, abs(best[0])):
                best = (res.objective, y, shares)
                solver_used = solver
            progress.incumbent(solver, res.objective, force=True)
            proven = res.status == "optimal"
            break
        if split.all():
            repaired = _transport(
                problem, unit, y, load, capacity, site_cost, offset, rules, deadline, solver
            )
            if repaired is not None and (best is None or repaired[0] < best[0]):
                best = repaired
                solver_used = solver
                progress.incumbent(solver, repaired[0], force=True)
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
            solver_used,
            "neither the greedy nor the MIP found a complete plan within the time limit",
        )
    objective, y, shares = best
    check_shares(shares, y, finite, load, capacity, split)
    # an existing site whose closing costs more than keeping it stays open
    dropped = _drop_empty(ch.Solution(y, shares, np.zeros(0, dtype=np.int64)), rules,
                          keep_also=site_cost < 0)  # fmt: skip
    objective -= float(site_cost[y & ~dropped.open_mask].sum())
    y = dropped.open_mask
    bound = objective if proven else lower
    gap = relative_gap(objective, bound)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    origin = ("greedy + drop heuristic" if solver_used == "heuristic"
              else f"{solver} (from the greedy start)")  # fmt: skip
    return Outcome(
        y,
        status,
        objective,
        bound,
        solver_used,
        f"{origin}; proven optimal in {rounds} round(s)"
        if status == "optimal"
        else f"{origin}; time limit reached",
        shares=shares,
        heuristic_objective=heur_obj,
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
