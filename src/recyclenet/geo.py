"""Coordinates: lon/lat validation, bounding boxes, local metric projections, and the
Chinese map datums GCJ-02 and BD-09.

Every coordinate in recyclenet is (lon, lat) in WGS-84 degrees unless a name says
otherwise; projected x/y metres always travel with their CRS.

Users in China often have coordinates from AMap/Gaode or Tencent (GCJ-02, "Mars
coordinates") or Baidu (BD-09). The library stays WGS-84 inside; readers and the command
line convert at the edge with :func:`to_wgs84` and :func:`from_wgs84` (and
:func:`geojson_to_crs` / :func:`geojson_from_crs` for GeoJSON):

- WGS-84 → GCJ-02 is the published offset formula on the Krasovsky 1940 ellipsoid
  (a = 6378245.0 m, e² = 0.00669342162296594323). Points outside the usual China box
  (:func:`out_of_china`: lon 72.004-137.8347, lat 0.8293-55.8271) get no offset, so for
  them GCJ-02 equals WGS-84.
- GCJ-02 → BD-09 is Baidu's published shift (3000π/180 with the 0.00002 and 0.000003
  terms and the 0.0065/0.006 offsets), applied everywhere.
- The inverses (GCJ-02 → WGS-84, BD-09 → GCJ-02) have no closed form; they iterate
  until the forward formula gives the input back to 1e-11 degrees (about 1 µm), where the
  common one-step inverse is 1-2 m off. The test vectors are in tests/test_geo_china.py.

Why hand-written rather than a dependency: the PyPI packages for these datums are either
unmaintained (eviltransform 0.1.1, 2018; prcoords 1.0.2, 2019; coord-convert 0.2.1, 2019;
pygcj 0.0.2, 2020) or document only approximate inverses (eviltransform's "exact" one is a
bisection promising < 0.5 m; geocoordinates-rs returns an error bound with its inverse),
and those reviewed take one point per call. The forward formulas are some 30 lines of
published arithmetic; here they run on numpy arrays, and the inverses iterate until the
forward formula gives the input back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, overload

import numpy as np
import numpy.typing as npt
from pyproj import CRS, Transformer

from .errors import InputError

WGS84 = CRS.from_epsg(4326)


def check_lonlat(
    lon: npt.ArrayLike, lat: npt.ArrayLike, ids: Sequence[str], *, what: str = "point"
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Validate lon/lat arrays; raise :class:`InputError` naming the bad ids."""
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    bad = ~(np.isfinite(lon_a) & np.isfinite(lat_a))
    bad |= (np.abs(lon_a) > 180) | (np.abs(lat_a) > 90)
    if bad.any():
        idx = np.nonzero(bad)[0][:10]
        listed = ", ".join(f"{ids[i]} ({lon_a[i]}, {lat_a[i]})" for i in idx)
        raise InputError(
            f"{int(bad.sum())} {what}(s) have coordinates out of range: {listed}; "
            "coordinates are lon, lat in degrees (lon in [-180, 180], lat in [-90, 90])"
        )
    return lon_a, lat_a


