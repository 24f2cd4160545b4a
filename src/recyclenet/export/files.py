"""Every plan file writer: GeoJSON, GeoPackage, Shapefile, CSV and an Excel workbook.

:func:`write_plan_files` takes a plan's layers (FeatureCollections by name, in WGS-84),
turns them into single-geometry typed frames (:func:`recyclenet.export.layers.layer_frames`)
and writes them in each format asked:

``geojson``
    ``<layer>.geojson`` per layer (RFC 7946, lon/lat; with a ``crs_note`` in GCJ-02/BD-09).
``gpkg``
    ``plan.gpkg``: one layer per kind, plus the ``summary`` and ``indicators`` tables.
``shp``
    ``shp/<layer>.shp`` per layer (UTF-8 with a ``.cpg``). dBASE field names have at most
    10 characters: the names are mapped by ``data/field_names.csv`` and each folder gets
    ``fields.csv`` with the mapping used.
``csv``
    ``csv/<layer>.csv`` per layer and table (UTF-8 with BOM, so Excel shows Chinese):
    points as ``lon``/``lat`` columns, lines and polygons as ``wkt``.
``xlsx``
    ``plan.xlsx``: sheets ``summary``, then each layer (``stations``, ``assignments``,
    ``routes``, ``stops``, ``unserved``, ...; points with ``lon``/``lat``, other geometries
    left out), then ``indicators``.

With ``lang="zh"`` the CSV and Excel column headers are Chinese (``data/field_names.csv``).
Empty layers are written to GeoJSON (no features), CSV and Excel (headers only) and left
out of GeoPackage and Shapefile (which need a geometry type).

GeoJSON has no field types: GDAL reads a property that is null in every feature as a
String. Use GeoPackage or Shapefile when the field types matter.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError
from ..geo import CRS_NOTE_KEY, check_crs, geojson_to_crs
from ..i18n import check_lang
from ..tables import read_table
from .layers import layer_frames

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

FORMATS = ("geojson", "gpkg", "shp", "csv", "xlsx")
"""Every file format of plan layers."""


def parse_formats(text: str | Sequence[str]) -> tuple[str, ...]:
    """Formats from ``"geojson,gpkg"``, ``"all"`` or a sequence; unknown names are an error."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    names = [p.strip().lower() for p in parts if p.strip()]
    if "all" in names:
        return FORMATS
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise InputError(f"unknown output format(s) {unknown}; choose from "
                         f"{', '.join(FORMATS)} or all (comma-separated)")  # fmt: skip
    return tuple(dict.fromkeys(names))


@cache
def _field_table() -> dict[str, tuple[str, str]]:
    _, rows = read_table(None, "field_names.csv")
    return {r["field"]: (r["shapefile"], r["zh"]) for r in rows}


def header(field: str, lang: str = "en") -> str:
    """The CSV/Excel header of a field in ``lang``."""
    if check_lang(lang) == "zh":
        return _field_table().get(field, ("", field))[1] or field
    return field


def shapefile_names(fields: Iterable[str]) -> dict[str, str]:
    """Field → dBASE name (≤ 10 characters, unique), by ``data/field_names.csv`` or cut."""
    table = _field_table()
    out: dict[str, str] = {}
    used: set[str] = set()
    for f in fields:
        name = table[f][0] if f in table else f
        name = name[:10]
        base, n = name, 1
        while name.lower() in used:
            suffix = f"_{n}"
            name = base[: 10 - len(suffix)] + suffix
            n += 1
        used.add(name.lower())
        out[f] = name
    return out


def _attributes(frame: gpd.GeoDataFrame, lang: str) -> pd.DataFrame:
    """Columns for CSV/Excel: points as lon/lat, other geometries as WKT (``wkt=True``)."""
    import pandas as pd

    data = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    geoms = frame.geometry
    if len(frame) and (geoms.geom_type == "Point").all():
        data["lon"], data["lat"] = geoms.x.to_numpy(), geoms.y.to_numpy()
    return data


def _rename(data: pd.DataFrame, lang: str) -> pd.DataFrame:
    return data.rename(columns={c: header(str(c), lang) for c in data.columns})


