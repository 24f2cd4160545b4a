"""What every siting model family shares: the solve context, the outcome, site rules.

A :class:`SolveContext` holds the :class:`~recyclenet.deadline.Deadline` (one monotonic
clock for every solver), the MIP solver, seed and threads; :meth:`SolveContext.mip` is
the one place a family calls the MIP adapter, with the time left. A family returns an
:class:`Outcome` (positions, not ids), which :mod:`.assemble` turns into a
:class:`SitingPlan`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..deadline import Deadline
from . import _models
from ._ortools import MipResult, SolverName, solve_mip
from .linear_model import LinearModel
from .plan import PlanStatus
from .problem import SitingProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Relative tolerance under which a solution counts as optimal.
OPTIMALITY_GAP = 1e-6
#: Models with at most this many (demand, open-able site) pairs get full lists at once.
FULL_LIST_PAIRS = 60_000


@dataclass(frozen=True)
class SolveContext:
    """Deadline and solver settings of one solve, passed to every model family.

    Attributes
    ----------
    deadline : Deadline
        When the family must return (the plan is built after it).
    solver : {"highs", "scip"}
    seed, threads : int
    """

    deadline: Deadline
    solver: SolverName = "highs"
    seed: int = 0
    threads: int = 1

    def remaining_s(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return self.deadline.remaining_s()

    def perf_deadline(self) -> float:
        """The deadline as a ``time.perf_counter()`` value, for the position-level
        heuristics that compare against that counter."""
        return time.perf_counter() + self.deadline.remaining_s()

    def mip(
        self, model: LinearModel, *, min_s: float = 0.1, share: float = 1.0
    ) -> MipResult:
        """Solve ``model`` with ``share`` of the time left (at least ``min_s`` seconds)."""
        return solve_mip(model, time_limit_s=max(min_s, share * self.remaining_s()),
                         solver=self.solver, seed=self.seed, threads=self.threads)  # fmt: skip


class Outcome:
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


def infeasible(solver: str, message: str) -> Outcome:
    """An outcome without a plan, with the reason."""
    return Outcome(None, "infeasible", math.nan, math.nan, solver, message)


def site_rules(problem: SitingProblem) -> _models.SiteRules:
    """Forced, allowed, costs, p and budget of the sites, in problem order."""
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


def within_budget(rules: _models.SiteRules, open_mask: BoolArray) -> bool:
    """Whether fixed costs of open sites plus closing costs of closed ones fit the budget."""
    if rules.budget is None:
        return True
    spent = float(rules.fixed_cost[open_mask].sum() + rules.closing_cost[~open_mask].sum())
    return spent <= rules.budget * (1 + 1e-9) + 1e-9


def relative_gap(objective: float, bound: float) -> float:
    """|objective - bound| / |objective|; nan when either is unknown."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.nan
    return abs(objective - bound) / max(abs(objective), 1e-12)