def utm_crs(lon: float, lat: float) -> CRS:
    """The UTM zone CRS (metres) containing a lon/lat point."""
    zone = int((lon + 180.0) // 6.0) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def to_metric(
    crs: CRS, lon: npt.ArrayLike, lat: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Project lon/lat degrees to x/y metres in ``crs``."""
    tr = Transformer.from_crs(WGS84, crs, always_xy=True)
    x, y = tr.transform(np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    return np.asarray(x), np.asarray(y)


def to_lonlat(
    crs: CRS, x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Unproject x/y metres in ``crs`` to lon/lat degrees."""
    tr = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon, lat = tr.transform(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    return np.asarray(lon), np.asarray(lat)


# ----------------------------------------------------------------- Chinese map datums

CoordSystem = Literal["wgs84", "gcj02", "bd09"]
"""A lon/lat coordinate system: ``wgs84`` (EPSG:4326, GPS, OpenStreetMap), ``gcj02``
(China's GCJ-02 "Mars coordinates": AMap/Gaode, Tencent, Google Maps in China) or ``bd09``
(Baidu's BD-09, GCJ-02 shifted once more)."""

COORD_SYSTEMS: tuple[CoordSystem, ...] = ("wgs84", "gcj02", "bd09")

_CRS_ALIASES: dict[str, CoordSystem] = {
    "wgs84": "wgs84", "epsg4326": "wgs84", "4326": "wgs84", "gps": "wgs84",
    "gcj02": "gcj02", "gcj": "gcj02", "mars": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "tencent": "gcj02",
    "bd09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
}  # fmt: skip

CRS_NOTE_KEY = "crs_note"
"""Top-level member :func:`geojson_to_crs` adds to GeoJSON written in GCJ-02 or BD-09."""

_CRS_LABEL: dict[CoordSystem, str] = {
    "wgs84": "WGS-84 (EPSG:4326)",
    "gcj02": "GCJ-02 (AMap/Gaode, Tencent)",
    "bd09": "BD-09 (Baidu)",
}

# GCJ-02: the Krasovsky 1940 ellipsoid of the published algorithm
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# Bounding box outside which GCJ-02 applies no offset (the usual ``out_of_china`` test)
_CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)  # west, south, east, north
# BD-09 from GCJ-02
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

_INVERSE_TOL_DEG = 1e-11
"""Round-trip residual at which the inverses stop (1e-11 degrees is about 1 µm)."""
_INVERSE_MAX_ERROR_DEG = 1e-9
_INVERSE_MAX_ITER = 50

Float64Array = npt.NDArray[np.float64]


def check_crs(name: str, *, what: str = "crs") -> CoordSystem:
    """The :data:`CoordSystem` a user's name stands for.

    Case, spaces, ``-``, ``_`` and ``:`` are ignored, so ``WGS84``, ``WGS-84``,
    ``EPSG:4326``, ``gcj-02``, ``GCJ02``, ``bd-09`` and ``BD09LL`` are all accepted, as are
    ``gps``, ``mars``, ``amap``/``gaode``/``tencent`` (GCJ-02) and ``baidu`` (BD-09).

    Parameters
    ----------
    name : str
        The name given.
    what : str
        The option or field the name came from, for the error message (e.g. ``--crs``).

    Raises
    ------
    InputError
        The name is none of these; the message lists the choices.
    """
    key = "".join(ch for ch in str(name).lower() if ch not in " -_:")
    crs = _CRS_ALIASES.get(key)
    if crs is None:
        choices = ", ".join(f"{c} = {_CRS_LABEL[c]}" for c in COORD_SYSTEMS)
        raise InputError(f"{what}: unknown coordinate system {name!r}; use one of {choices}")
    return crs


def out_of_china(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """True where a point lies outside the box in which GCJ-02 offsets coordinates.

    The box (lon 72.004-137.8347, lat 0.8293-55.8271 degrees) is the rough test the
    published implementations use. It also covers neighbouring countries (Korea, Mongolia,
    much of South-East Asia), where GCJ-02 is then applied too; no point outside it is
    offset.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    west, south, east, north = _CHINA_BBOX
    inside = (lon_a >= west) & (lon_a <= east) & (lat_a >= south) & (lat_a <= north)
    return ~inside


def meets_china(bbox: tuple[float, float, float, float]) -> bool:
    """Whether a WGS-84 box (west, south, east, north) meets the box in which GCJ-02
    offsets coordinates (see :func:`out_of_china`): outside it GCJ-02 equals WGS-84 and
    the Chinese datums say nothing a map there needs."""
    west, south, east, north = bbox
    c_west, c_south, c_east, c_north = _CHINA_BBOX
    return west <= c_east and east >= c_west and south <= c_north and north >= c_south


def _gcj02_offset(lon: Float64Array, lat: Float64Array) -> tuple[Float64Array, Float64Array]:
    """GCJ-02 minus WGS-84 at WGS-84 ``lon, lat`` (degrees), ignoring the China box."""
    x = lon - 105.0
    y = lat - 35.0
    common = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + (common + 20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)
               + 160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0))
            * 2.0 / 3.0)  # fmt: skip
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + (common + 20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)
               + 150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi))
            * 2.0 / 3.0)  # fmt: skip
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad) * np.pi)
    return dlon, dlat


def _gcj02_to_bd09_raw(lon: Float64Array, lat: Float64Array) -> tuple[Float64Array, Float64Array]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _pair(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=np.float64),
                                       np.asarray(lat, dtype=np.float64))  # fmt: skip
    return lon_a.copy(), lat_a.copy()


def _invert(
    forward: Callable[[Float64Array, Float64Array], tuple[Float64Array, Float64Array]],
    lon: Float64Array,
    lat: Float64Array,
    guess: tuple[Float64Array, Float64Array],
    name: str,
) -> tuple[Float64Array, Float64Array]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration from ``guess``.

    ``forward`` is the identity plus a small, slowly varying shift (its Jacobian is within
    a few hundredths of the identity), so ``x -= forward(x) - target`` contracts by that
    much per step: a handful of steps reach the tolerance.
    """
    x, y = guess[0].copy(), guess[1].copy()
    todo = np.isfinite(x) & np.isfinite(y)
    for _ in range(_INVERSE_MAX_ITER):
        if not todo.any():
            break
        fx, fy = forward(x[todo], y[todo])
        rx, ry = fx - lon[todo], fy - lat[todo]
        x[todo] -= rx
        y[todo] -= ry
        todo[todo] = np.maximum(np.abs(rx), np.abs(ry)) > _INVERSE_TOL_DEG
    if todo.any():
        fx, fy = forward(x[todo], y[todo])
        err = np.maximum(np.abs(fx - lon[todo]), np.abs(fy - lat[todo]))
        if (err > _INVERSE_MAX_ERROR_DEG).any():
            i = int(np.nonzero(todo)[0][0])
            raise InputError(
                f"{name}: no exact inverse found for {int(todo.sum())} point(s), first "
                f"({lon[i]}, {lat[i]}); coordinates must be lon, lat in degrees"
            )
    return x, y


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    """WGS-84 lon/lat degrees to GCJ-02 lon/lat degrees (the published formula).

    Points outside the China box (:func:`out_of_china`) and non-finite values are returned
    unchanged.
    """
    lon_a, lat_a = _pair(lon, lat)
    inside = ~out_of_china(lon_a, lat_a) & np.isfinite(lon_a) & np.isfinite(lat_a)
    dlon, dlat = _gcj02_offset(lon_a[inside], lat_a[inside])
    lon_a[inside] += dlon
    lat_a[inside] += dlat
    return lon_a, lat_a


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    """GCJ-02 lon/lat degrees to WGS-84, exactly: ``wgs84_to_gcj02`` of the result gives
    the input back to 1e-11 degrees (the one-step inverse is 1-2 m off).

    Points outside the China box are returned unchanged. Within about 1 km of the box's
    edges (open sea, or outside China) GCJ-02 is not one-to-one; there the box test is made
    on the GCJ-02 input, as every published implementation does.
    """
    lon_a, lat_a = _pair(lon, lat)
    inside = ~out_of_china(lon_a, lat_a) & np.isfinite(lon_a) & np.isfinite(lat_a)
    g_lon, g_lat = lon_a[inside], lat_a[inside]

    def forward(x: Float64Array, y: Float64Array) -> tuple[Float64Array, Float64Array]:
        dx, dy = _gcj02_offset(x, y)
        return x + dx, y + dy

    dlon, dlat = _gcj02_offset(g_lon, g_lat)
    x, y = _invert(forward, g_lon, g_lat, (g_lon - dlon, g_lat - dlat), "GCJ-02 to WGS-84")
    lon_a[inside], lat_a[inside] = x, y
    return lon_a, lat_a


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    """GCJ-02 lon/lat degrees to BD-09 lon/lat degrees (Baidu's published formula).

    Applied everywhere, as Baidu's own converter and most libraries do (only GCJ-02 has
    the China box); non-finite values are returned unchanged.
    """
    lon_a, lat_a = _pair(lon, lat)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    lon_a[ok], lat_a[ok] = _gcj02_to_bd09_raw(lon_a[ok], lat_a[ok])
    return lon_a, lat_a


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Float64Array, Float64Array]:
    """BD-09 lon/lat degrees to GCJ-02, exactly: ``gcj02_to_bd09`` of the result gives the
    input back to 1e-11 degrees (the usual closed-form inverse is up to ~1e-6 degrees off).
    """
    lon_a, lat_a = _pair(lon, lat)
    ok = np.isfinite(lon_a) & np.isfinite(lat_a)
    b_lon, b_lat = lon_a[ok], lat_a[ok]
    x, y = b_lon - _BD_DLON, b_lat - _BD_DLAT
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    guess = (z * np.cos(theta), z * np.sin(theta))
    lon_a[ok], lat_a[ok] = _invert(_gcj02_to_bd09_raw, b_lon, b_lat, guess, "BD-09 to GCJ-02")
    return lon_a, lat_a


@overload
def to_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]: ...
@overload
def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str
) -> tuple[Float64Array, Float64Array]: ...
def to_wgs84(lon: Any, lat: Any, crs: str) -> Any:
    """Lon/lat degrees in ``crs`` to WGS-84 lon/lat degrees.

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees in ``crs`` (broadcast against each other).
    crs : {"wgs84", "gcj02", "bd09"} or an alias accepted by :func:`check_crs`

    Returns
    -------
    lon, lat : float or ndarray of float64
        WGS-84 degrees; floats when both inputs are scalars. The inverses are exact:
        ``from_wgs84`` of the result gives the input back to 1e-11 degrees. GCJ-02 (and
        the GCJ-02 step of BD-09) leaves points outside China unchanged.
    """
    system = check_crs(crs)
    if system == "wgs84":
        x, y = _pair(lon, lat)
    elif system == "gcj02":
        x, y = gcj02_to_wgs84(lon, lat)
    else:
        x, y = gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return _maybe_scalar(lon, lat, x, y)


