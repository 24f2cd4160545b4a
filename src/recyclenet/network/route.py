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
from .shortest_paths import augmented_graph, decode, shortest_tree, turn_augmented_graph
from .snap import DEFAULT_MAX_SNAP_DISTANCE_M, snap_points

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
    """
    pts = Points(("origin", "destination"), np.array([origin[0], destination[0]]),
                 np.array([origin[1], destination[1]]))  # fmt: skip
    finder = PathFinder(network, pts, max_snap_distance_m=max_snap_distance_m)
    return finder.route("origin", "destination")


class PathFinder:
    """Fastest routes between any two of a fixed set of points, sharing one search graph.

    Snaps the points once and keeps one shortest-path tree per origin asked, so the legs
    of many vehicle routes cost one search per distinct stop.
    """

    def __init__(
        self,
        network: RoadNetwork,
        points: Points,
        *,
        max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
    ) -> None:
        self.network = network
        self.snapped = snap_points(network, points, max_snap_distance_m=max_snap_distance_m)
        self.turns = (turn_augmented_graph(network, self.snapped, self.snapped)
                      if network.has_turn_restrictions else None)  # fmt: skip
        self.graph = (augmented_graph(network, self.snapped, self.snapped)
                      if self.turns is None else None)  # fmt: skip
        self._pos = {pid: i for i, pid in enumerate(points.ids)}
        self._trees: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _index(self, pid: str) -> int:
        try:
            return self._pos[pid]
        except KeyError:
            raise NetworkError(f"unknown point id {pid!r} for this path finder") from None

    def route(self, from_id: str, to_id: str) -> Route:
        """The fastest route between two of the points, by id."""
        i, j = self._index(from_id), self._index(to_id)
        network, graph = self.network, self.graph
        search = self.turns if self.turns is not None else graph
        assert search is not None
        src, dst = int(search.origin_nodes[i]), int(search.destination_nodes[j])
        if i not in self._trees:
            self._trees[i] = shortest_tree(search.csr, src)
        dist, pred = self._trees[i]
        if not np.isfinite(dist[dst]):
            raise NetworkError(f"no path from {from_id!r} to {to_id!r} on this network")
        nodes = [dst]
        while nodes[-1] != src:
            nodes.append(int(pred[nodes[-1]]))
        nodes.reverse()
        duration_s, distance_m = decode(np.array([dist[dst]]))
        pieces: list[np.ndarray] = []
        edges: list[int] = []
        crs = network.edge_index.crs

        def add_partial(e: int, start: float, end: float) -> None:
            if end <= start:
                return
            geom = network.edge_geometry[e]
            x, y = to_metric(crs, geom[:, 0], geom[:, 1])
            part = substring(LineString(np.column_stack([x, y])), start, end, normalized=True)
            coords = np.asarray(part.coords)
            lon, lat = to_lonlat(crs, coords[:, 0], coords[:, 1])
            pieces.append(np.column_stack([lon, lat]))
            edges.append(e)

        def placement_to(node: int, k: int, leaving: bool) -> tuple[int, float]:
            for e, f in self.snapped.placements(network, k):
                end = network.edge_v[e] if leaving else network.edge_u[e]
                if end == node:
                    return e, f
            return -1, 0.0  # standing on the node itself: zero-length connection

        inner = nodes[1:-1]
        if self.turns is not None:  # turn graph: inner nodes are edges driven in full
            turns = self.turns
            if not inner:
                e, f_o, f_d = turns.direct[(src, dst)]
                add_partial(e, f_o, f_d)
            else:
                e, f = turns.origin_part[(src, inner[0])]
                if e >= 0:
                    add_partial(e, f, 1.0)
                node_edge = network.turn_graph.node_edge  # chain copies are their edges
                for node in inner[:-1]:
                    e = int(node_edge[node])
                    pieces.append(network.edge_geometry[e])
                    edges.append(e)
                add_partial(int(node_edge[inner[-1]]), 0.0,
                            turns.destination_part[(inner[-1], dst)])  # fmt: skip
        elif not inner:  # both points on the same edge
            for e, f_o in self.snapped.placements(network, i):
                for e2, f_d in self.snapped.placements(network, j):
                    if e == e2 and f_d >= f_o and not edges:
                        add_partial(e, f_o, f_d)
        else:
            e, f = placement_to(inner[0], i, leaving=True)
            if e >= 0:
                add_partial(e, f, 1.0)
            assert graph is not None
            for a, b in pairwise(inner):
                e = graph.arc_edge[(a, b)]
                pieces.append(network.edge_geometry[e])
                edges.append(e)
            e, f = placement_to(inner[-1], j, leaving=False)
            if e >= 0:
                add_partial(e, 0.0, f)
        start = (float(self.snapped.lon[i]), float(self.snapped.lat[i]))
        end = (float(self.snapped.lon[j]), float(self.snapped.lat[j]))
        coords = np.concatenate(pieces) if pieces else np.array([start, end])
        keep = np.ones(len(coords), dtype=bool)
        # partial pieces come back from a metric round trip: compare with a tolerance
        keep[1:] = np.any(np.abs(coords[1:] - coords[:-1]) > 1e-9, axis=1)
        coords = coords[keep]
        if len(coords) < 2:
            coords = np.array([start, end])
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
            snap_distance_m=(
                float(self.snapped.snap_distance_m[i]),
                float(self.snapped.snap_distance_m[j]),
            ),
        )
