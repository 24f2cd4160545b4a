"""Named lon/lat points: the input of snapping, matrices and every model."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import InputError
from .geo import check_crs, check_lonlat, to_wgs84


@dataclass(frozen=True, eq=False)
class Points:
    """Points with unique string ids and WGS-84 lon/lat degrees.

    Attributes
    ----------
    ids : tuple of str
    lon, lat : ndarray of float64
    properties : tuple of dict
        Other attributes read with the points (names kept as UTF-8).
    """

    ids: tuple[str, ...]
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    properties: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        ids = tuple(str(i) for i in self.ids)
        object.__setattr__(self, "ids", ids)
        if not ids:
            raise InputError("the point list is empty; give at least one point with id, lon, lat")
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
            raise InputError(f"duplicate point ids: {dups[:10]}; every point needs its own id")
        lon, lat = check_lonlat(self.lon, self.lat, ids)
        if lon.shape != (len(ids),) or lat.shape != (len(ids),):
            raise InputError("lon and lat need one value per id")
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        if not self.properties:
            object.__setattr__(self, "properties", tuple({} for _ in ids))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_located(cls, items: Iterable[Any]) -> Points:
        """From objects with ``id``, ``lon`` and ``lat`` attributes (orders, sites, ...)."""
        items = list(items)
        return cls(tuple(x.id for x in items), np.array([x.lon for x in items], dtype=float),
                   np.array([x.lat for x in items], dtype=float))  # fmt: skip

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any] | Sequence[Any]]) -> Points:
        """From ``{"id", "lon", "lat", ...}`` mappings or ``(id, lon, lat)`` tuples."""
        ids, lons, lats, props = [], [], [], []
        for n, rec in enumerate(records):
            if isinstance(rec, Mapping):
                missing = [k for k in ("id", "lon", "lat") if k not in rec]
                if missing:
                    raise InputError(f"point #{n + 1} lacks field(s) {missing}")
                ids.append(str(rec["id"]))
                lons.append(_num(rec["lon"], "lon", rec["id"]))
                lats.append(_num(rec["lat"], "lat", rec["id"]))
                props.append({k: v for k, v in rec.items() if k not in ("id", "lon", "lat")})
            else:
                if len(rec) < 3:
                    raise InputError(f"point #{n + 1} needs (id, lon, lat), got {rec!r}")
                ids.append(str(rec[0]))
                lons.append(_num(rec[1], "lon", rec[0]))
                lats.append(_num(rec[2], "lat", rec[0]))
                props.append({})
        return cls(tuple(ids), np.array(lons), np.array(lats), tuple(props))


def _num(value: Any, field: str, pid: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"point {pid}: {field} {value!r} is not a number") from None


def read_points(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None
) -> Points:
    """Read named points from any table or GIS file (see :mod:`recyclenet.readers`).

    CSV/TSV/Excel with id and lon/lat columns (English or Chinese names), or GeoJSON,
    GeoPackage, Shapefile, FlatGeobuf, KML with Point features; a declared CRS is
    reprojected to WGS-84. GeoJSON ids come from the feature ``id`` or the ``id`` property.

    Parameters
    ----------
    path : path
        The file; ``file.gpkg:layer`` picks a layer (or ``layer=``).
    crs : {"wgs84", "gcj02", "bd09"}
        Datum of the file's lon/lat degrees (aliases as in :func:`recyclenet.geo.check_crs`);
        GCJ-02 and BD-09 are converted exactly to WGS-84. A file with a declared CRS is
        first reprojected to EPSG:4326; ``crs`` then says which datum those degrees
        really are (Chinese data often declare EPSG:4326 for GCJ-02 values).

    Returns
    -------
    Points
        WGS-84 lon/lat degrees; the other columns as properties.
    """
    from .readers import read_points as read

    return read(path, crs=crs, layer=layer)


def points_to_wgs84(points: Points, crs: str) -> Points:
    """``points`` whose lon/lat are degrees in ``crs``, converted to WGS-84 (same ids and
    properties; the same object when ``crs`` is WGS-84)."""
    system = check_crs(crs)
    if system == "wgs84":
        return points
    lon, lat = to_wgs84(points.lon, points.lat, system)
    return Points(points.ids, lon, lat, points.properties)


def points_from_geojson(doc: Any, *, source: str = "GeoJSON", crs: str = "wgs84") -> Points:
    """Points from a GeoJSON FeatureCollection of Point features.

    ``crs`` is the datum of the coordinates (``wgs84``, ``gcj02`` or ``bd09``); the points
    returned are WGS-84. A ``crs_note`` member (see :func:`recyclenet.geo.geojson_to_crs`)
    is not read: say the datum with ``crs``.
    """
    system = check_crs(crs)
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{source}: expected a GeoJSON FeatureCollection")
    records = []
    for n, feat in enumerate(doc.get("features") or []):
        geom = (feat or {}).get("geometry") or {}
        if geom.get("type") != "Point":
            raise InputError(f"{source}: feature #{n + 1} is not a Point (got {geom.get('type')})")
        props = dict(feat.get("properties") or {})
        pid = feat.get("id", props.pop("id", None))
        if pid is None:
            raise InputError(f"{source}: feature #{n + 1} has no id (feature id or 'id' property)")
        coords = geom.get("coordinates") or []
        if len(coords) < 2:
            raise InputError(f"{source}: feature {pid} has no coordinates")
        records.append({"id": pid, "lon": coords[0], "lat": coords[1], **props})
    try:
        return points_to_wgs84(Points.from_records(records), system)
    except InputError as exc:
        raise InputError(f"{source}: {exc}") from exc
