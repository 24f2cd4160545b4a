"""Each constraint shown to bind, on instances small enough to check by hand."""

from __future__ import annotations

import itertools
import math

import pytest
from routing_helpers import TL, assert_feasible, depot, facility, order, problem

from recyclenet.routing import VehicleType, solve_routing

H = 3600.0


def _truck(**kw: object) -> VehicleType:
    base: dict[str, object] = dict(id="t", count=1, start_id="D", cost_per_km=1.0)
    base.update(kw)
    return VehicleType(**base)  # type: ignore[arg-type]


# ---------------------------------------------------------------- capacity, both dimensions


@pytest.mark.parametrize(
    ("kg", "m3", "cap_kg", "cap_m3"),
    [(200.0, 0.1, 300.0, 10.0), (10.0, 1.0, 1000.0, 1.5)],
    ids=["kg-binds", "m3-binds"],
)
def test_each_capacity_dimension_binds(engine, kg, m3, cap_kg, cap_m3):
    # two orders next to each other; one vehicle could take both if capacity allowed
    xy = {"D": (0, 0), "a": (1000, 0), "b": (1000, 10)}
    orders = [order("a", load_kg=kg, volume_m3=m3), order("b", load_kg=kg, volume_m3=m3)]
    fleet = [_truck(count=2, capacity_kg=cap_kg, capacity_m3=cap_m3)]
    prob = problem(xy, orders, fleet)
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    assert sorted(len(r.order_ids) for r in plan.routes) == [1, 1]
    # same instance with room for both: one route
    roomy = problem(xy, orders, [_truck(count=2, capacity_kg=2 * kg, capacity_m3=2 * m3)])
    plan2 = solve_routing(roomy, engine=engine, time_limit_s=TL)
    assert [len(r.order_ids) for r in plan2.routes] == [2]
    assert plan2.routes[0].visits[-2].load == pytest.approx((2 * kg, 2 * m3))


# ---------------------------------------------------------------- time windows


def test_time_windows_force_a_longer_order(engine):
    # a and b on a line; distance-optimal is D-a-b-D, windows force D-b-a-D
    xy = {"D": (0, 0), "a": (1000, 0), "b": (2000, 0)}
    orders = [order("a", time_windows=[(1000, 1100)]), order("b", time_windows=[(0, 300)])]
    prob = problem(xy, orders, [_truck()])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    assert plan.routes[0].order_ids == ("b", "a")
    start, b, a = plan.routes[0].visits[0:3]
    assert b.arrival_s - start.departure_s == pytest.approx(200.0)  # 2000 m at 10 m/s
    assert b.start_s <= 300.0
    assert a.arrival_s == pytest.approx(b.departure_s + 100.0)
    assert a.start_s == pytest.approx(1000.0)  # waits for the window
    assert plan.distance_m == pytest.approx(4000.0)


def test_second_of_several_windows_is_used(engine):
    xy = {"D": (0, 0), "a": (5000, 0)}  # 500 s away: the first window is missed
    orders = [order("a", time_windows=[(0, 100), (2000, 2500)], service_s=60)]
    prob = problem(xy, orders, [_truck(cost_per_hour=10.0)])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    a = plan.routes[0].visits[1]
    assert 2000.0 <= a.start_s <= 2500.0
    assert a.arrival_s == pytest.approx(a.start_s)  # leaves late enough not to wait
    assert plan.duration_s == pytest.approx(1060.0)


# ---------------------------------------------------------------- depots and fleet


def test_multi_depot_each_order_goes_to_the_near_depot(engine):
    xy = {"D1": (0, 0), "D2": (100_000, 0), "a": (1000, 0), "b": (99_000, 0)}
    fleet = [_truck(id="west", start_id="D1"), _truck(id="east", start_id="D2")]
    prob = problem(xy, [order("a"), order("b")], fleet, depots=[depot("D1"), depot("D2")])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    by_vehicle = {r.vehicle_id: r.order_ids for r in plan.routes}
    assert by_vehicle == {"west-1": ("a",), "east-1": ("b",)}
    assert plan.distance_m == pytest.approx(4000.0)


def test_mixed_fleet_uses_each_profile_matrix(engine):
    # the tricycle cannot reach "far" (inf in its matrix), the truck can; the tricycle
    # is cheaper per km, so it takes "near"
    xy = {"D": (0, 0), "near": (1000, 0), "far": (0, 3000)}
    fleet = [
        _truck(id="tricycle", profile="tricycle", cost_per_km=0.3, capacity_kg=300),
        _truck(id="truck", profile="truck", cost_per_km=1.5, capacity_kg=2000),
    ]
    prob = problem(xy, [order("near", load_kg=50), order("far", load_kg=50)], fleet,
                   blocked={"tricycle": ["far"]}, speeds={"tricycle": 5.0})  # fmt: skip
    plan = solve_routing(prob, engine=engine, time_limit_s=3 * TL)  # asserts the optimum
    assert_feasible(plan, prob)
    by_type = {r.vehicle_type_id: r.order_ids for r in plan.routes}
    assert by_type == {"tricycle": ("near",), "truck": ("far",)}
    tri = plan.route_of("tricycle-1")
    assert tri is not None
    assert tri.visits[1].arrival_s - tri.visits[0].departure_s == pytest.approx(200.0)  # 5 m/s
    assert plan.cost == pytest.approx(0.3 * 2 + 1.5 * 6)


