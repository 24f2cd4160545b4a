"""recyclenet: siting and routing for recycling networks on real OpenStreetMap roads."""

from .errors import InputError, NetworkError, RecyclenetError, SnapError, SolverError
from .frames import (
    demand_from_geodataframe,
    demand_to_geodataframe,
    orders_from_geodataframe,
    orders_to_geodataframe,
    points_from_geodataframe,
    points_to_geodataframe,
    sites_from_geodataframe,
    sites_to_geodataframe,
)
from .matrix import Matrix, build_matrix
from .network import (
    RoadNetwork,
    Route,
    VehicleProfile,
    get_profile,
    load_network,
    shortest_route,
    snap_points,
)
from .points import Points, read_points

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "Matrix",
    "NetworkError",
    "Points",
    "RecyclenetError",
    "RoadNetwork",
    "Route",
    "SnapError",
    "SolverError",
    "VehicleProfile",
    "__version__",
    "build_matrix",
    "demand_from_geodataframe",
    "demand_to_geodataframe",
    "get_profile",
    "load_network",
    "orders_from_geodataframe",
    "orders_to_geodataframe",
    "points_from_geodataframe",
    "points_to_geodataframe",
    "read_points",
    "shortest_route",
    "sites_from_geodataframe",
    "sites_to_geodataframe",
    "snap_points",
]
