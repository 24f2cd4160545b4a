"""The offline HTML map (no browser here; see tests/api/test_api_map_browser.py).

Layers are hand-made in the shapes the pipeline writes (``siting_geojson``, the coverage
and centre layers, ``plan_to_geojson``), on the hand-made town whose streets have
Chinese names.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import recyclenet as rn
from recyclenet.errors import InputError
from recyclenet.export.map_html import (
    PALETTE,
    compact_roads,
    map_html,
    map_layers,
    roads_layer,
    vehicle_colours,
    write_map_html,
)


def _fc(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _pt(lon: float, lat: float, props: dict[str, Any], fid: str | None = None) -> dict:
    f = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }
    return {**f, "id": fid} if fid else f


def _line(coords: list[list[float]], props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": props,
    }


def _stop(
    vehicle: str,
    seq: int,
    kind: str,
    loc: str,
    lon: float,
    lat: float,
    arrival_s: float,
    order: str | None = None,
    items: list | None = None,
    load_kg: float = 0.0,
) -> dict[str, Any]:
    clock = f"{int(arrival_s // 3600):02d}:{int(arrival_s % 3600 // 60):02d}:00"
    return _pt(
        lon,
        lat,
        {
            "kind": kind,
            "vehicle_id": vehicle,
            "sequence": seq,
            "location_id": loc,
            "order_id": order,
            "arrival_s": arrival_s,
            "start_s": arrival_s,
            "departure_s": arrival_s + 60,
            "arrival": clock,
            "start": clock,
            "departure": clock,
            "load_kg": load_kg,
            "volume_m3": load_kg / 100,
            "items": items or [],
        },
    )


def sample_layers() -> dict[str, dict[str, Any]]:
    """Siting and routing layers on the town (120.000-120.004 E, 30.000-30.002 N)."""
    stations = _fc(
        [
            _pt(
                120.0,
                30.002,
                {
                    "site_id": "s_kept",
                    "state": "kept",
                    "status": "existing",
                    "households": 120.0,
                    "name": "解放路回收站",
                },
                "s_kept",
            ),
            _pt(
                120.004,
                30.0,
                {"site_id": "s_new", "state": "opened", "status": "candidate", "households": 80.0},
                "s_new",
            ),
            _pt(
                120.002,
                30.0,
                {"site_id": "s_closed", "state": "closed", "status": "existing", "households": 0.0},
                "s_closed",
            ),
        ]
    )
    square = [[-0.001, -0.001], [0.001, -0.001], [0.001, 0.001], [-0.001, 0.001], [-0.001, -0.001]]
    coverage = _fc(
        [
            {
                "type": "Feature",
                "id": sid,
                "properties": {"site_id": sid, "households": hh, "area_m2": 40000.0},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[x + dx, y + dy] for dx, dy in square]],
                },
            }
            for sid, x, y, hh in (("s_kept", 120.0, 30.002, 120.0), ("s_new", 120.004, 30.0, 80.0))
        ]
    )
    assignments = _fc(
        [
            _line([[120.001, 30.001], [120.0, 30.002]], {"demand_id": "d1", "site_id": "s_kept"}),
            _line([[120.003, 30.001], [120.004, 30.0]], {"demand_id": "d2", "site_id": "s_new"}),
        ]
    )
    centres = _fc(
        [
            _pt(
                120.005,
                30.0025,
                {"centre_id": "c1", "capacity_t_per_year": 200.0, "load_t_per_year": 12.5},
                "c1",
            ),
            _line(
                [[120.0, 30.002], [120.005, 30.0025]], {"station_id": "s_kept", "centre_id": "c1"}
            ),
            _line(
                [[120.004, 30.0], [120.005, 30.0025]], {"station_id": "s_new", "centre_id": "c1"}
            ),
        ]
    )
    depot = (120.0, 30.0)
    routes = _fc(
        [
            _line(
                [
                    [120.0, 30.0],
                    [120.002, 30.0],
                    [120.004, 30.0],
                    [120.005, 30.0025],
                    [120.0, 30.0],
                ],
                {
                    "kind": "route",
                    "vehicle_id": "box_truck-1",
                    "vehicle_type_id": "box_truck",
                    "distance_m": 2100.0,
                    "duration_s": 1800.0,
                    "cost": 10.0,
                },
            ),
            _line(
                [[120.0, 30.0], [120.0, 30.002], [120.0, 30.0]],
                {
                    "kind": "route",
                    "vehicle_id": "tricycle-1",
                    "vehicle_type_id": "tricycle",
                    "distance_m": 450.0,
                    "duration_s": 900.0,
                    "cost": 3.0,
                },
            ),
            _stop("box_truck-1", 0, "start", "depot", *depot, 28800),
            _stop(
                "box_truck-1",
                1,
                "order",
                "o1",
                120.004,
                30.0,
                29400,
                "o1",
                [{"category": "refrigerator", "count": 1}],
                60.0,
            ),
            _stop("box_truck-1", 2, "unload", "unload_c1", 120.005, 30.0025, 30000),
            _stop("box_truck-1", 3, "end", "depot", *depot, 31000),
            _stop("tricycle-1", 0, "start", "depot", *depot, 28800),
            _stop(
                "tricycle-1",
                1,
                "order",
                "o2",
                120.0,
                30.002,
                29100,
                "o2",
                [{"category": "scrap_ferrous", "count": 40}],
                40.0,
            ),
            _stop("tricycle-1", 2, "end", "depot", *depot, 29700),
            _pt(
                120.003,
                30.002,
                {
                    "kind": "unserved",
                    "order_id": "o3",
                    "reason": "capacity",
                    "message": "needs 5000 kg </script> & more",
                },
            ),
        ]
    )
    return {
        "stations": stations,
        "coverage": coverage,
        "assignments": assignments,
        "centres": centres,
        "routes": routes,
    }


EXPECTED = {
    "coverage": 2,
    "assignments": 2,
    "centre_links": 2,
    "routes": 2,
    "stations": 3,
    "centres": 1,
    "depots": 1,
    "stops": 3,
    "unserved": 1,
}


class _Page(HTMLParser):
    """Tags with their attributes, and the text of each <script> by id (or index)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._text)))
            self._in_script = None