@overload
def from_wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]: ...
@overload
def from_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str
) -> tuple[Float64Array, Float64Array]: ...
def from_wgs84(lon: Any, lat: Any, crs: str) -> Any:
    """WGS-84 lon/lat degrees to lon/lat degrees in ``crs``.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees (broadcast against each other).
    crs : {"wgs84", "gcj02", "bd09"} or an alias accepted by :func:`check_crs`

    Returns
    -------
    lon, lat : float or ndarray of float64
        Degrees in ``crs``; floats when both inputs are scalars. Points outside China get
        no GCJ-02 offset (BD-09 still applies its own shift there).
    """
    system = check_crs(crs)
    if system == "wgs84":
        x, y = _pair(lon, lat)
    elif system == "gcj02":
        x, y = wgs84_to_gcj02(lon, lat)
    else:
        x, y = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return _maybe_scalar(lon, lat, x, y)


def _maybe_scalar(lon: Any, lat: Any, x: Float64Array, y: Float64Array) -> Any:
    if np.ndim(lon) == 0 and np.ndim(lat) == 0:
        return float(x), float(y)
    return x, y


# ------------------------------------------------------------- GeoJSON in other datums

_POSITION_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
                   "Polygon": 2, "MultiPolygon": 3}  # fmt: skip


