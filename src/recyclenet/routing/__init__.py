"""Daily pickup routes: problem types, engines (OR-Tools, PyVRP), unserved reasons, plans.

Build a :class:`RoutingProblem` from :class:`Order`, :class:`VehicleType`,
:class:`Depot`, :class:`Facility` and one :class:`~recyclenet.Matrix` per road profile,
then call :func:`solve_routing`; :func:`replan` re-optimises a plan in progress and
:func:`check_plan` verifies any plan against its problem.
"""

from ._pyvrp import fits_pyvrp
from .check import Violation, check_plan
from .geojson import plan_to_geojson, route_tables
from .instances import load_instance
from .io import pad_unreachable, read_fleet, read_orders, read_sites
from .plan import REASONS, Break, Route, RoutePlan, Unserved, Visit
from .problem import (
    DIMENSIONS,
    Depot,
    Facility,
    ItemLine,
    Order,
    RoutingProblem,
    VehicleType,
)
from .replan import replan
from .solve import solve_routing
from .unserved import Diagnosis, diagnose

__all__ = [
    "DIMENSIONS",
    "REASONS",
    "Break",
    "Depot",
    "Diagnosis",
    "Facility",
    "ItemLine",
    "Order",
    "Route",
    "RoutePlan",
    "RoutingProblem",
    "Unserved",
    "VehicleType",
    "Violation",
    "Visit",
    "check_plan",
    "diagnose",
    "fits_pyvrp",
    "load_instance",
    "pad_unreachable",
    "plan_to_geojson",
    "read_fleet",
    "read_orders",
    "read_sites",
    "replan",
    "route_tables",
    "solve_routing",
]
