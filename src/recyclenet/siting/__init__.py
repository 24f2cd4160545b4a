"""Siting of collection stations and sorting centres on a demand × site cost matrix.

The public entry points are :func:`solve_siting` (one tier) and :func:`solve_two_tier`
(stations, then sorting centres); inputs are :class:`SitingProblem`, results
:class:`SitingPlan`. OR-Tools is reached only through :mod:`recyclenet.siting._ortools`.
"""

from __future__ import annotations

from .plan import SitingPlan, TwoTierPlan
from .problem import Demand, Site, SitingProblem
from .solve import solve_siting
from .two_tier import centre_problem, solve_two_tier

__all__ = [
    "Demand",
    "Site",
    "SitingPlan",
    "SitingProblem",
    "TwoTierPlan",
    "centre_problem",
    "solve_siting",
    "solve_two_tier",
]