def geojson_to_crs(doc: Mapping[str, Any], crs: str) -> dict[str, Any]:
    """A copy of a WGS-84 GeoJSON object with its coordinates in ``crs``.

    Parameters
    ----------
    doc : dict
        A FeatureCollection, Feature or geometry (Point, MultiPoint, LineString,
        MultiLineString, Polygon, MultiPolygon, GeometryCollection), lon/lat WGS-84.
    crs : {"wgs84", "gcj02", "bd09"} or an alias accepted by :func:`check_crs`

    Returns
    -------
    dict
        A new object (``doc`` is not changed). RFC 7946 GeoJSON is WGS-84 by definition,
        so when ``crs`` is not WGS-84 the result carries a top-level ``"crs_note"`` member
        saying which datum the coordinates are in: a foreign member that RFC 7946 allows
        and readers ignore (the deprecated ``"crs"`` member is not used: it cannot name
        GCJ-02 or BD-09). ``bbox`` members are dropped, not shifted. Altitudes and other
        extra position values are kept.
    """
    system = check_crs(crs)
    out = _map_positions(doc, lambda x, y: from_wgs84(x, y, system))
    out.pop(CRS_NOTE_KEY, None)
    if system != "wgs84":
        out[CRS_NOTE_KEY] = (
            f"coordinates are {_CRS_LABEL[system]} lon/lat degrees, not WGS-84 as RFC 7946 "
            "specifies; GIS software will misplace them unless they are converted back"
        )
    return out


def geojson_from_crs(doc: Mapping[str, Any], crs: str) -> dict[str, Any]:
    """A copy of a GeoJSON object whose coordinates are in ``crs``, in WGS-84.

    The inverse of :func:`geojson_to_crs` (exact to 1e-11 degrees); a ``"crs_note"``
    member is removed and ``bbox`` members are dropped. See :func:`geojson_to_crs`.
    """
    system = check_crs(crs)
    out = _map_positions(doc, lambda x, y: to_wgs84(x, y, system))
    out.pop(CRS_NOTE_KEY, None)
    return out


