"""One self-contained HTML map of a plan: Leaflet and the GeoJSON layers in one file.

The page needs nothing from outside: Leaflet (vendored in ``export/static/leaflet``, see
its ``VENDOR.txt``) is inlined with its images as ``data:`` URIs, the layers are embedded
as JSON, and there is no tile layer: the road network is the base layer. So the same file
works opened from disk, attached to an e-mail, or served (the service's ``/map?plan=ID``
serves exactly this page).

Layers (each an RFC 7946 FeatureCollection, WGS-84 lon/lat) are drawn bottom to top in
:data:`LAYER_ORDER`. :func:`map_layers` accepts the pipeline's and the service's layer
names and splits them into these: ``routes`` may be the pipeline's mixed route + stop
collection (:meth:`recyclenet.pipeline.RoutingRun.geojson`), ``stops`` the service's
stops layer; depots, unloading stops and unserved orders are taken out of them.

A link to ``map.html#<layer>/<id>`` (e.g. ``#stops/o001``, ``#stations/s12``) opens that
feature's popup; the id is matched against the feature id and the order, site, centre,
vehicle, depot and location ids.

Once drawn, the page sets ``data-ready="1"`` on ``<html>`` and on ``#map``, writes
``{"layers": {name: features}, "drawn": {name: SVG paths on the map}, "popup": the opened
"<layer>/<id>" or null, ...}`` into ``#recyclenet-state`` and to ``window.recyclenetMap``,
for tests and for scripts.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..i18n import check_lang, labels

if TYPE_CHECKING:
    from ..network import RoadNetwork

GeoJSON = dict[str, Any]

LAYER_ORDER: tuple[str, ...] = (
    "roads",
    "coverage",
    "assignments",
    "centre_links",
    "routes",
    "stations",
    "centres",
    "depots",
    "stops",
    "unserved",
)
"""Map layers, bottom to top."""

HIDDEN_BY_DEFAULT: frozenset[str] = frozenset({"assignments"})
"""Layers listed in the layer control but not shown until ticked (one line per household
cell would hide the stations)."""

INPUT_LAYERS: frozenset[str] = frozenset(LAYER_ORDER) | {"centres"}
"""Layer names :func:`map_layers` accepts."""

PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#e377c2",
    "#8c564b",
    "#bcbd22",
    "#393b79",
    "#637939",
    "#843c39",
    "#7b4173",
    "#3182bd",
)
"""Route colours, one per vehicle in sorted id order (repeats after 14 vehicles)."""

COLOURS: dict[str, str] = {
    "road": "#9e9e9e",
    "coverage": "#43a047",
    "assignment": "#8d8d8d",
    "kept": "#00897b",
    "opened": "#ff8f00",
    "closed": "#9e9e9e",
    "centre": "#6a1b9a",
    "depot": "#212121",
    "unload": "#6a1b9a",
    "unserved": "#d50000",
}
"""Colours of everything but routes (shared with :mod:`recyclenet.export.map_png`)."""

ROAD_DECIMALS = 5
"""Decimals kept in road coordinates (1e-5 degree ≈ 1.1 m of latitude)."""
LAYER_DECIMALS = 6
"""Decimals kept in the other layers' coordinates (≈ 0.1 m)."""

_STATIC = "export/static/leaflet"


# --------------------------------------------------------------------------- layers


def vehicle_colours(vehicle_ids: Iterable[str]) -> dict[str, str]:
    """Colour of each vehicle's route: :data:`PALETTE` in sorted id order."""
    return {v: PALETTE[k % len(PALETTE)] for k, v in enumerate(sorted(set(vehicle_ids)))}


def _collection(features: list[dict[str, Any]]) -> GeoJSON:
    return {"type": "FeatureCollection", "features": features}


def _features(name: str, layer: Mapping[str, Any]) -> list[dict[str, Any]]:
    if not isinstance(layer, Mapping) or layer.get("type") != "FeatureCollection":
        raise InputError(f"map layer {name!r} must be a GeoJSON FeatureCollection")
    feats = layer.get("features")
    if not isinstance(feats, list):
        raise InputError(f"map layer {name!r} has no 'features' list")
    return feats