def test_skills_send_the_fridge_to_the_trained_crew(engine):
    xy = {"D": (0, 0), "fridge": (1000, 0), "scrap": (1000, 50)}
    fleet = [_truck(id="cheap", cost_per_km=0.1), _truck(id="crew", cost_per_km=5.0,
                                                         skills={"refrigerant"})]  # fmt: skip
    orders = [order("fridge", required_skills={"refrigerant"}), order("scrap")]
    prob = problem(xy, orders, fleet)
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    by_type = {r.vehicle_type_id: r.order_ids for r in plan.routes}
    assert by_type == {"crew": ("fridge",), "cheap": ("scrap",)}


# ---------------------------------------------------------------- shift, duration, distance


def test_shift_end_binds(engine):
    # three 1000 s services 100 s apart: about 3300 s of work, shift 3000 s -> 2 served
    xy = {"D": (0, 0), "a": (500, 0), "b": (1000, 0), "c": (1500, 0)}
    orders = [order(i, service_s=1000.0) for i in "abc"]
    prob = problem(xy, orders, [_truck(shift=(0.0, 3000.0))])
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, prob)
    assert len(plan.served_order_ids) == 2
    assert [u.reason for u in plan.unserved] == ["fleet"]
    longer = problem(xy, orders, [_truck(shift=(0.0, 3400.0))])
    plan2 = solve_routing(longer, engine=engine, time_limit_s=TL)
    assert_feasible(plan2, longer)
    assert len(plan2.served_order_ids) == 3


def test_max_distance_and_duration_bind(engine):
    # two orders far apart in opposite directions: one vehicle cannot do both
    xy = {"D": (0, 0), "a": (5000, 0), "b": (-5000, 0)}
    orders = [order("a"), order("b")]
    by_dist = problem(xy, orders, [_truck(count=2, max_distance_m=12_000.0)])
    plan = solve_routing(by_dist, engine=engine, time_limit_s=TL)
    assert_feasible(plan, by_dist)
    assert sorted(len(r.order_ids) for r in plan.routes) == [1, 1]
    assert all(r.distance_m == pytest.approx(10_000.0) for r in plan.routes)
    by_time = problem(xy, orders, [_truck(count=2, max_duration_s=1200.0, fixed_cost=0.0)])
    plan = solve_routing(by_time, engine=engine, time_limit_s=TL)
    assert_feasible(plan, by_time)
    assert sorted(len(r.order_ids) for r in plan.routes) == [1, 1]
    assert all(r.duration_s == pytest.approx(1000.0) for r in plan.routes)


# ---------------------------------------------------------------- breaks (OR-Tools)


def test_break_binds_and_is_placed_in_its_window():
    xy = {"D": (0, 0), "a": (500, 0), "b": (1000, 0), "c": (1500, 0)}
    orders = [order(i, service_s=1000.0) for i in "abc"]
    brk = dict(break_window=(1000.0, 2500.0), break_s=600.0)
    # 3300 s of work + 600 s break does not fit in 3500 s
    tight = problem(xy, orders, [_truck(shift=(0.0, 3500.0), **brk)])
    plan = solve_routing(tight, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, tight)
    assert len(plan.served_order_ids) == 2
    roomy = problem(xy, orders, [_truck(shift=(0.0, 4000.0), **brk)])
    plan = solve_routing(roomy, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, roomy)
    route = plan.routes[0]
    assert len(route.order_ids) == 3
    (b,) = route.breaks
    assert 1000.0 <= b.start_s <= 2500.0 and b.end_s - b.start_s == pytest.approx(600.0)
    assert route.duration_s == pytest.approx(3000 + 300 + 600)


# ---------------------------------------------------------------- unloading mid-shift


