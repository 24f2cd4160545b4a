"""GeoDataFrames in and out: points, demand, sites, orders and every plan layer.

``*_from_geodataframe`` take a GeoDataFrame in any CRS (reprojected to WGS-84; without a
CRS its coordinates are lon/lat degrees in ``crs``) or a DataFrame with lon/lat columns,
with the column names of the file readers (English or Chinese aliases, see
:mod:`recyclenet.readers`): a GeoDataFrame and a file take the same path.
``*_to_geodataframe`` return EPSG:4326 GeoDataFrames whose columns read back with the
``from`` functions (round trip). Plan layers: ``SitingRun.to_geodataframes()`` and
``RoutingRun.to_geodataframes()`` (one geometry type per layer, typed columns; see
:func:`recyclenet.export.layers.layer_frames`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .readers import demand_from_frame, normalise_frame, points_from_frame, sites_from_frame

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .catalog import Catalog
    from .points import Points
    from .routing.problem import Order
    from .siting.problem import Demand, Site


def _frame(data: pd.DataFrame, kind: str, crs: str) -> pd.DataFrame:
    return normalise_frame(data, kind=kind, crs=crs, source=f"{kind} GeoDataFrame")


def points_from_geodataframe(data: pd.DataFrame, *, crs: str = "wgs84") -> Points:
    """:class:`~recyclenet.Points` (id, geometry or lon/lat; other columns as properties)."""
    return points_from_frame(_frame(data, "points", crs))


def demand_from_geodataframe(data: pd.DataFrame, *, crs: str = "wgs84") -> list[Demand]:
    """Demand: id, point (or polygon) geometry, ``households``/``户数``, ``weight``,
    ``kg_<material>``."""
    return demand_from_frame(_frame(data, "demand", crs))


def sites_from_geodataframe(
    data: pd.DataFrame, *, crs: str = "wgs84", kind: str = "sites"
) -> list[Site]:
    """Sites (``kind="centres"``: sorting centres): id, geometry, status, fixed_cost,
    capacity, closing_cost."""
    return sites_from_frame(_frame(data, kind, crs))


def orders_from_geodataframe(
    data: pd.DataFrame, *, crs: str = "wgs84", catalog: Catalog | None = None
) -> list[Order]:
    """Orders: id, geometry and the columns of :mod:`recyclenet.routing.io` (``items`` as
    ``category:count;...``, ``time_windows``, ``load_kg``, ...)."""
    from .readers import table_rows
    from .routing.io import orders_from_rows

    frame = _frame(data, "orders", crs)
    return orders_from_rows(table_rows(frame), label="orders GeoDataFrame", first_line=1,
                            catalog=catalog)  # fmt: skip


def _located(rows: Iterable[dict[str, Any]]) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pandas as pd

    records = list(rows)
    frame = pd.DataFrame(records)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=4326)  # fmt: skip


def points_to_geodataframe(points: Points) -> gpd.GeoDataFrame:
    """id, lon, lat, the properties, and a Point geometry (EPSG:4326)."""
    return _located({"id": i, "lon": float(x), "lat": float(y), **p}
                    for i, x, y, p in zip(points.ids, points.lon, points.lat,
                                          points.properties))  # fmt: skip


def demand_to_geodataframe(demand: Sequence[Demand]) -> gpd.GeoDataFrame:
    """id, lon, lat, households, weight, ``kg_<material>`` per material; Point geometry."""
    return _located({"id": d.id, "lon": d.lon, "lat": d.lat, "households": d.households,
                     "weight": d.weight,
                     **{f"kg_{m}": v for m, v in d.kg_per_year.items()}}
                    for d in demand)  # fmt: skip


def sites_to_geodataframe(sites: Sequence[Site]) -> gpd.GeoDataFrame:
    """id, lon, lat, status, fixed_cost, capacity (NaN when none), closing_cost."""
    return _located({"id": s.id, "lon": s.lon, "lat": s.lat, "status": s.status,
                     "fixed_cost": s.fixed_cost,
                     "capacity": float("nan") if s.capacity is None else s.capacity,
                     "closing_cost": s.closing_cost} for s in sites)  # fmt: skip


def _clock(t: float) -> str:
    return f"{int(t // 3600):02d}:{int(t % 3600 // 60):02d}:{int(t % 60):02d}"


def orders_to_geodataframe(orders: Sequence[Order]) -> gpd.GeoDataFrame:
    """id, lon, lat, items (``category:count;...``), load_kg, volume_m3, service_s,
    time_windows (``HH:MM:SS-HH:MM:SS;...``), kind, required, penalty, priority, skills."""
    return _located({
        "id": o.id, "lon": o.lon, "lat": o.lat,
        "items": ";".join(f"{i.category}:{i.count:g}" for i in o.items),
        "load_kg": o.load_kg, "volume_m3": o.volume_m3, "service_s": o.service_s,
        "time_windows": ";".join(f"{_clock(a)}-{_clock(b)}" for a, b in o.time_windows),
        "kind": o.kind, "required": "yes" if o.required else "no",
        "penalty": float("nan") if o.penalty is None else o.penalty,
        "priority": o.priority, "skills": ";".join(sorted(o.required_skills)),
    } for o in orders)  # fmt: skip