def map_layers(layers: Mapping[str, Mapping[str, Any]]) -> dict[str, GeoJSON]:
    """Sort input layers into the map's layers (:data:`LAYER_ORDER`), dropping empty ones.

    Parameters
    ----------
    layers : mapping of name to FeatureCollection
        Any of ``roads``, ``coverage``, ``assignments``, ``stations``, ``centres``
        (centre Points and station → centre LineStrings, as the pipeline writes them),
        ``routes`` (route LineStrings, possibly mixed with stop and unserved Points as
        :meth:`~recyclenet.pipeline.RoutingRun.geojson` returns them), ``stops`` (stops
        with ``kind`` start/order/unload/end and unserved orders), ``depots``,
        ``unserved``, ``centre_links``.

    Returns
    -------
    dict
        Layers in :data:`LAYER_ORDER`; start stops (and end stops back there) become one
        ``depots`` feature per depot (with the vehicles that use it); a route's end at a
        facility stays a stop; unserved orders go to ``unserved``.

    Raises
    ------
    InputError
        An unknown layer name or a value that is not a FeatureCollection.
    """
    unknown = sorted(set(layers) - INPUT_LAYERS)
    if unknown:
        raise InputError(
            f"unknown map layer(s) {', '.join(unknown)}; use {', '.join(sorted(INPUT_LAYERS))}"
        )
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in LAYER_ORDER}
    depots: dict[str, dict[str, Any]] = {}
    ends: list[dict[str, Any]] = []
    for name, layer in layers.items():
        for f in _features(name, layer):
            geom = (f.get("geometry") or {}).get("type")
            props = f.get("properties") or {}
            kind = props.get("kind")
            if name == "centres":
                out["centre_links" if geom == "LineString" else "centres"].append(f)
            elif name in ("routes", "stops") and kind is not None:
                if kind == "route":
                    out["routes"].append(f)
                elif kind == "unserved":
                    out["unserved"].append(f)
                elif kind == "start":
                    _add_depot(depots, f)
                elif kind == "end":
                    ends.append(f)
                else:
                    out["stops"].append(f)
            else:
                out[name].append(f)
    for f in ends:  # back at a depot, or ending at a facility (drawn as a stop)
        where = str((f.get("properties") or {}).get("location_id", ""))
        if where in depots:
            _add_depot(depots, f)
        else:
            out["stops"].append(f)
    out["depots"].extend(depots.values())
    return {name: _collection(feats) for name, feats in out.items() if feats}


def _add_depot(depots: dict[str, dict[str, Any]], stop: dict[str, Any]) -> None:
    props = stop.get("properties") or {}
    did = str(props.get("location_id", ""))
    depot = depots.setdefault(
        did,
        {
            "type": "Feature",
            "id": did,
            "geometry": stop.get("geometry"),
            "properties": {"kind": "depot", "depot_id": did, "vehicles": []},
        },
    )
    vehicle = props.get("vehicle_id")
    if vehicle is not None and vehicle not in depot["properties"]["vehicles"]:
        depot["properties"]["vehicles"].append(vehicle)


def _round(coords: Any, decimals: int) -> Any:
    if isinstance(coords, list | tuple):
        if coords and isinstance(coords[0], int | float):
            return [round(float(c), decimals) for c in coords]
        return [_round(c, decimals) for c in coords]
    return coords


def _rounded_geometry(geom: Mapping[str, Any] | None, decimals: int) -> Any:
    if not geom:
        return geom
    if geom.get("type") == "GeometryCollection":
        return {
            **geom,
            "geometries": [_rounded_geometry(g, decimals) for g in geom.get("geometries", [])],
        }
    return {**geom, "coordinates": _round(geom.get("coordinates"), decimals)}


