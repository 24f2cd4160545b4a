"""One reader for every table a user gives: demand, sites, centres, orders, fleet, depots,
districts and restriction zones.

Formats
    Anything GDAL opens through pyogrio (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, KML,
    ...), CSV/TSV/TXT with the separator sniffed (``,`` ``;`` tab ``|``) and Excel
    ``.xlsx``/``.xlsm`` (openpyxl) or old ``.xls`` (xlrd). A layer of a multi-layer file
    (GeoPackage, a sheet of a workbook) is chosen with ``layer=`` or as
    ``file.gpkg:layer`` / ``book.xlsx:Sheet2``.
Coordinates
    A point geometry, a polygon's representative point (demand as compound outlines), or
    lon/lat columns, whichever the file has. A file's declared CRS (``.prj``, GeoPackage,
    GeoJSON ``crs``) is reprojected to WGS-84; ``crs`` then says which datum those degrees
    are (``gcj02``/``bd09`` are converted to WGS-84; Chinese data often declare EPSG:4326
    for GCJ-02 values). A file with no CRS is read as lon/lat degrees in ``crs``.
Encodings
    UTF-8, UTF-8 with BOM, UTF-16 with BOM (Excel's "Unicode text"), and GB18030 (which
    includes GBK and GB2312) are detected; a Shapefile's ``.cpg`` is honoured and, without
    one, its ``.dbf`` is read as UTF-8 when it decodes as UTF-8, else GB18030.
Columns
    Declared once in ``data/column_aliases.csv`` (English and Chinese: ``lon|lng|longitude|
    x|经度``, ``households|户数``, ...); case, spaces, ``_``/``-`` and bracketed units are
    ignored. In a sheet with title rows above the header, the header is the first of the
    first ten rows that names the table's required columns. When a required column is
    missing, the error lists the columns found and the names accepted.

The readers return a :class:`pandas.DataFrame` (``kind="fleet"``) or a
:class:`geopandas.GeoDataFrame` in EPSG:4326 with canonical column names, ``id`` as
strings and, for point kinds, float ``lon``/``lat`` columns; CSV cells stay strings (ids
such as ``007`` keep their zeros). The typed builders (:func:`read_demand`,
:func:`read_sites`, :func:`recyclenet.routing.read_orders`, ...) read through
:func:`read_frame`, and the ``*_from_geodataframe`` functions through
:func:`normalise_frame`, so files and GeoDataFrames take the same path.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .errors import InputError
from .geo import check_crs, to_wgs84
from .tables import read_table

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .points import Points
    from .siting.problem import Demand, Site

Geometry = Literal["point", "polygon", "none"]


@dataclass(frozen=True)
class Kind:
    """What a kind of user table holds: its required and known columns and geometry."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    geometry: Geometry


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("points", ("id",), (), "point"),
        Kind("demand", ("id",), ("households", "weight"), "point"),
        Kind("sites", ("id",), ("status", "fixed_cost", "capacity", "closing_cost"),
             "point"),
        Kind("centres", ("id",), ("fixed_cost", "capacity"), "point"),
        Kind("orders", ("id",), ("items", "load_kg", "volume_m3", "service_s",
                                 "time_windows", "kind", "required", "penalty", "priority",
                                 "skills"), "point"),
        Kind("depots", ("id",), ("kind", "unload_s", "open", "close", "capacity_kg"),
             "point"),
        Kind("fleet", ("id",), ("count",), "none"),
        Kind("districts", ("id",), ("name",), "polygon"),
        Kind("zones", (), ("id", "name"), "polygon"),
        # industrial park tables (recyclenet.parks.io): lon/lat read, converted there
        Kind("park", ("id",), ("name", "lon", "lat"), "none"),
    )
}
"""Every kind of user table, by name."""

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".tab")
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_SEPARATORS = (",", ";", "\t", "|")
_HEADER_SCAN_ROWS = 10
_BRACKETS = re.compile(r"[（(\[【].*?[）)\]】]")


def normalise_name(name: Any) -> str:
    """A column name as matched against aliases: lower case, no spaces, ``_``, ``-``,
    BOM or bracketed unit (``户数（户）`` → ``户数``)."""
    text = _BRACKETS.sub("", str(name).replace("\ufeff", "")).strip().lower()
    return "".join(ch for ch in text if ch not in " \t_-.")


