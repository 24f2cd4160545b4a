"""How problems are modelled for PyVRP: required clients, no needless dimensions."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import TL, assert_feasible, facility, order, problem

from recyclenet.deadline import Deadline
from recyclenet.routing import VehicleType, solve_routing
from recyclenet.routing._pyvrp import (
    PATIENCE_MIN_ITERS,
    build_model,
    needs_duration,
    solve_pyvrp,
)
from recyclenet.routing.unserved import diagnose

XY = {"D": (0, 0), "a": (1000, 0), "b": (2000, 500), "c": (0, 2000), "d": (-1000, 800)}
INT64_MAX = np.iinfo(np.int64).max


def _cvrp(**kw: object):
    orders = [order(i, load_kg=30.0) for i in "abcd"]
    fleet = [VehicleType("v", count=3, capacity_kg=60.0, start_id="D", cost_per_km=1000.0,
                         **kw)]  # type: ignore[arg-type]  # fmt: skip
    return problem(XY, orders, fleet)


def test_plain_cvrp_has_required_clients_and_no_duration_dimension():
    prob = _cvrp()
    model = build_model(prob, diagnose(prob), required=True)
    data = model.data
    assert data.num_clients == 4
    assert all(c.required and c.prize == 0 for c in data.clients())
    assert data.num_groups == 0
    assert not model.duration
    assert all(not np.asarray(data.duration_matrix(p)).any() for p in range(data.num_profiles))
    (vt,) = data.vehicle_types()
    assert (vt.tw_early, vt.tw_late, vt.shift_duration) == (0, INT64_MAX, INT64_MAX)
    assert all(c.tw_late == INT64_MAX and c.service_duration == 0 for c in data.clients())
    # natural scales: 1 per metre (cost 1000 per km), whole kilograms, no volume dimension
    assert model.cost_scale == 1.0 and model.exact
    assert vt.unit_distance_cost == 1
    assert list(vt.capacity) == [60]
    assert [list(c.pickup) for c in data.clients()] == [[30]] * 4
    assert model.params().penalty.max_penalty == 100_000.0  # PyVRP's default


def test_durations_only_when_they_can_bind():
    assert not needs_duration(_cvrp(), list(_cvrp().orders))
    # 4 orders of 30 kg, two per load: at most ~2 legs of <= 3.2 km at 10 m/s each
    assert needs_duration(_cvrp(shift=(0.0, 300.0)), list(_cvrp().orders))
    assert not needs_duration(_cvrp(shift=(0.0, 1200.0)), list(_cvrp().orders))
    assert needs_duration(_cvrp(cost_per_hour=1.0), list(_cvrp().orders))
    assert needs_duration(_cvrp(max_duration_s=1e5), list(_cvrp().orders))
    windowed = _cvrp().with_orders([order("a", time_windows=[(0.0, 9e4)])] + [
        order(i) for i in "bcd"])  # fmt: skip
    assert needs_duration(windowed, list(windowed.orders))
    model = build_model(windowed, diagnose(windowed), required=True)
    assert model.duration and model.data.clients()[0].tw_late == 90_000


def test_short_shift_is_kept_and_respected():
    prob = _cvrp(shift=(0.0, 700.0))  # a round trip to b alone takes ~412 s
    model = build_model(prob, diagnose(prob), required=True)
    assert model.duration
    plan = solve_routing(prob, engine="pyvrp", time_limit_s=TL)
    assert_feasible(plan, prob)
    assert all(r.duration_s <= 700.0 for r in plan.routes)


def test_optional_orders_get_prizes_required_ones_do_not():
    prob = _cvrp().with_orders([order("a", load_kg=30.0),
                                order("b", required=False, penalty=7.0)])  # fmt: skip
    data = build_model(prob, diagnose(prob), required=True).data
    a, b = data.clients()
    assert a.required and a.prize == 0
    assert not b.required and b.prize == 7


def test_inexact_costs_fall_back_to_the_scaled_model():
    prob = _cvrp(cost_per_hour=30.0)  # 1/120 per second: no power of ten is exact
    model = build_model(prob, diagnose(prob), required=True)
    assert not model.exact
    assert model.penalty_factor > 1
    assert model.params().penalty.max_penalty == pytest.approx(1e5 * model.penalty_factor)


def test_fleet_too_small_switches_to_prizes_and_serves_what_fits():
    # 4 x 30 kg, two vehicles of 30 kg: two orders cannot be served
    orders = [order(i, load_kg=30.0) for i in "abcd"]
    fleet = [VehicleType("v", count=2, capacity_kg=30.0, start_id="D", cost_per_km=1.0)]
    prob = problem(XY, orders, fleet)
    res = solve_pyvrp(prob, diagnose(prob), deadline=Deadline.after(TL))
    assert res.found and not res.detail["required_clients"]
    assert sum(len(r.stops) for r in res.routes) == 2
    # the fleet holds every order by weight, but the windows leave one out
    orders = [order("a", time_windows=[(0.0, 150.0)]), order("c", time_windows=[(0.0, 250.0)])]
    fleet = [VehicleType("v", count=1, start_id="D", cost_per_km=1.0)]
    prob = problem(XY, orders, fleet)
    res = solve_pyvrp(prob, diagnose(prob), deadline=Deadline.after(2.0))
    assert res.found and res.detail["first_model"]["required_clients"]
    assert not res.detail["first_model"]["feasible"]
    assert not res.detail["required_clients"] and len(res.routes[0].stops) == 1


def test_facilities_keep_the_duration_dimension():
    orders = [order(i, load_kg=30.0) for i in "abcd"]
    fleet = [VehicleType("v", count=1, capacity_kg=60.0, start_id="D", cost_per_km=1.0)]
    prob = problem({**XY, "S": (100, 100)}, orders, fleet, facilities=[facility("S")])
    model = build_model(prob, diagnose(prob), required=True)
    assert model.duration and model.data.num_depots == 2


def test_an_easy_day_stops_on_the_no_improvement_rule_not_the_deadline():
    prob = _cvrp()
    res = solve_pyvrp(prob, diagnose(prob), deadline=Deadline.after(120.0))
    assert res.found
    assert res.detail["stopped"].startswith("no improvement")
    assert res.detail["iterations"] >= PATIENCE_MIN_ITERS


def test_an_order_only_a_dear_vehicle_may_serve_gets_that_vehicle():
    # the park sub-problem PyVRP failed on: one hazardous order, the only licensed
    # vehicle costs 850 a day, the unlicensed one 10; with a weight of 1 in the
    # eligibility dimension the penalty (at most PyVRP's max_penalty per unit) stayed
    # below the fixed cost, and PyVRP kept the cheap forbidden vehicle: no plan at all
    orders = [order("a", load_kg=30.0, required_skills=frozenset({"hazmat"}))]
    fleet = [
        VehicleType(
            "tanker",
            count=1,
            start_id="D",
            cost_per_km=5.0,
            fixed_cost=850.0,
            skills=frozenset({"hazmat"}),
        ),
        VehicleType("van", count=1, start_id="D", cost_per_km=5.0, fixed_cost=10.0),
    ]
    prob = problem(XY, orders, fleet)
    model = build_model(prob, diagnose(prob), required=True)
    (client,) = model.data.clients()
    tanker, van = model.data.vehicle_types()
    weight = client.pickup[-1]  # in the van's eligibility dimension
    assert van.capacity[-1] == 0 and tanker.capacity[-1] >= weight
    # one unit over costs more than the tanker's day, even at PyVRP's lowest penalty
    assert weight * model.params().penalty.min_penalty >= 850 * model.cost_scale
    res = solve_pyvrp(prob, diagnose(prob), deadline=Deadline.after(TL))
    assert res.found and res.detail["required_clients"]
    assert [(r.vehicle_id, r.stops) for r in res.routes] == [("tanker-1", ("a",))]
