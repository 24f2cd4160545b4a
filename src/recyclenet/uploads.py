"""Check an uploaded user table row by row, for a screen that shows what is wrong where.

:func:`recyclenet.readers.read_frame` reads a file for a solve and stops at the first
problem. A planner uploading a sheet wants every problem at once, next to its row, with
the fix, and the good rows to look at. :func:`check_table` reads the same files through
the same reader (CSV in any encoding, Excel, GeoPackage, Shapefile, GeoJSON; the column
names of ``data/column_aliases.csv``) and returns a :class:`TableCheck`:

- the columns found, and which canonical column each one was matched to; when a required
  column is missing, ``missing`` lists it and nothing else is checked, so the caller can
  ask the user which column holds it and call again with ``mapping``;
- an :class:`Issue` per bad row and field (empty or duplicate id, lon/lat that are not
  degrees, a point farther than ``max_road_distance_m`` from every road of the network —
  in the sea, or lon and lat swapped —, a value the kind's builder rejects: an unknown
  item category, a time window that ends before it starts, ...), each with the file's line
  number, a code, the reader's message and the fix;
- the good rows as GeoJSON features (properties in the form ``POST /siting`` and
  ``POST /routing`` take them) or, for a fleet, as vehicle-type records.

Nothing here stores anything: a bad file changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .readers import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    KINDS,
    _csv_rows,
    _excel_rows,
    _match_columns,
    _read_gis,
    _rows_to_frame,
    _text,
    column_aliases,
    normalise_frame,
    table_rows,
    to_float,
)

UPLOAD_KINDS: tuple[str, ...] = ("demand", "sites", "centres", "orders", "depots", "fleet",
                                 "zones", "records")  # fmt: skip
"""Kinds of table a planner uploads (see :data:`recyclenet.readers.KINDS`)."""

FIXES: dict[str, str] = {
    "file": "save the sheet as .xlsx or CSV (UTF-8 or GBK), or a GeoPackage / zipped Shapefile",
    "missing_columns": "map a column of the file to each missing field, or rename the column",
    "mapping": "choose a column the file has",
    "empty_id": "give every row an id",
    "duplicate_id": "give each row its own id",
    "bad_coordinates": "lon and lat must be numbers in degrees (lon -180..180, lat -90..90)",
    "far_from_road": "move the point onto land next to a road, check that lon and lat are "
    "not swapped, and that the datum (WGS-84 / GCJ-02) is the right one",
    "bad_value": "correct the cell as the message says",
}
"""The fix of each issue code, in English (the web app shows its own translation)."""


@dataclass(frozen=True)
class Issue:
    """One problem of one row (``line`` None: the whole file)."""

    code: str
    field: str
    message: str
    line: int | None = None
    id: str | None = None
    fix: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TableCheck:
    kind: str
    source: str
    columns: list[str] = field(default_factory=list)
    matched: dict[str, str] = field(default_factory=dict)
    """Canonical column -> the file's column it was read from."""
    required: list[str] = field(default_factory=list)
    optional: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    """Every data row as text cells, with its ``_line`` (for the preview table)."""
    features: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues and not self.missing

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("features", "issues")}
        out["ok"] = self.ok
        out["needs_mapping"] = bool(self.missing)
        out["issues"] = [i.to_dict() for i in self.issues]
        out["features"] = {"type": "FeatureCollection", "features": self.features}
        return out


def _issue(code: str, fld: str, message: str, line: int | None = None,
           rid: str | None = None) -> Issue:  # fmt: skip
    return Issue(code, fld, message, line, rid, FIXES[code])


def _raw_frame(path: Path, kind: str, layer: str | int | None) -> Any:
    spec = KINDS[kind]
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _rows_to_frame(_csv_rows(path, None), spec, path.name)
    if suffix in EXCEL_SUFFIXES:
        return _rows_to_frame(_excel_rows(path, layer), spec, path.name)
    frame = _read_gis(path, layer, None)
    frame.attrs["first_line"] = 1
    return frame


