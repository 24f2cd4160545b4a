"""Solve one siting problem: dispatch to its model family, then assemble the plan.

``solve_siting`` never mutates its input and always returns a :class:`SitingPlan`
with a status. One module per model family: :mod:`.p_median`, :mod:`.coverage` (max
coverage), :mod:`.capacitated` (min stations, CFLP); what they share (deadline, MIP
call, outcome) is in :mod:`._context`, plan assembly in :mod:`.assemble`, two tiers in
:mod:`.two_tier`.
"""

from __future__ import annotations

import math
import time
from typing import Literal

import numpy as np

from .. import progress as _progress
from ..deadline import Deadline
from ..errors import InputError
from ..progress import Progress
from ._context import Outcome, SolveContext, site_rules
from ._ortools import GRACE_S, SolverName
from .assemble import build_plan
from .capacitated import solve_capacitated
from .coverage import solve_max_coverage
from .p_median import solve_p_median
from .plan import SitingPlan
from .problem import SitingProblem


def solve_siting(
    problem: SitingProblem,
    *,
    time_limit_s: float = 30.0,
    seed: int = 0,
    solver: SolverName = "highs",
    threads: int = 1,
    deadline: Deadline | None = None,
    progress: Progress | None = None,
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
    deadline : Deadline, optional
        The caller's deadline (e.g. a two-tier solve's); default
        ``Deadline.after(time_limit_s)``.
    progress : callable, optional
        Called while solving with ``{"phase", "engine", "elapsed_s", "time_limit_s",
        "share", "best_objective", "bound", "gap"}`` (see :mod:`recyclenet.progress`):
        phases ``heuristic``, ``bound`` (Lagrangian or LP relaxation), ``mip`` (one per
        exact round; elapsed time is reported while it runs, the MIP's incumbent and
        bound when it returns: the MIP runs in a child process without callbacks) and
        ``done`` (the plan's objective and bound). Elapsed and share are of
        ``deadline`` when given.

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
    if deadline is None:
        deadline = Deadline.after(float(time_limit_s))
    sense: Literal["min", "max"] = "max" if problem.model == "max_coverage" else "min"
    with _progress.reporting(progress, deadline, objective="best_objective", sense=sense,
                             bounds=True):  # fmt: skip
        plan = _solve(problem, deadline, time_limit_s, seed, solver, threads, t0)
        solved = plan.status in ("optimal", "feasible")
        _progress.incumbent(plan.solver, plan.objective if solved else None, force=True)
        _progress.bound(plan.bound)
        _progress.phase("done")
    return plan


def _solve(
    problem: SitingProblem,
    deadline: Deadline,
    time_limit_s: float,
    seed: int,
    solver: SolverName,
    threads: int,
    t0: float,
) -> SitingPlan:
    # keep room for the solver's grace period and for building the plan
    limit = min(deadline.remaining_s(), float(time_limit_s))
    work = deadline.earlier(min(0.1 * limit, GRACE_S + 0.5))
    ctx = SolveContext(deadline=work, solver=solver, seed=seed, threads=threads)
    rules = site_rules(problem)
    cost = problem.cost_array()
    weight = problem.weight_array()
    # demand no plan can serve is left out (uncoverable="leave"; "raise" raised already)
    keep = np.ones(len(problem.demand), dtype=bool)
    keep[list(problem.uncoverable_reasons())] = False
    rows = np.nonzero(keep)[0]
    if problem.model == "max_coverage":
        out = solve_max_coverage(problem, cost, weight, rules, ctx)
    elif rows.size == 0:
        out = Outcome(rules.forced.copy(), "optimal", 0.0, 0.0, "none",
                      "no demand point can be served: nothing to solve")  # fmt: skip
    elif problem.model == "p_median":
        out = solve_p_median(problem, cost[rows], weight[rows], rules, ctx)
    else:
        out = solve_capacitated(problem, cost[rows], weight[rows], problem.load_array()[rows],
                                problem.split_rows()[rows], rules, ctx)  # fmt: skip
        if out.shares is not None:
            out.shares = [(int(rows[i]), j, v) for i, j, v in out.shares]
    left = len(problem.demand) - rows.size
    if left and problem.model != "max_coverage":
        out.message += f"; {left} demand point(s) no site can serve left unassigned"
    return build_plan(problem, out, cost, time.perf_counter() - t0)