def _parse(page: str) -> tuple[_Page, dict[str, Any]]:
    parser = _Page()
    parser.feed(page)
    parser.close()
    data = [text for attrs, text in parser.scripts if attrs.get("id") == "recyclenet-data"]
    assert len(data) == 1
    return parser, json.loads(data[0])


@pytest.fixture(scope="module")
def town_roads(town_network: rn.RoadNetwork) -> dict[str, Any]:
    return roads_layer(town_network)


def test_map_layers_sorts_pipeline_layers() -> None:
    layers = map_layers(sample_layers())
    assert {k: len(v["features"]) for k, v in layers.items()} == EXPECTED
    assert list(layers) == [
        "coverage",
        "assignments",
        "centre_links",
        "routes",
        "stations",
        "centres",
        "depots",
        "stops",
        "unserved",
    ]
    depot = layers["depots"]["features"][0]
    assert depot["id"] == "depot" and depot["geometry"]["coordinates"] == [120.0, 30.0]
    assert depot["properties"]["vehicles"] == ["box_truck-1", "tricycle-1"]
    kinds = [f["properties"]["kind"] for f in layers["stops"]["features"]]
    assert kinds == ["order", "unload", "order"]
    # the service's split layers (routes + stops) give the same map layers
    mixed = sample_layers()["routes"]["features"]
    split = {
        "routes": _fc([f for f in mixed if f["properties"]["kind"] == "route"]),
        "stops": _fc([f for f in mixed if f["properties"]["kind"] != "route"]),
    }
    assert map_layers(split) == {
        k: v for k, v in layers.items() if k in ("routes", "depots", "stops", "unserved")
    }


