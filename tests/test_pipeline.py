"""End-to-end siting and routing on the embedded Helsinki sample (pipeline and CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from plan_checks import GENEROUS_S, assert_solved
from recyclenet.cli import app
from recyclenet.errors import InputError
from recyclenet.pipeline import plan_routes, plan_siting
from recyclenet.routing import check_plan, read_fleet, read_orders
from recyclenet.routing.io import read_sites

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def siting_run():  # type: ignore[no-untyped-def]
    return plan_siting("helsinki", model="min_stations", radius=500.0, time_limit_s=20, seed=1)


def test_min_stations_covers_every_household(siting_run) -> None:  # type: ignore[no-untyped-def]
    plan, problem = siting_run.plan, siting_run.problem
    assert plan.status == "optimal"
    assert plan.unassigned_ids == ()
    assert plan.indicators.share_households_within_radius == pytest.approx(1.0)
    assert all(a.distance_m <= 500.0 + 1e-6 for a in plan.assignment)
    # both OSM amenity=recycling points are existing stations and are kept
    existing = {s.id for s in problem.sites if s.status == "existing"}
    assert len(existing) == 2 and existing <= set(plan.kept_ids)
    total = sum(d.households for d in problem.demand)
    assert 1000 < total < 50_000  # central Helsinki, residential estimate


def test_siting_geojson_layers(siting_run) -> None:  # type: ignore[no-untyped-def]
    layers = siting_run.geojson_layers()
    stations = layers["stations"]["features"]
    assert {f["id"] for f in stations} == set(siting_run.plan.open_ids)
    for f in stations:
        lon, lat = f["geometry"]["coordinates"]
        assert 24.9 < lon < 25.0 and 60.1 < lat < 60.2  # lon first (RFC 7946)
    assigned = [f for f in layers["assignments"]["features"] if f["properties"]["site_id"]]
    assert len(assigned) == len(siting_run.problem.demand)
    # one service-area polygon per open station, containing the station
    import shapely.geometry

    areas = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in layers["coverage"]["features"]}
    assert set(areas) == set(siting_run.plan.open_ids)
    for f in stations:
        assert areas[f["id"]].contains(shapely.geometry.Point(f["geometry"]["coordinates"]))


def test_small_radius_is_infeasible_with_named_demand() -> None:
    with pytest.raises(InputError, match=r"no usable site within radius 20 metres: 'cell_"):
        plan_siting("helsinki", model="min_stations", radius=20.0, time_limit_s=5)


def test_routes_follow_roads_and_are_feasible() -> None:
    orders = read_orders(DATA / "helsinki_orders.csv")
    depots, facilities = read_sites(DATA / "helsinki_sites.csv")
    run = plan_routes("helsinki", orders=orders, fleet=read_fleet(), depots=depots,
                      facilities=facilities, engine="ortools", time_limit_s=3, seed=1)  # fmt: skip
    assert check_plan(run.plan, run.problem) == []
    served = set(run.plan.served_order_ids)
    unserved = {u.order_id for u in run.plan.unserved}
    assert served | unserved == {o.id for o in orders} and not served & unserved
    doc = run.geojson()
    lines = [f for f in doc["features"] if f["geometry"]["type"] == "LineString"]
    assert len(lines) == len(run.plan.routes) > 0
    for line, route in zip(lines, run.plan.routes):
        # a line through the streets has many more vertices than stops
        assert len(line["geometry"]["coordinates"]) > 2 * len(route.visits)


def test_cli_site_and_route(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["site", "helsinki", "--radius", "500",
                              "--time-limit-s", f"{GENEROUS_S:g}",
                              "--out", str(tmp_path / "site")])  # fmt: skip
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "site" / "plan.json").read_text(encoding="utf-8"))
    assert_solved(plan)  # optimal, or the time limit's plan with its gap (a slow machine)
    stations = json.loads((tmp_path / "site" / "stations.geojson").read_text(encoding="utf-8"))
    assert len(stations["features"]) == len(plan["open_ids"])
    res = runner.invoke(app, ["route", "helsinki", "--orders", str(DATA / "helsinki_orders.csv"),
                              "--sites", str(DATA / "helsinki_sites.csv"), "--engine", "ortools",
                              "--time-limit-s", "2", "--out", str(tmp_path / "route")])  # fmt: skip
    assert res.exit_code == 0, res.output
    routes = json.loads((tmp_path / "route" / "routes.geojson").read_text(encoding="utf-8"))
    assert routes["type"] == "FeatureCollection" and routes["features"]
    res = runner.invoke(app, ["route", "helsinki", "--orders", str(DATA / "helsinki_orders.csv"),
                              "--out", str(tmp_path / "x")])  # fmt: skip
    assert res.exit_code == 2 and "error: --sites is required" in res.output


def test_two_tiers_respect_centre_capacity() -> None:
    from recyclenet.pipeline import read_sites as read_site_file

    centres = read_site_file(DATA / "helsinki_centres.csv")
    run = plan_siting("helsinki", model="min_stations", radius=500.0, centres=centres,
                      time_limit_s=20, seed=1)  # fmt: skip
    assert run.centres is not None and run.centres.status == "optimal"
    # every open station feeds exactly one centre (single source)
    fed = [a.demand_id for a in run.centres.assignment]
    assert sorted(fed) == sorted(run.plan.open_ids)
    capacity = {c.id: c.capacity for c in centres}
    for cid, load_t in run.centres.indicators.load_by_site.items():
        assert load_t <= capacity[cid] + 1e-6
    # loads come from households x data/recyclables_per_household.csv (13 kg each)
    households = sum(d.households for d in run.problem.demand)
    total_t = sum(run.centres.indicators.load_by_site.values())
    assert total_t == pytest.approx(households * 13 / 1000, rel=1e-3)
    assert "centres" in run.geojson_layers(coverage=False)


def test_read_demand_with_materials(tmp_path: Path) -> None:
    from recyclenet.pipeline import read_demand

    path = tmp_path / "demand.csv"
    text = "id,lon,lat,households,kg_appliances,kg_ferrous\nd1,24.94,60.17,300,2400,1200\n"
    path.write_text(text + "d2,24.95,60.175,,,\n", encoding="utf-8")
    d1, d2 = read_demand(path)
    assert d1.households == 300 and dict(d1.kg_per_year) == {"appliances": 2400, "ferrous": 1200}
    assert d1.t_per_year == pytest.approx(3.6)
    assert d2.households == 1.0 and dict(d2.kg_per_year) == {}
    path.write_text("id,lon,lat,households\nd1,24.94,60.17,-5\n", encoding="utf-8")
    with pytest.raises(InputError, match="d1"):
        read_demand(path)


def test_stations_no_truck_reaches_cannot_open() -> None:
    import numpy as np

    from recyclenet.errors import InputError
    from recyclenet.matrix import Matrix
    from recyclenet.pipeline import _truck_reachable
    from recyclenet.siting import Site

    inf = np.inf
    dur = np.array([[60.0, inf], [inf, inf], [inf, 30.0]])
    m = Matrix(("a", "b", "c"), ("c1", "c2"), dur, dur * 10)
    sites = [Site("a", 0, 0), Site("b", 0, 0), Site("c", 0, 0, status="existing")]
    out = {s.id: s.status for s in _truck_reachable(sites, m, "truck_18t")}
    assert out == {"a": "candidate", "b": "forbidden", "c": "existing"}
    stuck = [Site("a", 0, 0), Site("b", 0, 0, status="existing")]
    with pytest.raises(InputError, match=r"1 existing or required station.*'truck_18t'.*: b"):
        _truck_reachable(stuck, m, "truck_18t")


def test_cli_site_uncoverable(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["site", "helsinki", "--radius", "60", "--time-limit-s", "10"]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert res.exit_code == 2 and "full coverage is infeasible" in res.output
    res = runner.invoke(app, [*args, "--uncoverable", "leave", "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    plan = json.loads((tmp_path / "b" / "plan.json").read_text(encoding="utf-8"))
    assert plan["unassigned_ids"] and plan["assignment"]
    assert 0 < plan["indicators"]["share_households_within_radius"] < 1