@cache
def column_aliases() -> dict[str, tuple[str, ...]]:
    """Canonical column -> accepted names (normalised), from ``data/column_aliases.csv``."""
    _, rows = read_table(None, "column_aliases.csv")
    return {
        r["column"]: tuple(normalise_name(a) for a in r["aliases"].split("|") if a.strip())
        for r in rows
    }


def _expected(kind: Kind) -> str:
    aliases = column_aliases()
    parts = [f"{c} ({'|'.join(aliases.get(c, (c,)))})" for c in kind.required]
    if kind.geometry == "point":
        parts.append(f"a point geometry or lon ({'|'.join(aliases['lon'])}) and lat "
                     f"({'|'.join(aliases['lat'])}) columns")  # fmt: skip
    elif kind.geometry == "polygon":
        parts.append("a polygon geometry")
    return "; ".join(parts)


def _match_columns(columns: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    """Canonical name -> the first column (in alias order) that matches it."""
    aliases = column_aliases()
    by_norm: dict[str, Any] = {}
    for col in columns:
        by_norm.setdefault(normalise_name(col), col)
    found: dict[str, Any] = {}
    for name in names:
        for alias in aliases.get(name, (normalise_name(name),)):
            if alias in by_norm:
                found[name] = by_norm[alias]
                break
    return found


# --------------------------------------------------------------------------- sources


def split_layer(path: str | Path, layer: str | int | None = None) -> tuple[Path, str | int | None]:
    """``file.gpkg:layer`` → (``file.gpkg``, ``layer``) when only the part before the last
    ``:`` names an existing file."""
    text = str(path)
    p = Path(text).expanduser()
    if layer is None and not p.exists() and ":" in text:
        head, _, tail = text.rpartition(":")
        if head and tail and Path(head).expanduser().is_file():
            return Path(head).expanduser(), tail
    return p, layer


def decode_text(raw: bytes, source: str, encoding: str | None = None) -> str:
    """Text of a file's bytes: the BOM's encoding, else UTF-8, else GB18030 (GBK)."""
    if encoding:
        try:
            return raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise InputError(f"{source}: cannot decode as {encoding} ({exc})") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise InputError(
        f"{source}: the text is neither UTF-8 nor GB18030/GBK; save it as UTF-8 "
        "(Excel: CSV UTF-8) or pass the encoding"
    )


def _sniff_separator(lines: Sequence[str]) -> str:
    header = lines[0] if lines else ""
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda s: (counts[s], -_SEPARATORS.index(s)))
    return best if counts[best] else ","


