"""Solve siting problems: heuristic start, exact model, plan with status and indicators.

``solve_siting`` never mutates its input and always returns a :class:`SitingPlan`
with a status. The flow per model:

p-median
    1. Greedy + interchange (:mod:`.heuristics`) gives an incumbent (exact objective on
       the full matrix) in well under a second on 1,000 x 200.
    2. A Lagrangian relaxation (subgradient) gives a lower bound and *fixes* sites:
       a site whose opening provably costs more than the incumbent is closed, one
       whose closing does is forced open. On OR-Library pmed this removes 80-99% of
       the sites before the MIP (pmed11: 278 of 300).
    3. The MIP is Elloumi's radius formulation (:func:`._models.p_median_radius`)
       over the remaining sites, restricted per demand point to the sites no farther
       than ``INITIAL_FACTOR`` x its incumbent distance (all pairs when small), with an
       overflow level priced at the first site left out, so its optimum is a lower
       bound. Rows that use the overflow get longer lists and the model is solved
       again, until no overflow is used (proven optimal), the bound meets the
       incumbent, or time runs out. Each MIP solution is re-evaluated on the full
       matrix; the best plan found is returned with the best proven bound.
    4. When the restricted model would still have more than ``MIP_PAIR_LIMIT``
       assignment pairs (e.g. 20,000 x 2,000 with p = 100: ~490,000) HiGHS cannot
       finish within tens of seconds, so the MIP is skipped and the time goes to the
       interchange and the Lagrangian bound, reported as the gap.
    Measured alternatives (see the closing note): the x_ij <= y_j formulation gives the
    same bounds and similar times; SCIP was 4-5x slower than HiGHS on the same models;
    HiGHS crashes (SIGSEGV) when given a MIP hint through OR-Tools' model_builder, so
    no hint is passed: the incumbent is kept outside the solver.
max coverage
    The same heuristic on the 0/1 "not covered" cost, then the classic MCLP with
    continuous coverage variables over the sites within the radius.
min stations
    A capacitated covering model (pairs within the radius, capacity = site capacity
    or the households-per-station norm), objective = number of stations + a tie-break
    on weighted access that is < 0.5 in total.
CFLP
    Strong capacitated facility location (x_ij <= y_j, the aggregate capacity cut),
    single-source (binary x) by default, multi-source on request.

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

import logging
import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ..errors import InputError
from ..matrix import Matrix
from . import _models
from ._ortools import GRACE_S, LinearModel, MipResult, SolverName, solve_mip
from .heuristics import (
    DENSE_LIMIT,
    covering_pairs,
    evaluate,
    greedy_interchange,
    lagrangian_bound,
    nearest_pairs,
)
from .plan import Assignment, Indicators, PlanStatus, SitingPlan, TwoTierPlan
from .problem import Demand, Site, SitingProblem

_log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: p-median lists start with the sites within this factor of the incumbent's distance.
INITIAL_FACTOR = 1.5
#: Rows that use their overflow get the sites within this factor of their distance.
GROW_FACTOR = 2.0
#: Models with at most this many (demand, open-able site) pairs get full lists at once.
FULL_LIST_PAIRS = 60_000
#: Above this many estimated assignment pairs the MIP is skipped (it could not finish in
#: a time limit of tens of seconds with HiGHS); the time goes to the heuristic and the
#: Lagrangian bound instead.
MIP_PAIR_LIMIT = 250_000
#: CFLP: cheapest sites per demand point in the first restricted model.
CFLP_INITIAL_LIST = 10
#: Pairs per demand point in the Lagrangian of large cases (measured on 20,000 x 2,000,
#: p = 100: 32 gave a 3.1% gap, 64 4.1%, 128 6.9% within 30 s).
LAGRANGIAN_LIST_SIZE = 32
#: Share of the time limit for the Lagrangian bound and fixing.
LAGRANGIAN_SHARE = 0.1
#: Relative tolerance under which a solution counts as optimal.
OPTIMALITY_GAP = 1e-6


class _Outcome:
    """What a model-specific solver hands to the plan builder (positions)."""

    def __init__(
        self,
        open_mask: BoolArray | None,
        status: PlanStatus,
        objective: float,
        bound: float,
        solver: str,
        message: str = "",
        shares: list[tuple[int, int, float]] | None = None,
        heuristic_objective: float = math.nan,
    ) -> None:
        self.open_mask = open_mask
        self.status = status
        self.objective = objective
        self.bound = bound
        self.solver = solver
        self.message = message
        self.shares = shares  # explicit (demand, site, share) for capacitated models
        self.heuristic_objective = heuristic_objective


def _infeasible(solver: str, message: str) -> _Outcome:
    return _Outcome(None, "infeasible", math.nan, math.nan, solver, message)


def _rules(problem: SitingProblem) -> _models.SiteRules:
    forced_ids = set(problem.forced_open_ids)
    forced = np.array([s.id in forced_ids for s in problem.sites])
    allowed = np.array([s.status != "forbidden" for s in problem.sites])
    closing = np.array(
        [
            s.closing_cost if (s.status == "existing" and problem.keep_existing != "all") else 0.0
            for s in problem.sites
        ]
    )
    return _models.SiteRules(
        forced=forced,
        allowed=allowed,
        fixed_cost=np.array([s.fixed_cost for s in problem.sites]),
        closing_cost=closing,
        p=problem.p,
        p_exact=problem.model in ("p_median", "max_coverage"),
        budget=problem.budget,
    )


def _within_budget(rules: _models.SiteRules, open_mask: BoolArray) -> bool:
    if rules.budget is None:
        return True
    spent = float(rules.fixed_cost[open_mask].sum() + rules.closing_cost[~open_mask].sum())
    return spent <= rules.budget * (1 + 1e-9) + 1e-9


def _gap(objective: float, bound: float) -> float:
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.nan
    return abs(objective - bound) / max(abs(objective), 1e-12)


# -- p-median ----------------------------------------------------------------------------


def _sorted_prefix(
    cost: FloatArray, rows: IntArray, k: int, closed: BoolArray
) -> tuple[IntArray, FloatArray]:
    """The ``k`` cheapest columns of the given rows, sorted, skipping closed columns."""
    sub = cost[rows]
    sub[:, closed] = np.inf
    m = sub.shape[1]
    if k >= m:
        idx = np.argsort(sub, axis=1, kind="stable")
    else:
        part = np.argpartition(sub, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(sub, part, axis=1)
        idx = np.take_along_axis(part, np.argsort(vals, axis=1, kind="stable"), axis=1)
    return idx.astype(np.int64), np.take_along_axis(sub, idx, axis=1)


def _p_median(
    problem: SitingProblem,
    cost: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    deadline: float,
    solver: SolverName,
    seed: int,
    threads: int,
) -> _Outcome:
    n, m = cost.shape
    assert rules.p is not None
    start = time.perf_counter()
    budget_s = max(0.0, deadline - start)
    forced = np.nonzero(rules.forced)[0]
    pairs = nearest_pairs(cost)
    heur = greedy_interchange(
        cost,
        weight,
        rules.p,
        forced=forced,
        allowed=rules.allowed,
        pairs=pairs,
        time_limit_s=0.5 * budget_s,
    )
    best_open: BoolArray | None = None
    best_obj = math.inf
    heur_mask = np.zeros(m, dtype=bool)
    heur_mask[heur.open_sites] = True
    if _within_budget(rules, heur_mask) and math.isfinite(heur.objective):
        best_open, best_obj = heur_mask, heur.objective
    # exact part sizing: lists of sites no farther than INITIAL_FACTOR × the incumbent's
    active = np.nonzero(weight > 0)[0]
    cur = np.full(n, np.inf)
    if best_open is not None:
        _, _, cur = evaluate(cost, weight, np.nonzero(best_open)[0])
    est_pairs = (
        int(((cost[active] <= INITIAL_FACTOR * cur[active, None]).sum(axis=1) + 2).sum())
        if best_open is not None
        else active.size * 8
    )
    skip_mip = est_pairs > MIP_PAIR_LIMIT and best_open is not None
    # Lagrangian bound and fixing: sites closed/open in every solution cheaper than the
    # incumbent (valid with or without a budget, which only shrinks the feasible set)
    lag_lower = -math.inf
    closed = np.zeros(m, dtype=bool)
    opened = np.zeros(m, dtype=bool)
    fix_upper = math.inf
    if best_open is not None:
        lag_s = (deadline - time.perf_counter()) if skip_mip else LAGRANGIAN_SHARE * budget_s
        # on large cases shorter lists: more subgradient steps in the time, better bound
        lag_pairs = pairs if n * m <= DENSE_LIMIT else nearest_pairs(cost, LAGRANGIAN_LIST_SIZE)
        lag = lagrangian_bound(
            lag_pairs,
            weight,
            rules.p,
            m,
            upper=best_obj,
            start=np.where(np.isfinite(cur), weight * cur, 0.0),
            forced=forced,
            allowed=rules.allowed,
            iterations=2000 if skip_mip else 300,
            deadline=time.perf_counter() + lag_s,
        )
        lag_lower = lag.bound
        closed, opened = lag.closed, lag.opened
        fix_upper = best_obj
        _log.debug(
            "p-median: heuristic %.6g, Lagrangian bound %.6g, %d sites fixed closed, %d open",
            best_obj,
            lag_lower,
            int(closed.sum()),
            int(opened.sum()),
        )
    mip_rules = _models.SiteRules(
        forced=rules.forced | opened,
        allowed=rules.allowed & ~closed,
        fixed_cost=rules.fixed_cost,
        closing_cost=rules.closing_cost,
        p=rules.p,
        p_exact=rules.p_exact,
        budget=rules.budget,
    )
    mip_lower = -math.inf
    solver_used = "heuristic"
    message = ""
    # exact part: restricted lists, grown where the overflow is used
    if skip_mip:
        message = (
            f"exact model skipped: about {est_pairs} assignment pairs exceed "
            f"MIP_PAIR_LIMIT={MIP_PAIR_LIMIT}; bound from Lagrangian relaxation"
        )
        active = active[:0]
    finite_count = (np.isfinite(cost[active]) & mip_rules.allowed[None, :]).sum(axis=1)
    if best_open is not None:
        within = (
            (cost[active] <= INITIAL_FACTOR * cur[active, None]) & mip_rules.allowed[None, :]
        ).sum(axis=1)
        k_row = np.minimum(finite_count, within + 2)
    else:
        k_row = np.minimum(finite_count, 8)
    if active.size * int(mip_rules.allowed.sum()) <= FULL_LIST_PAIRS:
        k_row = finite_count.copy()  # small enough: every pair, one round
    k_row = np.maximum(k_row, 1)
    proven = False
    rounds = 0
    while True:
        remaining = deadline - time.perf_counter()
        if remaining < 0.2 or active.size == 0 or skip_mip:
            break
        rounds += 1
        kcap = int(k_row.max())
        idx, val = _sorted_prefix(cost, active, min(m, kcap + 1), closed)
        cols = np.arange(idx.shape[1])
        keep = (cols[None, :] < k_row[:, None]) & np.isfinite(val)
        rr, cc = np.nonzero(keep)
        pair_i = active[rr]
        pair_j = idx[rr, cc]
        pair_c = val[rr, cc]
        has_next = k_row < idx.shape[1]
        outside = np.full(active.size, np.inf)
        outside[has_next] = val[has_next, k_row[has_next]]
        outside_all = np.full(n, np.inf)
        outside_all[active] = outside
        built = _models.p_median_radius(n, weight, pair_i, pair_j, pair_c, outside_all, mip_rules)
        res = solve_mip(
            built.model, time_limit_s=remaining, solver=solver, seed=seed, threads=threads
        )
        solver_used = solver if res.values is not None else solver_used
        _log.debug(
            "p-median round %d: %d pairs, %d overflow rows, %s obj %.6g bound %.6g in %.2f s",
            rounds,
            pair_i.size,
            int(np.isfinite(outside).sum()),
            res.status,
            res.objective,
            res.bound,
            res.time_s,
        )
        if res.status == "infeasible":
            return _infeasible(solver, "the model is infeasible (budget, required sites or p)")
        if math.isfinite(res.bound):
            mip_lower = max(mip_lower, res.bound)
        if res.values is None:
            message = res.error or (
                f"{solver} found no solution within the time limit"
                + (" (stopped at the deadline)" if res.killed else "")
            )
            break
        y = built.y(res.values)
        true_obj, _, cur = evaluate(cost, weight, np.nonzero(y)[0])
        if best_open is None or true_obj < best_obj - 1e-9 * max(1.0, abs(best_obj)):
            best_open, best_obj = y, true_obj
        if res.status != "optimal":
            message = f"{solver} stopped at the time limit"
            break
        if best_obj - min(mip_lower, fix_upper) <= OPTIMALITY_GAP * max(1.0, abs(best_obj)):
            proven = True  # the restricted bound meets the incumbent
            break
        z = built.extra_values(res.values)
        used = (z > 1e-7) & (built.extra_rows >= 0)
        if not used.any():
            proven = True
            mip_lower = max(mip_lower, res.objective)
            break
        # grow the lists of rows that used their overflow
        used_rows = np.searchsorted(active, built.extra_rows[used])
        reach = GROW_FACTOR * np.maximum(cur[active[used_rows]], outside[used_rows])
        need = ((cost[active[used_rows]] <= reach[:, None]) & mip_rules.allowed[None, :]).sum(
            axis=1
        ) + 2
        k_row[used_rows] = np.minimum(
            finite_count[used_rows], np.maximum(need, 2 * k_row[used_rows])
        )
    # solutions outside the fixed set cost more than fix_upper >= best_obj
    lower = max(lag_lower, min(mip_lower, fix_upper))
    if best_open is None:
        return _Outcome(None, "time_limit_no_solution", math.nan, lower, solver_used, message)
    gap = _gap(best_obj, lower)
    status: PlanStatus = (
        "optimal" if (proven and gap <= OPTIMALITY_GAP) or gap <= 1e-9 else "feasible"
    )
    if status == "optimal":
        message = f"proven optimal in {rounds} exact round(s)"
    elif not message:
        message = "time limit reached"
    return _Outcome(
        best_open,
        status,
        best_obj,
        lower,
        solver_used,
        message,
        heuristic_objective=heur.objective,
    )


# -- max coverage ------------------------------------------------------------------------


def _max_coverage(
    problem: SitingProblem,
    metric: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    deadline: float,
    solver: SolverName,
    seed: int,
    threads: int,
) -> _Outcome:
    n, m = metric.shape
    assert rules.p is not None and problem.radius is not None
    radius = problem.radius
    covers = (metric <= radius) & rules.allowed[None, :]
    cost01 = np.where(covers, 0.0, 1.0)
    cost01[:, ~rules.allowed] = np.inf
    pairs = covering_pairs(np.where(rules.allowed[None, :], metric, np.inf), radius)
    forced = np.nonzero(rules.forced)[0]
    budget_s = max(0.0, deadline - time.perf_counter())
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
    if _within_budget(rules, heur_mask):
        best_open, best_obj = heur_mask, total - heur.objective
    rows = np.nonzero(covers.any(axis=1) & (weight > 0))[0]
    upper = float(weight[rows].sum())
    solver_used = "heuristic"
    message = ""
    if rows.size:
        pos = np.full(n, -1)
        pos[rows] = np.arange(rows.size)
        ci, cj = np.nonzero(covers[rows])
        built = _models.max_coverage(
            rows.size, weight[rows], ci.astype(np.int64), cj.astype(np.int64), rules
        )
        res = solve_mip(
            built.model,
            time_limit_s=max(0.1, deadline - time.perf_counter()),
            solver=solver,
            seed=seed,
            threads=threads,
        )
        if res.status == "infeasible":
            return _infeasible(solver, "the model is infeasible (budget, required sites or p)")
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
        else:
            message = f"{solver} found no solution within the time limit"
    if best_open is None:
        return _Outcome(None, "time_limit_no_solution", math.nan, upper, solver_used, message)
    gap = _gap(best_obj, upper)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    return _Outcome(
        best_open,
        status,
        best_obj,
        upper,
        solver_used,
        message or ("proven optimal" if status == "optimal" else "time limit reached"),
        heuristic_objective=total - heur.objective,
    )


# -- capacitated models (CFLP, min stations) ----------------------------------------------


def _capacitated(
    problem: SitingProblem,
    cost: FloatArray,
    metric: FloatArray,
    weight: FloatArray,
    rules: _models.SiteRules,
    deadline: float,
    solver: SolverName,
    seed: int,
    threads: int,
) -> _Outcome:
    n, m = cost.shape
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
        return _cflp(problem, cost, weight, rules, deadline, solver, seed, threads)
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
        return _infeasible(
            solver, "no assignment respects the capacities, radius, budget and p together"
        )
    if res.values is None:
        return _Outcome(
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
    gap = _gap(objective, bound)
    status: PlanStatus = (
        "optimal" if res.status == "optimal" or gap <= OPTIMALITY_GAP else "feasible"
    )
    return _Outcome(
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
    deadline: float,
    solver: SolverName,
    seed: int,
    threads: int,
) -> _Outcome:
    """CFLP over each demand point's cheapest sites, with overflow, grown until unused.

    Each round's MIP optimum is a lower bound. Rows that use their overflow get their
    list doubled plus every site open in that round. With split demand, each round's
    open set is also completed into a feasible plan by a transportation LP over all
    pairs (an upper bound), so a plan is returned even if the last round is cut short.
    """
    n, m = cost.shape
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
            return _infeasible(
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
        return _Outcome(
            None,
            "time_limit_no_solution",
            math.nan,
            lower,
            solver,
            f"{solver} found no complete plan within the time limit",
        )
    objective, y, shares = best
    bound = objective if proven else lower
    gap = _gap(objective, bound)
    status: PlanStatus = "optimal" if gap <= OPTIMALITY_GAP else "feasible"
    return _Outcome(
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


# -- plan --------------------------------------------------------------------------------


def _weighted_percentile(values: FloatArray, weights: FloatArray, q: float) -> float:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return math.nan
    v, w = values[ok], weights[ok]
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = np.cumsum(w) / w.sum()
    return float(v[min(int(np.searchsorted(cum, q / 100.0 - 1e-12)), v.size - 1)])


def assignment_indicators(
    *,
    households_total: float,
    weights: FloatArray,
    distance_m: FloatArray,
    duration_s: FloatArray,
    share_within_radius: float,
    households_by_site: Mapping[str, float],
    load_by_site: Mapping[str, float],
    capacity_by_site: Mapping[str, float],
) -> Indicators:
    """Plan indicators from assignment rows and per-open-site totals.

    ``weights`` are households × share of each assignment row, ``distance_m`` and
    ``duration_s`` its access distance and time; the three mappings are keyed by open
    site id, in plan order (capacity ``inf`` = none, so no utilisation).
    """

    def wmean(v: FloatArray) -> float:
        ok = np.isfinite(v) & (weights > 0)
        return float(np.average(v[ok], weights=weights[ok])) if ok.any() else math.nan

    per = np.array(list(households_by_site.values()), dtype=float)
    return Indicators(
        households_total=float(households_total),
        households_assigned=float(weights.sum()),
        share_households_within_radius=share_within_radius,
        access_distance_mean_m=wmean(distance_m),
        access_distance_p95_m=_weighted_percentile(distance_m, weights, 95),
        access_duration_mean_s=wmean(duration_s),
        access_duration_p95_s=_weighted_percentile(duration_s, weights, 95),
        households_per_station_min=float(per.min()) if per.size else math.nan,
        households_per_station_mean=float(per.mean()) if per.size else math.nan,
        households_per_station_max=float(per.max()) if per.size else math.nan,
        load_by_site={k: float(v) for k, v in load_by_site.items()},
        utilisation_by_site={
            k: float(load_by_site[k] / c) if math.isfinite(c) and c > 0 else math.nan
            for k, c in capacity_by_site.items()
        },
    )


def _plan(problem: SitingProblem, out: _Outcome, cost: FloatArray, time_s: float) -> SitingPlan:
    sites = problem.sites
    n = len(problem.demand)
    ids = problem.site_ids
    mx = problem.matrix
    r_map = {k: i for i, k in enumerate(mx.origin_ids)}
    c_map = {k: i for i, k in enumerate(mx.destination_ids)}
    r_pos = np.array([r_map[i] for i in problem.demand_ids], dtype=np.int64)
    c_pos = np.array([c_map[i] for i in ids], dtype=np.int64)
    hh = np.array([d.households for d in problem.demand])
    load = problem.load_array()
    cap = problem.capacity_array()
    open_mask = out.open_mask if out.open_mask is not None else np.zeros(len(sites), dtype=bool)
    shares: list[tuple[int, int, float]]
    if out.shares is not None:
        shares = out.shares
    elif open_mask.any():
        open_pos = np.nonzero(open_mask)[0]
        masked = cost[:, open_pos]
        slot = np.argmin(masked, axis=1)
        best = masked[np.arange(n), slot]
        if problem.model == "max_coverage":
            assert problem.radius is not None
            ok = best <= problem.radius
        else:
            ok = np.isfinite(best)
        shares = [(int(i), int(open_pos[slot[i]]), 1.0) for i in np.nonzero(ok)[0]]
    else:
        shares = []
    a_i = np.array([i for i, _, _ in shares], dtype=np.int64)
    a_j = np.array([j for _, j, _ in shares], dtype=np.int64)
    a_s = np.array([s for _, _, s in shares], dtype=float)
    d_vals = np.asarray(mx.distance_m)[r_pos[a_i], c_pos[a_j]] if shares else np.zeros(0)
    t_vals = np.asarray(mx.duration_s)[r_pos[a_i], c_pos[a_j]] if shares else np.zeros(0)
    dem_ids = problem.demand_ids
    assignment = tuple(
        Assignment(dem_ids[i], ids[j], s, float(dv), float(tv))
        for (i, j, s), dv, tv in zip(shares, d_vals, t_vals, strict=True)
    )
    assigned = np.zeros(n, dtype=bool)
    assigned[a_i] = True
    w_h = hh[a_i] * a_s
    site_hh = (
        np.bincount(a_j, weights=w_h, minlength=len(sites)) if shares else np.zeros(len(sites))
    )
    site_load = (
        np.bincount(a_j, weights=load[a_i] * a_s, minlength=len(sites))
        if shares
        else np.zeros(len(sites))
    )
    open_pos = np.nonzero(open_mask)[0]
    within = math.nan
    if problem.radius is not None and hh.sum() > 0:
        in_r = cost[a_i, a_j] <= problem.radius if shares else np.zeros(0, dtype=bool)
        within = float((w_h * in_r).sum() / hh.sum())

    indicators = assignment_indicators(
        households_total=float(hh.sum()),
        weights=w_h,
        distance_m=d_vals,
        duration_s=t_vals,
        share_within_radius=within,
        households_by_site={ids[j]: float(site_hh[j]) for j in open_pos},
        load_by_site={ids[j]: float(site_load[j]) for j in open_pos},
        capacity_by_site={ids[j]: float(cap[j]) for j in open_pos},
    )
    existing = np.array([s.status == "existing" for s in sites])
    return SitingPlan(
        model=problem.model,
        metric=problem.metric,
        status=out.status,
        objective=out.objective,
        bound=out.bound,
        gap=_gap(out.objective, out.bound),
        time_s=time_s,
        open_ids=tuple(ids[j] for j in open_pos),
        opened_ids=tuple(ids[j] for j in open_pos if not existing[j]),
        kept_ids=tuple(ids[j] for j in open_pos if existing[j]),
        closed_ids=tuple(ids[j] for j in np.nonzero(existing & ~open_mask)[0]),
        assignment=assignment,
        unassigned_ids=tuple(problem.demand[int(i)].id for i in np.nonzero(~assigned)[0]),
        indicators=indicators,
        heuristic_objective=out.heuristic_objective,
        solver=out.solver,
        message=out.message,
    )


def solve_siting(
    problem: SitingProblem,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    solver: SolverName = "highs",
    threads: int = 1,
) -> SitingPlan:
    """Solve a siting problem to proven optimality, or as well as the time limit allows.

    Parameters
    ----------
    problem : SitingProblem
        Not modified.
    time_limit_s : float, default 30
        Wall-clock limit in seconds for the whole solve; it holds whatever the solver
        does (the MIP runs in a child process that is stopped at the deadline), up to
        about one second of grace plus the time to build the plan.
    seed : int, default 0
        Solver random seed (same inputs and seed give the same plan).
    solver : {"highs", "scip"}
        MIP solver behind the OR-Tools adapter.
    threads : int, default 1

    Returns
    -------
    SitingPlan
        Status ``optimal`` (gap <= 1e-6), ``feasible`` (best plan found, with bound and
        gap), ``infeasible`` (with the reason in ``message``) or
        ``time_limit_no_solution``.
    """
    if not isinstance(problem, SitingProblem):
        raise InputError("solve_siting expects a SitingProblem")
    if not (time_limit_s > 0 and math.isfinite(time_limit_s)):
        raise InputError(f"time_limit_s must be positive and finite, got {time_limit_s!r}")
    if solver not in ("highs", "scip"):
        raise InputError(f"solver must be 'highs' or 'scip', got {solver!r}")
    t0 = time.perf_counter()
    # keep room for the solver's grace period and for building the plan
    deadline = t0 + float(time_limit_s) - min(0.1 * time_limit_s, GRACE_S + 0.5)
    rules = _rules(problem)
    cost = problem.cost_array()
    weight = problem.weight_array()
    args = (rules, deadline, solver, seed, threads)
    if problem.model == "p_median":
        out = _p_median(problem, cost, weight, *args)
    elif problem.model == "max_coverage":
        out = _max_coverage(problem, cost, weight, *args)
    else:
        out = _capacitated(problem, cost, problem.metric_array(), weight, *args)
    return _plan(problem, out, cost, time.perf_counter() - t0)


# -- two tiers ---------------------------------------------------------------------------


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

    Returns
    -------
    TwoTierPlan
    """
    t0 = time.perf_counter()
    plan1 = solve_siting(stations, time_limit_s=0.6 * time_limit_s, seed=seed, solver=solver)
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
    left = max(0.5, time_limit_s - (time.perf_counter() - t0))
    plan2 = solve_siting(prob2, time_limit_s=left, seed=seed, solver=solver)
    return TwoTierPlan(plan1, plan2, time.perf_counter() - t0)


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
    rules = _rules(stations)
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
