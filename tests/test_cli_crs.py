"""``--crs gcj02|bd09`` at the edge: readers convert to WGS-84 on reading, commands convert
their output back, and the library in between sees the same WGS-84 points.

The hand-made town (tests/fixtures/town.osm) lies at 120°E 30°N, inside China, where
GCJ-02 moves points by ~450 m and BD-09 by ~1 km: a command that skipped a conversion
would snap to other streets (or fail), so every test below compares with the WGS-84 run
and also checks that the shifted coordinates, read as WGS-84, give a different answer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from recyclenet.cli import app
from recyclenet.errors import InputError
from recyclenet.geo import CRS_NOTE_KEY, from_wgs84, geojson_from_crs
from recyclenet.pipeline import read_demand
from recyclenet.pipeline import read_sites as read_site_candidates
from recyclenet.points import read_points
from recyclenet.routing.io import read_orders, read_sites

RUNNER = CliRunner()

# WGS-84 points on or next to the town's streets
A = (120.003, 30.0019)
B = (120.0001, 30.001)
TOWN_POINTS = [("回收站1", 120.001, 30.0003), ("Q", 120.003, 30.0019), ("X", 120.0001, 30.001)]
DEMAND = [("d1", 120.0005, 30.0021, 200), ("d2", 120.0035, 30.0019, 300),
          ("d3", 120.0010, 29.9999, 150), ("d4", 120.0045, 30.0001, 250)]  # fmt: skip
SITES = [("s1", 120.0020, 30.0021), ("s2", 120.0040, 29.9999), ("s3", 120.0001, 30.0010)]
ORDERS = [("o1", 120.0005, 30.0021, "tv:1", "08:00-12:00"),
          ("o2", 120.0035, 30.0019, "refrigerator:1", "09:00-13:00"),
          ("o3", 120.0045, 30.0001, "scrap_ferrous:50", "08:00-17:00")]  # fmt: skip
DEPOTS = [("depot", "depot", 120.0001, 30.0010, ""),
          ("centre", "facility", 120.0040, 29.9999, "600")]  # fmt: skip

TOL_DEG = 1e-9


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """Never write into the user's cache directory."""
    monkeypatch.setenv("RECYCLENET_CACHE_DIR", str(tmp_path / "user-cache"))


def run(*args: object):
    return RUNNER.invoke(app, [str(a) for a in args])


def shifted(lon: float, lat: float, crs: str) -> tuple[float, float]:
    return from_wgs84(lon, lat, crs)


def lonlat_arg(point: tuple[float, float], crs: str) -> str:
    lon, lat = shifted(*point, crs)
    return f"{lon!r},{lat!r}"