def _csv_rows(path: Path, encoding: str | None) -> list[list[Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    text = decode_text(raw, str(path), encoding)
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") else _sniff_separator(lines)
    return [row for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)]


def _sheet_index(path: Path, names: list[str], sheet: str | int | None) -> int:
    """The position of ``sheet`` (a name, or a position when no sheet has that name;
    None: the first) among ``names``."""
    if sheet is None:
        return 0
    if isinstance(sheet, int) or (sheet.isdigit() and sheet not in names):
        index = int(sheet)
        if not 0 <= index < len(names):
            raise InputError(f"{path}: no sheet #{index}; sheets: {names}")
        return index
    if sheet in names:
        return names.index(sheet)
    raise InputError(f"{path}: no sheet {sheet!r}; sheets: {names}")


def _excel_rows(path: Path, sheet: str | int | None) -> list[list[Any]]:
    """The rows of a sheet of an ``.xlsx``/``.xlsm`` workbook, or of an old ``.xls`` one."""
    if path.suffix.lower() == ".xls":
        return _xls_rows(path, sheet)
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a core dependency
        raise InputError("reading Excel needs openpyxl: pip install openpyxl") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile/openpyxl raise several unrelated types
        raise InputError(f"{path} could not be read as an Excel workbook ({exc})") from None
    try:
        ws = book.worksheets[_sheet_index(path, book.sheetnames, sheet)]
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def _xls_rows(path: Path, sheet: str | int | None) -> list[list[Any]]:
    """The rows of a sheet of an old Excel ``.xls`` workbook (BIFF, Excel 97-2003) as
    :func:`_excel_rows` gives them: numbers that are whole as ``int`` (Excel keeps every
    number as a double, so an id 1001 is 1001, not 1001.0), dates as ``datetime``,
    empty and error cells as None. Text keeps its characters (BIFF8 is UTF-16; older
    files use their code page, e.g. GBK)."""
    try:
        import xlrd
    except ImportError:  # pragma: no cover - a core dependency
        raise InputError("reading .xls needs xlrd: pip install xlrd") from None
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises its own and struct/OLE errors on broken files
        raise InputError(f"{path} could not be read as an Excel .xls workbook ({exc}); "
                         "save it as .xlsx or CSV UTF-8") from None  # fmt: skip
    try:
        ws = book.sheet_by_index(_sheet_index(path, book.sheet_names(), sheet))
        rows = []
        for r in range(ws.nrows):
            row: list[Any] = []
            for cell in ws.row(r):
                kind, value = cell.ctype, cell.value
                if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    row.append(None)
                elif kind == xlrd.XL_CELL_NUMBER:
                    row.append(int(value) if float(value).is_integer() else float(value))
                elif kind == xlrd.XL_CELL_DATE:
                    row.append(xlrd.xldate.xldate_as_datetime(value, book.datemode))
                elif kind == xlrd.XL_CELL_BOOLEAN:
                    row.append(bool(value))
                else:
                    row.append(value)
            rows.append(row)
        return rows
    finally:
        book.release_resources()


def _rows_to_frame(rows: list[list[Any]], kind: Kind, source: str) -> pd.DataFrame:
    """A DataFrame from a header row and data rows; the header is the first of the first
    rows naming the kind's required columns (sheets often have a title row above it)."""
    import pandas as pd

    rows = [r for r in rows if any(_present(v) for v in r)]
    if not rows:
        raise InputError(f"{source}: the table is empty; expected columns {_expected(kind)}")
    wanted = [*kind.required, *(("lon", "lat") if kind.geometry == "point" else ())]
    header_at = 0
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        if len(_match_columns([c for c in row if _present(c)], wanted)) == len(wanted):
            header_at = i
            break
    header = [str(c).strip() if _present(c) else f"column_{j + 1}"
              for j, c in enumerate(rows[header_at])]  # fmt: skip
    width = len(header)
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[header_at + 1 :]]
    frame = pd.DataFrame(body, columns=header, dtype=object)
    frame.attrs["first_line"] = header_at + 2
    return frame


def _read_gis(path: Path, layer: str | int | None, encoding: str | None) -> gpd.GeoDataFrame:
    import pyogrio

    if not path.exists():
        raise InputError(f"file not found: {path}")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputError(f"{path}: not a table or GIS file recyclenet can open ({exc})") from None
    if layer is None and len(layers) > 1:
        raise InputError(f"{path} has {len(layers)} layers {layers}; choose one as "
                         f"{path}:LAYER (or layer=...)")  # fmt: skip
    if layer is not None and str(layer) not in layers:
        if not (isinstance(layer, int) or str(layer).isdigit()) or int(layer) >= len(layers):
            raise InputError(f"{path}: no layer {layer!r}; layers: {layers}")
        layer = int(layer)
    if encoding is None and path.suffix.lower() == ".shp":
        encoding = _shapefile_encoding(path)
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except Exception as exc:  # pyogrio raises its own DataSourceError family
        raise InputError(f"{path} could not be read ({exc})") from None
    if path.suffix.lower() in (".kml", ".kmz") and {"id", "Name"} <= set(frame.columns):
        frame = frame.drop(columns="id")  # GDAL's generated placemark ids; Name is the user's
    if path.suffix.lower() in (".geojson", ".json") and not _match_columns(frame.columns, ["id"]):
        ids = _geojson_feature_ids(path)
        if ids is not None and len(ids) == len(frame):
            frame.insert(0, "id", ids)
    return frame


def _geojson_feature_ids(path: Path) -> list[Any] | None:
    """The features' ``id`` members when every feature has one (GDAL turns integer
    feature ids into FIDs, not columns)."""
    import json

    try:
        doc = json.loads(decode_text(path.read_bytes(), str(path)))
    except (OSError, ValueError, InputError):
        return None
    feats = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(feats, list):
        return None
    ids = [f.get("id") if isinstance(f, dict) else None for f in feats]
    return ids if all(i is not None for i in ids) else None