def test_unloading_mid_shift_serves_more_than_one_load(engine):
    # one 300 kg vehicle, four 100 kg pickups: needs one unload at the sorting centre
    xy = {"D": (0, 0), "S": (2000, 0), "a": (1000, 100), "b": (1000, -100),
          "c": (3000, 100), "e": (3000, -100)}  # fmt: skip
    orders = [order(i, load_kg=100.0) for i in "abce"]
    fleet = [_truck(capacity_kg=300.0, cost_per_hour=10.0)]  # unloading costs time
    prob = problem(xy, orders, fleet, facilities=[facility("S", unload_s=600.0)])
    plan = solve_routing(prob, engine=engine, time_limit_s=3 * TL)  # asserts the optimum
    assert_feasible(plan, prob)
    route = plan.routes[0]
    assert len(route.order_ids) == 4
    # one unload mid-shift, one before going home (the day ends delivered)
    assert route.unload_ids == ("S", "S")
    assert [v.kind for v in route.visits[-2:]] == ["unload", "end"]
    for unload in (v for v in route.visits if v.kind == "unload"):
        assert unload.load == (0.0, 0.0)
        assert unload.departure_s - unload.start_s == pytest.approx(600.0)
    assert route.visits[-1].load == (0.0, 0.0)
    assert max(v.load_kg for v in route.visits) <= 300.0
    # brute force: every order of the 4 pickups with one unload after 1..3 of them
    best = min(
        sum(math.dist(xy[p], xy[q]) for p, q in itertools.pairwise(
            ["D", *perm[:k], "S", *perm[k:], "S", "D"]))
        for perm in itertools.permutations("abce") for k in (1, 2, 3)
    )  # fmt: skip
    assert route.distance_m == pytest.approx(best)
    # the same day without the sorting centre leaves one order out
    no_fac = problem(xy, orders, fleet)
    plan = solve_routing(no_fac, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, no_fac)
    assert len(plan.served_order_ids) == 3
    assert [u.reason for u in plan.unserved] == ["fleet"]


def test_day_can_end_at_the_sorting_centre(engine):
    xy = {"D": (0, 0), "S": (3000, 0), "a": (2000, 0)}
    fleet = [_truck(end_id="S", capacity_kg=300.0, cost_per_hour=10.0)]
    prob = problem(xy, [order("a", load_kg=100.0)], fleet, facilities=[facility("S",
                   unload_s=300.0)])  # fmt: skip
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    end = plan.routes[0].visits[-1]
    assert end.location_id == "S" and end.kind == "end"
    assert plan.routes[0].duration_s == pytest.approx(300.0 + 300.0)


def test_deliveries_are_carried_from_the_depot(engine):
    xy = {"D": (0, 0), "drop": (1000, 0), "pick": (2000, 0)}
    orders = [order("drop", kind="delivery", load_kg=50.0, volume_m3=1.0),
              order("pick", load_kg=200.0, volume_m3=0.5)]  # fmt: skip
    prob = problem(xy, orders, [_truck(capacity_kg=300.0, capacity_m3=1.2)])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    v = plan.routes[0].visits
    assert [x.location_id for x in v] == ["D", "drop", "pick", "D"]
    assert v[0].load == pytest.approx((50.0, 1.0))
    assert v[1].load == pytest.approx((0.0, 0.0))
    assert v[2].load == pytest.approx((200.0, 0.5))


# ---------------------------------------------------------------- optional orders, priorities


def test_optional_order_dropped_when_its_penalty_is_cheaper(engine):
    xy = {"D": (0, 0), "a": (1000, 0), "far": (50_000, 0)}
    cheap = [order("a"), order("far", required=False, penalty=10.0)]
    prob = problem(xy, cheap, [_truck(cost_per_km=1.0)])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    assert plan.served_order_ids == ("a",)
    assert plan.reason_of("far") == "cost"
    assert plan.penalty_cost == pytest.approx(10.0)
    assert plan.objective == pytest.approx(2.0 + 10.0)
    dear = [order("a"), order("far", required=False, penalty=1000.0)]
    prob = problem(xy, dear, [_truck(cost_per_km=1.0)])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert set(plan.served_order_ids) == {"a", "far"} and plan.unserved == ()


def test_priority_decides_which_required_order_is_served():
    # room for one of two orders; the lower-priority one is nearer (cheaper)
    xy = {"D": (0, 0), "low": (1000, 0), "high": (3000, 0)}
    orders = [order("low", load_kg=100.0), order("high", load_kg=100.0, priority=2)]
    prob = problem(xy, orders, [_truck(capacity_kg=100.0)])
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, prob)
    assert plan.served_order_ids == ("high",)
    assert plan.reason_of("low") == "fleet"


# ---------------------------------------------------------------- optimum by brute force


def test_engines_reach_the_brute_force_optimum(engine):
    xy = {"D": (0, 0), "a": (3000, 1000), "b": (-2000, 2500), "c": (1000, -3000),
          "d": (-1500, -1000), "e": (2500, 2500), "f": (-3000, 0)}  # fmt: skip
    ids = [k for k in xy if k != "D"]
    orders = [order(i, load_kg=100.0) for i in ids]
    prob = problem(xy, orders, [_truck(count=2, capacity_kg=300.0, fixed_cost=1.0)])
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)

    def length(seq: tuple[str, ...]) -> float:
        pts = ["D", *seq, "D"]
        return sum(math.dist(xy[p], xy[q]) for p, q in itertools.pairwise(pts)) / 1000.0

    best = math.inf
    for perm in itertools.permutations(ids):
        for split in range(3, 4):  # 6 orders of 100 kg, 300 kg each: 3 + 3
            best = min(best, length(perm[:split]) + length(perm[split:]))
    assert plan.cost == pytest.approx(best + 2.0, rel=1e-9)
