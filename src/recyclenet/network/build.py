"""Turn OSM highway ways (or a GraphML graph) into the arrays of a routable graph.

A way is cut into edges at every node it shares with another kept way (and at its ends),
so degree-2 nodes inside a street disappear, as in osmnx's simplified graphs, while the
edge keeps the street's full geometry. Each piece becomes one directed edge per allowed
direction. Lengths are great-circle (the osmnx convention, Earth radius 6,371,009 m).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import NetworkError
from .hours import Period
from .osm_read import OsmRoads
from .profile import VehicleProfile, oneway_direction

EARTH_RADIUS_M = 6_371_009.0
LENGTH_RESOLUTION_M = 0.1
DURATION_RESOLUTION_S = 0.01


@dataclass(frozen=True)
class EdgePiece:
    """One directed drivable edge before indexing: OSM node ids, geometry, tags."""

    u: int
    v: int
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    tags: dict[str, str]
    way_id: int


def haversine_m(
    lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike, lat2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Great-circle distance in metres between lon/lat points (degrees)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(a, dtype=np.float64)) for a in
                              (lon1, lat1, lon2, lat2))  # fmt: skip
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)  # fmt: skip
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def pieces_from_osm(
    roads: OsmRoads, profile: VehicleProfile, period: Period | None = None
) -> list[EdgePiece]:
    """Directed edges of the ways open to ``profile`` during ``period``, cut at shared nodes."""
    ways = [w for w in roads.ways if profile.allows(w.tags, period)]
    if not ways:
        return []
    all_ids = np.concatenate([w.node_ids for w in ways])
    ends = np.concatenate([w.node_ids[[0, -1]] for w in ways])
    uniq, counts = np.unique(all_ids, return_counts=True)
    junction = set(uniq[counts >= 2].tolist()) | set(ends.tolist())
    pieces: list[EdgePiece] = []
    for way in ways:
        direction = oneway_direction(way.tags, profile.mode)
        cuts = [i for i, nid in enumerate(way.node_ids.tolist()) if nid in junction]
        for a, b in pairwise(cuts):
            lon, lat = way.lon[a : b + 1], way.lat[a : b + 1]
            u, v = int(way.node_ids[a]), int(way.node_ids[b])
            if direction >= 0:
                pieces.append(EdgePiece(u, v, lon, lat, way.tags, way.way_id))
            if direction <= 0:
                pieces.append(EdgePiece(v, u, lon[::-1], lat[::-1], way.tags, way.way_id))
    return pieces


def _graphml_value(value: object) -> str:
    """osmnx stores list-valued attributes of merged ways as strings like "['a', 'b']"."""
    if isinstance(value, list):
        return str(value[0])
    text = str(value)
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        if isinstance(parsed, list) and parsed:
            return str(parsed[0])
    return text


def read_graphml(path: Path) -> Any:
    """Load an osmnx GraphML file as a ``networkx.MultiDiGraph``."""
    import networkx as nx
    import osmnx as ox

    try:
        return ox.load_graphml(path)
    except (nx.NetworkXError, KeyError, ValueError, SyntaxError) as exc:
        raise NetworkError(f"{path} is not an osmnx GraphML road network ({exc})") from exc
    except Exception as exc:  # lxml / ElementTree parse errors have no common base
        raise NetworkError(f"{path} could not be parsed as GraphML ({exc})") from exc


#: Edge attributes osmnx and :meth:`RoadNetwork.to_networkx` derive (not OSM tags).
_DERIVED_EDGE_ATTRIBUTES = frozenset({"geometry", "length", "travel_time", "speed_kph", "osmid",
                                      "reversed", "length_m", "duration_s"})  # fmt: skip


def pieces_from_graph(
    graph: Any, profile: VehicleProfile, period: Period | None = None
) -> tuple[list[EdgePiece], int]:
    """Directed edges of an osmnx-style ``MultiDiGraph`` open to ``profile`` during ``period``.

    Returns the pieces and the number of edges the profile excluded.
    """
    pieces: list[EdgePiece] = []
    excluded = 0
    for u, v, data in graph.edges(data=True):
        tags = {
            k: _graphml_value(val)
            for k, val in data.items()
            if k not in _DERIVED_EDGE_ATTRIBUTES and val is not None
        }
        tags.pop("oneway", None)  # the graph's edge direction already encodes one-way
        if not profile.allows(tags, period):
            excluded += 1
            continue
        geom = data.get("geometry")
        if geom is not None:
            coords = np.asarray(geom.coords)
            lon, lat = coords[:, 0], coords[:, 1]
        else:
            lon = np.array([graph.nodes[u]["x"], graph.nodes[v]["x"]], dtype=np.float64)
            lat = np.array([graph.nodes[u]["y"], graph.nodes[v]["y"]], dtype=np.float64)
        osmid = _graphml_value(data.get("osmid", -1))
        way_id = int(osmid) if osmid.lstrip("-").isdigit() else -1
        pieces.append(EdgePiece(int(u), int(v), lon, lat, tags, way_id))
    return pieces, excluded