def write_plan_files(
    out: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    formats: str | Sequence[str] = ("geojson",),
    crs: str = "wgs84",
    lang: str = "en",
    summary: Mapping[str, Any] | None = None,
    indicators: pd.DataFrame | None = None,
    name: str = "plan",
) -> list[Path]:
    """Write a plan's layers in each of ``formats``; return the files written.

    Parameters
    ----------
    out : path
        Output folder (created).
    layers : mapping of name to FeatureCollection
        WGS-84 layers as the library builds them (mixed geometries are split).
    formats : str or sequence
        Any of :data:`FORMATS`, or ``"all"``.
    crs : {"wgs84", "gcj02", "bd09"}
        Datum of the coordinates written (GeoPackage and Shapefile declare EPSG:4326, as
        Chinese GIS data in GCJ-02 usually do; GeoJSON gets a ``crs_note``).
    lang : {"en", "zh"}
        Language of the CSV and Excel column headers.
    summary : mapping, optional
        Plan-level values (status, objective, ...) for the ``summary`` table; values that
        are not scalars are written as JSON text.
    indicators : DataFrame, optional
        The ``indicators`` table (see :func:`indicator_table`).
    name : str
        Base name of ``<name>.gpkg`` and ``<name>.xlsx``.
    """
    fmts = parse_formats(formats)
    system = check_crs(crs)
    check_lang(lang)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    docs = {k: (geojson_to_crs(v, system) if system != "wgs84" else v) for k, v in layers.items()}
    frames = layer_frames(docs)
    tables: dict[str, pd.DataFrame] = {}
    if summary is not None:
        tables["summary"] = summary_table(summary)
    if indicators is not None:
        tables["indicators"] = indicators
    written: list[Path] = []
    for fmt in fmts:
        written += _WRITERS[fmt](out, frames, tables, lang=lang, name=name, crs=system)
    return written


def _geojson(out: Path, frames: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame],
             *, crs: str, **_: Any) -> list[Path]:  # fmt: skip
    from .layers import frame_features

    paths = []
    for layer, frame in frames.items():
        doc = frame_features(frame)
        if crs != "wgs84":  # the frames already hold ``crs`` degrees: only say so
            empty = geojson_to_crs({"type": "FeatureCollection", "features": []}, crs)
            doc[CRS_NOTE_KEY] = empty[CRS_NOTE_KEY]
        path = out / f"{layer}.geojson"
        path.write_text(json.dumps(doc, ensure_ascii=False, allow_nan=False), encoding="utf-8")
        paths.append(path)
    return paths


def _gpkg(out: Path, frames: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame],
          *, name: str, **_: Any) -> list[Path]:  # fmt: skip
    import pyogrio

    path = out / f"{name}.gpkg"
    path.unlink(missing_ok=True)
    for layer, frame in frames.items():
        if len(frame):
            pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG",
                                    promote_to_multi=_mixed(frame))  # fmt: skip
    for layer, table in tables.items():
        pyogrio.write_dataframe(table, path, layer=layer, driver="GPKG")
    return [path] if path.exists() else []


def _mixed(frame: gpd.GeoDataFrame) -> bool:
    return len(set(frame.geometry.geom_type)) > 1


def _shp(out: Path, frames: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame],
         **_: Any) -> list[Path]:  # fmt: skip
    import pyogrio

    folder = out / "shp"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    mapping_rows = []
    for layer, frame in frames.items():
        if not len(frame):
            continue
        names = shapefile_names([c for c in frame.columns if c != frame.geometry.name])
        mapping_rows += [(layer, f, n) for f, n in names.items()]
        path = folder / f"{layer}.shp"
        pyogrio.write_dataframe(frame.rename(columns=names), path, driver="ESRI Shapefile",
                                encoding="UTF-8", promote_to_multi=_mixed(frame))  # fmt: skip
        paths.append(path)
    with open(folder / "fields.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["layer", "field", "shapefile_field"])
        writer.writerows(mapping_rows)
    return [*paths, folder / "fields.csv"]


def _csv(out: Path, frames: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame],
         *, lang: str, **_: Any) -> list[Path]:  # fmt: skip
    folder = out / "csv"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for layer, frame in frames.items():
        data = _attributes(frame, lang)
        if len(frame) and not (frame.geometry.geom_type == "Point").all():
            data["wkt"] = frame.geometry.to_wkt(rounding_precision=7).to_numpy()
        paths.append(folder / f"{layer}.csv")
        _rename(data, lang).to_csv(paths[-1], index=False, encoding="utf-8-sig")
    for layer, table in tables.items():
        paths.append(folder / f"{layer}.csv")
        _rename(table, lang).to_csv(paths[-1], index=False, encoding="utf-8-sig")
    return paths


