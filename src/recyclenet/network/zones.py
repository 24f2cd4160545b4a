"""User restriction zones (货车限行区): polygons closed to vehicle classes at given hours.

A zones file is GeoJSON (RFC 7946, lon/lat; ``crs`` converts GCJ-02/BD-09 input) with
Polygon or MultiPolygon features whose properties say

``id``
    Zone id (else the feature ``id``, else ``zone<n>``).
``vehicles``
    Who may not drive in it while closed: ``hgv`` (every truck profile, the default),
    ``all`` (every motor vehicle), or profile names (``box_truck_4_2m``, ``truck_18t``),
    as a list or ``;``/``,``-separated.
``closed``
    When it is closed, in the hours syntax of :mod:`.hours` (``07:00-20:00``,
    ``Mo-Fr 07:00-09:00,17:00-19:00``). ``closed_hours`` is accepted too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from ..errors import InputError
from .hours import MINUTES_PER_DAY, UnparsedHoursError, WeekHours, parse_hours

if TYPE_CHECKING:
    from .profile import VehicleProfile
    from .road_network import RoadNetwork

DAY_S = 86_400.0


@dataclass(frozen=True, eq=False)
class RestrictionZone:
    """A polygon closed to some vehicles at some hours.

    Attributes
    ----------
    id : str
    geometry : shapely Polygon or MultiPolygon
        lon/lat (WGS-84).
    vehicles : frozenset of str
        ``hgv``, ``all`` or profile names.
    closed : str
        Closed hours (opening-hours syntax, see :mod:`.hours`).
    """

    id: str
    geometry: Any
    vehicles: frozenset[str]
    closed: str

    @property
    def closed_hours(self) -> WeekHours:
        """The closed minutes of the week."""
        return parse_hours(self.closed)

    def applies_to(self, profile: VehicleProfile) -> bool:
        """True if vehicles of ``profile`` may not drive in the zone while it is closed."""
        if profile.mode == "walk":
            return False
        return ("all" in self.vehicles or profile.name in self.vehicles
                or ("hgv" in self.vehicles and profile.hgv))  # fmt: skip

    def closed_intervals_s(self, weekday: int = 0) -> list[tuple[float, float]]:
        """Closed intervals of one day in seconds from its midnight (0 = Monday).

        The night of the previous day spilling past midnight is included.
        """
        day = self.closed_hours.mask[weekday * MINUTES_PER_DAY : (weekday + 1) * MINUTES_PER_DAY]
        edges = np.diff(np.concatenate([[0], day.astype(np.int8), [0]]))
        starts, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
        return [(float(a) * 60.0, float(b) * 60.0) for a, b in zip(starts, ends)]


def _vehicles(value: Any, where: str) -> frozenset[str]:
    if value is None or value == "":
        return frozenset({"hgv"})
    items = value if isinstance(value, list) else str(value).replace(",", ";").split(";")
    out = frozenset(str(v).strip() for v in items if str(v).strip())
    if not out:
        raise InputError(f"{where}: 'vehicles' is empty; use hgv, all or profile names")
    return out


def read_restriction_zones(
    source: str | Path | Mapping[str, Any], *, crs: str = "wgs84"
) -> tuple[RestrictionZone, ...]:
    """Read restriction zones from a GeoJSON file, an already parsed GeoJSON object, or any
    polygon file :func:`recyclenet.readers.read_frame` opens (GeoPackage ``file:layer``,
    Shapefile, KML, ...; columns ``id``, ``closed``, ``vehicles``).

    Raises
    ------
    InputError
        Not GeoJSON, a feature that is not a valid (Multi)Polygon, missing or unparsed
        ``closed`` hours, or duplicate ids; the message names the feature.
    """
    from ..geo import geojson_from_crs

    if isinstance(source, Mapping):
        doc: Any = source
        label = "restriction zones"
    elif Path(str(source).rpartition(":")[0] or source).suffix.lower() not in (
        "",
        ".geojson",
        ".json",
    ):
        # GeoPackage, Shapefile, KML, ...: the one reader (any CRS, layer choice, encodings)
        from ..export.layers import frame_features
        from ..readers import read_frame

        label = str(source)
        doc = frame_features(read_frame(source, kind="zones", crs=crs))
        crs = "wgs84"  # read_frame converted the datum
    else:
        label = str(source)
        try:
            doc = json.loads(Path(source).read_text(encoding="utf-8-sig"))
        except FileNotFoundError:
            raise InputError(f"restriction zones file not found: {source}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{source}: not a GeoJSON file ({exc})") from None
    if not isinstance(doc, Mapping):
        raise InputError(f"{label}: expected a GeoJSON FeatureCollection or Feature")
    if crs != "wgs84":
        doc = geojson_from_crs(doc, crs)
    features = doc.get("features") if doc.get("type") == "FeatureCollection" else [doc]
    if doc.get("type") not in ("FeatureCollection", "Feature") or not isinstance(features, list):
        raise InputError(f"{label}: expected a GeoJSON FeatureCollection of polygon features")
    zones: list[RestrictionZone] = []
    for n, feat in enumerate(features):
        props = (feat.get("properties") if isinstance(feat, Mapping) else None) or {}
        zid = str(props.get("id") or (feat.get("id") if isinstance(feat, Mapping) else None)
                  or f"zone{n + 1}")  # fmt: skip
        where = f"{label}: feature {n} (zone {zid!r})"
        try:
            geom = shape(feat["geometry"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"{where}: no valid geometry ({exc})") from None
        if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
            raise InputError(f"{where}: geometry is {geom.geom_type}; give a Polygon")
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        west, south, east, north = geom.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise InputError(f"{where}: coordinates are not lon/lat degrees (bounds {geom.bounds})")
        closed = props.get("closed", props.get("closed_hours"))
        if not closed:
            raise InputError(f'{where}: no \'closed\' hours; e.g. "closed": "07:00-20:00"')
        try:
            parse_hours(str(closed))
        except UnparsedHoursError as exc:
            raise InputError(f"{where}: 'closed' {closed!r}: {exc}") from None
        zones.append(RestrictionZone(zid, geom, _vehicles(props.get("vehicles"), where),
                                     str(closed)))  # fmt: skip
    ids = [z.id for z in zones]
    if dup := sorted({i for i in ids if ids.count(i) > 1}):
        raise InputError(f"{label}: duplicate zone ids {dup}")
    return tuple(zones)


def zone_edge_mask(network: RoadNetwork, zones: tuple[RestrictionZone, ...] | list[Any]) -> Any:
    """Boolean mask of the network's edges that run inside or across any of ``zones``."""
    mask = np.zeros(network.n_edges, dtype=bool)
    if not zones:
        return mask
    sizes = [len(g) for g in network.edge_geometry]
    lines = shapely.linestrings(
        np.concatenate(network.edge_geometry), indices=np.repeat(np.arange(network.n_edges), sizes)
    )
    tree = shapely.STRtree(lines)
    for zone in zones:
        hits = tree.query(zone.geometry, predicate="intersects")
        mask[hits] = True
    return mask


def inside_zone(
    zones: tuple[RestrictionZone, ...] | list[RestrictionZone],
    lon: npt.ArrayLike,
    lat: npt.ArrayLike,
) -> list[list[RestrictionZone]]:
    """For every point, the zones it lies in (boundary included)."""
    pts = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return [[z for z in zones if shapely.intersects(z.geometry, p)] for p in pts]
