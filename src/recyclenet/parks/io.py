"""Reading a park from YAML (inline tables or CSV files) or from an Excel workbook.

One YAML file::

    name: Example park 示范园区
    crs: wgs84                      # or gcj02 (AMap, Tencent), bd09 (Baidu)
    settings: {collection_days: [mon, tue, wed, thu, fri], single_source: false,
               transport_cost_per_t_km_general: 1.0, transport_cost_per_t_km_hazardous: 3.0}
    enterprises: enterprises.csv    # a CSV next to the YAML, or a list of mappings
    streams: [...]
    receivers: [...]
    vehicles: [...]
    depots: [...]
    sites: [...]                    # optional: candidate sites of a shared facility
    shared: {kind: transfer, capacity_t_per_year: 5000, accepted_codes: [HW08, HW49]}

or one ``.xlsx`` workbook with the sheets ``enterprises``, ``streams``, ``receivers``,
``vehicles``, ``depots`` and optionally ``sites``, ``settings`` and ``shared`` (two columns
``key``, ``value``). The first row of each table sheet is its header.

Columns (the fields of :mod:`.model`):

- enterprises: ``id, name, lon, lat, gate_windows`` (``08:00-12:00;13:00-17:00``)
- streams: ``id, enterprise_id, code, tonnes_per_month, form, packaging, storage_limit_t,
  storage_days, hazard_class, compat_group, name``
- receivers: ``id, name, kind, lon, lat, accepted_codes`` (``;``-separated),
  ``capacity_t_per_year, gate_fee_per_t, price_paid_per_t, licence, enterprise_id,
  gate_windows, unload_s``; a receiver with ``enterprise_id`` may leave lon/lat empty
  (its enterprise's gate is used)
- vehicles: ``id, kind, hazmat_licensed`` (yes/no), ``compartments,
  compartment_capacity_t, depot_id, shift`` (``08:00-17:00``), ``cost_per_km,
  fixed_cost_per_day, profile``
- depots: ``id, lon, lat``; sites: ``id, lon, lat, fixed_cost_per_year``

Every error names the file, table, row and field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError
from ..geo import check_crs, to_wgs84
from ..routing.io import _bool, _windows
from .model import (
    CandidateSite,
    Depot,
    Enterprise,
    Park,
    Receiver,
    Settings,
    SharedFacility,
    Stream,
    Vehicle,
)

T = TypeVar("T")
TABLES = ("enterprises", "streams", "receivers", "vehicles", "depots", "sites")
_DAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "周一": 0,
    "周二": 1,
    "周三": 2,
    "周四": 3,
    "周五": 4,
    "周六": 5,
    "周日": 6,
}


def _text(row: Mapping[str, Any], key: str) -> str:
    v = row.get(key)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _float(row: Mapping[str, Any], key: str, default: float | None = None) -> float | None:
    t = _text(row, key)
    if not t:
        return default
    return float(t)


def _codes(value: Any) -> frozenset[str]:
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset(str(c).strip() for c in value if str(c).strip())
    return frozenset(c.strip() for c in str(value or "").replace(",", ";").split(";") if c.strip())


def _win(value: Any) -> tuple[tuple[float, float], ...]:
    if isinstance(value, list | tuple):
        return tuple(tuple(float(x) for x in w) for w in value)  # type: ignore[misc]
    return tuple(_windows(str(value or "")))


def _rows(rows: list[dict[str, Any]], where: str, build: Callable[[dict[str, Any]], T]) -> list[T]:
    out = []
    for n, row in enumerate(rows, start=1):
        rid = _text(row, "id")
        try:
            out.append(build(row))
        except InputError as exc:
            raise InputError(f"{where} row {n} (id {rid!r}): {exc}") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{where} row {n} (id {rid!r}): {exc!r}") from None
    return out


def _lonlat(row: Mapping[str, Any], crs: str) -> tuple[float, float]:
    lon, lat = _float(row, "lon"), _float(row, "lat")
    if lon is None or lat is None:
        raise InputError("lon and lat are required")
    if crs == "wgs84":
        return lon, lat
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)


def park_from_tables(
    tables: Mapping[str, list[dict[str, Any]]],
    *,
    name: str = "park",
    settings: Mapping[str, Any] | None = None,
    shared: Mapping[str, Any] | None = None,
    crs: str = "wgs84",
    source: str = "park",
) -> Park:
    """Build a :class:`Park` from row dicts per table (the shape of the CSV/Excel sheets)."""
    system = check_crs(crs)
    missing = [t for t in ("enterprises", "streams", "receivers") if not tables.get(t)]
    if missing:
        raise InputError(
            f"{source}: missing or empty table(s) {missing}; a park needs "
            "enterprises, streams and receivers"
        )

    def ent(r: dict[str, Any]) -> Enterprise:
        lon, lat = _lonlat(r, system)
        return Enterprise(
            _text(r, "id"),
            _text(r, "name") or _text(r, "id"),
            lon,
            lat,
            _win(r.get("gate_windows")),
        )

    enterprises = _rows(tables["enterprises"], f"{source} enterprises", ent)
    by_id = {e.id: e for e in enterprises}

    def stream(r: dict[str, Any]) -> Stream:
        return Stream(
            _text(r, "id"),
            _text(r, "enterprise_id"),
            _text(r, "code"),
            _float(r, "tonnes_per_month", math.nan),  # type: ignore[arg-type]
            form=_text(r, "form") or "solid",
            packaging=_text(r, "packaging") or "bulk",
            storage_limit_t=_float(r, "storage_limit_t", math.inf),  # type: ignore[arg-type]
            storage_days=_float(r, "storage_days"),
            hazard_class=_text(r, "hazard_class"),
            compat_group=_text(r, "compat_group"),
            name=_text(r, "name"),
        )

    def receiver(r: dict[str, Any]) -> Receiver:
        eid = _text(r, "enterprise_id")
        if eid and not _text(r, "lon"):
            if eid not in by_id:
                raise InputError(f"enterprise_id {eid!r} is not an enterprise")
            lon, lat = by_id[eid].lon, by_id[eid].lat
        else:
            lon, lat = _lonlat(r, system)
        return Receiver(
            _text(r, "id"),
            _text(r, "name") or _text(r, "id"),
            _text(r, "kind"),
            lon,
            lat,
            _codes(r.get("accepted_codes")),
            capacity_t_per_year=_float(r, "capacity_t_per_year", math.inf),  # type: ignore[arg-type]
            gate_fee_per_t=_float(r, "gate_fee_per_t", 0.0),  # type: ignore[arg-type]
            price_paid_per_t=_float(r, "price_paid_per_t", 0.0),  # type: ignore[arg-type]
            licence=_text(r, "licence"),
            enterprise_id=eid,
            gate_windows=_win(r.get("gate_windows")),
            unload_s=_float(r, "unload_s", 1200.0),  # type: ignore[arg-type]
        )

    def vehicle(r: dict[str, Any]) -> Vehicle:
        shift = _win(r.get("shift")) or ((8 * 3600.0, 17 * 3600.0),)
        comp = _float(r, "compartments", 1.0)
        if comp is None or comp != int(comp):
            raise InputError(f"compartments must be a whole number, got {comp!r}")
        return Vehicle(
            _text(r, "id"),
            _text(r, "kind"),
            _bool(_text(r, "hazmat_licensed"), False),
            int(comp),
            _float(r, "compartment_capacity_t", math.nan),  # type: ignore[arg-type]
            _text(r, "depot_id"),
            shift[0],
            cost_per_km=_float(r, "cost_per_km", 6.0),  # type: ignore[arg-type]
            fixed_cost_per_day=_float(r, "fixed_cost_per_day", 600.0),  # type: ignore[arg-type]
            profile=_text(r, "profile") or "truck_18t",
        )

    def depot(r: dict[str, Any]) -> Depot:
        return Depot(_text(r, "id"), *_lonlat(r, system))

    def site(r: dict[str, Any]) -> CandidateSite:
        return CandidateSite(
            _text(r, "id"),
            *_lonlat(r, system),
            fixed_cost_per_year=_float(r, "fixed_cost_per_year", 0.0) or 0.0,
        )

    return Park(
        name=name,
        enterprises=tuple(enterprises),
        streams=tuple(_rows(tables["streams"], f"{source} streams", stream)),
        receivers=tuple(_rows(tables["receivers"], f"{source} receivers", receiver)),
        vehicles=tuple(_rows(tables.get("vehicles") or [], f"{source} vehicles", vehicle)),
        depots=tuple(_rows(tables.get("depots") or [], f"{source} depots", depot)),
        sites=tuple(_rows(tables.get("sites") or [], f"{source} sites", site)),
        settings=_settings(settings or {}, source),
        shared=_shared(shared, source) if shared else None,
    )


def _settings(doc: Mapping[str, Any], source: str) -> Settings:
    kw: dict[str, Any] = {}
    known = set(Settings.__dataclass_fields__)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise InputError(f"{source} settings: unknown key(s) {unknown}; known: {sorted(known)}")
    for k, v in doc.items():
        if k == "collection_days":
            days = v if isinstance(v, list | tuple) else str(v).replace(",", ";").split(";")
            try:
                kw[k] = tuple(
                    d
                    if isinstance(d, int)
                    else _DAYS[str(d).strip().lower()[:3]]
                    if str(d).strip().lower()[:3] in _DAYS
                    else _DAYS[str(d).strip()]
                    for d in days
                )
            except KeyError as exc:
                raise InputError(
                    f"{source} settings: collection day {exc} is not mon..sun"
                ) from None
        elif k == "single_source":
            kw[k] = v if isinstance(v, bool) else _bool(str(v), False)
        elif k in ("currency", "transporter"):
            kw[k] = str(v)
        else:
            try:
                kw[k] = float(v)
            except (TypeError, ValueError):
                raise InputError(f"{source} settings: {k}={v!r} is not a number") from None
    return Settings(**kw)


def _shared(doc: Mapping[str, Any], source: str) -> SharedFacility:
    known = set(SharedFacility.__dataclass_fields__)
    unknown = sorted(set(doc) - known)
    if unknown:
        raise InputError(f"{source} shared: unknown key(s) {unknown}; known: {sorted(known)}")
    kw: dict[str, Any] = dict(doc)
    if "accepted_codes" in kw:
        kw["accepted_codes"] = _codes(kw["accepted_codes"])
    for k in ("capacity_t_per_year", "gate_fee_per_t", "onward_cost_per_t"):
        if k in kw:
            try:
                kw[k] = float(kw[k])
            except (TypeError, ValueError):
                raise InputError(f"{source} shared: {k}={kw[k]!r} is not a number") from None
    return SharedFacility(**kw)


def _yaml_table(value: Any, base: Path, key: str, source: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str):
        return _file_rows(base / value)
    if isinstance(value, list) and all(isinstance(x, Mapping) for x in value):
        return [dict(x) for x in value]
    raise InputError(f"{source}: {key} must be a list of rows or a CSV file name")


def _file_rows(path: str | Path, sheet: str | None = None) -> list[dict[str, Any]]:
    """Rows of a park table in any format the readers take (CSV in UTF-8 or GBK, Excel,
    GIS files; English or Chinese column names such as 编号, 名称, 经度, 纬度)."""
    from ..readers import _present, read_frame

    frame = read_frame(path, kind="park", layer=sheet)
    cols = [str(c) for c in frame.columns if c != "geometry"]
    return [
        {c: (v if _present(v) else None) for c, v in zip(cols, rec, strict=True)}
        for rec in frame[cols].itertuples(index=False, name=None)
    ]


def _sheet_names(path: Path) -> list[str]:
    try:
        import openpyxl

        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception as exc:  # zipfile/openpyxl raise several unrelated types
        raise InputError(f"cannot read workbook {path}: {exc}") from None
    names = list(wb.sheetnames)
    wb.close()
    return names


def _xlsx_sheets(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Table sheets through the readers; ``settings``/``shared`` as key/value rows."""
    from ..readers import _excel_rows

    out: dict[str, list[dict[str, Any]]] = {}
    for name in _sheet_names(path):
        key = name.strip().lower()
        if key in ("settings", "shared"):
            rows = _excel_rows(path, name)
            out[key] = [
                {"key": r[0], "value": r[1] if len(r) > 1 else None}
                for r in rows[1:]
                if r and r[0] is not None
            ]
        elif key in TABLES:
            out[key] = _file_rows(path, name)
    return out