def roads_layer(
    network: RoadNetwork, *, decimals: int = ROAD_DECIMALS, tolerance_m: float = 2.0
) -> GeoJSON:
    """The road network as a compact base layer for maps.

    One LineString per street piece (the two directions of a two-way piece are one
    feature), simplified (Douglas-Peucker, ``tolerance_m``) and rounded to ``decimals``,
    with only ``name`` (as in OSM, e.g. Chinese names untouched) and ``highway``.

    Parameters
    ----------
    network : RoadNetwork
    decimals : int
        Decimals of the lon/lat degrees kept.
    tolerance_m : float
        Simplification tolerance in metres (converted to degrees of latitude).
    """
    twin = network.edge_twin
    pieces = []
    for e in range(network.n_edges):
        t = int(twin[e])
        if 0 <= t < e:
            continue
        tags = network.edge_tags[e]
        pieces.append(
            (
                np.asarray(network.edge_geometry[e], dtype=np.float64),
                tags.get("name", ""),
                tags.get("highway", ""),
            )
        )
    return _compact(pieces, decimals, tolerance_m)


def compact_roads(
    features: Iterable[Mapping[str, Any]],
    *,
    decimals: int = ROAD_DECIMALS,
    tolerance_m: float = 2.0,
) -> GeoJSON:
    """Road LineString features (e.g. the service's ``roads.geojson``) as :func:`roads_layer`
    makes them: simplified, rounded, only ``name`` and ``highway`` kept."""
    pieces = []
    for f in features:
        geom = f.get("geometry") or {}
        props = f.get("properties") or {}
        parts = (
            [geom.get("coordinates")]
            if geom.get("type") == "LineString"
            else geom.get("coordinates") or []
            if geom.get("type") == "MultiLineString"
            else []
        )
        for coords in parts:
            if coords and len(coords) >= 2:
                pieces.append(
                    (
                        np.asarray(coords, dtype=np.float64)[:, :2],
                        props.get("name") or "",
                        props.get("highway") or "",
                    )
                )
    return _compact(pieces, decimals, tolerance_m)


def _compact(pieces: list[tuple[Any, str, str]], decimals: int, tolerance_m: float) -> GeoJSON:
    import shapely

    if not pieces:
        return _collection([])
    coords = [p[0] for p in pieces]
    index = np.repeat(np.arange(len(coords)), [len(c) for c in coords])
    lines = shapely.linestrings(np.concatenate(coords), indices=index)
    if tolerance_m > 0:
        lines = shapely.simplify(lines, tolerance_m / 111_320.0, preserve_topology=False)
    features = []
    for line, (_, name, highway) in zip(lines, pieces):
        xy = np.round(shapely.get_coordinates(line), decimals)
        if len(xy) > 1:
            keep = np.ones(len(xy), dtype=bool)
            keep[1:] = np.any(xy[1:] != xy[:-1], axis=1)
            xy = xy[keep]
        if len(xy) < 2:
            continue
        props = {"highway": highway}
        if name:
            props["name"] = name
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "LineString", "coordinates": xy.tolist()},
            }
        )
    return _collection(features)


# --------------------------------------------------------------------------- page


