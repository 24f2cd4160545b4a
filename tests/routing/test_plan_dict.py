"""RoutePlan.from_dict: stored plans load back exactly, and mismatched ones are named."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest
from routing_helpers import TL, assert_feasible, facility, order, problem

from recyclenet.errors import InputError
from recyclenet.routing import RoutePlan, VehicleType, solve_routing
from recyclenet.routing.check import check_plan_ids
from recyclenet.routing.replan import fixed_stops

XY = {"D": (0, 0), "S": (0, 3000), "a": (1000, 0), "b": (2000, 0), "c": (3000, 0),
      "d": (0, 1000), "e": (0, 2000), "f": (-1000, 0)}  # fmt: skip


@pytest.fixture(scope="module")
def solved():
    """A plan with unload stops (capacity 200 kg, 600 kg of orders) and breaks (a and f
    must be served early, so routes span the break window)."""
    orders = [
        order(i, load_kg=100.0, service_s=120.0, time_windows=[(0.0, 400.0)] if i in "af" else ())
        for i in "abcdef"
    ]
    fleet = [VehicleType("t", count=2, start_id="D", capacity_kg=200.0, cost_per_km=1.0,
                         cost_per_hour=10.0, fixed_cost=5.0, shift=(0.0, 3300.0),
                         break_window=(600.0, 900.0), break_s=300.0)]  # fmt: skip
    prob = problem(XY, orders, fleet, facilities=[facility("S", unload_s=300.0)])
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, prob)
    return prob, plan


def test_round_trip_is_exact(solved) -> None:
    prob, plan = solved
    doc = plan.to_dict()
    assert any(r["breaks"] for r in doc["routes"])  # the fixture covers breaks
    back = RoutePlan.from_dict(doc, prob)
    assert back.to_dict() == doc
    assert back == plan  # every field, including visit times and statistics
    # through JSON text too (what the service stores)
    from_json = RoutePlan.from_dict(json.loads(json.dumps(doc)), prob)
    assert from_json.to_dict() == json.loads(json.dumps(doc))
    assert from_json.served_order_ids == plan.served_order_ids
    assert from_json.objective == pytest.approx(plan.objective)


def test_missing_or_wrong_members_name_their_path(solved) -> None:
    _, plan = solved
    doc = plan.to_dict()
    bad = copy.deepcopy(doc)
    del bad["routes"][0]["visits"][1]["arrival_s"]
    with pytest.raises(InputError, match=r"routes\[0\]\.visits\[1\]\.arrival_s: missing"):
        RoutePlan.from_dict(bad)
    bad = copy.deepcopy(doc)
    bad["routes"][0]["visits"][0]["kind"] = "teleport"
    with pytest.raises(InputError, match=r"routes\[0\]\.visits\[0\]\.kind: 'teleport'"):
        RoutePlan.from_dict(bad)
    bad = copy.deepcopy(doc)
    bad["cost"] = "cheap"
    with pytest.raises(InputError, match="plan cost: 'cheap' is not a number"):
        RoutePlan.from_dict(bad)
    with pytest.raises(InputError, match="plan routes: missing"):
        RoutePlan.from_dict({"status": "feasible"})


def test_mismatched_problem_is_named(solved) -> None:
    prob, plan = solved
    doc = plan.to_dict()
    served = plan.routes[0].order_ids[0]
    fewer = prob.with_orders([o for o in prob.orders if o.id != served])
    with pytest.raises(InputError, match=rf"serves orders \['{served}'\] that are not in"):
        RoutePlan.from_dict(doc, fewer)
    extra = [*prob.orders, order("g")]
    with pytest.raises(InputError, match=r"orders \['g'\] are neither served nor unserved"):
        check_plan_ids(plan, orders=extra, vehicle_types=prob.vehicle_types,
                       depots=prob.depots, facilities=prob.facilities)  # fmt: skip
    other = [replace(prob.vehicle_types[0], id="u")]
    vid = plan.routes[0].vehicle_id
    pattern = rf"vehicles \[[^]]*'{vid}'[^]]*\] that are not in the fleet"
    with pytest.raises(InputError, match=pattern):
        check_plan_ids(plan, orders=prob.orders, vehicle_types=other, depots=prob.depots,
                       facilities=prob.facilities)  # fmt: skip
    assert any(r.unload_ids for r in plan.routes)
    with pytest.raises(InputError, match=r"unloads at \['S'\], which are not facility ids"):
        check_plan_ids(plan, orders=prob.orders, vehicle_types=prob.vehicle_types,
                       depots=prob.depots)  # fmt: skip


def test_fixed_stops_needs_ids_only(solved) -> None:
    prob, plan = solved
    route = plan.routes[0]
    ids = [o.id for o in prob.orders]
    locks = fixed_stops(plan, order_ids=ids, fixed_order_ids=route.order_ids[:2])
    stops = [v.location_id for v in route.visits if v.kind in ("order", "unload")]
    end = stops.index(route.order_ids[1]) + 1
    assert locks == {route.vehicle_id: tuple(stops[:end])}
    with pytest.raises(InputError, match=r"fixed order ids not in the problem: \['zz'\]"):
        fixed_stops(plan, order_ids=ids, fixed_order_ids=["zz"])
    with pytest.raises(InputError, match="must be a prefix"):
        fixed_stops(plan, order_ids=ids, fixed_order_ids=[route.order_ids[1]])
    with pytest.raises(InputError, match=r"added orders reuse existing ids \['a'\]"):
        fixed_stops(plan, order_ids=ids, fixed_order_ids=[], added_order_ids=["a"])
