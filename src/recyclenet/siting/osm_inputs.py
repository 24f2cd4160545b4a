"""Siting inputs derived from an OSM extract: household demand and candidate sites.

Demand: residential and mixed-use buildings (households estimated in
:mod:`recyclenet.osm_features`) aggregated to square grid cells, so models stay small;
each cell's point is the household-weighted centroid of its buildings, and its expected
recyclables per year follow ``data/recyclables_per_household.csv``.

Sites: existing ``amenity=recycling`` points (status ``existing``), parking, commercial
and retail land (``candidate``), and road nodes thinned to one per grid cell
(``candidate``), so that every street block has a candidate nearby. Each carries the
yearly running cost of a station from ``data/station_costs.csv`` (an estimate with its
sources) as ``fixed_cost``; their capacity is the problem's households-per-station norm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

import numpy as np

from ..errors import InputError
from ..geo import to_lonlat, to_metric, utm_crs
from ..network.road_network import RoadNetwork
from ..osm_features import Building, OsmFeatures, Place
from ..tables import read_table
from .problem import Demand, Site, SiteStatus

CANDIDATE_KINDS = ("recycling", "parking", "commercial", "retail", "road")


def _grid_keys(x: np.ndarray, y: np.ndarray, cell_m: float) -> np.ndarray:
    return np.column_stack([np.floor(x / cell_m), np.floor(y / cell_m)]).astype(np.int64)


def demand_from_buildings(buildings: Sequence[Building], *, cell_m: float = 100.0) -> list[Demand]:
    """Aggregate building households to grid cells of ``cell_m`` metres.

    Returns one :class:`Demand` per non-empty cell, id ``cell_<col>_<row>``, at the
    household-weighted centroid, with the cell's households (rounded to 0.01).
    """
    if cell_m <= 0:
        raise InputError(f"cell_m must be > 0, got {cell_m}")
    homes = [b for b in buildings if b.households > 0]
    if not homes:
        raise InputError(
            "no residential buildings with households found; give a demand file "
            "(GeoJSON/CSV with id, lon, lat, households) instead"
        )
    lon = np.array([b.lon for b in homes])
    lat = np.array([b.lat for b in homes])
    hh = np.array([b.households for b in homes])
    crs = utm_crs(float(lon.mean()), float(lat.mean()))
    x, y = to_metric(crs, lon, lat)
    keys = _grid_keys(x, y, cell_m)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    total = np.bincount(inverse, weights=hh)
    cx = np.bincount(inverse, weights=hh * x) / total
    cy = np.bincount(inverse, weights=hh * y) / total
    clon, clat = to_lonlat(crs, cx, cy)
    rates = recyclables_per_household()
    return [
        Demand(id=f"cell_{int(k[0])}_{int(k[1])}", lon=float(lo), lat=float(la),
               households=round(float(h), 2),
               kg_per_year={m: round(float(h) * r, 1) for m, r in rates.items()})
        for k, lo, la, h in zip(uniq, clon, clat, total)
    ]  # fmt: skip


@cache
def recyclables_per_household() -> dict[str, float]:
    """kg per household per year by material, from ``data/recyclables_per_household.csv``."""
    _, rows = read_table(None, "recyclables_per_household.csv")
    return {row["material"]: float(row["kg_per_household_year"]) for row in rows}


@cache
def station_costs() -> dict[str, float]:
    """Default yearly cost (CNY) of a station by candidate kind, ``data/station_costs.csv``.

    Estimates from staffing, wage, equipment and rent; the table states its sources.
    """
    _, rows = read_table(None, "station_costs.csv")
    return {row["kind"]: float(row["fixed_cost_cny_per_year"]) for row in rows}


def candidate_sites(
    network: RoadNetwork,
    features: OsmFeatures,
    *,
    kinds: Sequence[str] = CANDIDATE_KINDS,
    road_spacing_m: float = 150.0,
    capacity: float | None = None,
    fixed_costs: Mapping[str, float] | None = None,
) -> list[Site]:
    """Candidate and existing station sites from OSM places and thinned road nodes.

    Parameters
    ----------
    kinds : sequence of str
        Which of ``recycling`` (existing stations), ``parking``, ``commercial``,
        ``retail`` and ``road`` (road nodes, one per ``road_spacing_m`` grid cell) to use.
    capacity : float or None
        Capacity of every site in households; None (default) means the problem's
        households-per-station norm (see :meth:`SitingProblem.capacity_array`).
    fixed_costs : mapping of kind to float, optional
        Yearly cost of a station by kind; default :func:`station_costs` (CNY/year).
    """
    costs = station_costs() if fixed_costs is None else dict(fixed_costs)
    unknown = sorted(set(kinds) - set(CANDIDATE_KINDS))
    if unknown:
        raise InputError(f"unknown candidate kinds {unknown}; choose from {CANDIDATE_KINDS}")
    sites: list[Site] = []
    seen: set[str] = set()
    place: Place
    for place in features.places:
        if place.kind not in kinds or place.osm_id in seen:
            continue
        seen.add(place.osm_id)
        status: SiteStatus = "existing" if place.kind == "recycling" else "candidate"
        prefix = "station" if status == "existing" else place.kind
        sites.append(Site(id=f"{prefix}_{place.osm_id}", lon=place.lon, lat=place.lat,
                          status=status, fixed_cost=costs.get(place.kind, 0.0),
                          capacity=capacity))  # fmt: skip
    if "road" in kinds:
        if road_spacing_m <= 0:
            raise InputError(f"road_spacing_m must be > 0, got {road_spacing_m}")
        west, south, east, north = network.bbox
        crs = utm_crs((west + east) / 2, (south + north) / 2)
        x, y = to_metric(crs, network.node_lon, network.node_lat)
        keys = _grid_keys(x, y, road_spacing_m)
        # in each cell keep the node nearest the cell centre
        centre_x = (keys[:, 0] + 0.5) * road_spacing_m
        centre_y = (keys[:, 1] + 0.5) * road_spacing_m
        d2 = (x - centre_x) ** 2 + (y - centre_y) ** 2
        order = np.lexsort((d2, keys[:, 1], keys[:, 0]))
        first = np.ones(len(order), dtype=bool)
        sk = keys[order]
        first[1:] = np.any(sk[1:] != sk[:-1], axis=1)
        for node in order[first]:
            sites.append(Site(id=f"node_{int(network.node_osm_id[node])}",
                              lon=float(network.node_lon[node]),
                              lat=float(network.node_lat[node]),
                              fixed_cost=costs.get("road", 0.0), capacity=capacity))  # fmt: skip
    if not sites:
        raise InputError(f"no candidate sites of kinds {list(kinds)} in this extract")
    return sites