def _asset(name: str) -> bytes:
    return resources.files("recyclenet").joinpath(f"{_STATIC}/{name}").read_bytes()


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS, ready to inline (images as ``data:`` URIs)."""
    js = _asset("leaflet.js").decode("utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    css = _asset("leaflet.css").decode("utf-8")

    def data_uri(m: re.Match[str]) -> str:
        data = base64.b64encode(_asset(m.group(1))).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    css = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)
    if "</script" in js.lower() or "</style" in css.lower():  # never with Leaflet 1.9.4
        raise RuntimeError("vendored Leaflet cannot be inlined: it contains a closing tag")
    return js, css


def _json_for_script(doc: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</``, ``<!--``)."""
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # '<', '>' and '&' only occur inside JSON strings, where \\u escapes are equivalent
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_html(
    layers: Mapping[str, Mapping[str, Any]], *, title: str | None = None, lang: str = "en"
) -> str:
    """The map page as one HTML string (UTF-8, no external resources).

    Parameters
    ----------
    layers : mapping of name to FeatureCollection
        See :func:`map_layers`; add ``roads`` (:func:`roads_layer`) for the base layer.
    title : str, optional
        Page and header title; defaults to the ``map_title`` label.
    lang : {"en", "zh"}
        Language of the legend, layer names and popups. Names from OSM and ids are
        shown as they are.
    """
    check_lang(lang)
    text = labels(lang)
    title = title or text["map_title"]
    layered = map_layers(layers)
    decimals = {name: ROAD_DECIMALS if name == "roads" else LAYER_DECIMALS for name in layered}
    embedded = {
        name: _collection(
            [
                {**f, "geometry": _rounded_geometry(f.get("geometry"), decimals[name])}
                for f in fc["features"]
            ]
        )
        for name, fc in layered.items()
    }
    vehicles = [
        str((f.get("properties") or {}).get("vehicle_id"))
        for f in layered.get("routes", {}).get("features", [])
    ]
    doc = {
        "title": title,
        "lang": lang,
        "labels": text,
        "order": [name for name in LAYER_ORDER if name in embedded],
        "hidden": sorted(HIDDEN_BY_DEFAULT & set(embedded)),
        "colours": COLOURS,
        "vehicle_colours": vehicle_colours(vehicles),
        "layers": embedded,
    }
    js, css = leaflet_assets()
    return _PAGE.format(
        lang="zh-CN" if lang == "zh" else "en",
        title=html.escape(title),
        leaflet_css=css,
        page_css=_CSS,
        data=_json_for_script(doc),
        leaflet_js=js,
        page_js=_JS,
    )


