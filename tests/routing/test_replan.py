"""Re-planning keeps the visits done or started and re-optimises the rest."""

from __future__ import annotations

import pytest
from routing_helpers import TL, assert_feasible, euclid_matrix, facility, order, problem

from recyclenet.errors import InputError
from recyclenet.routing import VehicleType, replan, solve_routing

XY = {"D": (0, 0), "S": (0, 3000), "a": (1000, 0), "b": (2000, 0), "c": (3000, 0),
      "d": (0, 1000), "e": (0, 2000), "f": (-1000, 0)}  # fmt: skip


def _setup():
    orders = [order(i, load_kg=100.0, service_s=120.0) for i in "abcdef"]
    fleet = [VehicleType("t", count=2, start_id="D", capacity_kg=300.0, cost_per_km=1.0,
                         cost_per_hour=10.0, fixed_cost=5.0)]  # fmt: skip
    prob = problem(XY, orders, fleet, facilities=[facility("S", unload_s=300.0)])
    return prob, solve_routing(prob, engine="ortools", time_limit_s=TL)


def test_fixed_visits_stay_and_the_rest_is_replanned():
    prob, plan = _setup()
    assert_feasible(plan, prob)
    route = plan.routes[0]
    fixed = route.order_ids[:2]
    now = route.visits[2].departure_s  # second order done
    xy = {**XY, "g": (1500, 500)}
    new_order = order("g", load_kg=50.0, service_s=60.0)
    cancel = next(i for r in plan.routes for i in r.order_ids if i not in fixed)
    matrices = {"car": euclid_matrix(xy)}
    new = replan(plan, prob, fixed_order_ids=fixed, added_orders=[new_order],
                 cancelled_order_ids=[cancel], matrices=matrices, now_s=now,
                 time_limit_s=TL)  # fmt: skip
    new_prob = prob.with_orders([o for o in prob.orders if o.id != cancel] + [new_order],
                                matrices)  # fmt: skip
    assert_feasible(new, new_prob)
    kept = new.route_of(route.vehicle_id)
    assert kept is not None
    assert kept.order_ids[:2] == fixed
    for old_v, new_v in zip(route.visits[:3], kept.visits[:3]):
        assert new_v.location_id == old_v.location_id
        assert new_v.start_s == pytest.approx(old_v.start_s)
    assert cancel not in new.served_order_ids and new.reason_of(cancel) is None
    assert "g" in new.served_order_ids
    assert new.statistics["fixed"] == {route.vehicle_id: list(fixed)}
    for r in new.routes:  # nothing re-planned starts before now
        for v in r.visits[1:]:
            if v.order_id not in fixed:
                assert v.start_s >= now - 1e-6


def test_fixed_visits_must_be_a_prefix():
    prob, plan = _setup()
    route = next(r for r in plan.routes if len(r.order_ids) >= 2)
    with pytest.raises(InputError, match="must be a prefix"):
        replan(plan, prob, fixed_order_ids=[route.order_ids[1]], time_limit_s=TL)


def test_bad_replan_requests():
    prob, plan = _setup()
    first = plan.routes[0].order_ids[0]
    with pytest.raises(InputError, match="both fixed"):
        replan(plan, prob, fixed_order_ids=[first], cancelled_order_ids=[first])
    with pytest.raises(InputError, match=r"not in the problem: \['zz'\]"):
        replan(plan, prob, cancelled_order_ids=["zz"])