_SHEET_ORDER = ("stations", "assignments", "unassigned", "coverage", "centres", "centre_links",
                "routes", "stops", "unserved")  # fmt: skip


def _xlsx(out: Path, frames: dict[str, gpd.GeoDataFrame], tables: dict[str, pd.DataFrame],
          *, lang: str, name: str, **_: Any) -> list[Path]:  # fmt: skip
    import pandas as pd

    path = out / f"{name}.xlsx"
    order = sorted(frames, key=lambda k: (_SHEET_ORDER.index(k) if k in _SHEET_ORDER else 99, k))
    with pd.ExcelWriter(path, engine="openpyxl") as book:
        if "summary" in tables:
            _rename(tables["summary"], lang).to_excel(book, sheet_name="summary", index=False)
        for layer in order:
            _rename(_attributes(frames[layer], lang), lang).to_excel(
                book, sheet_name=layer[:31], index=False)  # fmt: skip
        for layer, table in tables.items():
            if layer != "summary":
                _rename(table, lang).to_excel(book, sheet_name=layer[:31], index=False)
    return [path]


_WRITERS: dict[str, Callable[..., list[Path]]] = {
    "geojson": _geojson, "gpkg": _gpkg, "shp": _shp, "csv": _csv, "xlsx": _xlsx}  # fmt: skip


def summary_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """``item``/``value`` rows of a plan's top-level values; long lists are left out."""
    import pandas as pd

    rows = []
    for key, value in summary.items():
        if isinstance(value, list | tuple):
            if len(value) > 50 or any(isinstance(v, Mapping) for v in value):
                continue
            value = ";".join(str(v) for v in value)
        elif isinstance(value, Mapping):
            continue
        rows.append((str(key), "" if value is None else str(value)))
    return pd.DataFrame(rows, columns=["item", "value"])


def indicator_table(indicators: Iterable[Any], lang: str = "en") -> pd.DataFrame:
    """The pilot's indicators as a table: key, name, value, unit, group, definition."""
    import pandas as pd

    rows = [(i.key, i.name(lang), float(i.value), i.unit, i.group, i.definition(lang))
            for i in indicators]  # fmt: skip
    return pd.DataFrame(rows, columns=["key", "name", "value", "unit", "group", "definition"])


def write_run_files(
    out: str | Path,
    run: Any,
    *,
    formats: str | Sequence[str] = ("geojson",),
    crs: str = "wgs84",
    lang: str = "en",
    name: str = "plan",
) -> list[Path]:
    """Write a pipeline run's layers, summary and indicators (see :func:`write_plan_files`).

    ``run`` is a :class:`~recyclenet.pipeline.SitingRun` (stations, assignments, unassigned,
    coverage, centres, centre_links) or a :class:`~recyclenet.pipeline.RoutingRun` (routes,
    stops, unserved).
    """
    from ..indicators import plan_indicators

    if hasattr(run, "geojson_layers"):
        layers, summary = run.geojson_layers(), run.to_dict()
        indicators = plan_indicators(siting=run)
    else:
        layers, summary = {"routes": run.geojson()}, run.plan.to_dict()
        indicators = plan_indicators(routing=run)
    return write_plan_files(out, layers, formats=formats, crs=crs, lang=lang, summary=summary,
                            indicators=indicator_table(indicators, lang), name=name)  # fmt: skip
