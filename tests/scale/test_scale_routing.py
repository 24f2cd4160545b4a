"""Routing by depot and by cluster, then shared vehicles, against the monolithic solve."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import LAT, LON, depot, problem

from recyclenet.errors import InputError
from recyclenet.routing import (
    Order,
    RoutePlan,
    RoutingProblem,
    VehicleType,
    check_plan,
    solve_routing,
)
from recyclenet.scale import partition_orders, solve_routing_decomposed, split_fleet
from recyclenet.scale.routing import kmeans_labels, largest_remainder

#: Measured on the Helsinki day (70 orders, 2 depots, 12 vehicles, PyVRP, 4 s): the
#: monolithic plan costs 732 (2 routes), by depot 977 (4 routes: each depot sends its own
#: truck, at a fixed cost of 150 each), by cluster 933 (3 s: the same). On a 1.6 km sample the fixed
#: costs dominate; the ratio asserted is that of this instance, with room.
COST_RATIO_MAX = 1.5


def _totals(plan: RoutePlan, prob: RoutingProblem) -> tuple[float, float]:
    served = set(plan.served_order_ids)
    unserved = {u.order_id for u in plan.unserved}
    kg_served = sum(prob.order(i).load_kg for i in served)
    kg_unserved = sum(prob.order(i).load_kg for i in unserved)
    return kg_served, kg_unserved


def _check_merged(plan: RoutePlan, prob: RoutingProblem) -> None:
    """Feasible for the whole problem, vehicle ids unique, every order accounted for."""
    assert check_plan(plan, prob) == []
    vehicles = [r.vehicle_id for r in plan.routes]
    assert len(vehicles) == len(set(vehicles))
    assert set(vehicles) <= {v for v, _ in prob.vehicles()}
    served = list(plan.served_order_ids)
    unserved = [u.order_id for u in plan.unserved]
    assert sorted(served + unserved) == sorted(o.id for o in prob.orders)
    assert all(u.reason and u.message for u in plan.unserved)
    kg_served, kg_unserved = _totals(plan, prob)
    assert kg_served + kg_unserved == pytest.approx(sum(o.load_kg for o in prob.orders))
    assert sum(plan.kg_by_material.values()) == pytest.approx(kg_served)
    assert plan.cost == pytest.approx(sum(r.cost for r in plan.routes))


# --------------------------------------------------------------------------- splitting


def test_largest_remainder_and_kmeans_are_deterministic() -> None:
    assert largest_remainder(7, np.array([0.5, 0.3, 0.2])).tolist() == [4, 2, 1]
    assert largest_remainder(2, np.array([1.0, 1.0, 1.0])).tolist() == [1, 1, 0]
    assert largest_remainder(0, np.array([0.5, 0.5])).tolist() == [0, 0]
    rng = np.random.default_rng(0)
    xy = np.vstack([rng.normal((0, 0), 50, (30, 2)), rng.normal((5000, 0), 50, (20, 2))])
    labels = kmeans_labels(xy, 2)
    assert len(set(labels[:30])) == 1 and len(set(labels[30:])) == 1
    assert labels[0] != labels[30]
    assert (kmeans_labels(xy, 2) == labels).all()


XY = {
    "A": (0.0, 0.0),
    "B": (10_000.0, 0.0),
    "a1": (500.0, 0.0),
    "a2": (700.0, 100.0),
    "a3": (900.0, -100.0),
    "a4": (1_100.0, 0.0),
    "b1": (9_500.0, 0.0),
}
"""Metres east and north; travel is Euclidean at 10 m/s (``routing_helpers``)."""


def _order(oid: str, load_kg: float = 100.0) -> Order:
    x, y = XY[oid]  # lon/lat near Beijing that match the metres, for clustering
    return Order(oid, LON + x / 85_000.0, LAT + y / 111_000.0, load_kg=load_kg)


def _line_problem() -> RoutingProblem:
    """Depots A at x=0 and B at x=10 km; orders a1-a4 near A, b1 near B (100 kg each)."""
    orders = [_order(i) for i in ("a1", "a2", "a3", "a4", "b1")]
    fleet = [
        VehicleType("van_a", count=1, capacity_kg=200.0, start_id="A"),
        VehicleType("van_b", count=2, capacity_kg=200.0, start_id="B"),
    ]
    return problem(XY, orders, fleet, depots=[depot("A"), depot("B")])


def test_by_depot_fills_each_depot_up_to_its_fleet() -> None:
    prob = _line_problem()
    # nearest depot only: A gets four orders for one 200 kg van
    assert partition_orders(prob, by="depot", depot_fill=None) == {
        "A": ("a1", "a2", "a3", "a4"),
        "B": ("b1",),
    }
    # with room: the orders with the most to lose go first (a1 and b1 tie at 1,800 s of
    # regret, then a2, a3, a4); A's van takes two, B's vans the rest
    parts = partition_orders(prob, by="depot", depot_fill=1.0)
    assert parts == {"A": ("a1", "a2"), "B": ("a3", "a4", "b1")}
    assert split_fleet(prob, parts, by="depot") == {"A": {"van_a": 1}, "B": {"van_b": 2}}
    # at the default fill (90%: 180 and 360 kg) A takes a1, B b1, a2 and a3; a4 fits
    # nowhere and stays with its nearest depot, for stage 2 if A's van cannot take it
    assert partition_orders(prob, by="depot") == {"A": ("a1", "a4"), "B": ("a2", "a3", "b1")}
    with pytest.raises(InputError, match=r"depot_fill=1\.5 must be in"):
        partition_orders(prob, by="depot", depot_fill=1.5)


def test_by_depot_then_leftover_vehicles_serve_what_a_depot_could_not() -> None:
    prob = _line_problem()
    parts = partition_orders(prob, by="depot", depot_fill=None)
    got = solve_routing_decomposed(
        prob, by="depot", depot_fill=None, engine="ortools", time_limit_s=1, min_part_time_s=0.3
    )
    # A's one van carries two orders; B's spare van comes for the other two in stage 2
    part_a = got.parts["A"].plan
    assert part_a is not None and len(part_a.served_order_ids) == 2
    assert got.stage2 is not None and sorted(got.stage2.order_ids) == sorted(
        set(parts["A"]) - set(part_a.served_order_ids)
    )
    assert got.stage2.fleet == {"van_b": 1}
    assert got.stage2.vehicle_ids == {"van_b-1": "van_b-2"}
    _check_merged(got.plan, prob)
    assert got.plan.unserved == ()
    assert {r.vehicle_id for r in got.plan.routes} == {"van_a-1", "van_b-1", "van_b-2"}
    assert got.statistics["served_after_stage1"] == 3
    assert got.statistics["served_after_stage2"] == 5


def test_orders_no_vehicle_can_serve_keep_their_reason() -> None:
    prob = _line_problem()
    heavy = _order("a4", load_kg=500.0)  # above every van's 200 kg
    prob = prob.with_orders([*(o for o in prob.orders if o.id != "a4"), heavy])
    got = solve_routing_decomposed(
        prob, by="depot", engine="ortools", time_limit_s=1, min_part_time_s=0.3
    )
    _check_merged(got.plan, prob)
    assert [(u.order_id, u.reason) for u in got.plan.unserved] == [("a4", "capacity")]


def test_cluster_split_gives_each_part_a_share_of_every_type() -> None:
    prob = _line_problem()
    parts = partition_orders(prob, by="cluster", n_parts=2)
    assert parts == {"cluster-1": ("a1", "a2", "a3", "a4"), "cluster-2": ("b1",)}
    # demand shares 0.8 and 0.2: van_a (1) to the first part, van_b (2) split 2 / 0, and
    # the second part, left without a vehicle, takes one van_b from the first
    assert split_fleet(prob, parts, by="cluster") == {
        "cluster-1": {"van_a": 1, "van_b": 1},
        "cluster-2": {"van_b": 1},
    }


# --------------------------------------------------------------------------- Helsinki


@pytest.fixture(scope="module")
def mono(helsinki_day: RoutingProblem) -> RoutePlan:
    """The monolithic plan of the Helsinki day (PyVRP, 3 s)."""
    return solve_routing(helsinki_day, engine="pyvrp", time_limit_s=3, seed=1)


@pytest.mark.parametrize("by", ["depot", "cluster"])
def test_decomposed_day_against_monolithic(helsinki_day, mono, client, by) -> None:  # type: ignore[no-untyped-def]
    prob = helsinki_day
    got = solve_routing_decomposed(
        prob, by=by, engine="pyvrp", time_limit_s=3, seed=1, client=client
    )
    assert got.statistics["workers"] == 2 and got.statistics["parts"] == 2
    assert set(got.parts) == ({"west", "east"} if by == "depot" else {"cluster-1", "cluster-2"})
    assert all(p.plan is not None and not p.error for p in got.parts.values())
    _check_merged(got.plan, prob)
    assert check_plan(mono, prob) == []
    # same orders served as the monolithic plan (all of them, on this day)
    assert len(got.plan.served_order_ids) == len(mono.served_order_ids) == len(prob.orders)
    assert mono.cost <= got.plan.cost * 1.02
    assert got.plan.cost <= COST_RATIO_MAX * mono.cost
    rows = got.part_rows()
    assert sum(r["orders"] for r in rows if r["part_id"] != "stage2") == len(prob.orders)
