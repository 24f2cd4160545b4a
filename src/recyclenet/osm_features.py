"""Non-road OSM features for siting: residential buildings and land, candidate places.

Read with pyosmium like the roads (PBF and XML alike; areas assembled from closed ways
and multipolygon relations). Household estimates follow ``data/households.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import osmium
import shapely

from .errors import NetworkError
from .geo import to_metric, utm_crs
from .network.load import SAMPLES, sample_path
from .tables import read_table

GROSS_M2_PER_HOUSEHOLD = 100.0
NET_TO_GROSS = 0.8
NON_RESIDENTIAL_USE_KEYS = ("shop", "office", "amenity", "tourism", "craft", "industrial")


@dataclass(frozen=True)
class Building:
    """A building with its estimated households."""

    osm_id: str
    lon: float
    lat: float
    building: str
    footprint_m2: float
    levels: float
    households: float
    name: str = ""
    flats_tagged: bool = False
    """``building:flats`` gave the households (else footprint x levels)."""
    levels_tagged: bool = False
    """``building:levels`` was tagged (else the type's default levels)."""


@dataclass(frozen=True)
class Place:
    """A point or area centroid that can host a station."""

    osm_id: str
    lon: float
    lat: float
    kind: str
    """``recycling`` (an existing station), ``parking``, ``commercial`` or ``retail``."""
    name: str = ""


@dataclass(frozen=True)
class ResidentialArea:
    """A ``landuse=residential`` area (a compound, 小区, or a housing district)."""

    osm_id: str
    name: str
    geometry: shapely.Geometry
    """(Multi)Polygon in WGS-84 lon/lat degrees."""


@dataclass(frozen=True)
class OsmFeatures:
    """What a file holds for siting."""

    buildings: list[Building]
    places: list[Place]
    residential_areas: list[ResidentialArea] = field(default_factory=list)


@cache
def _household_table() -> dict[str, dict[str, float | None]]:
    _, rows = read_table(None, "households.csv")
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        out[row["building"]] = {
            k: (float(v) if v else None) for k, v in row.items() if k != "building"
        }
    return out


def _number(value: str | None) -> float | None:
    if not value:
        return None
    try:
        number = float(value.split(";")[0].strip().replace(",", "."))
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def estimate_households(tags: dict[str, str], footprint_m2: float) -> tuple[float, float]:
    """Households and levels of a building from its tags and footprint (m²).

    ``building:flats`` wins where tagged; otherwise footprint x levels x residential
    share x net-to-gross / gross floor area per household (see ``data/households.csv``).
    Returns (0, levels) for buildings that are not housing.
    """
    table = _household_table()
    kind = tags.get("building", "yes")
    if tags.get("building:use") in ("residential", "apartments"):
        kind = "apartments"
    row = table.get(kind)
    levels_tag = _number(tags.get("building:levels"))
    roof = _number(tags.get("roof:levels")) or 0.0
    default_levels = float(row["default_levels"] or 1.0) if row else 1.0
    levels = (levels_tag + roof / 2.0) if levels_tag is not None else default_levels
    levels = max(levels, 1.0)
    flats = _number(tags.get("building:flats"))
    if flats is not None:
        return flats, levels
    if row is None:
        return 0.0, levels
    share = float(row["residential_share"] or 0.0)
    if kind in ("yes", "mixed") and any(k in tags for k in NON_RESIDENTIAL_USE_KEYS):
        share = 0.0
    households = footprint_m2 * levels * share * NET_TO_GROSS / GROSS_M2_PER_HOUSEHOLD
    low, high = row["min_households"], row["max_households"]
    if share > 0 and low is not None:
        households = max(households, low)
    if high is not None:
        households = min(households, high)
    return round(households, 2), levels


def read_osm_features(source: str | Path) -> OsmFeatures:
    """Buildings with households, and candidate places, from an OSM file or sample name.

    Raises
    ------
    NetworkError
        The file is missing or not OSM data.
    """
    path = sample_path(str(source)) if str(source) in SAMPLES else Path(source)
    if not path.is_file():
        raise NetworkError(f"OSM file not found: {path}")
    wkb = osmium.geom.WKBFactory()
    raw_buildings: list[tuple[str, dict[str, str], object]] = []
    places: list[Place] = []
    areas: list[ResidentialArea] = []
    try:
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations()
            .with_areas(osmium.filter.KeyFilter("building", "amenity", "landuse"))
            .with_filter(osmium.filter.KeyFilter("building", "amenity", "landuse"))
        )
        for obj in processor:
            tags = {t.k: t.v for t in obj.tags}
            if isinstance(obj, osmium.osm.Node):
                if tags.get("amenity") in ("recycling", "parking"):
                    kind = tags["amenity"]
                    places.append(Place(f"n{obj.id}", obj.location.lon, obj.location.lat, kind,
                                        tags.get("name", "")))  # fmt: skip
                continue
            if not isinstance(obj, osmium.osm.Area):
                continue
            try:
                geom = shapely.from_wkb(bytes.fromhex(wkb.create_multipolygon(obj)))
            except RuntimeError:
                continue  # broken ring in a clipped extract
            oid = ("w" if obj.from_way() else "r") + str(obj.orig_id())
            if "building" in tags:
                raw_buildings.append((oid, tags, geom))
            elif tags.get("landuse") == "residential":
                areas.append(ResidentialArea(oid, tags.get("name", ""), geom))
            kind = ""
            if tags.get("amenity") in ("recycling", "parking"):
                kind = tags["amenity"]
            elif tags.get("landuse") in ("commercial", "retail"):
                kind = tags["landuse"]
            if kind:
                c = geom.centroid
                places.append(Place(oid, c.x, c.y, kind, tags.get("name", "")))
    except RuntimeError as exc:
        raise NetworkError(f"{path} could not be read as OpenStreetMap data ({exc})") from exc
    buildings: list[Building] = []
    if raw_buildings:
        geoms = np.array([g for _, _, g in raw_buildings], dtype=object)
        cent = shapely.centroid(geoms)
        lon, lat = shapely.get_x(cent), shapely.get_y(cent)
        crs = utm_crs(float(np.mean(lon)), float(np.mean(lat)))
        projected = shapely.transform(
            geoms, lambda c: np.column_stack(to_metric(crs, c[:, 0], c[:, 1]))
        )
        area = shapely.area(projected)
        for (oid, tags, _), lo, la, a in zip(raw_buildings, lon, lat, area):
            households, levels = estimate_households(tags, float(a))
            flats = _number(tags.get("building:flats")) is not None
            tagged = _number(tags.get("building:levels")) is not None
            buildings.append(Building(oid, float(lo), float(la), tags.get("building", "yes"),
                                      round(float(a), 1), levels, households,
                                      tags.get("name", ""), flats, tagged))  # fmt: skip
    return OsmFeatures(buildings=buildings, places=places, residential_areas=areas)
