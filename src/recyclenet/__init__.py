"""recyclenet: siting and routing for recycling networks on real OpenStreetMap roads."""

from .errors import InputError, NetworkError, RecyclenetError, SnapError, SolverError
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
    "get_profile",
    "load_network",
    "read_points",
    "shortest_route",
    "snap_points",
]