def test_map_layers_rejects_unknown_names_and_non_collections() -> None:
    with pytest.raises(InputError, match=r"unknown map layer.*tiles"):
        map_layers({"tiles": _fc([])})
    with pytest.raises(InputError, match="'stations' must be a GeoJSON FeatureCollection"):
        map_layers({"stations": {"type": "Feature"}})
    with pytest.raises(InputError, match="unknown language"):
        map_html(sample_layers(), lang="fr")


def test_vehicle_colours_are_distinct_and_stable() -> None:
    ids = [f"v{k}" for k in range(len(PALETTE))]
    colours = vehicle_colours(reversed(ids))
    assert list(colours) == sorted(ids) and len(set(colours.values())) == len(PALETTE)
    assert vehicle_colours(["b", "a"]) == {"a": PALETTE[0], "b": PALETTE[1]}


def test_page_embeds_every_layer_offline(town_roads: dict[str, Any], tmp_path: Path) -> None:
    path = write_map_html(
        tmp_path / "sub" / "map.html",
        {"roads": town_roads, **sample_layers()},
        title="Town <plan> & co",
    )
    raw = path.read_bytes()
    page = raw.decode("utf-8")
    parser, doc = _parse(page)
    assert page.startswith("<!DOCTYPE html>")
    assert ("meta", {"charset": "utf-8"}) in parser.tags
    assert (
        "<title>Town &lt;plan&gt; &amp; co</title>" in page and doc["title"] == "Town <plan> & co"
    )
    counts = {name: len(fc["features"]) for name, fc in doc["layers"].items()}
    assert counts == {"roads": len(town_roads["features"]), **EXPECTED}
    assert doc["order"] == ["roads", *EXPECTED] and doc["hidden"] == ["assignments"]
    assert doc["vehicle_colours"] == {"box_truck-1": PALETTE[0], "tricycle-1": PALETTE[1]}
    # offline: no element loads anything, CSS images are data: URIs, Leaflet is inlined
    loading = [(t, a) for t, a in parser.tags if {"src", "href"} & set(a) and t != "a"]
    assert loading == []
    assert not [t for t, _ in parser.tags if t in ("link", "iframe", "img", "object", "embed")]
    css_urls = set(re.findall(r"url\(([^)]*)\)", page))
    assert css_urls and all(u.startswith(("data:image/png;base64,", "#default#")) for u in css_urls)
    assert "@import" not in page and "sourceMappingURL" not in page
    assert "L.map(" in page and "Leaflet" in page
    # </script> in a property cannot close the data block; the text survives intact
    assert page.count("</script>") == 3
    unserved = doc["layers"]["unserved"]["features"][0]["properties"]["message"]
    assert unserved == "needs 5000 kg </script> & more"
    # Chinese names from OSM and from the layers, as UTF-8
    assert "解放路".encode() in raw and "中山路".encode() in raw and "解放路回收站".encode() in raw
    assert doc["labels"]["legend"] == "Legend" and doc["lang"] == "en"


def test_page_in_chinese(town_roads: dict[str, Any]) -> None:
    page = map_html({"roads": town_roads, **sample_layers()}, lang="zh")
    parser, doc = _parse(page)
    assert parser.tags[0] == ("html", {"lang": "zh-CN", "data-ready": "0"})
    assert doc["lang"] == "zh" and doc["title"] == "回收网络"
    labels = doc["labels"]
    assert (labels["legend"], labels["stations"], labels["new_station"]) == (
        "图例",
        "回收站点",
        "新建站点",
    )
    assert labels["reason_capacity"] == "超出车辆容量" and labels["arrival"] == "到达时间"