def check_table(
    path: str | Path,
    *,
    kind: str,
    crs: str = "wgs84",
    mapping: Mapping[str, str] | None = None,
    layer: str | int | None = None,
    source: str | None = None,
    roads: Any = None,
    max_road_distance_m: float = 500.0,
) -> TableCheck:
    """Read ``path`` as a table of ``kind`` and check every row (see the module docstring).

    ``mapping`` maps canonical columns (``lon``, ``households``, ...) to the file's column
    names, for columns the aliases do not recognise. ``roads`` is a sequence of shapely
    LineStrings in WGS-84 lon/lat (the network's roads): points farther than
    ``max_road_distance_m`` from all of them are issues. Raises InputError only for an
    unknown ``kind`` or a mapping to an unknown canonical column.
    """
    import geopandas as gpd

    if kind not in UPLOAD_KINDS:
        raise InputError(f"unknown table kind {kind!r}; choose from {', '.join(UPLOAD_KINDS)}")
    file = Path(path)
    name = source or file.name
    if kind == "records":
        return _check_records(file, name)
    spec = KINDS[kind]
    out = TableCheck(kind=kind, source=name, required=list(spec.required),
                     optional=list(spec.optional))  # fmt: skip
    if spec.geometry == "point":
        out.required += ["lon", "lat"]
    try:
        frame = _raw_frame(file, kind, layer)
    except InputError as exc:
        out.issues.append(_issue("file", "file", str(exc).replace(str(file), name)))
        return out
    except Exception as exc:  # readers of foreign formats raise many types
        out.issues.append(_issue("file", "file", f"{name} could not be read ({exc})"))
        return out
    has_geom = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    attrs = [c for c in frame.columns if not (has_geom and c == frame.geometry.name)]
    out.columns = [str(c) for c in attrs]
    if mapping:
        known = set(column_aliases()) | set(spec.required) | set(spec.optional)
        unknown = sorted(set(mapping) - known - {"lon", "lat"})
        if unknown:
            raise InputError(f"mapping names unknown fields {unknown}; map "
                             f"{sorted(set(out.required) | set(out.optional))}")  # fmt: skip
        by_name = {str(c): c for c in attrs}
        renames = {}
        for canonical, column in mapping.items():
            if not column:
                continue
            if column not in by_name:
                out.issues.append(_issue("mapping", canonical, f"{name} has no column "
                                         f"{column!r}; columns: {out.columns}"))  # fmt: skip
                continue
            renames[by_name[column]] = canonical
        if out.issues:
            return out
        frame = frame.rename(columns=renames)
        attrs = [renames.get(c, c) for c in attrs]
    wanted = [*out.required, *out.optional]
    found = _match_columns(attrs, wanted)
    out.matched = {k: str(v) for k, v in found.items()}
    point_cols = ("lon", "lat") if spec.geometry == "point" and not has_geom else ()
    out.missing = [c for c in (*spec.required, *point_cols) if c not in found]
    if spec.geometry == "polygon" and not has_geom:
        out.missing.append("geometry")
    if not has_geom:
        out.required = [c for c in out.required if c in (*spec.required, *point_cols)]
    if out.missing:
        out.issues.append(_issue(
            "missing_columns", ",".join(out.missing),
            f"{name}: no column for {out.missing}; columns found: {out.columns}"))  # fmt: skip
        return out
    if len(frame) == 0:
        out.issues.append(_issue("file", "file", f"{name}: the table is empty (a header and no "
                                 "rows); add one row per record under the header"))  # fmt: skip
        return out
    first_line = int(frame.attrs.get("first_line", 1))
    lines = [first_line + i for i in range(len(frame))]
    for i, rec in enumerate(frame[attrs].itertuples(index=False, name=None)):
        row: dict[str, Any] = {"_line": lines[i]}
        row.update({str(c): _text(v) for c, v in zip(attrs, rec)})
        out.rows.append(row)
    bad = _row_issues(out, frame, found, lines, point=bool(point_cols))
    good = [i for i in range(len(frame)) if i not in bad]
    if not good:
        return out
    sub = frame.iloc[good].reset_index(drop=True)
    sub.attrs.update(frame.attrs, source=name)
    try:
        norm = normalise_frame(sub, kind=kind, crs=crs, source=name)
    except InputError as exc:
        out.issues.append(_issue("bad_value", "row", str(exc)))
        return out
    good_lines = [lines[i] for i in good]
    if roads is not None and spec.geometry == "point":
        far = _far_from_roads(norm, roads, max_road_distance_m)
        for j, dist in far.items():
            out.issues.append(_issue(
                "far_from_road", "lon,lat",
                f"{name} line {good_lines[j]}: point {norm['id'].iloc[j]!r} "
                f"({norm['lon'].iloc[j]:.6f}, {norm['lat'].iloc[j]:.6f}) is {dist:,.0f} m from "
                f"the nearest road (the limit is {max_road_distance_m:g} m)",
                good_lines[j], str(norm["id"].iloc[j])))  # fmt: skip
        keep = [j for j in range(len(norm)) if j not in far]
        norm = norm.iloc[keep].reset_index(drop=True)
        good_lines = [good_lines[j] for j in keep]
    _build(out, norm, good_lines, name)
    out.issues.sort(key=lambda x: (x.line or 0, x.field))
    return out


