"""Restriction zones (货车限行区): trucks stay out while closed, stops inside wait for the hours."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

import recyclenet as rn
from recyclenet.network.zones import read_restriction_zones, zone_edge_mask
from recyclenet.pipeline import plan_routes
from recyclenet.routing import VehicleType, check_plan, read_fleet, read_orders
from recyclenet.routing.io import read_sites

DATA = Path(__file__).resolve().parents[2] / "data"
# a box around the middle of the Helsinki orders (lon 24.944-24.952, lat 60.166-60.172)
BOX = [[24.944, 60.166], [24.952, 60.166], [24.952, 60.172], [24.944, 60.172], [24.944, 60.166]]


def zones_doc(closed: str = "07:00-20:00", vehicles: str = "hgv", box=BOX) -> dict:
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [box]},
        "properties": {"id": "中心区", "vehicles": vehicles, "closed": closed}}]}  # fmt: skip


def inside(lon: float, lat: float, box=BOX) -> bool:
    return shapely.Polygon(box).intersects(shapely.Point(lon, lat))


@pytest.fixture(scope="module")
def day():  # type: ignore[no-untyped-def]
    orders = read_orders(DATA / "helsinki_orders.csv")
    depots, facilities = read_sites(DATA / "helsinki_sites.csv")
    return orders, depots, facilities


def test_read_zones_and_errors(tmp_path):
    path = tmp_path / "zones.geojson"
    path.write_text(json.dumps(zones_doc(), ensure_ascii=False), encoding="utf-8")
    (zone,) = read_restriction_zones(path)
    assert zone.id == "中心区" and zone.vehicles == {"hgv"}
    assert zone.closed_intervals_s(0) == [(7 * 3600.0, 20 * 3600.0)]
    assert zone.applies_to(rn.get_profile("box_truck_4_2m"))
    assert not zone.applies_to(rn.get_profile("tricycle"))
    bad = zones_doc(closed="PH")
    with pytest.raises(rn.InputError, match=r"feature 0 \(zone '中心区'\): 'closed' 'PH'"):
        read_restriction_zones(bad)
    point = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"closed": "07:00-20:00"},
                "geometry": {"type": "Point", "coordinates": [24.9, 60.1]},
            }
        ],
    }
    with pytest.raises(rn.InputError, match="geometry is Point; give a Polygon"):
        read_restriction_zones(point)
    with pytest.raises(rn.InputError, match="not found"):
        read_restriction_zones(tmp_path / "missing.geojson")


def test_zone_free_network_has_no_edge_in_the_zone():
    net = rn.load_network("helsinki", profile="box_truck_4_2m")
    zones = read_restriction_zones(zones_doc())
    mask = zone_edge_mask(net, zones)
    assert 20 < mask.sum() < net.n_edges / 2
    free = net.without_edges(mask)
    assert free.n_edges == net.n_edges - mask.sum()
    assert not zone_edge_mask(free, zones).any()
    assert (free.edge_twin < free.n_edges).all()


def test_trucks_stay_out_while_closed(day):
    orders, depots, facilities = day
    run = plan_routes("helsinki", orders=orders, fleet=read_fleet(), depots=depots,
                      facilities=facilities, engine="ortools", time_limit_s=3, seed=1,
                      restriction_zones=read_restriction_zones(zones_doc()))  # fmt: skip
    assert check_plan(run.plan, run.problem) == []
    assert run.zone_violations() == []
    inside_ids = {o.id for o in orders if inside(o.lon, o.lat)}
    assert len(inside_ids) >= 5
    for r in run.plan.routes:
        stops = {v.order_id for v in r.visits if v.order_id}
        if r.profile == "box_truck_4_2m":
            assert not stops & inside_ids  # trucks serve nothing inside
    # refrigerant orders need a box truck: those inside are unserved, naming the zone
    for u in run.plan.unserved:
        if u.order_id in inside_ids:
            assert "中心区" in u.message
    # the truck legs avoid the zone: check the drawn geometry too
    doc = run.geojson()
    zone = shapely.Polygon(BOX)
    truck_lines = [f for f in doc["features"] if f["geometry"]["type"] == "LineString"
                   and f["properties"]["vehicle_type_id"] == "box_truck_4_2m"]  # fmt: skip
    assert truck_lines
    for f in truck_lines:
        assert not zone.intersects(shapely.LineString(f["geometry"]["coordinates"]))


def test_stops_inside_wait_for_the_open_hours(day):
    orders, depots, facilities = day
    west, south, east, north = 24.948, 60.166, 24.952, 60.170  # a smaller zone
    box = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    trucks = [VehicleType(id="box", profile="box_truck_4_2m", count=3, capacity_kg=2000.0,
                          start_id="depot", end_id="depot", shift=(8 * 3600.0, 18 * 3600.0),
                          skills=frozenset({"refrigerant"}), cost_per_hour=60.0)]  # fmt: skip
    # closed 10:00-14:00: inside stops must be served before 10:00 (and out by then) or after
    zones = read_restriction_zones(zones_doc("10:00-14:00", box=box))
    run = plan_routes("helsinki", orders=orders, fleet=trucks, depots=depots,
                      facilities=facilities, engine="ortools", time_limit_s=3, seed=1,
                      restriction_zones=zones)  # fmt: skip
    assert check_plan(run.plan, run.problem) == []
    assert run.zone_violations() == []
    assert run.zones is not None and run.zones.cut_windows
    where = run.problem.orders_by_id
    served_inside = [v for r in run.plan.routes for v in r.visits if v.order_id
                     and inside(where[v.order_id].lon, where[v.order_id].lat, box)]  # fmt: skip
    assert served_inside
    for v in served_inside:
        assert v.departure_s <= 10 * 3600 or v.arrival_s >= 14 * 3600
    closed = [(10 * 3600.0, 14 * 3600.0)]
    for oid, windows in run.zones.cut_windows.items():
        for a, b in windows:
            assert not any(a < y and x < b for x, y in closed), oid
    # orders whose windows fall wholly in the closed hours, and orders the zone cuts off
    # from the depot while closed, are unserved, naming the zone
    assert run.zones.blocked
    messages = {u.order_id: u.message for u in run.plan.unserved}
    for oid in run.zones.blocked:
        assert oid in messages and "中心区" in messages[oid]


def test_cli_route_with_zones(tmp_path):
    from typer.testing import CliRunner

    from recyclenet.cli import app

    zones = tmp_path / "zones.geojson"
    zones.write_text(json.dumps(zones_doc(), ensure_ascii=False), encoding="utf-8")
    args = ["route", "helsinki", "--orders", str(DATA / "helsinki_orders.csv"), "--sites",
            str(DATA / "helsinki_sites.csv"), "--engine", "ortools", "--time-limit-s", "2",
            "--restriction-zones", str(zones), "--out", str(tmp_path / "r")]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "r" / "plan.json").read_text(encoding="utf-8"))
    assert any("中心区" in u["message"] for u in plan["unserved"])
    zones.write_text(json.dumps(zones_doc(closed="sunrise-sunset")), encoding="utf-8")
    res = CliRunner().invoke(app, [*args[:-2], "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "'closed' 'sunrise-sunset'" in res.output


def test_closed_intervals_by_weekday_and_overnight():
    doc = zones_doc(closed="Mo-Fr 07:00-09:00,17:00-19:00; Sa 22:00-06:00")
    (zone,) = read_restriction_zones(doc)
    h = 3600.0
    assert zone.closed_intervals_s(0) == [(7 * h, 9 * h), (17 * h, 19 * h)]
    assert zone.closed_intervals_s(5) == [(22 * h, 24 * h)]
    assert zone.closed_intervals_s(6) == [(0.0, 6 * h)]  # Saturday night spills into Sunday


def test_depot_inside_a_closed_zone_is_an_input_error(day):
    orders, depots, facilities = day
    west, south = depots[0].lon - 0.001, depots[0].lat - 0.001
    box = [[west, south], [west + 0.002, south], [west + 0.002, south + 0.002],
           [west, south + 0.002], [west, south]]  # fmt: skip
    with pytest.raises(
        rn.InputError, match=r"depot .* is inside restriction zone\(s\) \['中心区'\]"
    ):
        plan_routes("helsinki", orders=orders, fleet=read_fleet(), depots=depots,
                    facilities=facilities, engine="ortools", time_limit_s=1,
                    restriction_zones=read_restriction_zones(zones_doc(box=box)))  # fmt: skip


def test_zones_in_gcj02_are_read_back_to_wgs84():
    from recyclenet.geo import wgs84_to_gcj02

    box = [[116.39, 39.90], [116.41, 39.90], [116.41, 39.92], [116.39, 39.92], [116.39, 39.90]]
    lon, lat = wgs84_to_gcj02([p[0] for p in box], [p[1] for p in box])
    shifted = [[float(x), float(y)] for x, y in zip(lon, lat)]
    assert abs(shifted[0][0] - box[0][0]) > 1e-3  # GCJ-02 moves Beijing by hundreds of metres
    (zone,) = read_restriction_zones(zones_doc(box=shifted), crs="gcj02")
    got = np.asarray(zone.geometry.exterior.coords)
    np.testing.assert_allclose(got, np.asarray(box), atol=1e-7)


def test_truck_only_order_inside_a_morning_zone_is_served_after_it_opens(day):
    """o002 (a refrigerator: box truck only, 09:00-13:00) inside a zone closed 08:00-10:00."""
    orders, depots, facilities = day
    zones = read_restriction_zones(zones_doc("08:00-10:00"))
    run = plan_routes("helsinki", orders=orders, fleet=read_fleet(), depots=depots,
                      facilities=facilities, engine="ortools", time_limit_s=3, seed=1,
                      restriction_zones=zones)  # fmt: skip
    assert check_plan(run.plan, run.problem) == []
    assert run.zone_violations() == []
    assert run.zones is not None
    ((a, b),) = run.zones.cut_windows["o002"]
    assert 10 * 3600 < a < 10.5 * 3600 and b <= 13 * 3600  # opens plus the drive in
    visit = next(v for r in run.plan.routes for v in r.visits if v.order_id == "o002")
    assert visit.arrival_s >= 10 * 3600
