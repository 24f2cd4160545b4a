"""The ``recyclenet`` command through typer's CliRunner: help, info, matrix, route, demo,
and one clear ``error:`` line for every bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import recyclenet as rn
from plan_checks import GENEROUS_S, assert_solved
from recyclenet.cli import app

RUNNER = CliRunner()

TOWN_POINTS = [("回收站1", 120.001, 30.0003), ("Q", 120.003, 30.0019), ("X", 120.0001, 30.001)]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never write into the user's cache directory."""
    monkeypatch.setenv("RECYCLENET_CACHE_DIR", str(tmp_path / "user-cache"))


def run(*args: str):
    return RUNNER.invoke(app, [str(a) for a in args])


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "lon", "lat"])
        w.writerows(rows)
    return path


def write_geojson(path: Path, rows) -> Path:
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": pid,
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
            for pid, lon, lat in rows
        ],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def all_commands() -> list[list[str]]:
    """Every command path of the app, from the click tree typer builds."""
    paths: list[list[str]] = []

    def walk(cmd, prefix: list[str]) -> None:
        paths.append(prefix)
        if hasattr(cmd, "commands"):  # a group (typer may vendor its own click)
            for name, sub in cmd.commands.items():
                walk(sub, [*prefix, name])

    walk(typer.main.get_command(app), [])
    return paths


def assert_clean_error(result, *needles: str) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# ------------------------------------------------------------------------ help
def test_every_command_has_help():
    commands = all_commands()
    names = {" ".join(c) for c in commands}
    assert {"", "network", "network info", "network matrix", "network route", "demo"} <= names
    for path in commands:
        result = run(*path, "--help")
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output
        assert "--help" in result.output


def test_no_arguments_shows_help():
    result = run()
    assert "Usage" in result.output
    assert "network" in result.output


