"""Network service areas: the streets within a travel budget of a point, as a polygon."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

from ..geo import to_lonlat, to_metric
from ..points import Points
from .shortest_paths import augmented_graph, decode, shortest_tree
from .snap import snap_points

if TYPE_CHECKING:
    from .road_network import RoadNetwork

STREET_HALF_WIDTH_M = 25.0
"""Buffer around reached streets: the homes along a street sit within this distance."""


def service_area(
    network: RoadNetwork,
    lon: float,
    lat: float,
    budget: float,
    *,
    metric: str = "distance_m",
    half_width_m: float = STREET_HALF_WIDTH_M,
) -> BaseGeometry:
    """Polygon (lon/lat) covering the streets reachable from a point within ``budget``.

    The fastest paths from the point are measured in ``metric`` (``distance_m`` or
    ``duration_s``); every edge whose far end is within budget counts, and edges that
    are left part-way count up to the budget. The union of those street pieces is
    buffered by ``half_width_m`` metres.
    """
    pts = Points(("centre",), np.array([lon]), np.array([lat]))
    snapped = snap_points(network, pts, max_snap_distance_m=np.inf)
    graph = augmented_graph(network, snapped, snapped)
    weights, _ = shortest_tree(graph.csr, int(graph.origin_nodes[0]))
    duration_s, distance_m = decode(weights[: network.n_nodes].copy())
    reach = distance_m if metric == "distance_m" else duration_s
    edge_cost = network.edge_length_m if metric == "distance_m" else network.edge_duration_s
    tail = reach[network.edge_u]
    share = np.clip((budget - tail) / edge_cost, 0.0, 1.0)
    crs = network.edge_index.crs
    lines = []
    for e in np.nonzero(np.isfinite(tail) & (share > 0))[0]:
        geom = network.edge_geometry[e]
        x, y = to_metric(crs, geom[:, 0], geom[:, 1])
        line = shapely.LineString(np.column_stack([x, y]))
        if share[e] < 1.0:
            line = shapely.ops.substring(line, 0.0, float(share[e]), normalized=True)
        lines.append(line)
    # the walk from the point itself to the street it snapped to
    sx, sy = to_metric(crs, np.array([lon, snapped.lon[0]]), np.array([lat, snapped.lat[0]]))
    lines.append(shapely.LineString(np.column_stack([sx, sy])))
    area = shapely.union_all(shapely.buffer(np.array(lines, dtype=object), half_width_m))
    area = shapely.simplify(area, 2.0)
    return shapely.transform(area, lambda c: np.column_stack(to_lonlat(crs, c[:, 0], c[:, 1])))
