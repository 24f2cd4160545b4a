"""Plan layers as typed GeoDataFrames: one geometry type per layer, typed columns.

The library builds its layers as RFC 7946 FeatureCollections (``SitingRun.geojson_layers``,
``RoutingRun.geojson``, the API's stored layers). :func:`layer_frames` turns them into the
frames every file writer (:mod:`recyclenet.export.files`) and the Python API
(``to_geodataframe``) use:

- one geometry type per layer: the routing collection (or the API's ``stops`` layer)
  becomes ``routes`` (LineString), ``stops`` (Point, unload and depot visits included) and
  ``unserved`` (Point); siting
  ``assignments`` keeps its lines and unassigned demand goes to ``unassigned``; ``centres``
  keeps its points and station → centre lines go to ``centre_links``;
- typed columns: numbers are float64 (int64 when every value is an integer, e.g.
  ``sequence``), an all-null column whose name carries a unit (``_m``, ``_s``, ``_kg``, ...)
  or is a known number (``capacity``, ``fixed_cost``, ...) stays float64;
- nested values flattened: an order's ``items`` (``[{category, count}]``) become the text
  ``category:count;...`` the orders reader takes back; any other list or mapping becomes a
  JSON text column.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd

#: The geometry family each layer name keeps; features of another family go to the layer
#: named in ``_SPLIT`` (or ``<layer>_<family>s``).
PRIMARY_GEOMETRY = {
    "stations": "point", "assignments": "line", "coverage": "polygon", "centres": "point",
    "routes": "line", "stops": "point", "unserved": "point", "unassigned": "point",
    "centre_links": "line", "roads": "line",
}  # fmt: skip
_SPLIT = {("assignments", "point"): "unassigned", ("centres", "line"): "centre_links"}
#: Layers a collection always yields, empty or not (a plan with no unserved order has an
#: empty ``unserved`` sheet, not none).
_ALWAYS = {"routes": ("routes", "stops", "unserved"), "stops": ("stops", "unserved"),
           "assignments": ("assignments", "unassigned")}
#: Columns whose values are numbers even when every value is null.
NUMERIC_FIELDS = frozenset({"capacity", "fixed_cost", "cost", "households", "share", "radius",
                            "value", "objective", "bound", "gap", "sequence"})  # fmt: skip
_NUMERIC_SUFFIXES = ("_m", "_s", "_kg", "_m2", "_m3", "_km", "_h", "_per_year", "_pct")
#: Columns of layers that may be empty, so that an empty sheet or CSV still has headers.
EMPTY_COLUMNS = {
    "unserved": ("order_id", "reason", "message"),
    "unassigned": ("demand_id", "households"),
}
_FAMILY = {"Point": "point", "MultiPoint": "point", "LineString": "line",
           "MultiLineString": "line", "Polygon": "polygon", "MultiPolygon": "polygon"}  # fmt: skip


def split_features(name: str, collection: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The features of one FeatureCollection grouped into single-geometry layers."""
    out: dict[str, list[dict[str, Any]]] = {}
    for feat in collection.get("features") or []:
        geom = feat.get("geometry") or {}
        family = _FAMILY.get(geom.get("type", ""), "none")
        kind = (feat.get("properties") or {}).get("kind")
        if name in ("routes", "stops") and "kind" in (feat.get("properties") or {}):
            target = "routes" if kind == "route" else "unserved" if kind == "unserved" else "stops"
        elif PRIMARY_GEOMETRY.get(name, family) == family:
            target = name
        else:
            target = _SPLIT.get((name, family), f"{name}_{family}s")
        out.setdefault(target, []).append(feat)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _numeric_name(name: str) -> bool:
    return name in NUMERIC_FIELDS or name.endswith(_NUMERIC_SUFFIXES)


def _flatten(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(x, Mapping) and {"category", "count"} <= set(x)
                                       for x in value):  # fmt: skip
        return ";".join(f"{x['category']}:{x['count']:g}" for x in value)
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def typed_column(name: str, values: list[Any]) -> Any:
    """A pandas Series of ``values`` with the column's type (see the module docstring)."""
    import numpy as np
    import pandas as pd

    values = [_flatten(v) for v in values]
    present = [v for v in values if v is not None and not (isinstance(v, float) and np.isnan(v))]
    if present and all(isinstance(v, bool) for v in present) and len(present) == len(values):
        return pd.Series(values, dtype=bool)
    if (present and all(_is_number(v) for v in present)) or (not present and _numeric_name(name)):
        if present and len(present) == len(values) and all(isinstance(v, int) for v in present):
            return pd.Series(values, dtype="int64")
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype="float64")
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)


def features_frame(features: list[dict[str, Any]], layer: str = "") -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of GeoJSON features with typed columns."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import shape

    columns: list[str] = []
    for f in features:
        for k in f.get("properties") or {}:
            if k not in columns:
                columns.append(k)
    if not features:
        columns = list(EMPTY_COLUMNS.get(layer, ()))
    data = {c: typed_column(c, [(f.get("properties") or {}).get(c) for f in features])
            for c in columns}  # fmt: skip
    geoms = [shape(f["geometry"]) if f.get("geometry") else None for f in features]
    return gpd.GeoDataFrame(pd.DataFrame(data, index=range(len(features))), geometry=geoms,
                            crs=4326)  # fmt: skip


def layer_frames(layers: Mapping[str, Mapping[str, Any]]) -> dict[str, gpd.GeoDataFrame]:
    """Single-geometry, typed GeoDataFrames of plan layers (FeatureCollections by name)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for name, collection in layers.items():
        parts = split_features(name, collection)
        for target in _ALWAYS.get(name, (name,)):
            parts.setdefault(target, [])
        for target, feats in parts.items():
            grouped.setdefault(target, []).extend(feats)
    return {name: features_frame(feats, name) for name, feats in grouped.items()}


def frame_features(frame: gpd.GeoDataFrame) -> dict[str, Any]:
    """A GeoDataFrame as a FeatureCollection dict (RFC 7946; NaN as null)."""
    doc = json.loads(frame.to_json(na="null", drop_id=True))
    doc.pop("bbox", None)
    return doc
