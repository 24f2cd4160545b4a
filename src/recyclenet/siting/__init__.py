"""Siting of collection stations and sorting centres on a demand × site cost matrix.

The public entry points are :func:`solve_siting` (one tier) and :func:`solve_two_tier`
(stations, then sorting centres); inputs are :class:`SitingProblem`, results
:class:`SitingPlan`. OR-Tools is reached only through :mod:`recyclenet.siting._ortools`,
and loaded only when a solve function is first used (so that option parsers can read
:mod:`recyclenet.siting.defaults` cheaply).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .defaults import DEFAULT_HOUSEHOLDS_PER_STATION
from .plan import SitingPlan, TwoTierPlan
from .problem import Demand, Site, SitingProblem

if TYPE_CHECKING:
    from .solve import solve_siting
    from .two_tier import centre_problem, solve_two_tier

_LAZY = {"solve_siting": ".solve", "solve_two_tier": ".two_tier", "centre_problem": ".two_tier"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_HOUSEHOLDS_PER_STATION",
    "Demand",
    "Site",
    "SitingPlan",
    "SitingProblem",
    "TwoTierPlan",
    "centre_problem",
    "solve_siting",
    "solve_two_tier",
]
