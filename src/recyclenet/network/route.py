"""The fastest path between two points, with a geometry that follows the streets."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from shapely.geometry import LineString, mapping
from shapely.ops import substring

from ..errors import NetworkError
from ..geo import to_lonlat, to_metric
from ..points import Points
from .shortest_paths import augmented_graph, decode, path_nodes
from .snap import DEFAULT_MAX_SNAP_DISTANCE_M, SnappedPoints, snap_points

if TYPE_CHECKING:
    from .road_network import RoadNetwork


@dataclass(frozen=True)
class Route:
    """A fastest path between two snapped points.

    Attributes
    ----------
    duration_s, distance_m : float
    geometry : LineString
        lon/lat (WGS-84) from the snapped origin to the snapped destination.
    edges : tuple of int
        Network edges used, in order (partial first and last edges included).
    street_names : tuple of str
        Names of the streets driven, consecutive repeats removed (UTF-8 as in OSM).
    snap_distance_m : tuple of float
        (origin, destination) distance from the given point to the road.
    """

    duration_s: float
    distance_m: float
    geometry: LineString
    edges: tuple[int, ...]
    street_names: tuple[str, ...]
    snap_distance_m: tuple[float, float]

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON Feature (RFC 7946) with the route's properties."""
        return {
            "type": "Feature",
            "id": "route",
            "geometry": mapping(self.geometry),
            "properties": {
                "duration_s": self.duration_s,
                "distance_m": self.distance_m,
                "street_names": list(self.street_names),
                "origin_snap_distance_m": self.snap_distance_m[0],
                "destination_snap_distance_m": self.snap_distance_m[1],
            },
        }


def shortest_route(
    network: RoadNetwork,
    origin: tuple[float, float],
    destination: tuple[float, float],
    *,
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
) -> Route:
    """Fastest route from ``origin`` to ``destination`` (both ``(lon, lat)``).

    Raises
    ------
    SnapError
        A point is too far from the road network.
    NetworkError
        No path exists (cannot happen inside one strongly connected network, kept for
        safety).
    """
    pts = Points(("origin", "destination"), np.array([origin[0], destination[0]]),
                 np.array([origin[1], destination[1]]))  # fmt: skip
    snapped = snap_points(network, pts, max_snap_distance_m=max_snap_distance_m)
    o = _subset(snapped, 0)
    d = _subset(snapped, 1)
    graph = augmented_graph(network, o, d)
    src, dst = int(graph.origin_nodes[0]), int(graph.destination_nodes[0])
    weight, nodes = path_nodes(graph.csr, src, dst)
    if not nodes:
        raise NetworkError("no path between the two points on this network")
    duration_s, distance_m = decode(np.array([weight]))
    pieces: list[np.ndarray] = []
    edges: list[int] = []
    crs = network.edge_index.crs

    def add_partial(e: int, start: float, end: float) -> None:
        geom = network.edge_geometry[e]
        x, y = to_metric(crs, geom[:, 0], geom[:, 1])
        line = LineString(np.column_stack([x, y]))
        part = substring(line, start, end, normalized=True)
        coords = np.asarray(part.coords)
        if len(coords) >= 1 and end > start:
            lon, lat = to_lonlat(crs, coords[:, 0], coords[:, 1])
            pieces.append(np.column_stack([lon, lat]))
            edges.append(e)

    def placement_to(node: int, snapped_pt: SnappedPoints, leaving: bool) -> tuple[int, float]:
        for e, f in snapped_pt.placements(network, 0):
            end = network.edge_v[e] if leaving else network.edge_u[e]
            if end == node:
                return e, f
        # standing on the node itself: zero-length connection
        return -1, 0.0

    inner = nodes[1:-1]
    if not inner:  # both points on the same edge
        for e, f_o in o.placements(network, 0):
            for e2, f_d in d.placements(network, 0):
                if e == e2 and f_d >= f_o:
                    add_partial(e, f_o, f_d)
                    break
            if edges:
                break
    else:
        e, f = placement_to(inner[0], o, leaving=True)
        if e >= 0:
            add_partial(e, f, 1.0)
        for a, b in pairwise(inner):
            e = graph.arc_edge[(a, b)]
            pieces.append(network.edge_geometry[e])
            edges.append(e)
        e, f = placement_to(inner[-1], d, leaving=False)
        if e >= 0:
            add_partial(e, 0.0, f)
    if pieces:
        coords = np.concatenate(pieces)
        keep = np.ones(len(coords), dtype=bool)
        # partial pieces come back from a metric round trip: compare with a tolerance
        keep[1:] = np.any(np.abs(coords[1:] - coords[:-1]) > 1e-9, axis=1)
        coords = coords[keep]
    else:
        coords = np.empty((0, 2))
    if len(coords) < 2:
        p = np.array([[snapped.lon[0], snapped.lat[0]], [snapped.lon[1], snapped.lat[1]]])
        coords = p
    names: list[str] = []
    for e in edges:
        name = network.edge_name(e)
        if name and (not names or names[-1] != name):
            names.append(name)
    return Route(
        duration_s=float(duration_s[0]),
        distance_m=float(distance_m[0]),
        geometry=shapely.LineString(coords),
        edges=tuple(edges),
        street_names=tuple(names),
        snap_distance_m=(float(snapped.snap_distance_m[0]), float(snapped.snap_distance_m[1])),
    )


def _subset(snapped: SnappedPoints, i: int) -> SnappedPoints:
    return SnappedPoints(
        ids=(snapped.ids[i],),
        edge=snapped.edge[i : i + 1],
        fraction=snapped.fraction[i : i + 1],
        snap_distance_m=snapped.snap_distance_m[i : i + 1],
        lon=snapped.lon[i : i + 1],
        lat=snapped.lat[i : i + 1],
    )
