"""Road networks: loading OSM data, vehicle profiles, snapping, paths."""

from .load import SAMPLES, load_network, sample_path
from .profile import VehicleProfile, builtin_profiles, get_profile
from .road_network import NetworkStats, RoadNetwork
from .route import PathFinder, Route, shortest_route
from .snap import DEFAULT_MAX_SNAP_DISTANCE_M, SnappedPoints, snap_points

__all__ = [
    "DEFAULT_MAX_SNAP_DISTANCE_M",
    "SAMPLES",
    "NetworkStats",
    "PathFinder",
    "RoadNetwork",
    "Route",
    "SnappedPoints",
    "VehicleProfile",
    "builtin_profiles",
    "get_profile",
    "load_network",
    "sample_path",
    "shortest_route",
    "snap_points",
]