def read_park(path: str | Path, *, crs: str | None = None) -> Park:
    """Read a park from a ``.yaml``/``.yml`` file or an ``.xlsx`` workbook.

    Parameters
    ----------
    path : path
    crs : str, optional
        Datum of the lon/lat in the file (wgs84, gcj02, bd09); default: the YAML's
        ``crs`` key, else wgs84.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"park file not found: {p}")
    source = str(p)
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        sheets = _xlsx_sheets(p)

        def kv(name: str) -> dict[str, Any]:
            return {
                _text(r, "key"): r.get("value") for r in sheets.get(name, []) if _text(r, "key")
            }

        return park_from_tables(
            sheets,
            name=p.stem,
            settings=kv("settings"),
            shared=kv("shared") or None,
            crs=crs or "wgs84",
            source=source,
        )
    if suffix not in (".yaml", ".yml"):
        raise InputError(f"{source}: a park is a .yaml/.yml file or an .xlsx workbook")
    import yaml

    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read {source}: {exc}") from None
    if isinstance(doc, Mapping) and not doc.get("name"):
        doc = {**doc, "name": p.stem}
    return park_from_doc(doc, base=p.parent, source=source, crs=crs)


def park_from_doc(
    doc: Any, *, base: Path | None = None, source: str = "park", crs: str | None = None
) -> Park:
    """A park from the YAML document's mapping (tables inline, or CSV/xlsx names under ``base``).

    The service's ``POST /parks`` body carries this mapping as JSON.
    """
    if not isinstance(doc, Mapping):
        raise InputError(f"{source}: expected a mapping with enterprises, streams, receivers ...")
    unknown = sorted(set(doc) - {*TABLES, "name", "crs", "settings", "shared"})
    if unknown:
        raise InputError(f"{source}: unknown key(s) {unknown}")
    for t in TABLES:
        if isinstance(doc.get(t), str) and base is None:
            raise InputError(f"{source}: {t} must be a list of rows here, not a file name")
    tables = {t: _yaml_table(doc.get(t), base or Path("."), t, source) for t in TABLES}
    return park_from_tables(
        tables,
        name=str(doc.get("name") or "park"),
        settings=doc.get("settings") or {},
        shared=doc.get("shared"),
        crs=crs or str(doc.get("crs") or "wgs84"),
        source=source,
    )