def test_roads_layer_is_compact_and_matches_the_service_form(
    town_network: rn.RoadNetwork, town_roads: dict[str, Any]
) -> None:
    twin = town_network.edge_twin
    pieces = int(np.sum(twin < 0) + np.sum(twin >= 0) // 2)
    feats = town_roads["features"]
    assert len(feats) == pieces
    names = {f["properties"].get("name") for f in feats}
    assert {"解放路", "中山路", "学院路"} <= names
    for f in feats:
        assert set(f["properties"]) <= {"name", "highway"} and f["properties"]["highway"]
        coords = f["geometry"]["coordinates"]
        assert len(coords) >= 2
        assert all(round(c, 5) == c for xy in coords for c in xy)
    # the bend of 解放路 at node 7 (120.001, 30.0025) survives simplification
    jiefang = [f for f in feats if f["properties"].get("name") == "解放路"]
    assert any([120.001, 30.0025] in f["geometry"]["coordinates"] for f in jiefang)
    # the service keeps full road features (roads.geojson); compacting them gives the same
    full = []
    for e in range(town_network.n_edges):
        if 0 <= twin[e] < e:
            continue
        full.append(
            {
                "type": "Feature",
                "id": e,
                "properties": {
                    "name": town_network.edge_tags[e].get("name", ""),
                    "highway": town_network.edge_tags[e].get("highway", ""),
                    "length_m": 1.0,
                },
                "geometry": {
                    "type": "LineString",
                    "coordinates": town_network.edge_geometry[e].tolist(),
                },
            }
        )
    assert compact_roads(full) == town_roads


def test_helsinki_map_stays_small(helsinki_network: rn.RoadNetwork, tmp_path: Path) -> None:
    roads = roads_layer(helsinki_network)
    assert len(roads["features"]) > 800
    path = write_map_html(tmp_path / "map.html", {"roads": roads}, title="Helsinki")
    size = path.stat().st_size
    assert size < 1_500_000, f"{size / 1e6:.2f} MB"  # the limit for maps is 5 MB
    _, doc = _parse(path.read_text(encoding="utf-8"))
    assert len(doc["layers"]["roads"]["features"]) == len(roads["features"])


def test_vendored_leaflet_is_packaged_and_intact() -> None:
    """Leaflet's files match VENDOR.txt's checksums and pyproject's package-data ships them."""
    import hashlib
    import tomllib
    from importlib import resources

    static = resources.files("recyclenet").joinpath("export/static/leaflet")
    vendor = static.joinpath("VENDOR.txt").read_text(encoding="utf-8")
    assert "Leaflet 1.9.4" in vendor and "BSD 2-Clause" in static.joinpath("LICENSE").read_text()
    for name in ("leaflet.js", "leaflet.css"):
        digest = hashlib.sha256(static.joinpath(name).read_bytes()).hexdigest()
        assert re.search(rf"{re.escape(name)}\s+{digest}", vendor), f"{name} changed"
    root = Path(__file__).parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = project["tool"]["setuptools"]["package-data"]["recyclenet"]
    package = root / "src" / "recyclenet"
    shipped = {p for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    files = {p for p in (package / "export" / "static").rglob("*") if p.is_file()}
    assert files and files <= shipped
    assert {p.name for p in files} >= {"leaflet.js", "leaflet.css", "layers.png", "LICENSE"}


def test_route_ending_at_a_facility_keeps_that_end_as_a_stop() -> None:
    route = _fc([
        _stop("v-1", 0, "start", "depot", 120.0, 30.0, 28800),
        _stop("v-1", 1, "order", "o1", 120.002, 30.0, 29000, "o1"),
        _stop("v-1", 2, "end", "unload_c1", 120.005, 30.0025, 29500),
        _stop("v-2", 0, "start", "depot", 120.0, 30.0, 28800),
        _stop("v-2", 1, "end", "depot", 120.0, 30.0, 28900),
    ])  # fmt: skip
    layers = map_layers({"stops": route})
    assert [f["properties"]["location_id"] for f in layers["stops"]["features"]] == [
        "o1", "unload_c1"]  # fmt: skip
    (depot,) = layers["depots"]["features"]
    assert depot["properties"] == {"kind": "depot", "depot_id": "depot", "vehicles": ["v-1", "v-2"]}