def write_rows(path: Path, header: list[str], rows, crs: str, lon_col: int = 1) -> Path:
    """CSV whose lon/lat columns (``lon_col``, ``lon_col + 1``) are shifted into ``crs``."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            row = list(row)
            lon, lat = shifted(row[lon_col], row[lon_col + 1], crs)
            row[lon_col], row[lon_col + 1] = repr(lon), repr(lat)
            w.writerow(row)
    return path


def coords(doc) -> np.ndarray:
    """Every position of a GeoJSON object as an (n, 2) array, in document order."""
    out: list[list[float]] = []

    def walk(c) -> None:
        if c and isinstance(c[0], int | float):
            out.append([c[0], c[1]])
        else:
            for x in c:
                walk(x)

    def visit(obj) -> None:
        if obj.get("type") == "FeatureCollection":
            for f in obj["features"]:
                visit(f)
        elif obj.get("type") == "Feature":
            if obj["geometry"]:
                visit(obj["geometry"])
        else:
            walk(obj["coordinates"])

    visit(doc)
    return np.array(out, dtype=float).reshape(-1, 2)


def to_crs_array(xy: np.ndarray, crs: str) -> np.ndarray:
    lon, lat = from_wgs84(xy[:, 0], xy[:, 1], crs)
    return np.column_stack([lon, lat])


def assert_one_error_line(result, *needles: str) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# -------------------------------------------------------------------------- options
@pytest.mark.parametrize(
    "command", [["network", "route"], ["network", "matrix"], ["network", "info"], ["site"],
                ["route"]],
)  # fmt: skip
def test_every_coordinate_command_takes_crs(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "--crs" in result.output and "gcj02" in result.output and "bd09" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["network", "route", "{town}", "--from", "120.003,30.0019", "--to", "120.0001,30.001"],
        ["network", "info", "{town}"],
        ["network", "matrix", "{town}", "--points", "{pts}", "--out", "{out}"],
    ],
)
def test_bad_crs_is_one_error_line_with_the_choices(args, town_osm, tmp_path):
    pts = write_rows(tmp_path / "p.csv", ["id", "lon", "lat"], TOWN_POINTS, "wgs84")
    subst = {"{town}": town_osm, "{pts}": pts, "{out}": tmp_path / "m.csv"}
    result = run(*[subst.get(a, a) for a in args], "--crs", "EPSG:3857")
    line = assert_one_error_line(result, "--crs", "'EPSG:3857'", "wgs84", "gcj02", "bd09")
    assert "BD-09" in line and not (tmp_path / "m.csv").exists()


# ---------------------------------------------------------------------- network route
def _route_text(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "GCJ-02"])
def test_network_route_text_in_crs(town_osm, crs):
    base = run("network", "route", town_osm, "--from", "{},{}".format(*A),
               "--to", "{},{}".format(*B))  # fmt: skip
    assert base.exit_code == 0, base.output
    got = run("network", "route", town_osm, "--crs", crs,
              "--from", lonlat_arg(A, crs), "--to", lonlat_arg(B, crs))  # fmt: skip
    assert got.exit_code == 0, got.output
    want, have = _route_text(base.stdout), _route_text(got.stdout)
    for key in ("distance_m", "duration_s", "streets"):
        assert have[key] == want[key]
    assert have["crs"] in ("gcj02", "bd09")
    wgs_line = np.array(shapely.from_wkt(want["geometry"]).coords)
    crs_line = np.array(shapely.from_wkt(have["geometry"]).coords)
    np.testing.assert_allclose(crs_line, to_crs_array(wgs_line, crs), rtol=0, atol=TOL_DEG)
    # the conversion matters: the same numbers read as WGS-84 are ~0.5-1 km off
    unconverted = run("network", "route", town_osm,
                      "--from", lonlat_arg(A, crs), "--to", lonlat_arg(B, crs))  # fmt: skip
    assert (
        unconverted.exit_code != 0
        or _route_text(unconverted.stdout)["distance_m"] != want["distance_m"]
    )


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_network_route_geojson_in_crs(town_osm, crs):
    base = run("network", "route", town_osm, "--from", "{},{}".format(*B),
               "--to", "{},{}".format(*A), "--geojson")  # fmt: skip
    got = run("network", "route", town_osm, "--crs", crs, "--from", lonlat_arg(B, crs),
              "--to", lonlat_arg(A, crs), "--geojson")  # fmt: skip
    assert base.exit_code == 0 and got.exit_code == 0, got.output
    want, have = json.loads(base.stdout), json.loads(got.stdout)
    assert "解放路" in got.stdout  # UTF-8 names kept
    assert have["properties"]["street_names"] == want["properties"]["street_names"]
    assert have["properties"]["distance_m"] == pytest.approx(want["properties"]["distance_m"])
    assert have["properties"]["origin_snap_distance_m"] == pytest.approx(
        want["properties"]["origin_snap_distance_m"], abs=1e-4
    )
    np.testing.assert_allclose(coords(have), to_crs_array(coords(want), crs), rtol=0,
                               atol=TOL_DEG)  # fmt: skip
    assert {"gcj02": "GCJ-02", "bd09": "BD-09"}[crs] in have[CRS_NOTE_KEY]
    assert CRS_NOTE_KEY not in want
    back = geojson_from_crs(have, crs)
    np.testing.assert_allclose(coords(back), coords(want), rtol=0, atol=TOL_DEG)


def test_network_route_rejects_out_of_range_before_converting(town_osm):
    result = run("network", "route", town_osm, "--crs", "bd09", "--from", "120.003,95",
                 "--to", "120.0001,30.001")  # fmt: skip
    assert_one_error_line(result, "origin", "95")


# --------------------------------------------------------------------- network matrix
def test_network_matrix_points_in_gcj02(town_osm, tmp_path):
    wgs = write_rows(tmp_path / "wgs.csv", ["id", "lon", "lat"], TOWN_POINTS, "wgs84")
    gcj = write_rows(tmp_path / "gcj.csv", ["id", "lon", "lat"], TOWN_POINTS, "gcj02")
    outs = {}
    for name, pts, extra in [("wgs", wgs, []), ("gcj", gcj, ["--crs", "gcj02"]),
                             ("raw", gcj, [])]:  # fmt: skip
        out = tmp_path / f"{name}.npz"
        result = run("network", "matrix", town_osm, "--points", pts, "--out", out,
                     "--no-cache", *extra)  # fmt: skip
        assert result.exit_code == 0, result.output
        with np.load(out) as data:
            outs[name] = {k: data[k] for k in data.files}
    assert outs["gcj"]["origin_ids"].tolist() == ["回收站1", "Q", "X"]
    for key in ("duration_s", "distance_m"):
        np.testing.assert_allclose(outs["gcj"][key], outs["wgs"][key], rtol=0, atol=1e-3)
    # read as WGS-84 the GCJ-02 numbers land ~450 m east: other streets, other times
    assert np.abs(outs["raw"]["distance_m"] - outs["wgs"]["distance_m"]).max() > 50


def test_network_info_bbox_in_crs(town_osm):
    wgs = json.loads(run("network", "info", town_osm, "--json").stdout)
    got = json.loads(run("network", "info", town_osm, "--json", "--crs", "bd09").stdout)
    assert got["crs"] == "bd09" and "crs" not in wgs
    west, south, east, north = wgs["bbox"]
    corners = to_crs_array(np.array([[west, south], [east, north]]), "bd09")
    # the bbox of the shifted vertices; the shift varies by ~2e-5 degrees across the town
    assert got["bbox"] == pytest.approx(corners.ravel().tolist(), abs=5e-5)
    assert abs(got["bbox"][0] - west) > 5e-3
    assert (got["nodes"], got["edges"]) == (wgs["nodes"], wgs["edges"])


# ----------------------------------------------------------------------------- site
def _site(town_osm: Path, tmp_path: Path, crs: str, *, flag: bool = True, ok: bool = True):
    d = tmp_path / f"in-{crs}-{flag}"
    d.mkdir()
    demand = write_rows(d / "demand.csv", ["id", "lon", "lat", "households"], DEMAND, crs)
    sites = write_rows(d / "sites.csv", ["id", "lon", "lat"], SITES, crs)
    out = tmp_path / f"site-{crs}-{flag}"
    result = run("site", town_osm, "--model", "p_median", "--p", "2", "--demand", demand,
                 "--sites", sites, "--out", out, *(["--crs", crs] if flag else []))  # fmt: skip
    if not ok:
        return result
    assert result.exit_code == 0, result.output
    return out


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_site_reads_and_writes_crs(town_osm, tmp_path, crs):
    base = _site(town_osm, tmp_path, "wgs84")
    got = _site(town_osm, tmp_path, crs)
    plan_w, plan_c = _read(base / "plan.json"), _read(got / "plan.json")
    assert plan_c["open_ids"] == plan_w["open_ids"] and len(plan_w["open_ids"]) == 2
    assert plan_c["objective"] == pytest.approx(plan_w["objective"], abs=0.01)
    for layer in ("stations", "assignments", "coverage"):
        w, c = _read(base / f"{layer}.geojson"), _read(got / f"{layer}.geojson")
        assert c[CRS_NOTE_KEY] and CRS_NOTE_KEY not in w
        assert len(c["features"]) == len(w["features"]) > 0
        np.testing.assert_allclose(coords(c), to_crs_array(coords(w), crs), rtol=0,
                                   atol=TOL_DEG)  # fmt: skip
    # stations are written back in the datum they were given in
    given = {sid: shifted(lon, lat, crs) for sid, lon, lat in SITES}
    for feat in _read(got / "stations.geojson")["features"]:
        sid = feat["properties"]["site_id"]
        assert feat["geometry"]["coordinates"] == pytest.approx(list(given[sid]), abs=TOL_DEG)


def test_site_without_crs_flag_reads_shifted_points_elsewhere(town_osm, tmp_path):
    # read as WGS-84, the BD-09 numbers lie ~1 km north-east, off the town's streets
    result = _site(town_osm, tmp_path, "bd09", flag=False, ok=False)
    assert_one_error_line(result, "d1", "cannot reach")


# ---------------------------------------------------------------------------- route
def _route(town_osm: Path, tmp_path: Path, crs: str) -> Path:
    d = tmp_path / f"in-{crs}"
    d.mkdir()
    orders = write_rows(d / "orders.csv", ["id", "lon", "lat", "items", "time_windows"],
                        ORDERS, crs)  # fmt: skip
    sites = write_rows(d / "sites.csv", ["id", "kind", "lon", "lat", "unload_s"], DEPOTS, crs,
                       lon_col=2)  # fmt: skip
    out = tmp_path / f"route-{crs}"
    result = run("route", town_osm, "--orders", orders, "--sites", sites, "--engine", "ortools",
                 "--time-limit-s", "1", "--seed", "3", "--out", out, "--crs", crs)  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_route_reads_and_writes_gcj02(town_osm, tmp_path):
    base = _route(town_osm, tmp_path, "wgs84")
    got = _route(town_osm, tmp_path, "gcj02")
    plan_w, plan_c = _read(base / "plan.json"), _read(got / "plan.json")
    assert not plan_c["unserved"]

    def stops(plan) -> list[list[str]]:
        return [[v["location_id"] for v in r["visits"]] for r in plan["routes"]]

    assert stops(plan_c) == stops(plan_w)
    assert plan_c["cost"] == pytest.approx(plan_w["cost"], abs=0.01)
    w, c = _read(base / "routes.geojson"), _read(got / "routes.geojson")
    assert "GCJ-02" in c[CRS_NOTE_KEY] and CRS_NOTE_KEY not in w
    np.testing.assert_allclose(coords(c), to_crs_array(coords(w), "gcj02"), rtol=0,
                               atol=TOL_DEG)  # fmt: skip
    # every stop is written at the GCJ-02 position it was given at
    given = {row[0]: shifted(row[1], row[2], "gcj02") for row in ORDERS}
    given.update({row[0]: shifted(row[2], row[3], "gcj02") for row in DEPOTS})
    points = _read(got / "stops.geojson")["features"]  # stops apart from the route lines
    assert "GCJ-02" in _read(got / "stops.geojson")[CRS_NOTE_KEY]
    assert len(points) >= len(ORDERS) + 2
    for f in points:
        assert f["geometry"]["coordinates"] == pytest.approx(
            list(given[f["properties"]["location_id"]]), abs=TOL_DEG
        )


# -------------------------------------------------------------------------- readers
@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_read_points_csv_and_geojson_in_crs(tmp_path, crs):
    path = write_rows(tmp_path / "p.csv", ["id", "lon", "lat", "名称"],
                      [(pid, lon, lat, "站") for pid, lon, lat in TOWN_POINTS], crs)  # fmt: skip
    pts = read_points(path, crs=crs)
    assert pts.ids == ("回收站1", "Q", "X") and pts.properties[0]["名称"] == "站"
    np.testing.assert_allclose(pts.lon, [p[1] for p in TOWN_POINTS], rtol=0, atol=TOL_DEG)
    np.testing.assert_allclose(pts.lat, [p[2] for p in TOWN_POINTS], rtol=0, atol=TOL_DEG)
    raw = read_points(path)  # the same numbers as WGS-84 are elsewhere
    assert np.abs(raw.lon - pts.lon).min() > 1e-3
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": pid, "properties": {},
         "geometry": {"type": "Point", "coordinates": list(shifted(lon, lat, crs))}}
        for pid, lon, lat in TOWN_POINTS]}  # fmt: skip
    gj = tmp_path / "p.geojson"
    gj.write_text(json.dumps(doc), encoding="utf-8")
    from_gj = read_points(gj, crs=crs)
    np.testing.assert_allclose(from_gj.lon, pts.lon, rtol=0, atol=TOL_DEG)
    np.testing.assert_allclose(from_gj.lat, pts.lat, rtol=0, atol=TOL_DEG)


def test_pipeline_readers_in_crs(tmp_path):
    demand = write_rows(tmp_path / "d.csv", ["id", "lon", "lat", "households"], DEMAND, "bd09")
    got = read_demand(demand, crs="bd09")
    assert [d.id for d in got] == ["d1", "d2", "d3", "d4"] and got[1].households == 300
    for d, (_, lon, lat, _hh) in zip(got, DEMAND):
        assert (d.lon, d.lat) == pytest.approx((lon, lat), abs=TOL_DEG)
    sites = write_rows(tmp_path / "s.csv", ["id", "lon", "lat"], SITES, "gcj02")
    cands = read_site_candidates(sites, crs="gcj02")
    for s, (_, lon, lat) in zip(cands, SITES):
        assert (s.lon, s.lat) == pytest.approx((lon, lat), abs=TOL_DEG)


def test_routing_readers_in_crs(tmp_path):
    orders = write_rows(tmp_path / "o.csv", ["id", "lon", "lat", "items", "time_windows"],
                        ORDERS, "gcj02")  # fmt: skip
    got = read_orders(orders, crs="gcj02")
    for o, row in zip(got, ORDERS):
        assert (o.lon, o.lat) == pytest.approx((row[1], row[2]), abs=TOL_DEG)
    assert got[0].time_windows == ((8 * 3600.0, 12 * 3600.0),)
    sites = write_rows(tmp_path / "s.csv", ["id", "kind", "lon", "lat", "unload_s"], DEPOTS,
                       "bd09", lon_col=2)  # fmt: skip
    depots, facilities = read_sites(sites, crs="bd09")
    assert (depots[0].lon, depots[0].lat) == pytest.approx(DEPOTS[0][2:4], abs=TOL_DEG)
    assert (facilities[0].lon, facilities[0].lat) == pytest.approx(DEPOTS[1][2:4], abs=TOL_DEG)
    assert facilities[0].unload_s == 600


def test_reader_errors_keep_the_given_values(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id,lon,lat,items\nok,120.005,30.0,tv:1\nbad,120.005,95.5,tv:1\n"
                    "nan,abc,30,tv:1\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(InputError) as info:
        read_orders(path, crs="bd09")
    assert "line 3" in str(info.value) and "95.5" in str(info.value)
    pts = tmp_path / "p.csv"
    pts.write_text("id,lon,lat\nfar,220.0,30.0\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"far \(220\.0, 30\.0\)"):
        read_points(pts, crs="gcj02")
    with pytest.raises(InputError, match="unknown coordinate system 'wgs72'"):
        read_points(pts, crs="wgs72")
    with pytest.raises(InputError, match="unknown coordinate system"):
        read_orders(path, crs="mercator")


# ------------------------------------------------------------------------- progress
def test_site_reports_progress_on_stderr(town_osm, tmp_path):
    # not a terminal here: one plain line per phase on stderr (a rich status line on a
    # terminal); stdout keeps only the results
    site = _site(town_osm, tmp_path, "wgs84", ok=False)
    assert site.exit_code == 0, site.output
    lines = [ln.strip() for ln in site.stderr.splitlines()]
    phases = [ln.split(" (")[0] for ln in lines if ln.startswith("siting: ")]
    assert phases[0] == "siting: heuristic" and phases[-1] == "siting: done", lines
    assert phases.index("siting: bound") < phases.index("siting: done")
    done = next(ln for ln in lines if ln.startswith("siting: done ("))
    plan = _read(tmp_path / "site-wgs84-True" / "plan.json")
    assert f"best {plan['objective']:,.6g}" in done, done
    assert " s of 30 s" in done, done  # the default time limit
    assert "siting:" not in site.stdout


def test_route_reports_progress_on_stderr(town_osm, tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    orders = write_rows(d / "orders.csv", ["id", "lon", "lat", "items", "time_windows"],
                        ORDERS, "wgs84")  # fmt: skip
    sites = write_rows(d / "sites.csv", ["id", "kind", "lon", "lat", "unload_s"], DEPOTS,
                       "wgs84", lon_col=2)  # fmt: skip
    result = run("route", town_osm, "--orders", orders, "--sites", sites, "--engine", "ortools",
                 "--time-limit-s", "1", "--out", tmp_path / "r")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = [ln.strip() for ln in result.stderr.splitlines() if ln.strip().startswith("routing:")]
    assert lines[0].startswith("routing: solving (") and " of 1 s" in lines[0], lines
    assert lines[-1].startswith("routing: done (ortools, ") and "best cost " in lines[-1]
    plan = _read(tmp_path / "r" / "plan.json")
    assert f"best cost {plan['cost']:,.2f}" in lines[-1]
    assert "routing:" not in result.stdout