# ------------------------------------------------------------------------ info
def test_network_info_helsinki_json(helsinki_network):
    result = run("network", "info", "helsinki", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert {"nodes", "edges", "bbox"} <= set(info)
    expected = helsinki_network.info()
    assert info["nodes"] == expected["nodes"]
    assert info["edges"] == expected["edges"]
    assert info["bbox"] == pytest.approx(expected["bbox"])
    west, south, east, north = info["bbox"]
    assert west < east and south < north
    for key in ("components_found", "dropped_nodes", "share_speed_tagged"):
        assert key in info


def test_network_info_text_and_vehicle(trucks_osm):
    result = run("network", "info", trucks_osm, "--vehicle", "truck_18t")
    assert result.exit_code == 0, result.output
    assert "truck_18t" in result.stdout
    assert "excluded_by_profile: 7" in result.stdout
    js = json.loads(run("network", "info", trucks_osm, "--json").stdout)
    assert js["edges"] == 32
    assert js["excluded_by_profile"] == 3


def test_network_info_json_keeps_utf8(town_osm, tmp_path):
    path = tmp_path / "解放路.osm"
    path.write_bytes(town_osm.read_bytes())
    result = run("network", "info", path, "--json")
    assert result.exit_code == 0, result.output
    assert "解放路.osm" in result.stdout  # raw UTF-8, not \\u escapes
    info = json.loads(result.stdout)
    assert info["source"] == str(path)
    assert (info["nodes"], info["edges"], info["dangling_refs"]) == (8, 17, 1)
    assert info["bbox"] == pytest.approx([120.0, 29.9995, 120.005, 30.0025])


# ---------------------------------------------------------------------- matrix
def test_network_matrix_csv_to_csv(town_osm, town_network, tmp_path):
    pts = write_csv(tmp_path / "pts.csv", TOWN_POINTS)
    out = tmp_path / "out" / "m.csv"
    result = run(
        "network",
        "matrix",
        town_osm,
        "--points",
        pts,
        "--out",
        out,
        "--cache-dir",
        tmp_path / "cache",
    )
    assert result.exit_code == 0, result.output
    assert "snap distance m" in result.stdout
    assert "unreachable pairs: 0" in result.stdout
    with open(out, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9
    assert {r["origin_id"] for r in rows} == {"回收站1", "Q", "X"}
    expected = rn.build_matrix(town_network, rn.read_points(pts))
    for r in rows:
        i = expected.origin_ids.index(r["origin_id"])
        j = expected.destination_ids.index(r["destination_id"])
        assert float(r["duration_s"]) == pytest.approx(expected.duration_s[i, j], abs=0.006)
        assert float(r["distance_m"]) == pytest.approx(expected.distance_m[i, j], abs=0.06)


def test_network_matrix_geojson_to_npz(helsinki_network, tmp_path):
    rng = np.random.default_rng(4)
    idx = rng.choice(helsinki_network.n_nodes, size=6, replace=False)
    rows = [
        (f"h-{i}", float(helsinki_network.node_lon[i]), float(helsinki_network.node_lat[i]))
        for i in idx
    ]
    pts = write_geojson(tmp_path / "pts.geojson", rows)
    out = tmp_path / "m.npz"
    result = run("network", "matrix", "helsinki", "--points", pts, "--out", out, "--no-cache")
    assert result.exit_code == 0, result.output
    assert "6 x 6 matrix" in result.stdout
    with np.load(out) as data:
        assert data["origin_ids"].tolist() == [r[0] for r in rows]
        assert data["destination_ids"].tolist() == [r[0] for r in rows]
        expected = rn.build_matrix(helsinki_network, rn.read_points(pts))
        np.testing.assert_array_equal(data["duration_s"], expected.duration_s)
        np.testing.assert_array_equal(data["distance_m"], expected.distance_m)


def test_network_matrix_vehicle_changes_result(trucks_osm, trucks_nodes, tmp_path):
    rows = [("S4", *trucks_nodes[304]), ("N4", *trucks_nodes[404])]
    pts = write_csv(tmp_path / "pts.csv", rows)
    got = {}
    for vehicle in ("car", "truck_18t"):
        out = tmp_path / f"{vehicle}.npz"
        result = run(
            "network",
            "matrix",
            trucks_osm,
            "--points",
            pts,
            "--out",
            out,
            "--vehicle",
            vehicle,
            "--cache-dir",
            tmp_path / "cache",
        )
        assert result.exit_code == 0, result.output
        assert vehicle in result.stdout
        with np.load(out) as data:
            got[vehicle] = data["distance_m"][0, 1]
    assert got["truck_18t"] > 5 * got["car"]


@pytest.mark.parametrize("damage", ["truncate", "empty"])
def test_network_matrix_recovers_from_damaged_cache(town_osm, tmp_path, damage):
    pts = write_csv(tmp_path / "pts.csv", TOWN_POINTS)
    args = (
        "network",
        "matrix",
        town_osm,
        "--points",
        pts,
        "--out",
        tmp_path / "m.csv",
        "--cache-dir",
        tmp_path / "cache",
    )
    assert run(*args).exit_code == 0
    (cache,) = (tmp_path / "cache").glob("*.npz")
    cache.write_bytes(cache.read_bytes()[:200] if damage == "truncate" else b"")
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stdout


# ----------------------------------------------------------------------- route
def test_network_route_text(town_osm):
    result = run(
        "network", "route", town_osm, "--from", "120.003,30.0019", "--to", "120.0001,30.001"
    )
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    route = rn.shortest_route(rn.load_network(town_osm), (120.003, 30.0019), (120.0001, 30.001))
    assert float(lines["distance_m"]) == pytest.approx(route.distance_m, abs=0.06)
    assert float(lines["duration_s"]) == pytest.approx(route.duration_s, abs=0.06)
    assert lines["streets"] == "解放路 → 学院路"
    assert lines["geometry"].startswith("LINESTRING")


def test_network_route_geojson_utf8(town_osm):
    result = run(
        "network",
        "route",
        town_osm,
        "--from",
        "120.0001,30.001",
        "--to",
        "120.003,30.0019",
        "--geojson",
    )
    assert result.exit_code == 0, result.output
    assert "解放路" in result.stdout  # raw UTF-8, not \\u escapes
    feat = json.loads(result.stdout)
    assert feat["type"] == "Feature"
    assert feat["geometry"]["type"] == "LineString"
    coords = feat["geometry"]["coordinates"]
    assert coords[0] == pytest.approx([120.0, 30.001], abs=1e-7)
    assert coords[-1] == pytest.approx([120.003, 30.002], abs=1e-7)
    assert feat["properties"]["street_names"] == ["学院路", "中山路", "解放路"]
    assert feat["properties"]["distance_m"] > 500


def test_network_route_helsinki_geojson(helsinki_network):
    a = (float(helsinki_network.node_lon[10]), float(helsinki_network.node_lat[10]))
    b = (float(helsinki_network.node_lon[400]), float(helsinki_network.node_lat[400]))
    result = run(
        "network",
        "route",
        "helsinki",
        "--from",
        f"{a[0]},{a[1]}",
        "--to",
        f"{b[0]},{b[1]}",
        "--geojson",
    )
    assert result.exit_code == 0, result.output
    feat = json.loads(result.stdout)
    m = rn.build_matrix(
        helsinki_network, rn.Points(("a", "b"), np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    )
    assert feat["properties"]["duration_s"] == pytest.approx(m.duration_s[0, 1], abs=1e-6)
    assert feat["properties"]["distance_m"] == pytest.approx(m.distance_m[0, 1], abs=1e-6)


# ------------------------------------------------------------------------ demo
def test_demo(tmp_path):
    out = tmp_path / "demo"
    # a generous limit: the siting returns once proven (routing is deterministic: counts)
    result = run("demo", "--out", out, "--time-limit-s", f"{GENEROUS_S:g}")
    assert result.exit_code == 0, result.output
    info = json.loads((out / "network_info.json").read_text(encoding="utf-8"))
    assert {"nodes", "edges", "bbox"} <= set(info)
    siting = json.loads((out / "siting_plan.json").read_text(encoding="utf-8"))
    assert_solved(siting)  # optimal, or the time limit's plan with its gap (a slow machine)
    assert siting["centres"]["open_ids"]
    assert siting["indicators"]["share_households_within_radius"] == 1.0
    routing = json.loads((out / "routing_plan.json").read_text(encoding="utf-8"))
    routes = json.loads((out / "routes.geojson").read_text(encoding="utf-8"))
    lines = [f for f in routes["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(routing["routes"]) > 0
    for name in ("stations", "assignments", "coverage", "centres"):
        layer = json.loads((out / f"{name}.geojson").read_text(encoding="utf-8"))
        assert layer["type"] == "FeatureCollection" and layer["features"]
    assert "routes:" in result.stdout and "done: outputs in" in result.stdout
    # step 5: maps, indicators and report
    page = (out / "map.html").read_text(encoding="utf-8")
    assert 'id="recyclenet-data"' in page and 'src="http' not in page
    for png in ("siting_map.png", "routes_map.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ind = json.loads((out / "indicators.json").read_text(encoding="utf-8"))
    values = {i["key"]: i["value"] for i in ind["indicators"]}
    assert values["share_within_radius"] == 100.0
    assert values["vehicle_km"] == pytest.approx(
        sum(r["distance_m"] for r in routing["routes"]) / 1000, rel=1e-6
    )
    for key in ("stations_per_10k_households", "tonne_km", "co2e_kg", "empty_running_share",
                "cost_per_tonne", "station_utilisation_mean", "access_distance_p95_m"):  # fmt: skip
        assert values[key] > 0, key
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "CO2e" in report and "siting_map.png" in report
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    # a seeded month of records: plan versus actual, the fund, the evaluation
    assert "## Plan versus actual" in report and "## Targets and phase evaluation" in report
    # the weak station is one the plan opened (its id depends on the plan found)
    assert "Stations far below their expected amount: " in result.stdout
    assert "red: milestone missed" in report and "green: on track" in report
    pva = json.loads((out / "plan_vs_actual.json").read_text(encoding="utf-8"))
    assert len([s for s in pva["stations"] if s["flag"] == "below"]) == 1
    assert pva["vehicles"] and pva["missed_order_ids"]
    fund = json.loads((out / "fund.json").read_text(encoding="utf-8"))
    assert fund["subsidy_cny"] > 0 and any(f["reason"] == "not_licensed" for f in fund["flags"])
    ev = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert {r["status"] for r in ev["national"]["2017"]} == {"computed", "entered", "unsupported"}


def test_demo_chinese_labels_and_gcj02(tmp_path):
    out = tmp_path / "zh"
    result = run("demo", "--out", out, "--time-limit-s", "1", "--lang", "zh", "--crs", "gcj02")
    assert result.exit_code == 0, result.output
    assert "车公里" in result.stdout and "回收量" in result.stdout
    assert "车公里" in (out / "report.md").read_text(encoding="utf-8")
    assert "## 计划与实际对比" in (out / "report.md").read_text(encoding="utf-8")
    assert "目标与阶段评估" in (out / "report.html").read_text(encoding="utf-8")
    assert "图例" in (out / "map.html").read_text(encoding="utf-8")
    # Helsinki is outside China: GCJ-02 equals WGS-84 there, but the files say so
    stations = json.loads((out / "stations.geojson").read_text(encoding="utf-8"))
    assert "GCJ-02" in stations["crs_note"]
    result = run("demo", "--out", tmp_path / "x", "--lang", "fr")
    assert result.exit_code == 2 and "unknown language 'fr'" in result.output


def test_demo_is_seeded(tmp_path):
    for name in ("a", "b"):
        # the same siting twice needs solves the clock does not cut short (routing is
        # deterministic): a generous limit, and each siting returns once proven
        args = ("--out", tmp_path / name, "--time-limit-s", f"{GENEROUS_S:g}")
        assert run("demo", *args).exit_code == 0

    def orders(name: str) -> set[str]:
        plan = json.loads((tmp_path / name / "routing_plan.json").read_text(encoding="utf-8"))
        served = {v["order_id"] for r in plan["routes"] for v in r["visits"] if v.get("order_id")}
        return served | {u["order_id"] for u in plan["unserved"]}

    assert orders("a") == orders("b") and len(orders("a")) == 48
    a = json.loads((tmp_path / "a" / "siting_plan.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "b" / "siting_plan.json").read_text(encoding="utf-8"))
    assert a["open_ids"] == b["open_ids"]


# ------------------------------------------------------------------ bad inputs
def test_error_missing_network_file(tmp_path):
    missing = tmp_path / "nowhere.osm.pbf"
    assert_clean_error(run("network", "info", missing), "nowhere.osm.pbf", "not found")


def test_error_corrupt_network_file(tmp_path):
    bad = tmp_path / "corrupt.osm.pbf"
    bad.write_bytes(np.random.default_rng(0).bytes(2048))
    assert_clean_error(run("network", "info", bad, "--json"), "corrupt.osm.pbf")


def test_error_no_drivable_roads(tmp_path):
    path = tmp_path / "footpaths.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" version="1" lat="30.000" lon="120.000"/>\n'
        '<node id="2" version="1" lat="30.000" lon="120.001"/>\n'
        '<way id="1" version="1"><nd ref="1"/><nd ref="2"/>'
        '<tag k="highway" v="footway"/><tag k="name" v="小路"/></way>\n</osm>\n',
        encoding="utf-8",
    )
    assert_clean_error(run("network", "info", path), "footpaths.osm", "drivable")


def test_error_unknown_vehicle(town_osm):
    assert_clean_error(run("network", "info", town_osm, "--vehicle", "spaceship"), "spaceship")


def test_error_point_too_far(town_osm, tmp_path):
    pts = write_csv(tmp_path / "pts.csv", [*TOWN_POINTS, ("far-1", 120.001, 30.010)])
    line = assert_clean_error(
        run("network", "matrix", town_osm, "--points", pts, "--out", tmp_path / "m.csv"), "far-1"
    )
    assert "m)" in line
    assert not (tmp_path / "m.csv").exists()


def test_error_swapped_lon_lat(tmp_path):
    pts = write_csv(tmp_path / "pts.csv", [("swapped", 60.1699, 24.9384)])
    assert_clean_error(
        run("network", "matrix", "helsinki", "--points", pts, "--out", tmp_path / "m.npz"),
        "swapped",
    )


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([("a", 120.001, 30.0003), ("a", 120.003, 30.0019)], "duplicate"),
        ([("range-1", 220.0, 30.0)], "range-1"),
        ([], "empty"),
    ],
)
def test_error_bad_points(town_osm, tmp_path, rows, needle):
    pts = write_csv(tmp_path / "pts.csv", rows)
    assert_clean_error(
        run("network", "matrix", town_osm, "--points", pts, "--out", tmp_path / "m.csv"), needle
    )


def test_error_missing_points_file(town_osm, tmp_path):
    assert_clean_error(
        run(
            "network",
            "matrix",
            town_osm,
            "--points",
            tmp_path / "none.csv",
            "--out",
            tmp_path / "m.csv",
        ),
        "none.csv",
    )


def test_error_bad_output_suffix(town_osm, tmp_path):
    pts = write_csv(tmp_path / "pts.csv", TOWN_POINTS)
    assert_clean_error(
        run("network", "matrix", town_osm, "--points", pts, "--out", tmp_path / "m.xlsx"), "m.xlsx"
    )


def test_error_route_too_far(town_osm):
    assert_clean_error(
        run("network", "route", town_osm, "--from", "120.003,30.0019", "--to", "120.5,30.5"),
        "destination",
    )


def test_error_route_out_of_range(town_osm):
    assert_clean_error(
        run("network", "route", town_osm, "--from", "120.003,95", "--to", "120.0001,30.001"),
        "origin",
    )


def test_error_demo_bad_network(tmp_path):
    assert_clean_error(
        run("demo", "--network", tmp_path / "x.osm", "--out", tmp_path / "d"), "x.osm"
    )


def test_bad_lonlat_syntax_is_a_usage_error(town_osm):
    result = run("network", "route", town_osm, "--from", "abc", "--to", "1,2")
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert "LON,LAT" in result.output