def _row_issues(out: TableCheck, frame: Any, found: dict[str, Any], lines: list[int], *,
                point: bool) -> set[int]:  # fmt: skip
    """Empty ids, duplicate ids and coordinates that are not degrees, by row position."""
    bad: set[int] = set()
    ids = [_text(v) for v in frame[found["id"]]] if "id" in found else [""] * len(frame)
    seen: dict[str, int] = {}
    for i, rid in enumerate(ids):
        if "id" in found and not rid:
            out.issues.append(_issue("empty_id", "id", f"line {lines[i]} has no id "
                                     f"(column {found['id']!r})", lines[i]))  # fmt: skip
            bad.add(i)
        elif rid in seen and "id" in found:
            out.issues.append(_issue("duplicate_id", "id", f"line {lines[i]}: id {rid!r} is "
                                     f"already on line {seen[rid]}", lines[i], rid))  # fmt: skip
            bad.add(i)
        else:
            seen.setdefault(rid, lines[i])
    if point:
        for i, (lon, lat) in enumerate(zip(frame[found["lon"]], frame[found["lat"]])):
            for fld, value, limit in (("lon", lon, 180.0), ("lat", lat, 90.0)):
                try:
                    number = to_float(value)
                    ok = bool(np.isfinite(number)) and abs(number) <= limit
                except (TypeError, ValueError):
                    ok = False
                if not ok:
                    out.issues.append(_issue(
                        "bad_coordinates", fld, f"line {lines[i]}: {fld} {_text(value)!r} is "
                        f"not a number of degrees in [-{limit:g}, {limit:g}]", lines[i],
                        ids[i] or None))  # fmt: skip
                    bad.add(i)
    return bad


def _far_from_roads(norm: Any, roads: Sequence[Any], limit_m: float) -> dict[int, float]:
    """Row position -> metres to the nearest road, for rows farther than ``limit_m``."""
    import shapely

    from .geo import to_metric, utm_crs

    if len(roads) == 0:
        return {}
    lon = norm["lon"].to_numpy(dtype=float)
    lat = norm["lat"].to_numpy(dtype=float)
    crs = utm_crs(float(np.mean(lon)), float(np.mean(lat)))

    def project(c: np.ndarray) -> np.ndarray:
        return np.column_stack(to_metric(crs, c[:, 0], c[:, 1]))

    tree = shapely.STRtree(shapely.transform(np.asarray(roads, dtype=object), project))
    x, y = to_metric(crs, lon, lat)
    pts = shapely.points(x, y)
    (inp, _hit), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    nearest = np.full(len(pts), np.inf)
    nearest[inp] = dist
    return {int(i): float(nearest[i]) for i in np.nonzero(nearest > limit_m)[0]}


def _build(out: TableCheck, norm: Any, lines: list[int], name: str) -> None:
    """Features (or fleet records) of the good rows, each row checked by its builder."""
    from .routing.io import depots_from_rows, fleet_from_rows, orders_from_rows

    rows = table_rows(norm)
    for j, r in enumerate(rows):
        line = lines[j]
        try:
            if out.kind == "orders":
                orders_from_rows([r], label=name, first_line=line)
                props: dict[str, Any] = _order_properties(r)
            elif out.kind == "depots":
                depots, facilities = depots_from_rows([r], label=name, first_line=line)
                window = (depots or facilities)[0].time_window
                props = {"kind": "depot" if depots else "facility"}
                if facilities:
                    props["unload_s"] = facilities[0].unload_s
                    if facilities[0].capacity_kg is not None:
                        props["capacity_kg"] = facilities[0].capacity_kg
                if window is not None:
                    props["time_window"] = list(window)
            elif out.kind == "fleet":
                (vt,) = fleet_from_rows([r], label=name, first_line=line)
                out.records.append(_vehicle_record(vt))
                continue
            elif out.kind == "demand":
                props = _numbers(r, ("households", "weight"))
            elif out.kind in ("sites", "centres"):
                from .readers import sites_from_frame

                (cand,) = sites_from_frame(norm.iloc[[j]].reset_index(drop=True))
                props = {"status": cand.status, "fixed_cost": cand.fixed_cost,
                         "capacity": cand.capacity, "closing_cost": cand.closing_cost}  # fmt: skip
                props = {k: v for k, v in props.items() if v is not None}
            else:  # zones: polygons as they are
                props = {k: v for k, v in r.items() if k != "id" and v}
        except (InputError, ValueError, TypeError, KeyError) as exc:
            text = str(exc)
            fld = next((c for c in _FIELD_HINTS.get(out.kind, ()) if c in text), "row")
            out.issues.append(
                _issue(
                    "bad_value",
                    fld,
                    text if text.startswith(name) else f"{name} line {line}: {text}",
                    line,
                    r.get("id"),
                )
            )
            continue
        props["_line"] = line
        if out.kind == "zones":
            geom = norm.geometry.iloc[j].__geo_interface__
        else:
            geom = {"type": "Point", "coordinates": [float(r["lon"]), float(r["lat"])]}
        out.features.append({"type": "Feature", "id": r["id"], "properties": props,
                             "geometry": geom})  # fmt: skip


