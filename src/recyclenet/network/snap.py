"""Snap lon/lat points onto the nearest drivable edge (not only the nearest node)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from ..errors import SnapError
from ..geo import to_lonlat, to_metric, utm_crs

if TYPE_CHECKING:
    from ..points import Points
    from .road_network import RoadNetwork

DEFAULT_MAX_SNAP_DISTANCE_M = 500.0
AT_NODE_M = 0.05
"""A snapped point closer than this to an edge end counts as standing on that node."""


@dataclass(frozen=True, eq=False)
class EdgeIndex:
    """Spatial index of a network's street pieces in a local metric CRS."""

    crs: CRS
    edges: npt.NDArray[np.int64]
    """The directed edge each indexed line stands for (its twin shares the line)."""
    lines: npt.NDArray[np.object_]
    tree: shapely.STRtree

    @classmethod
    def build(cls, network: RoadNetwork) -> EdgeIndex:
        west, south, east, north = network.bbox
        crs = utm_crs((west + east) / 2, (south + north) / 2)
        twin = network.edge_twin
        rep = np.nonzero((twin < 0) | (np.arange(network.n_edges) < twin))[0]
        sizes = np.array([len(network.edge_geometry[e]) for e in rep])
        allc = np.concatenate([network.edge_geometry[e] for e in rep])
        x, y = to_metric(crs, allc[:, 0], allc[:, 1])
        lines = shapely.linestrings(np.column_stack([x, y]),
                                    indices=np.repeat(np.arange(len(rep)), sizes))  # fmt: skip
        return cls(crs=crs, edges=rep.astype(np.int64), lines=lines, tree=shapely.STRtree(lines))


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points placed on directed edges of a network.

    Attributes
    ----------
    ids : tuple of str
    edge : ndarray of int64
        A directed edge the point lies on; ``network.edge_twin[edge]`` (if >= 0) is the
        same street piece the other way, at fraction ``1 - fraction``.
    fraction : ndarray of float64
        Position along ``edge`` from its tail (0) to its head (1), by length.
    snap_distance_m : ndarray of float64
        Distance from the given point to the road, metres.
    lon, lat : ndarray of float64
        The snapped position on the road, WGS-84 degrees.
    """

    ids: tuple[str, ...]
    edge: npt.NDArray[np.int64]
    fraction: npt.NDArray[np.float64]
    snap_distance_m: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]

    def placements(self, network: RoadNetwork, i: int) -> list[tuple[int, float]]:
        """(directed edge, fraction) pairs where point ``i`` stands: the edge and its twin."""
        e, f = int(self.edge[i]), float(self.fraction[i])
        out = [(e, f)]
        t = int(network.edge_twin[e])
        if t >= 0:
            out.append((t, 1.0 - f))
        return out


def snap_points(
    network: RoadNetwork,
    points: Points,
    *,
    max_snap_distance_m: float = DEFAULT_MAX_SNAP_DISTANCE_M,
    raise_too_far: bool = True,
) -> SnappedPoints:
    """Snap points onto the nearest edge of ``network``.

    With ``raise_too_far=False`` points beyond the limit are snapped anyway; callers
    compare ``snap_distance_m`` with the limit themselves.

    Raises
    ------
    SnapError
        Some points lie farther than ``max_snap_distance_m`` from every road; the message
        names them with their distance (and hints at swapped lon/lat when far off).
    """
    index = network.edge_index
    x, y = to_metric(index.crs, points.lon, points.lat)
    pts = shapely.points(x, y)
    (inp, hit), dist = index.tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(inp)
    hit, dist = hit[order], dist[order]
    too_far = np.nonzero(dist > max_snap_distance_m)[0]
    if len(too_far) and raise_too_far:
        listed = ", ".join(f"{points.ids[i]} ({dist[i]:,.0f} m)" for i in too_far[:10])
        hint = ""
        if dist[too_far].max() > 50_000:
            west, south, east, north = network.bbox
            hint = (f"; the network covers lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}"
                    " (are lon and lat swapped, or is this the wrong network?)")  # fmt: skip
        raise SnapError(
            f"{len(too_far)} point(s) are farther than {max_snap_distance_m:g} m from any road "
            f"drivable by profile {network.profile.name!r}: {listed}{hint}; move them next to "
            "a road or raise max_snap_distance_m",
            ids=[points.ids[i] for i in too_far],
        )
    lines = index.lines[hit]
    offset = shapely.line_locate_point(lines, pts)
    length = shapely.length(lines)
    fraction = np.where(length > 0, offset / np.where(length > 0, length, 1.0), 0.0)
    on_road = shapely.line_interpolate_point(lines, offset)
    lon, lat = to_lonlat(index.crs, shapely.get_x(on_road), shapely.get_y(on_road))
    return SnappedPoints(
        ids=points.ids,
        edge=index.edges[hit],
        fraction=np.clip(fraction, 0.0, 1.0),
        snap_distance_m=np.asarray(dist, dtype=np.float64),
        lon=lon,
        lat=lat,
    )
