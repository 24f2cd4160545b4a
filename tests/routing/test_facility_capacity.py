"""Sorting centres with a daily capacity: routes unload at the nearest centre with room,
an over-full centre is a violation, and what no centre has room for is unserved with
reason ``facility_capacity``."""

from __future__ import annotations

import pytest
from routing_helpers import assert_feasible, facility, order, problem

from recyclenet.routing import VehicleType, check_plan, solve_routing
from recyclenet.routing.evaluate import build_plan
from recyclenet.routing.plan import RawRoute


def _day(west_kg: float | None, east_kg: float | None, n: int = 6, load_kg: float = 150.0):
    # every order is east, next to centre E; W is far west: without capacities every
    # route unloads at E
    xy = {"D": (0, 0), "W": (-6000, 0), "E": (3000, 0)}
    orders = []
    for k in range(n):
        xy[f"o{k}"] = (2500 + 100 * k, 150 * (k - n // 2))
        orders.append(order(f"o{k}", load_kg=load_kg, service_s=60))
    fleet = [VehicleType("t", count=n, start_id="D", capacity_kg=2 * load_kg,
                         cost_per_km=1.0, fixed_cost=10.0)]  # fmt: skip
    facilities = [facility("W", unload_s=300, capacity_kg=west_kg),
                  facility("E", unload_s=300, capacity_kg=east_kg)]  # fmt: skip
    return xy, problem(xy, orders, fleet, facilities=facilities)


def _intake(plan) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in plan.routes:
        for f, kg in r.delivered_kg.items():
            out[f] = out.get(f, 0.0) + kg
    return out


def test_an_over_full_centre_is_a_violation():
    _xy, prob = _day(None, 200.0, n=2)
    plan = build_plan(prob, [RawRoute("t-1", ("o0", "o1", "E"), 0.0)], engine="test",
                      status="feasible")  # fmt: skip
    (v,) = check_plan(plan, prob)
    assert (v.kind, v.vehicle_id, v.order_id, v.amount) == ("facility_capacity", None, "E", 100.0)
    assert "capacity_kg 200" in v.message


def test_without_capacities_every_route_unloads_at_the_nearest(engine):
    _xy, prob = _day(None, None)
    plan = solve_routing(prob, engine=engine, time_limit_s=1.0, seed=1)
    assert_feasible(plan, prob)
    assert _intake(plan) == {"E": pytest.approx(900.0)}


def test_routes_unload_at_the_nearest_centre_with_room(engine):
    # E takes 600 of the 900 kg; the rest goes to W, far away but with room
    _xy, prob = _day(5000.0, 600.0)
    plan = solve_routing(prob, engine=engine, time_limit_s=1.0, seed=1)
    assert_feasible(plan, prob)
    assert len(plan.served_order_ids) == 6
    intake = _intake(plan)
    assert intake["E"] <= 600.0 + 1e-6
    assert intake["E"] + intake["W"] == pytest.approx(900.0)
    assert intake["W"] >= 300.0 - 1e-6
    for r in plan.routes:
        assert r.end_load_kg == 0.0


def test_orders_no_centre_has_room_for_are_unserved_with_the_reason(engine):
    # both centres together take 450 of 900 kg: half the orders cannot be delivered
    _xy, prob = _day(150.0, 300.0)
    plan = solve_routing(prob, engine=engine, time_limit_s=1.0, seed=1)
    assert_feasible(plan, prob)
    intake = _intake(plan)
    assert intake.get("E", 0.0) <= 300.0 + 1e-6 and intake.get("W", 0.0) <= 150.0 + 1e-6
    assert len(plan.served_order_ids) == 3
    reasons = {u.order_id: u.reason for u in plan.unserved}
    assert sorted(reasons.values()) == ["facility_capacity"] * 3
    msg = next(u.message for u in plan.unserved)
    assert "is full for the day" in msg


def test_optional_and_low_priority_orders_are_left_out_first():
    _xy, prob = _day(0.0, 450.0, n=4)
    # o0 is optional, o1 high priority: with room for 3 of 4 orders, o0 goes
    import dataclasses

    orders = list(prob.orders)
    orders[0] = dataclasses.replace(orders[0], required=False, penalty=1e6)
    orders[1] = dataclasses.replace(orders[1], priority=5)
    prob = dataclasses.replace(prob, orders=tuple(orders))
    plan = solve_routing(prob, engine="ortools", time_limit_s=1.0, seed=1)
    assert_feasible(plan, prob)
    assert {u.order_id: u.reason for u in plan.unserved} == {"o0": "facility_capacity"}


def test_capacity_is_read_from_the_sites_table(tmp_path):
    from recyclenet.routing.io import read_sites

    f = tmp_path / "sites.csv"
    f.write_text("编号,经度,纬度,类型,日处理能力\nD,116.4,39.9,车场,\nC,116.41,39.9,分拣中心,2500\n",
                 encoding="gbk")  # fmt: skip
    depots, facilities = read_sites(f)
    assert [d.id for d in depots] == ["D"]
    assert facilities[0].capacity_kg == 2500.0


def test_a_negative_capacity_is_an_error_naming_the_facility():
    from recyclenet.errors import InputError

    with pytest.raises(InputError, match="facility 'C' capacity_kg"):
        facility("C", capacity_kg=-1.0)
