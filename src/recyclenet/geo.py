"""Coordinates: lon/lat validation, bounding boxes and local metric projections.

Every coordinate in recyclenet is (lon, lat) in WGS-84 degrees unless a name says
otherwise; projected x/y metres always travel with their CRS.
"""

from __future__ import annotations

from collections.abc import Sequence

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
