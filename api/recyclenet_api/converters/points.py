"""Points of a request: ids, WGS-84 lon/lat, and the error that names a request field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from recyclenet import geo
from recyclenet.errors import InputError

P = TypeVar("P")
T = TypeVar("T")


class PayloadError(InputError):
    """An :class:`InputError` that knows which request field it is about.

    ``field`` is the dotted path below ``body`` (``orders.features.3``), so a router can
    answer 422 naming the field path with the library's message.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def dup_check(ids: Sequence[str], label: str, seen: dict[str, str] | None = None) -> None:
    """PayloadError on ``{label}.{i}`` at the first id already seen (in ``seen`` too:
    ids that must be unique across several lists share one ``seen``)."""
    seen = {} if seen is None else seen
    for i, pid in enumerate(ids):
        where = f"{label}.{i}"
        if pid in seen:
            raise PayloadError(
                where,
                f"duplicate id {pid!r} (also at {seen[pid]}); ids must be unique"
                + (" across depots, facilities and orders" if label != "fleet" else ""),
            )
        seen[pid] = where


def lonlat_to_wgs84(
    ids: Sequence[str], lon: Sequence[float], lat: Sequence[float], crs: str, label: str
) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat given in ``crs`` as WGS-84 degrees (:func:`recyclenet.geo.to_wgs84`, exact
    inverse); the one place the service converts request coordinates.

    Raises
    ------
    PayloadError
        On ``{label}.{i}`` when a point has no WGS-84 equivalent in lon/lat range (BD-09
        within ~0.007 degrees of the antimeridian or the poles), naming the ids and the
        values given.
    """
    system = geo.check_crs(crs, what="crs")
    x0 = np.asarray(lon, dtype=np.float64)
    y0 = np.asarray(lat, dtype=np.float64)
    if system == "wgs84" or not len(x0):
        return x0, y0
    try:
        x, y = geo.to_wgs84(x0, y0, system)
    except InputError as exc:
        raise PayloadError(label, f"{exc} (converting {system} to WGS-84)") from None
    bad = np.nonzero(~((np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)))[0]
    if len(bad):
        listed = ", ".join(f"{ids[i]} ({x0[i]}, {y0[i]})" for i in bad[:10])
        raise PayloadError(
            f"{label}.{int(bad[0])}",
            f"{len(bad)} point(s) leave the lon/lat range once converted from {system} to "
            f"WGS-84: {listed}",
        )
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


@dataclass(frozen=True)
class Placed(Generic[P]):
    """A request point in WGS-84 with its properties: ``index`` is its position in the
    request list, for errors naming ``{label}.{index}``."""

    index: int
    id: str
    lon: float
    lat: float
    properties: P


def placed_features(features: Sequence[Any], label: str, crs: str) -> list[Placed[Any]]:
    """GeoJSON Point features (:mod:`recyclenet_api.schemas.geo`) in WGS-84.

    The id is the Feature's ``id``, else ``properties.id``; a feature without one is a
    PayloadError on ``{label}.{i}.id``.
    """
    ids: list[str] = []
    for i, f in enumerate(features):
        pid = f.resolved_id()
        if pid is None:
            raise PayloadError(
                f"{label}.{i}.id",
                "every feature needs an id of 1 to 200 characters (Feature.id or properties.id)",
            )
        ids.append(pid)
    lon_in = [f.geometry.coordinates[0] for f in features]
    lat_in = [f.geometry.coordinates[1] for f in features]
    lon, lat = lonlat_to_wgs84(ids, lon_in, lat_in, crs, label)
    return [Placed(i, pid, float(x), float(y), f.properties)
            for i, (pid, x, y, f) in enumerate(zip(ids, lon, lat, features))]  # fmt: skip


def build_each(
    features: Sequence[Any], label: str, crs: str, make: Callable[[Placed[Any]], T]
) -> list[T]:
    """``make`` of each feature placed in WGS-84 (:func:`placed_features`); the library's
    :class:`InputError` becomes a PayloadError on ``{label}.{i}``."""
    out = []
    for p in placed_features(features, label, crs):
        try:
            out.append(make(p))
        except InputError as exc:
            raise PayloadError(f"{label}.{p.index}", str(exc)) from None
    return out


def placed_points(points: Sequence[Any], label: str, crs: str) -> list[Placed[None]]:
    """``{"id", "lon", "lat"}`` points (:class:`recyclenet_api.schemas.PointIn`) in WGS-84."""
    ids = [str(p.id) for p in points]
    lon, lat = lonlat_to_wgs84(ids, [p.lon for p in points], [p.lat for p in points], crs, label)
    return [Placed(i, pid, float(x), float(y), None)
            for i, (pid, x, y) in enumerate(zip(ids, lon, lat))]  # fmt: skip


def geojson_to_wgs84(doc: dict[str, Any], crs: str, label: str) -> dict[str, Any]:
    """A GeoJSON document (zones, districts) given in ``crs``, in WGS-84."""
    if crs == "wgs84":
        return doc
    try:
        return geo.geojson_from_crs(doc, crs)
    except (InputError, ValueError) as exc:
        raise PayloadError(label, str(exc)) from None