_FIELD_HINTS = {
    "orders": ("time window", "categor", "item", "yes/no", "penalty", "priority", "skill"),
}


def _numbers(r: Mapping[str, str], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in names:
        if r.get(n):
            out[n] = to_float(r[n])
    return out


def _order_properties(r: Mapping[str, str]) -> dict[str, Any]:
    """An order row in the form of ``POST /routing``'s order properties."""
    from .routing.io import _bool, _windows

    items: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in r.get("items", "").split(";"))):
        cat, sep, count = part.partition(":")
        items[cat.strip()] = items.get(cat.strip(), 0.0) + (float(count) if sep else 1.0)
    props: dict[str, Any] = {"items": items}
    windows = _windows(r.get("time_windows", ""))
    if windows:
        props["time_windows"] = [list(w) for w in windows]
    props.update(_numbers(r, ("load_kg", "volume_m3", "service_s", "penalty")))
    props["required"] = _bool(r.get("required", ""), True)
    if r.get("priority"):
        props["priority"] = int(float(r["priority"]))
    if r.get("kind"):
        props["kind"] = r["kind"]
    skills = [s.strip() for s in r.get("skills", "").split(";") if s.strip()]
    if skills:
        props["skills"] = skills
    return props


def _vehicle_record(vt: Any) -> dict[str, Any]:
    """A vehicle type in the form of ``POST /routing``'s ``fleet`` items."""
    rec: dict[str, Any] = {
        "id": vt.id, "count": vt.count, "capacity_kg": vt.capacity_kg,
        "capacity_m3": vt.capacity_m3, "start_id": vt.start_id, "end_id": vt.end_id or None,
        "shift": list(vt.shift), "max_duration_s": vt.max_duration_s,
        "max_distance_m": vt.max_distance_m,
        "break_window": list(vt.break_window) if vt.break_window else None,
        "break_s": vt.break_s, "fixed_cost": vt.fixed_cost, "cost_per_km": vt.cost_per_km,
        "cost_per_hour": vt.cost_per_hour, "skills": sorted(vt.skills), "profile": vt.profile,
        "max_unloads": vt.max_unloads,
    }  # fmt: skip
    return {k: v for k, v in rec.items() if v is not None}


def _check_records(file: Path, name: str) -> TableCheck:
    """Collection records (weighbridge tickets, receipts) through the records reader
    (:mod:`recyclenet.actuals.records`: Chinese headers, GBK, Excel, title rows), each row
    checked; good rows as ``records`` in the form ``POST /records`` takes."""
    from .actuals.records import FIELDS, _map_header, _rows, make_record

    out = TableCheck(
        kind="records",
        source=name,
        required=["document_id", "time", "category"],
        optional=[f for f in FIELDS if f not in ("document_id", "time", "category")],
    )
    try:
        header, rows, first = _rows(file)
        out.columns = [h for h in header if h]
        fields = _map_header(header, name)
    except InputError as exc:
        out.issues.append(_issue("file", "file", str(exc).replace(str(file), name)))
        return out
    out.matched = {f: header[i] for i, f in fields.items()}
    seen: dict[str, int] = {}
    for n, row in enumerate(rows, start=first):
        values = {f: row[i] if i < len(row) else None for i, f in fields.items()}
        out.rows.append({"_line": n, **{header[i]: _text(row[i]) if i < len(row) else ""
                                        for i in fields}})  # fmt: skip
        try:
            rec = make_record(values, where=f"{name} row {n}")
        except InputError as exc:
            text = str(exc)
            fld = next((f for f in FIELDS if f in text), "row")
            out.issues.append(_issue("bad_value", fld, text, n, _text(values.get("document_id"))))
            continue
        if rec.document_id in seen:
            out.issues.append(_issue("duplicate_id", "document_id", f"{name} row {n}: document "
                                     f"{rec.document_id!r} is already on row "
                                     f"{seen[rec.document_id]}", n, rec.document_id))  # fmt: skip
            continue
        seen[rec.document_id] = n
        doc = rec.to_dict()
        doc.pop("material", None)
        out.records.append({k: v for k, v in doc.items() if v not in (None, "")})
    if not rows:
        out.issues.append(_issue("file", "file", f"{name}: a header and no rows"))
    return out
