"""Reading orders, fleets, depots and facilities from user tables.

Every file goes through :func:`recyclenet.readers.read_frame`: CSV/TSV (any separator,
UTF-8 or GBK), Excel, Shapefile, GeoPackage, GeoJSON (any CRS) ..., with the column
names of ``data/column_aliases.csv`` (``经度``/``纬度``, ``lng``, ``编号`` ...).

Orders columns (only ``id, lon, lat`` are required; lon/lat in WGS-84, or in GCJ-02 or
BD-09 when the reader is given ``crs``: they are converted to WGS-84 on reading)::

    id, lon, lat, items, load_kg, volume_m3, service_s, time_windows, kind,
    required, penalty, priority, skills

- ``items``: ``category:count`` pairs separated by ``;`` (``refrigerator:1;scrap_ferrous:120``);
  weight, volume, service time and skills are derived from the catalogue unless the
  ``load_kg``, ``volume_m3``, ``service_s`` columns give them.
- ``time_windows``: ``HH:MM-HH:MM`` (or seconds ``28800-43200``) separated by ``;``.
- ``kind``: ``pickup`` (default) or ``delivery``; ``required``: yes/no (default yes);
  ``skills``: names separated by ``;``.

Fleet CSV columns are the :class:`VehicleType` fields (see ``data/fleet_default.csv``):
``id, count, capacity_kg, capacity_m3, start_id, end_id, shift_start_s, shift_end_s,
max_duration_s, max_distance_m, break_earliest_s, break_latest_s, break_s, fixed_cost,
cost_per_km, cost_per_hour, skills, profile, max_unloads``. Lines starting with ``#`` are
comments. Empty cells take the defaults.

Sites (depots and sorting centres)::

    id, lon, lat, kind, unload_s, open, close, capacity_kg

``kind`` is ``depot`` (车场) or ``facility`` (分拣中心, 中转站); ``open``/``close`` are
``HH:MM`` or seconds; ``capacity_kg`` is what a facility takes in the day (empty: no
limit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..catalog import Catalog, default_catalog
from ..errors import InputError
from ..matrix import Matrix
from ..readers import optional_float, read_frame, table_rows
from ..tables import read_table
from .problem import Depot, Facility, Order, VehicleType


def _clock(text: str) -> float:
    if ":" in text:
        parts = [float(p) for p in text.split(":")]
        return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0.0)
    return float(text)


def _windows(text: str) -> list[tuple[float, float]]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        a, sep, b = part.partition("-")
        if not sep:
            raise ValueError(f"time window {part!r} must be 'open-close'")
        out.append((_clock(a.strip()), _clock(b.strip())))
    return out


def _bool(text: str, default: bool) -> bool:
    t = text.strip().lower()
    if not t:
        return default
    if t in ("yes", "true", "1", "y"):
        return True
    if t in ("no", "false", "0", "n"):
        return False
    raise ValueError(f"{text!r} is not yes/no")


def _opt(text: str) -> float | None:
    return optional_float(text)


def _user_rows(
    path: str | Path, kind: str, crs: str, layer: str | int | None
) -> tuple[str, int, list[dict[str, str]]]:
    frame = read_frame(path, kind=kind, crs=crs, layer=layer)
    return frame.attrs["source"], int(frame.attrs["first_line"]), table_rows(frame)


def read_orders(
    path: str | Path,
    *,
    catalog: Catalog | None = None,
    crs: str = "wgs84",
    layer: str | int | None = None,
) -> list[Order]:
    """Read orders from a table or GIS file (see the module docstring for the columns).

    ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) is the datum of the file's lon/lat degrees
    (after a declared CRS is reprojected); the orders returned are WGS-84.
    """
    catalog = default_catalog() if catalog is None else catalog
    label, first, rows = _user_rows(path, "orders", crs, layer)
    return orders_from_rows(rows, label=label, first_line=first, catalog=catalog)


def orders_from_rows(
    rows: list[dict[str, str]], *, label: str, first_line: int = 2,
    catalog: Catalog | None = None,
) -> list[Order]:  # fmt: skip
    """Orders from rows of text cells (see :func:`recyclenet.readers.table_rows`)."""
    catalog = default_catalog() if catalog is None else catalog
    orders = []
    for line, r in enumerate(rows, start=first_line):
        oid = r.get("id", "")
        try:
            items = []
            for part in filter(None, (p.strip() for p in r.get("items", "").split(";"))):
                cat, sep, count = part.partition(":")
                items.append((cat.strip(), float(count) if sep else 1.0))
            kwargs: dict[str, object] = {
                "time_windows": _windows(r.get("time_windows", "")),
                "kind": r.get("kind") or "pickup",
                "required": _bool(r.get("required", ""), True),
                "penalty": _opt(r.get("penalty", "")),
                "priority": int(r.get("priority") or 0),
            }
            skills = [s for s in r.get("skills", "").split(";") if s.strip()]
            orders.append(Order.from_items(
                oid, float(r["lon"]), float(r["lat"]), items, catalog=catalog,
                load_kg=_opt(r.get("load_kg", "")), volume_m3=_opt(r.get("volume_m3", "")),
                service_s=_opt(r.get("service_s", "")), required_skills=skills, **kwargs,
            ))  # fmt: skip
        except InputError as exc:
            raise InputError(f"{label} line {line}: {exc}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{label} line {line} (order {oid!r}): {exc}") from None
    return orders


def read_fleet(
    path: str | Path | None = None, *, layer: str | int | None = None
) -> list[VehicleType]:
    """Read vehicle types from a table (default: the packaged ``data/fleet_default.csv``)."""
    if path is None:
        label, rows = read_table(None, "fleet_default.csv")
        first = 2
    else:
        label, first, rows = _user_rows(path, "fleet", "wgs84", layer)
    return fleet_from_rows(rows, label=label, first_line=first)


def fleet_from_rows(
    rows: list[dict[str, str]], *, label: str, first_line: int = 2
) -> list[VehicleType]:
    """Vehicle types from rows of text cells (see :func:`recyclenet.readers.table_rows`)."""
    first = first_line
    fleet = []
    for line, r in enumerate(rows, start=first):
        try:
            b0, b1 = _opt(r.get("break_earliest_s", "")), _opt(r.get("break_latest_s", ""))
            fleet.append(VehicleType(
                id=r["id"],
                count=int(r.get("count") or 1),
                capacity_kg=_opt(r.get("capacity_kg", "")),
                capacity_m3=_opt(r.get("capacity_m3", "")),
                start_id=r["start_id"],
                end_id=r.get("end_id") or "",
                shift=(_opt(r.get("shift_start_s", "")) or 0.0,
                       _opt(r.get("shift_end_s", "")) or 48 * 3600.0),
                max_duration_s=_opt(r.get("max_duration_s", "")),
                max_distance_m=_opt(r.get("max_distance_m", "")),
                break_window=None if b0 is None or b1 is None else (b0, b1),
                break_s=_opt(r.get("break_s", "")) or 0.0,
                fixed_cost=_opt(r.get("fixed_cost", "")) or 0.0,
                cost_per_km=_opt(r.get("cost_per_km", "")) or 0.0,
                cost_per_hour=_opt(r.get("cost_per_hour", "")) or 0.0,
                skills=frozenset(s.strip() for s in r.get("skills", "").split(";") if s.strip()),
                profile=r.get("profile") or "car",
                max_unloads=int(r["max_unloads"]) if r.get("max_unloads") else None,
            ))  # fmt: skip
        except InputError as exc:
            raise InputError(f"{label} line {line}: {exc}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{label} line {line}: {exc}") from None
    if not fleet:
        raise InputError(f"{label}: the fleet is empty")
    return fleet


_SITE_KINDS = {"depot": "depot", "车场": "depot", "停车场": "depot", "facility": "facility",
               "分拣中心": "facility", "中转站": "facility", "centre": "facility",
               "center": "facility"}  # fmt: skip


def read_sites(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None
) -> tuple[list[Depot], list[Facility]]:
    """Read depots and unloading facilities from one table or GIS file (see the module
    docstring).

    ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) is the datum of the file's lon/lat degrees;
    the depots and facilities returned are WGS-84.
    """
    label, first, rows = _user_rows(path, "depots", crs, layer)
    return depots_from_rows(rows, label=label, first_line=first)


def depots_from_rows(
    rows: list[dict[str, str]], *, label: str, first_line: int = 2
) -> tuple[list[Depot], list[Facility]]:
    """Depots and facilities from rows of text cells (``kind`` depot or facility)."""
    first = first_line
    depots: list[Depot] = []
    facilities: list[Facility] = []
    for line, r in enumerate(rows, start=first):
        try:
            tw = None
            if r.get("open") or r.get("close"):
                tw = (_clock(r.get("open") or "0"), _clock(r.get("close") or "48:00"))
            text = (r.get("kind") or "depot").lower()
            kind = _SITE_KINDS.get(text, text)
            lon, lat = float(r["lon"]), float(r["lat"])
            if kind == "depot":
                depots.append(Depot(r["id"], lon, lat, time_window=tw))
            elif kind == "facility":
                facilities.append(Facility(r["id"], lon, lat, unload_s=_opt(
                    r.get("unload_s", "")) or 0.0, time_window=tw,
                    capacity_kg=_opt(r.get("capacity_kg", ""))))  # fmt: skip
            else:
                raise ValueError(f"kind {kind!r} must be 'depot' or 'facility'")
        except InputError as exc:
            raise InputError(f"{label} line {line}: {exc}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{label} line {line}: {exc}") from None
    return depots, facilities


def pad_unreachable(matrix: Matrix, ids: list[str] | tuple[str, ...]) -> Matrix:
    """``matrix`` over ``ids``: ids it lacks (points that could not be snapped to the
    road network of its profile) become unreachable (inf), so the orders there are
    reported with reason ``unreachable`` instead of failing the whole plan."""
    o_pos = {k: i for i, k in enumerate(matrix.origin_ids)}
    d_pos = {k: i for i, k in enumerate(matrix.destination_ids)}
    n = len(ids)
    dur = np.full((n, n), np.inf)
    dist = np.full((n, n), np.inf)
    rows = [i for i, k in enumerate(ids) if k in o_pos]
    cols = [j for j, k in enumerate(ids) if k in d_pos]
    src_r = [o_pos[ids[i]] for i in rows]
    src_c = [d_pos[ids[j]] for j in cols]
    dur[np.ix_(rows, cols)] = matrix.duration_s[np.ix_(src_r, src_c)]
    dist[np.ix_(rows, cols)] = matrix.distance_m[np.ix_(src_r, src_c)]
    np.fill_diagonal(dur, 0.0)
    np.fill_diagonal(dist, 0.0)
    return Matrix(tuple(ids), tuple(ids), dur, dist, profile=matrix.profile)
