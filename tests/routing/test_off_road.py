"""Orders off the road, off the map, or with lon/lat swapped (issue #12, failure 3)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from recyclenet.errors import InputError
from recyclenet.pipeline import routing_problem
from recyclenet.routing import Depot, Order, VehicleType, solve_routing
from recyclenet.routing.unserved import diagnose

DEPOT = Depot("depot", 24.93666, 60.164199)
TRUCK = VehicleType("truck", count=1, start_id="depot", profile="box_truck_4_2m",
                    capacity_kg=2000.0, cost_per_km=1.0)  # fmt: skip
ON_ROAD = Order("street", 24.9450, 60.1690, load_kg=10.0)
LAKE = Order("lake", 24.9352471, 60.1748243, load_kg=10.0)  # 331.6 m from a truck road
# 25 km east of the extract (lon 24.935..24.953): 0.45 deg of longitude at 60.17 N
FAR = Order("far", 24.9534 + 0.45, 60.1700, load_kg=10.0)


def _problem(orders, **kw):
    prob, _nets = routing_problem("helsinki", orders=orders, fleet=[TRUCK], depots=[DEPOT], **kw)
    return prob


def test_an_order_in_the_water_is_unserved_off_road_with_its_distance():
    prob = _problem([ON_ROAD, LAKE])
    snap = prob.matrices["box_truck_4_2m"].snap_distance_m
    assert snap["lake"] == pytest.approx(331.6, abs=0.5)
    assert snap["street"] < 50.0
    plan = solve_routing(prob, engine="ortools", time_limit_s=1.0)
    assert plan.served_order_ids == ("street",)
    (u,) = plan.unserved
    assert (u.order_id, u.reason) == ("lake", "off_road")
    assert "332 m from the nearest 'box_truck_4_2m' road" in u.message
    assert "250 m limit" in u.message
    # a looser limit serves it (the matrix snaps it onto the nearest road)
    loose = _problem([ON_ROAD, LAKE], order_snap_limit_m=400.0)
    assert diagnose(loose).unserved == ()


def test_an_order_off_the_map_says_how_far():
    prob = _problem([ON_ROAD, FAR])
    (u,) = diagnose(prob).unserved
    assert (u.order_id, u.reason) == ("far", "off_road")
    km = prob.matrices["box_truck_4_2m"].snap_distance_m["far"] / 1000.0
    assert 24.0 < km < 26.0
    assert f"off the map: {km:.1f} km from the nearest" in u.message


def test_swapped_lon_lat_is_an_input_error_naming_the_points():
    swapped = [dataclasses.replace(o, lon=o.lat, lat=o.lon) for o in (ON_ROAD, LAKE)]
    with pytest.raises(InputError, match=r"latitude and longitude swapped: \['street', 'lake'\]"):
        _problem(swapped)
    with pytest.raises(InputError, match="give longitude first"):
        _problem([ON_ROAD, swapped[1]])


def test_cli_route_with_swapped_columns_exits_2(tmp_path: Path):
    from typer.testing import CliRunner

    from recyclenet.cli import app

    orders = tmp_path / "orders.csv"
    orders.write_text("id,lon,lat,load_kg\na,60.1690,24.9450,10\n", encoding="utf-8")
    sites = tmp_path / "sites.csv"
    sites.write_text("id,kind,lon,lat\ndepot,depot,24.93666,60.164199\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["route", "helsinki", "--orders", str(orders), "--sites",
                                      str(sites), "--out", str(tmp_path / "out")])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "swapped" in result.output