def geojson_swap_axes(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a GeoJSON object with the first two values of every position swapped.

    For a CRS whose first axis is latitude, such as EPSG:4326 as the EPSG registry defines
    it (latitude, longitude): RFC 7946 positions are (lon, lat), so the result is no
    longer RFC 7946 GeoJSON. ``bbox`` members are dropped; extra values are kept. Applying
    it twice gives the positions back.
    """
    return _map_positions(doc, lambda x, y: (y, x))


def geojson_bbox(doc: Mapping[str, Any]) -> BBox | None:
    """(west, south, east, north) of every position of a GeoJSON object, or None when it
    has none (a Feature without geometry, an empty collection). The box is taken on the
    plain numbers: a geometry crossing the antimeridian gets a box spanning the globe."""
    found: list[Sequence[Any]] = []
    _walk(doc, found.append, "GeoJSON")
    if not found:
        return None
    xy = np.array([p[:2] for p in found], dtype=np.float64)
    west, south = xy.min(axis=0).tolist()
    east, north = xy.max(axis=0).tolist()
    return (west, south, east, north)


def _map_positions(
    doc: Mapping[str, Any],
    convert: Callable[[Float64Array, Float64Array], tuple[Float64Array, Float64Array]],
) -> dict[str, Any]:
    """Rebuild ``doc`` with every position converted in one vectorised call."""
    if not isinstance(doc, Mapping) or "type" not in doc:
        raise InputError("expected a GeoJSON object (a mapping with a 'type' member)")
    found: list[Sequence[Any]] = []
    _walk(doc, found.append, "GeoJSON")
    if found:
        lon = np.array([p[0] for p in found], dtype=np.float64)
        lat = np.array([p[1] for p in found], dtype=np.float64)
        new_lon, new_lat = convert(lon, lat)
        converted = [[float(x), float(y), *p[2:]]
                     for p, x, y in zip(found, new_lon, new_lat)]  # fmt: skip
    else:
        converted = []
    it = iter(converted)
    result: dict[str, Any] = _walk(doc, lambda p: next(it), "GeoJSON")
    return result


def _walk(obj: Mapping[str, Any], visit: Callable[[Sequence[Any]], Any], where: str) -> Any:
    """Copy a GeoJSON object, replacing each position ``p`` by ``visit(p)``."""
    kind = obj.get("type")
    out = {k: v for k, v in obj.items() if k != "bbox"}
    if kind == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise InputError(f"{where}: a FeatureCollection needs a 'features' list")
        out["features"] = [_walk(_mapping(f, f"{where} feature #{n + 1}"), visit,
                                 f"{where} feature {_label(f, n)}")
                           for n, f in enumerate(feats)]  # fmt: skip
    elif kind == "Feature":
        geom = obj.get("geometry")
        out["geometry"] = None if geom is None else _walk(
            _mapping(geom, f"{where} geometry"), visit, where)  # fmt: skip
    elif kind == "GeometryCollection":
        geoms = obj.get("geometries")
        if not isinstance(geoms, list):
            raise InputError(f"{where}: a GeometryCollection needs a 'geometries' list")
        out["geometries"] = [_walk(_mapping(g, f"{where} geometry #{n + 1}"), visit, where)
                             for n, g in enumerate(geoms)]  # fmt: skip
    elif kind in _POSITION_DEPTH:
        out["coordinates"] = _positions(obj.get("coordinates"), _POSITION_DEPTH[kind], visit,
                                        f"{where} ({kind})")  # fmt: skip
    else:
        raise InputError(f"{where}: unknown GeoJSON type {kind!r}")
    return out


def _positions(coords: Any, depth: int, visit: Callable[[Sequence[Any]], Any], where: str) -> Any:
    if not isinstance(coords, list | tuple):
        raise InputError(f"{where}: 'coordinates' must be nested arrays, got {coords!r}")
    if depth == 0:
        if len(coords) < 2 or not all(isinstance(v, int | float) for v in coords[:2]):
            raise InputError(f"{where}: a position needs numbers lon, lat; got {coords!r}")
        return visit(coords)
    return [_positions(c, depth - 1, visit, where) for c in coords]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected a GeoJSON object, got {type(value).__name__}")
    return value


def _label(feature: Any, n: int) -> str:
    fid = feature.get("id") if isinstance(feature, Mapping) else None
    return f"#{n + 1}" if fid is None else f"#{n + 1} (id {fid!r})"


# -- bounding boxes across datums --------------------------------------------------
BBox = tuple[float, float, float, float]
"""(west, south, east, north) in lon/lat degrees."""

_Convert = Callable[[Any, Any], tuple[Float64Array, Float64Array]]
_BBOX_STEP_DEG = 0.005
"""Sampling step along a box's edges: the datums' shifts vary over 1/3 degree at the
fastest, so this finds their extremes to about a centimetre."""
_BBOX_MAX_SAMPLES = 4001


def _edge_samples(lo: float, hi: float) -> Float64Array:
    n = min(max(math.ceil((hi - lo) / _BBOX_STEP_DEG), 1), _BBOX_MAX_SAMPLES - 1) + 1
    return np.linspace(lo, hi, n)


def _cut_lines(cuts: Sequence[float], lo: float, hi: float) -> list[float]:
    """The cut values and their neighbouring floats strictly between ``lo`` and ``hi``."""
    near = [float(v) for c in cuts for v in (np.nextafter(c, -np.inf), c, np.nextafter(c, np.inf))]
    return [v for v in near if lo < v < hi]


def _box_image(bbox: BBox, convert: _Convert, china_cuts: bool) -> BBox:
    """The bounding box of the image of ``bbox`` under one datum step.

    Each step is the identity plus a slowly varying shift (its Jacobian is within a few
    thousandths of the identity), so the image's extremes lie on the box's edges, sampled
    densely; a GCJ-02 step (``china_cuts``) also jumps where it stops offsetting, at the
    edges of the China box, so lines along those edges inside ``bbox`` (and just outside
    them) are sampled too.
    """
    west, south, east, north = bbox
    xs, ys = [west, east], [south, north]
    if china_cuts:
        c_west, c_south, c_east, c_north = _CHINA_BBOX
        xs += _cut_lines((c_west, c_east), west, east)
        ys += _cut_lines((c_south, c_north), south, north)
    along_y, along_x = _edge_samples(south, north), _edge_samples(west, east)
    lon = np.concatenate([np.full(len(along_y), x) for x in xs] + [along_x for _ in ys])
    lat = np.concatenate([along_y for _ in xs] + [np.full(len(along_x), y) for y in ys])
    out_lon, out_lat = convert(lon, lat)
    return (float(out_lon.min()), float(out_lat.min()), float(out_lon.max()),
            float(out_lat.max()))  # fmt: skip


_Steps = Sequence[tuple[_Convert, bool]]
_TO_WGS84_STEPS: dict[str, _Steps] = {
    "wgs84": (),
    "gcj02": ((gcj02_to_wgs84, True),),
    "bd09": ((bd09_to_gcj02, False), (gcj02_to_wgs84, True)),
}
"""Datum -> conversions to WGS-84, each with whether it is a GCJ-02 step (China box)."""
_FROM_WGS84_STEPS: dict[str, _Steps] = {
    "wgs84": (),
    "gcj02": ((wgs84_to_gcj02, True),),
    "bd09": ((wgs84_to_gcj02, True), (gcj02_to_bd09, False)),
}


def bbox_to_wgs84(bbox: BBox, crs: str) -> BBox:
    """The smallest WGS-84 box holding a box given in ``crs`` (lon/lat degrees).

    A box in GCJ-02 or BD-09 is not a box in WGS-84 (the shift varies by tens of metres
    across a city, and GCJ-02 jumps at the edge of its China box); this is the bounding box
    of its converted edges, so a feature inside the given box, once converted, is inside
    the result. For BD-09 near the antimeridian or the poles the result may leave the
    lon/lat range by up to ~0.007 degrees.

    Raises
    ------
    InputError
        When a point of its edges has no exact inverse (see :func:`to_wgs84`).
    """
    for convert, cuts in _TO_WGS84_STEPS[check_crs(crs, what="crs")]:
        bbox = _box_image(bbox, convert, cuts)
    return bbox


def bbox_from_wgs84(bbox: BBox, crs: str) -> BBox:
    """The smallest box in ``crs`` holding a WGS-84 box: the inverse direction of
    :func:`bbox_to_wgs84` (each is a bound, so a round trip may grow the box slightly)."""
    for convert, cuts in _FROM_WGS84_STEPS[check_crs(crs, what="crs")]:
        bbox = _box_image(bbox, convert, cuts)
    return bbox