def _shapefile_encoding(path: Path) -> str | None:
    """None when a ``.cpg`` says the encoding (GDAL honours it); else the encoding of the
    ``.dbf``'s field names and text: UTF-8 when they decode as UTF-8, else GB18030."""
    if any(path.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    dbf = next((path.with_suffix(s) for s in (".dbf", ".DBF") if path.with_suffix(s).exists()),
               None)  # fmt: skip
    if dbf is None:
        return None
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[i : i + 11] for i in range(32, max(header_len - 32, 32), 32)
                     if raw[i : i + 1] != b"\r")  # fmt: skip
    text = (names + raw[header_len:]).replace(b"\x00", b"")
    for encoding in ("UTF-8", "GB18030"):
        try:
            text.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            continue
    return None


def read_sheet_rows(path: str | Path, what: str) -> tuple[Path, list[list[Any]]]:
    """The non-blank rows of a CSV/TSV (encoding detected, separator sniffed) or ``.xlsx``
    sheet (``book.xlsx:Sheet``), for tables that are not one of :data:`KINDS` (records,
    targets). ``what`` names the table in errors (``"records"``). Returns the file and
    its rows, the header row included."""
    file, sheet = split_layer(path)
    if not file.is_file():
        raise InputError(f"{what} file not found: {file}")
    suffix = file.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        rows = _excel_rows(file, sheet)
    elif suffix in CSV_SUFFIXES:
        rows = _csv_rows(file, None)
    else:
        raise InputError(f"{file}: {what} must be a CSV/TSV or Excel (.xlsx, .xls) file")
    return file, [r for r in rows if any(c not in (None, "") and str(c).strip() for c in r)]


