"""Every plan writer read back by pyogrio and by ogrinfo: one geometry type per layer, typed
fields, short Shapefile names, Chinese headers; and the CLI end to end (Excel demand →
GeoPackage; Shapefile orders → routes)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess

import openpyxl
import pyogrio
import pytest
from typer.testing import CliRunner

from recyclenet.cli import app
from recyclenet.errors import InputError
from recyclenet.export.files import FORMATS, parse_formats, shapefile_names, write_plan_files
from recyclenet.export.layers import layer_frames

runner = CliRunner()


def _pt(x, y):
    return {"type": "Point", "coordinates": [x, y]}


def _feature(geom, **props):
    return {"type": "Feature", "geometry": geom, "properties": props}


# a routing collection as RoutingRun.geojson() builds it: a route line, stops, one unserved
ROUTES = {"type": "FeatureCollection", "features": [
    _feature({"type": "LineString", "coordinates": [[120.0, 30.0], [120.01, 30.0], [120.0, 30.0]]},
             kind="route", vehicle_id="车1", vehicle_type_id="tricycle", distance_m=2000.5,
             duration_s=600.0, cost=12.5),
    _feature(_pt(120.0, 30.0), kind="start", vehicle_id="车1", sequence=0, location_id="depot",
             order_id=None, arrival_s=28800.0, load_kg=0.0, items=[]),
    _feature(_pt(120.01, 30.0), kind="order", vehicle_id="车1", sequence=1, location_id="o1",
             order_id="o1", arrival_s=29000.0, load_kg=75.0,
             items=[{"category": "refrigerator", "count": 1},
                    {"category": "scrap_mixed", "count": 20}]),
    _feature(_pt(120.0, 30.0), kind="unload", vehicle_id="车1", sequence=2,
             location_id="分拣中心", order_id=None, arrival_s=29500.0, load_kg=0.0, items=[]),
    _feature(_pt(120.02, 30.01), kind="unserved", order_id="o2", reason="capacity",
             message="too heavy"),
]}  # fmt: skip
# siting layers: stations with an all-null capacity, assignments with an unassigned Point,
# centres with feed lines
SITING = {
    "stations": {"type": "FeatureCollection", "features": [
        _feature(_pt(120.0, 30.0), site_id="s1", state="opened", status="candidate",
                 households=1500.0, capacity=None, fixed_cost=0.0),
        _feature(_pt(120.01, 30.0), site_id="站2", state="kept", status="existing",
                 households=800.0, capacity=None, fixed_cost=0.0)]},
    "assignments": {"type": "FeatureCollection", "features": [
        _feature({"type": "LineString", "coordinates": [[120.001, 30.001], [120.0, 30.0]]},
                 demand_id="d1", site_id="s1", households=1500.0, distance_m=150.0,
                 duration_s=None),
        _feature(_pt(120.05, 30.05), demand_id="d9", site_id=None, households=12.0)]},
    "centres": {"type": "FeatureCollection", "features": [
        _feature(_pt(120.03, 30.02), centre_id="c1", capacity_t_per_year=200.0,
                 load_t_per_year=50.0),
        _feature({"type": "LineString", "coordinates": [[120.0, 30.0], [120.03, 30.02]]},
                 station_id="s1", centre_id="c1", share=1.0, distance_m=3000.0)]},
}  # fmt: skip


def test_layers_split_by_geometry_and_typed():
    frames = layer_frames({**SITING, "routes": ROUTES})
    kinds = {k: set(f.geometry.geom_type) for k, f in frames.items()}
    assert kinds == {"stations": {"Point"}, "assignments": {"LineString"},
                     "unassigned": {"Point"}, "centres": {"Point"},
                     "centre_links": {"LineString"}, "routes": {"LineString"},
                     "stops": {"Point"}, "unserved": {"Point"}}  # fmt: skip
    assert str(frames["stations"]["capacity"].dtype) == "float64"  # all null, still a number
    assert str(frames["stops"]["sequence"].dtype) == "int64"
    assert list(frames["stops"]["items"]) == ["", "refrigerator:1;scrap_mixed:20", ""]
    assert str(frames["assignments"]["duration_s"].dtype) == "float64"


def test_every_format_reads_back_with_types(tmp_path):
    written = write_plan_files(tmp_path, {**SITING, "routes": ROUTES}, formats="all", lang="zh",
                               summary={"status": "optimal", "objective": 3.5,
                                        "open_ids": ["s1", "站2"]})  # fmt: skip
    assert (tmp_path / "plan.gpkg") in written and (tmp_path / "plan.xlsx") in written
    # GeoPackage: one layer per kind, one geometry type each, typed fields
    layers = dict(pyogrio.list_layers(tmp_path / "plan.gpkg"))
    assert layers["routes"] == "LineString" and layers["stops"] == "Point"
    assert layers["centre_links"] == "LineString" and layers["summary"] is None
    info = pyogrio.read_info(tmp_path / "plan.gpkg", layer="stations")
    types = dict(zip(info["fields"], info["dtypes"]))
    assert types["capacity"] == "float64" and types["site_id"] == "object"
    stops = pyogrio.read_dataframe(tmp_path / "plan.gpkg", layer="stops")
    assert str(stops["sequence"].dtype) == "int64" and "分拣中心" in set(stops["location_id"])
    # GeoJSON: single geometry per file, RFC 7946 lon/lat
    doc = json.loads((tmp_path / "routes.geojson").read_text(encoding="utf-8"))
    assert {f["geometry"]["type"] for f in doc["features"]} == {"LineString"}
    assert pyogrio.read_info(tmp_path / "stops.geojson")["geometry_type"] == "Point"
    # Shapefile: opens, short field names, UTF-8 kept
    routes = pyogrio.read_dataframe(tmp_path / "shp" / "routes.shp")
    assert list(routes.geometry.geom_type) == ["LineString"]
    assert routes["veh_type"].tolist() == ["tricycle"] and routes["vehicle_id"][0] == "车1"
    assert routes["dist_m"][0] == pytest.approx(2000.5)
    with open(tmp_path / "shp" / "fields.csv", encoding="utf-8") as fh:
        mapping = {(r["layer"], r["field"]): r["shapefile_field"] for r in csv.DictReader(fh)}
    assert mapping[("routes", "vehicle_type_id")] == "veh_type"
    assert all(len(v) <= 10 for v in mapping.values())
    # CSV: BOM, Chinese headers, points as lon/lat, lines as WKT
    text = (tmp_path / "csv" / "stations.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf") and "经度" in text.decode("utf-8-sig")
    assert "LINESTRING" in (tmp_path / "csv" / "routes.csv").read_text(encoding="utf-8-sig")
    # Excel: the sheets a bureau expects, Chinese headers
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx")
    assert book.sheetnames[0] == "summary"
    assert {"stations", "assignments", "routes", "stops", "unserved"} <= set(book.sheetnames)
    head = [c.value for c in book["stations"][1]]
    assert "站点编号" in head and "户数" in head and "经度" in head
    assert "o2" in [c.value for c in book["unserved"][2]]


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="gdal-bin (ogrinfo) not installed")
def test_ogrinfo_sees_one_geometry_type_and_real_fields(tmp_path):
    write_plan_files(tmp_path, {**SITING, "routes": ROUTES}, formats="gpkg,shp,geojson")
    out = subprocess.run(["ogrinfo", "-ro", "-so", str(tmp_path / "plan.gpkg")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "routes (Line String)" in out and "stops (Point)" in out
    assert "Unknown (any)" not in out
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "shp" / "routes.shp")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Geometry: Line String" in out and "dist_m: Real" in out
    cmd = ["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "plan.gpkg"), "stations"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "capacity: Real" in out
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", str(tmp_path / "routes.geojson")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Geometry: Line String" in out


def test_formats_and_short_names():
    assert parse_formats("all") == FORMATS
    assert parse_formats(" GPKG,xlsx,gpkg") == ("gpkg", "xlsx")
    with pytest.raises(InputError, match=r"unknown output format.*'kml'"):
        parse_formats("gpkg,kml")
    names = shapefile_names(["capacity_t_per_year", "capacity_t_per_week", "capacity_t_per_day"])
    assert names["capacity_t_per_year"] == "cap_t_yr"
    assert len(set(names.values())) == 3 and all(len(n) <= 10 for n in names.values())


# ------------------------------------------------------------------ the CLI end to end
def test_site_excel_demand_to_geopackage(tmp_path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["小区编号", "小区名称", "经度", "纬度", "户数"])
    rows = [("c1", "甲", 24.9458923, 60.1689000, 2400), ("c2", "乙", 24.9467570, 60.1778820, 900),
            ("c3", "丙", 24.9380000, 60.1650000, 1200)]  # fmt: skip
    for r in rows:
        ws.append(list(r))
    book.save(tmp_path / "compounds.xlsx")
    out = tmp_path / "d"
    res = runner.invoke(app, ["site", "helsinki", "--demand", str(tmp_path / "compounds.xlsx"),
                              "--model", "p_median", "--p", "2", "--time-limit-s", "10",
                              "--out", str(out), "--format", "gpkg,xlsx"])  # fmt: skip
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["open_ids"]) == 2
    layers = dict(pyogrio.list_layers(out / "plan.gpkg"))
    assert layers["stations"] == "Point" and layers["assignments"] == "LineString"
    stations = pyogrio.read_dataframe(out / "plan.gpkg", layer="stations")
    assert sorted(stations["site_id"]) == sorted(plan["open_ids"])
    assert stations["households"].sum() == pytest.approx(4500.0)
    links = pyogrio.read_dataframe(out / "plan.gpkg", layer="assignments")
    assert sorted(links["demand_id"]) == ["c1", "c2", "c3"]
    assert not (out / "stations.geojson").exists()  # only the formats asked for


def test_route_shapefile_orders(tmp_path):
    from recyclenet.readers import read_frame

    orders = read_frame("data/helsinki_orders.csv", kind="orders").head(8)
    orders.to_crs(3067).to_file(tmp_path / "orders.shp", encoding="UTF-8")  # ETRS-TM35FIN
    out = tmp_path / "r"
    res = runner.invoke(app, ["route", "helsinki", "--orders", str(tmp_path / "orders.shp"),
                              "--sites", "data/helsinki_sites.csv", "--engine", "ortools",
                              "--time-limit-s", "2", "--out", str(out),
                              "--format", "shp,csv"])  # fmt: skip
    assert res.exit_code == 0, res.output
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    served = {v["order_id"] for r in plan["routes"] for v in r["visits"] if v["order_id"]}
    unserved = {u["order_id"] for u in plan["unserved"]}
    assert served | unserved == set(orders["id"])
    routes = pyogrio.read_dataframe(out / "shp" / "routes.shp")
    assert len(routes) == len(plan["routes"]) and set(routes.geometry.geom_type) == {"LineString"}
    stops = pyogrio.read_dataframe(out / "shp" / "stops.shp")
    assert served <= set(stops["order_id"].dropna())