def write_map_html(
    path: str | Path,
    layers: Mapping[str, Mapping[str, Any]],
    *,
    title: str | None = None,
    lang: str = "en",
) -> Path:
    """Write :func:`map_html` to ``path`` (UTF-8), creating the folder; return the path."""
    path = Path(path)
    page = map_html(layers, title=title, lang=lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


_PAGE = """<!DOCTYPE html>
<html lang="{lang}" data-ready="0">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="recyclenet">
<title>{title}</title>
<style>
{leaflet_css}
</style>
<style>
{page_css}
</style>
</head>
<body>
<header id="title">{title}</header>
<div id="map" data-ready="0"></div>
<pre id="recyclenet-state" hidden></pre>
<script type="application/json" id="recyclenet-data">{data}</script>
<script>
{leaflet_js}
</script>
<script>
{page_js}
</script>
</body>
</html>
"""

_CSS = """
html, body { height: 100%; margin: 0; }
body { display: flex; flex-direction: column;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; }
#title { padding: 6px 12px; font-weight: 600; font-size: 15px; background: #263238;
  color: #fff; flex: none; }
#map { flex: 1; background: #f4f3ef; }
.rn-legend { background: rgba(255,255,255,0.92); padding: 6px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-height: 60vh; overflow-y: auto; }
.rn-legend h4 { margin: 0 0 4px; font-size: 13px; }
.rn-legend div { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
.rn-legend .rn-sub { padding-left: 12px; }
.rn-popup table { border-collapse: collapse; }
.rn-popup th { text-align: left; padding-right: 8px; font-weight: 600; vertical-align: top; }
"""

_JS = r"""
(function () {
  "use strict";
  var doc = JSON.parse(document.getElementById("recyclenet-data").textContent);
  var T = doc.labels, C = doc.colours, VC = doc.vehicle_colours;
  var mapEl = document.getElementById("map");
  var map = L.map(mapEl, {zoomSnap: 0.25, renderer: L.svg({padding: 0.5})});
  map.attributionControl.setPrefix("Leaflet");
  map.attributionControl.addAttribution("\u00a9 OpenStreetMap contributors (ODbL)");

  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function row(key, value) {
    if (value === null || value === undefined || value === "") { return ""; }
    return "<tr><th>" + esc(T[key] || key) + "</th><td>" + esc(value) + "</td></tr>";
  }
  function popup(head, rows) {
    return "<div class='rn-popup'><b>" + esc(head) + "</b><table>" + rows.join("") +
      "</table></div>";
  }
  function fixed(x, digits, unit, per) {
    if (x === null || x === undefined || x === "" || !isFinite(Number(x))) { return null; }
    return (Number(x) / (per || 1)).toFixed(digits) + (unit ? " " + unit : "");
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hhmm(p) {
    if (p.arrival) { return String(p.arrival).slice(0, 5); }
    if (p.arrival_s === null || p.arrival_s === undefined) { return null; }
    var m = Math.floor(p.arrival_s / 60);
    return pad(Math.floor(m / 60)) + ":" + pad(m % 60);
  }
  function items(list) {
    return (list || []).map(function (i) { return i.category + " \u00d7 " + i.count; })
      .join(", ");
  }
  function vcolour(p) { return VC[p.vehicle_id] || "#555"; }
  function stationState(p) {
    return p.state === "closed" ? "closed" : (p.state === "kept" || p.status === "existing")
      ? "kept" : "opened";
  }
  var STATE_LABEL = {kept: "existing_station", opened: "new_station", closed: "closed_station"};
  var ROAD_WEIGHT = {motorway: 2.2, trunk: 2.2, primary: 1.8, secondary: 1.5, tertiary: 1.2};

  var style = {
    roads: function (p) {
      return {color: C.road, weight: ROAD_WEIGHT[p.highway] || 0.8, opacity: 0.9};
    },
    coverage: function () {
      return {color: C.coverage, weight: 1, opacity: 0.6, fillColor: C.coverage,
        fillOpacity: 0.15};
    },
    assignments: function () {
      return {color: C.assignment, weight: 0.6, opacity: 0.7, dashArray: "2 3",
        radius: 2, fillOpacity: 0.8, fillColor: C.assignment};
    },
    centre_links: function () {
      return {color: C.centre, weight: 2, opacity: 0.8, dashArray: "6 4"};
    },
    routes: function (p) { return {color: vcolour(p), weight: 4, opacity: 0.85}; },
    stations: function (p) {
      var s = stationState(p);
      return {radius: 9, color: s === "closed" ? C.closed : "#263238", weight: 1.5,
        fillColor: s === "closed" ? "#fff" : C[s], fillOpacity: 1,
        dashArray: s === "closed" ? "2 2" : null};
    },
    centres: function () {
      return {radius: 10, color: "#fff", weight: 3, fillColor: C.centre, fillOpacity: 1};
    },
    depots: function () {
      return {radius: 9, color: "#fff", weight: 3, fillColor: C.depot, fillOpacity: 1};
    },
    stops: function (p) {
      if (p.kind === "unload" || p.kind === "end") {
        return {radius: 7, color: vcolour(p), weight: 3, fillColor: C.unload, fillOpacity: 1};
      }
      return {radius: 5, color: "#fff", weight: 1.5, fillColor: vcolour(p), fillOpacity: 1};
    },
    unserved: function () {
      return {radius: 6, color: "#000", weight: 1.5, fillColor: C.unserved, fillOpacity: 1};
    }
  };

  var popups = {
    roads: function (p) { return p.name ? popup(p.name, [row("roads", p.highway)]) : null; },
    coverage: function (p) {
      return popup(T.coverage + " " + (p.site_id || ""), [row("households", p.households),
        row("area", fixed(p.area_m2, 3, "km\u00b2", 1e6))]);
    },
    assignments: function (p) {
      return popup(T.assignments, [row("households", p.households),
        row("distance", fixed(p.distance_m, 0, "m"))]);
    },
    centre_links: function (p) {
      return popup(T.centre_links, [row("stations", p.station_id),
        row("sorting_centre", p.centre_id), row("distance", fixed(p.distance_m, 2, "km", 1000))]);
    },
    routes: function (p) {
      return popup(T.route + " " + p.vehicle_id, [row("vehicle_type", p.vehicle_type_id),
        row("distance", fixed(p.distance_m, 2, "km", 1000)),
        row("duration", fixed(p.duration_s, 2, "h", 3600))]);
    },
    stations: function (p) {
      return popup(T[STATE_LABEL[stationState(p)]] + " " + (p.site_id || ""),
        [row("households", p.households), row("capacity", p.capacity)]);
    },
    centres: function (p) {
      return popup(T.sorting_centre + " " + (p.centre_id || ""),
        [row("load", fixed(p.load_t_per_year, 1, "t/a")),
         row("capacity", fixed(p.capacity_t_per_year, 1, "t/a"))]);
    },
    depots: function (p) {
      return popup(T.depot + " " + p.depot_id, [row("vehicle", (p.vehicles || []).join(", "))]);
    },
    stops: function (p) {
      var head = (p.kind === "unload" || p.kind === "end") ? T.unload_stop + " " + p.location_id
        : T.order + " " + (p.order_id || p.location_id);
      return popup(head, [row("vehicle", p.vehicle_id), row("arrival", hhmm(p)),
        row("items", items(p.items)),
        row("load", p.load_kg === null || p.load_kg === undefined ? null
          : fixed(p.load_kg, 1, "kg") + " / " + fixed(p.volume_m3 || 0, 2, "m\u00b3"))]);
    },
    unserved: function (p) {
      return popup(T.unserved + " " + p.order_id,
        [row("reason", T["reason_" + p.reason] || p.reason),
         p.message ? "<tr><td colspan='2'>" + esc(p.message) + "</td></tr>" : ""]);
    }
  };

  var overlays = {}, counts = {}, drawn = {}, groups = {}, bounds = L.latLngBounds([]);
  var names = {roads: T.roads, coverage: T.coverage, assignments: T.assignments,
    centre_links: T.centre_links, routes: T.route, stations: T.stations,
    centres: T.sorting_centre, depots: T.depot, stops: T.stop, unserved: T.unserved};
  doc.order.forEach(function (name) {
    var cls = "rn-layer rn-layer-" + name;
    var layer = L.geoJSON(doc.layers[name], {
      style: function (f) {
        var s = style[name](f.properties || {}); s.className = cls; return s;
      },
      pointToLayer: function (f, latlng) {
        var s = style[name](f.properties || {}); s.className = cls;
        if (s.radius === undefined) { s.radius = 5; }
        return L.circleMarker(latlng, s);
      },
      onEachFeature: function (f, lyr) {
        var html = popups[name](f.properties || {});
        if (html) { lyr.bindPopup(html); }
      }
    });
    groups[name] = layer;
    counts[name] = layer.getLayers().length;
    overlays[esc(names[name] || name)] = layer;
    if (doc.hidden.indexOf(name) < 0) { layer.addTo(map); }
    if (name !== "roads" && counts[name] > 0) { bounds.extend(layer.getBounds()); }
  });
  if (!bounds.isValid() && groups.roads) { bounds = groups.roads.getBounds(); }
  if (bounds.isValid()) {
    map.fitBounds(bounds, {padding: [20, 20], animate: false});
  } else {
    map.setView([0, 0], 2);
  }
  L.control.layers(null, overlays, {collapsed: false, position: "topright"}).addTo(map);
  L.control.scale({metric: true, imperial: false}).addTo(map);

  function swatch(kind, colour, opts) {
    opts = opts || {};
    var svg = '<svg width="22" height="14" viewBox="0 0 22 14">';
    if (kind === "line") {
      svg += '<line x1="1" y1="7" x2="21" y2="7" stroke="' + colour + '" stroke-width="' +
        (opts.width || 3) + '"' + (opts.dash ? ' stroke-dasharray="' + opts.dash + '"' : "") +
        "/>";
    } else if (kind === "area") {
      svg += '<rect x="2" y="2" width="18" height="10" fill="' + colour +
        '" fill-opacity="0.25" stroke="' + colour + '"/>';
    } else {
      svg += '<circle cx="11" cy="7" r="' + (opts.r || 5) + '" fill="' + colour +
        '" stroke="' + (opts.stroke || "#fff") + '" stroke-width="' + (opts.sw || 1.5) + '"' +
        (opts.dash ? ' stroke-dasharray="' + opts.dash + '"' : "") + "/>";
    }
    return svg + "</svg>";
  }
  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "rn-legend");
    var parts = ["<h4>" + esc(T.legend) + "</h4>"];
    function entry(sw, text, sub) {
      parts.push("<div" + (sub ? " class='rn-sub'" : "") + ">" + sw + "<span>" + esc(text) +
        "</span></div>");
    }
    function props(name) {
      return doc.layers[name].features.map(function (f) { return f.properties || {}; });
    }
    doc.order.forEach(function (name) {
      if (name === "roads") { entry(swatch("line", C.road, {width: 1.5}), T.roads); }
      if (name === "coverage") { entry(swatch("area", C.coverage), T.coverage); }
      if (name === "assignments") {
        entry(swatch("line", C.assignment, {width: 1, dash: "2 3"}), T.assignments);
      }
      if (name === "centre_links") {
        entry(swatch("line", C.centre, {width: 2, dash: "6 4"}), T.centre_links);
      }
      if (name === "routes") {
        entry("", T.route);
        Object.keys(VC).forEach(function (v) {
          entry(swatch("line", VC[v], {width: 4}), v, true);
        });
      }
      if (name === "stations") {
        var seen = {};
        props(name).forEach(function (p) { seen[stationState(p)] = true; });
        ["kept", "opened", "closed"].forEach(function (s) {
          if (!seen[s]) { return; }
          entry(swatch("point", s === "closed" ? "#fff" : C[s], {r: 6,
            stroke: s === "closed" ? C.closed : "#263238", dash: s === "closed" ? "2 2" : null}),
            T[STATE_LABEL[s]]);
        });
      }
      if (name === "centres") {
        entry(swatch("point", C.centre, {r: 6, sw: 2}), T.sorting_centre);
      }
      if (name === "depots") { entry(swatch("point", C.depot, {r: 6, sw: 2}), T.depot); }
      if (name === "stops") {
        entry(swatch("point", "#607d8b", {r: 4}), T.stop);
        if (props(name).some(function (p) { return p.kind === "unload" || p.kind === "end"; })) {
          entry(swatch("point", C.unload, {r: 5, stroke: "#607d8b", sw: 2.5}), T.unload_stop);
        }
      }
      if (name === "unserved") {
        entry(swatch("point", C.unserved, {r: 5, stroke: "#000"}), T.unserved);
      }
    });
    div.innerHTML = parts.join("");
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  legend.addTo(map);

  // "#<layer>/<id>" opens that feature's popup (id: feature id, order, site, vehicle ...)
  function openFromHash() {
    var m = /^#([a-z_]+)\/(.+)$/.exec(window.location.hash || "");
    if (!m || !groups[m[1]]) { return null; }
    var want = decodeURIComponent(m[2]), hit = null;
    groups[m[1]].eachLayer(function (lyr) {
      var f = lyr.feature || {}, p = f.properties || {};
      var keys = [f.id, p.order_id, p.site_id, p.centre_id, p.vehicle_id, p.depot_id,
        p.location_id].map(function (k) { return k === undefined || k === null ? k : String(k); });
      if (!hit && keys.indexOf(want) >= 0) { hit = lyr; }
    });
    if (!hit) { return null; }
    if (!map.hasLayer(groups[m[1]])) { groups[m[1]].addTo(map); }
    hit.openPopup();
    return m[1] + "/" + want;
  }
  var opened = openFromHash();

  doc.order.forEach(function (name) {
    drawn[name] = mapEl.querySelectorAll("path.rn-layer-" + name).length;
  });
  var state = {ready: true, title: doc.title, lang: doc.lang, layers: counts, drawn: drawn,
    hidden: doc.hidden, vehicles: Object.keys(VC), popup: opened};
  window.recyclenetMap = {map: map, layers: counts, drawn: drawn, groups: groups, state: state};
  document.getElementById("recyclenet-state").textContent = JSON.stringify(state);
  mapEl.setAttribute("data-ready", "1");
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