def read_frame(
    path: str | Path,
    *,
    kind: str,
    crs: str = "wgs84",
    layer: str | int | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a user table of ``kind`` (see :data:`KINDS`) from any supported file.

    Parameters
    ----------
    path : path
        CSV/TSV, Excel workbook or any GDAL vector file; ``file:layer`` picks a layer or
        sheet.
    kind : str
        ``points``, ``demand``, ``sites``, ``centres``, ``orders``, ``depots``, ``fleet``,
        ``districts`` or ``zones``.
    crs : {"wgs84", "gcj02", "bd09"}
        Datum of the lon/lat degrees (after reprojecting a declared CRS to EPSG:4326).
    layer : str or int, optional
        Layer or sheet name (or position).
    encoding : str, optional
        Override the detected text encoding.

    Returns
    -------
    DataFrame or GeoDataFrame
        Canonical columns (see :func:`normalise_frame`); ``frame.attrs["source"]`` names
        the file and ``frame.attrs["first_line"]`` the line of its first data row.
    """
    spec = _kind(kind)
    file, layer = split_layer(path, layer)
    if not file.is_file():
        raise InputError(f"{spec.name} file not found: {file}")
    suffix = file.suffix.lower()
    source = str(file)
    if suffix in CSV_SUFFIXES:
        frame = _rows_to_frame(_csv_rows(file, encoding), spec, source)
    elif suffix in EXCEL_SUFFIXES:
        frame = _rows_to_frame(_excel_rows(file, layer), spec, source)
    else:
        frame = _read_gis(file, layer, encoding)
        frame.attrs["first_line"] = 1
    frame.attrs["source"] = source
    return normalise_frame(frame, kind=spec.name, crs=crs, source=source)


def _kind(kind: str) -> Kind:
    spec = KINDS.get(kind)
    if spec is None:
        raise InputError(f"unknown table kind {kind!r}; choose from {sorted(KINDS)}")
    return spec


def normalise_frame(
    frame: pd.DataFrame, *, kind: str, crs: str = "wgs84", source: str = "table"
) -> pd.DataFrame:
    """Canonical columns, string ids, WGS-84 coordinates for a table of ``kind``.

    ``frame`` is a DataFrame (lon/lat columns) or a GeoDataFrame (any CRS; reprojected to
    EPSG:4326; without a CRS its coordinates are degrees in ``crs``). Columns named by an
    alias get their canonical name (the original name stays when it is itself a canonical
    column, e.g. ``name`` used as the id); other columns are kept as they are.
    Point kinds get float ``lon``/``lat`` columns (WGS-84) and a point geometry; polygon
    kinds a (Multi)Polygon geometry. Rows with an empty id are an error naming their line.
    """
    import geopandas as gpd
    import pandas as pd

    spec = _kind(kind)
    system = check_crs(crs)
    first_line = int(frame.attrs.get("first_line", 1))
    source = str(frame.attrs.get("source", source))
    has_geom = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns
    if len(frame) == 0:
        raise InputError(f"{source}: the table is empty; expected {_expected(spec)}")
    attrs = [c for c in frame.columns if not (has_geom and c == frame.geometry.name)]
    wanted = [*spec.required, *spec.optional]
    if spec.geometry == "point" and not has_geom:
        wanted += ["lon", "lat"]
    found = _match_columns(attrs, wanted)
    missing = [c for c in spec.required if c not in found]
    if spec.geometry == "point" and not has_geom:
        missing += [c for c in ("lon", "lat") if c not in found]
    if spec.geometry == "polygon" and not has_geom:
        missing.append("geometry")
    if missing:
        raise InputError(
            f"{source}: no column for {missing}; columns found: {[str(c) for c in attrs]}; "
            f"expected {_expected(spec)}"
        )
    out = pd.DataFrame(index=range(len(frame)))
    canonical = set(column_aliases())
    used = set(found.values())
    for name, col in found.items():
        out[name] = frame[col].to_numpy()
    names = column_aliases()["name"]
    for col in attrs:
        key = str(col)
        renamed = col in used and normalise_name(col) not in canonical
        if col == found.get("id") and normalise_name(col) in names:
            renamed = False  # a name used as the id stays a property too
        if key in out.columns or renamed:
            continue
        out[key] = frame[col].to_numpy()
    if "id" not in found:  # only kinds whose id is optional (zones): zone1, zone2, ...
        out["id"] = [f"{spec.name.rstrip('s')}{i + 1}" for i in range(len(out))]
        found["id"] = "id"
    ids = [_text(v) for v in out["id"]]
    empty = [first_line + i for i, v in enumerate(ids) if not v]
    if empty:
        raise InputError(f"{source}: rows at line/feature {empty[:10]} have no id "
                         f"(column {found['id']!r}); give every row an id")  # fmt: skip
    out["id"] = ids
    if spec.geometry == "none":
        out.attrs.update(source=source, first_line=first_line)
        return out
    if has_geom:
        gframe: gpd.GeoDataFrame = frame
        geo = gframe if gframe.crs is None else gframe.to_crs(4326)
        geoms = geo.geometry.reset_index(drop=True)
    else:
        lon, lat = _coords(out["lon"]), _coords(out["lat"])
        _check_degrees(lon, lat, ids, source, first_line=first_line, projected=False,
                       given=list(zip(out["lon"], out["lat"])))  # fmt: skip
        geoms = gpd.GeoSeries(gpd.points_from_xy(lon, lat))
    if spec.geometry == "point":
        geoms = _as_points(geoms, ids, source)
        lon_a, lat_a = geoms.x.to_numpy(dtype=float), geoms.y.to_numpy(dtype=float)
        _check_degrees(lon_a, lat_a, ids, source, first_line=first_line,
                       projected=has_geom and frame.crs is None)  # fmt: skip
        if system != "wgs84":
            lon_a, lat_a = to_wgs84(lon_a, lat_a, system)
        out["lon"], out["lat"] = lon_a, lat_a
        geoms = gpd.GeoSeries(gpd.points_from_xy(lon_a, lat_a))
    else:
        geoms = _as_polygons(geoms, ids, source, system)
    result = gpd.GeoDataFrame(out, geometry=geoms.to_numpy(), crs=4326)
    result.attrs.update(source=source, first_line=first_line)
    return result


def _coords(values: Any) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            out[i] = to_float(v)
        except (TypeError, ValueError):
            continue
    return out


def _check_degrees(lon: np.ndarray, lat: np.ndarray, ids: Sequence[str], source: str, *,
                   first_line: int, projected: bool, given: Any = None) -> None:  # fmt: skip
    """Every row whose lon/lat are not numbers in range, named by line, id and value."""
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        idx = np.nonzero(bad)[0][:10]
        shown = given if given is not None else list(zip(lon.tolist(), lat.tolist()))
        listed = "; ".join(f"line {first_line + i}: {ids[i]} ({shown[i][0]}, {shown[i][1]})"
                           for i in idx)  # fmt: skip
        if projected:
            hint = "the file declares no CRS: add its .prj / CRS, or give lon/lat degrees"
        else:
            hint = ("lon/lat must be numbers in degrees (lon in [-180, 180], lat in [-90, 90]); "
                    "projected x/y need a GIS file that declares its CRS")
        raise InputError(f"{source}: {int(bad.sum())} row(s) have coordinates that are not "
                         f"lon/lat degrees: {listed}; {hint}")  # fmt: skip


def _as_points(geoms: Any, ids: Sequence[str], source: str) -> Any:
    """Points: points as they are, one-point MultiPoints, polygons' representative points."""
    import geopandas as gpd
    import shapely

    out = []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            raise InputError(f"{source}: feature {ids[i]!r} has no geometry")
        kind = g.geom_type
        if kind == "Point":
            out.append(g)
        elif kind == "MultiPoint" and len(g.geoms) == 1:
            out.append(g.geoms[0])
        elif kind in ("Polygon", "MultiPolygon"):
            out.append(shapely.point_on_surface(g))
        else:
            raise InputError(f"{source}: feature {ids[i]!r} is a {kind}; give Points "
                             "(or Polygons, read at a point inside them)")  # fmt: skip
    return gpd.GeoSeries(out)


def _as_polygons(geoms: Any, ids: Sequence[str], source: str, system: str) -> Any:
    import geopandas as gpd
    import shapely

    for i, g in enumerate(geoms):
        if g is None or g.geom_type not in ("Polygon", "MultiPolygon"):
            got = None if g is None else g.geom_type
            raise InputError(f"{source}: feature {ids[i]!r}: geometry must be a Polygon or "
                             f"MultiPolygon, got {got}")  # fmt: skip
    series = gpd.GeoSeries(list(geoms))
    if system != "wgs84":
        def convert(c: np.ndarray) -> np.ndarray:
            return np.column_stack(to_wgs84(c[:, 0], c[:, 1], system))

        series = gpd.GeoSeries([shapely.transform(g, convert) for g in series])
    return series


# --------------------------------------------------------------------------- values


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return not (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text: '' for empty, integers without ``.0`` (Excel stores 7 as 7.0)."""
    if not _present(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def to_float(value: Any) -> float:
    """A number from a cell: numbers as they are; text with ``.`` or a decimal comma."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        if text.count(",") == 1 and "." not in text:
            return float(text.replace(",", "."))
        raise ValueError(f"{value!r} is not a number") from None


def optional_float(value: Any) -> float | None:
    """None for an empty cell, else :func:`to_float`."""
    return to_float(value) if _present(value) else None


def table_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Every row as ``{column: text}`` ('' for empty cells; lon/lat as exact reprs)."""
    cols = [c for c in frame.columns if c != "geometry"]
    rows = []
    for rec in frame[cols].itertuples(index=False, name=None):
        row = {}
        for c, v in zip(cols, rec):
            row[str(c)] = repr(float(v)) if c in ("lon", "lat") else _text(v)
        rows.append(row)
    return rows


def properties(frame: pd.DataFrame, exclude: Sequence[str]) -> list[dict[str, Any]]:
    """The other columns of each row, empty cells dropped, numpy scalars as Python."""
    cols = [c for c in frame.columns if c not in (*exclude, "geometry")]
    out = []
    for rec in frame[cols].itertuples(index=False, name=None):
        props = {}
        for c, v in zip(cols, rec):
            if _present(v):
                props[str(c)] = v.item() if isinstance(v, np.generic) else v
        out.append(props)
    return out


def row_error(frame: pd.DataFrame, i: int, what: str, exc: Exception) -> InputError:
    """An InputError naming the file, the line (or feature) and the row id."""
    source = frame.attrs.get("source", "table")
    line = int(frame.attrs.get("first_line", 1)) + i
    rid = frame["id"].iloc[i] if "id" in frame.columns else "?"
    return InputError(f"{source} line {line} ({what} {rid!r}): {exc}")


# --------------------------------------------------------------------------- builders


def points_from_frame(frame: pd.DataFrame) -> Points:
    """:class:`Points` of a normalised point table (other columns as properties)."""
    from .points import Points

    try:
        return Points(tuple(frame["id"]), frame["lon"].to_numpy(dtype=float),
                      frame["lat"].to_numpy(dtype=float),
                      tuple(properties(frame, ("id", "lon", "lat"))))  # fmt: skip
    except InputError as exc:
        raise InputError(f"{frame.attrs.get('source', 'table')}: {exc}") from None


def demand_from_frame(frame: pd.DataFrame) -> list[Demand]:
    """Demand of a normalised ``demand`` table: households (default 1), weight, and kg per
    year by material from ``kg_<material>`` columns."""
    from .siting.problem import Demand

    kg_cols = [c for c in frame.columns if str(c).lower().startswith("kg_")]
    hh = frame["households"] if "households" in frame.columns else [None] * len(frame)
    w = frame["weight"] if "weight" in frame.columns else [None] * len(frame)
    out = []
    for i, (pid, lon, lat, h, wt) in enumerate(zip(frame["id"], frame["lon"], frame["lat"],
                                                   hh, w)):  # fmt: skip
        try:
            households = optional_float(h)
            kg = {str(c)[3:]: to_float(frame[c].iloc[i]) for c in kg_cols
                  if _present(frame[c].iloc[i])}  # fmt: skip
            out.append(Demand(id=pid, lon=float(lon), lat=float(lat),
                              households=1.0 if households is None else households,
                              weight=optional_float(wt), kg_per_year=kg))  # fmt: skip
        except (InputError, TypeError, ValueError) as exc:
            raise row_error(frame, i, "demand", exc) from None
    return out


_SITE_STATUS = {"existing": "existing", "现有": "existing", "已建": "existing",
                "required": "required", "必建": "required", "candidate": "candidate",
                "候选": "candidate", "forbidden": "forbidden", "禁止": "forbidden"}  # fmt: skip


def sites_from_frame(frame: pd.DataFrame) -> list[Site]:
    """Sites of a normalised ``sites`` or ``centres`` table: status (existing, required,
    candidate (default), forbidden; or 现有/已建, 必建, 候选, 禁止), fixed_cost, capacity,
    closing_cost."""
    from .siting.problem import Site

    def col(name: str) -> Sequence[Any]:
        return frame[name].tolist() if name in frame.columns else [None] * len(frame)

    out = []
    rows = zip(frame["id"], frame["lon"], frame["lat"], col("status"), col("fixed_cost"),
               col("capacity"), col("closing_cost"))  # fmt: skip
    for i, (pid, lon, lat, status, fixed, cap, closing) in enumerate(rows):
        try:
            text = _text(status).lower() or "candidate"
            out.append(Site(id=pid, lon=float(lon), lat=float(lat),
                            status=_SITE_STATUS.get(text, text),  # type: ignore[arg-type]
                            fixed_cost=optional_float(fixed) or 0.0,
                            capacity=optional_float(cap),
                            closing_cost=optional_float(closing) or 0.0))  # fmt: skip
        except (InputError, TypeError, ValueError) as exc:
            raise row_error(frame, i, "site", exc) from None
    return out


def read_points(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None
) -> Points:
    """Named points (id and lon/lat or a point geometry) from any supported file."""
    return points_from_frame(read_frame(path, kind="points", crs=crs, layer=layer))


def read_demand(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None
) -> list[Demand]:
    """Demand points from any supported file (see :func:`demand_from_frame`)."""
    return demand_from_frame(read_frame(path, kind="demand", crs=crs, layer=layer))


def read_sites(
    path: str | Path, *, crs: str = "wgs84", layer: str | int | None = None,
    kind: str = "sites",
) -> list[Site]:  # fmt: skip
    """Candidate or existing sites (``kind="centres"``: sorting centres) from any file."""
    return sites_from_frame(read_frame(path, kind=kind, crs=crs, layer=layer))


def read_polygons(
    path: str | Path, *, kind: str = "districts", crs: str = "wgs84",
    layer: str | int | None = None,
) -> list[tuple[str, str, Any]]:  # fmt: skip
    """(id, name, polygon) of each feature of a ``districts`` or ``zones`` file (WGS-84)."""
    frame = read_frame(path, kind=kind, crs=crs, layer=layer)
    names = frame["name"] if "name" in frame.columns else frame["id"]
    return [(i, _text(n) or i, g) for i, n, g in zip(frame["id"], names, frame.geometry)]
