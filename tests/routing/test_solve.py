"""solve_routing: engine choice, same plan shape from both engines, no mutation."""

from __future__ import annotations

import copy
import json

import pytest
from routing_helpers import TL, assert_feasible, facility, order, problem

from recyclenet.deadline import Deadline
from recyclenet.errors import InputError
from recyclenet.routing import RoutePlan, VehicleType, fits_pyvrp, solve_routing
from recyclenet.routing import solve as solve_mod

XY = {"D": (0, 0), "S": (1500, 1500), "a": (1000, 0), "b": (2000, 500), "c": (0, 2000),
      "d": (-1000, 800), "e": (2500, 2500)}  # fmt: skip


def _problem(**kw: object):
    orders = [order(i, load_kg=120.0, volume_m3=0.3, service_s=300.0,
                    time_windows=[(8 * 3600.0, 14 * 3600.0)]) for i in "abcde"]  # fmt: skip
    fleet = [
        VehicleType(
            "tricycle",
            count=2,
            start_id="D",
            capacity_kg=300.0,
            capacity_m3=1.5,
            shift=(8 * 3600.0, 18 * 3600.0),
            fixed_cost=20.0,
            cost_per_km=0.3,
            cost_per_hour=30.0,
            **kw,
        )
    ]  # type: ignore[arg-type]
    return problem(XY, orders, fleet, facilities=[facility("S", unload_s=600.0)])


def _shape(plan: RoutePlan) -> dict:
    d = plan.to_dict()
    return {k: sorted(v) if isinstance(v, dict) else type(v).__name__ for k, v in d.items()}


def test_both_engines_give_the_same_plan_shape_and_feasible_routes():
    prob = _problem()
    # 3 s: with its final unload (the day ends delivered) the day has three unloads, and
    # PyVRP needs more than 1 s on a loaded machine to find the optimum every time
    plans = {e: solve_routing(prob, engine=e, time_limit_s=3 * TL) for e in ("ortools", "pyvrp")}
    for e, plan in plans.items():
        assert plan.engine == e
        assert_feasible(plan, prob)
        assert set(plan.served_order_ids) == set("abcde")
        json.dumps(plan.to_dict())
    assert _shape(plans["ortools"]) == _shape(plans["pyvrp"])
    r0 = plans["ortools"].to_dict()["routes"][0]
    r1 = plans["pyvrp"].to_dict()["routes"][0]
    assert sorted(r0) == sorted(r1)
    assert sorted(r0["visits"][0]) == sorted(r1["visits"][0])
    # small instance: both find the same optimum
    assert plans["ortools"].cost == pytest.approx(plans["pyvrp"].cost, rel=1e-6)


def test_totals():
    prob = _problem()
    plan = solve_routing(prob, engine="pyvrp", time_limit_s=TL)
    assert plan.kg_by_material == {"unspecified": pytest.approx(600.0)}
    assert plan.vehicle_km == pytest.approx(sum(r.distance_m for r in plan.routes) / 1000)
    assert plan.vehicle_hours == pytest.approx(sum(r.duration_s for r in plan.routes) / 3600)
    fixed = 20.0 * len(plan.routes)
    assert plan.cost == pytest.approx(fixed + 0.3 * plan.vehicle_km + 30.0 * plan.vehicle_hours)
    d = plan.to_dict()
    assert d["tonnes_by_material"] == {"unspecified": pytest.approx(0.6)}


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, Deadline]]:
    """Record (engine, seed, deadline) of every engine run that solve_routing starts."""
    calls: list[tuple[str, int, Deadline]] = []
    for name, label in (("_run_pyvrp", "pyvrp"), ("_run_ortools", "ortools"),
                        ("_start_child", "pyvrp child")):  # fmt: skip
        real = getattr(solve_mod, name)

        def wrapped(prob, diag, deadline, seed, *a, _real=real, _label=label, **kw):  # type: ignore[no-untyped-def]
            calls.append((_label, seed, deadline))
            return _real(prob, diag, deadline, seed, *a, **kw)

        monkeypatch.setattr(solve_mod, name, wrapped)
    return calls


def test_auto_runs_two_pyvrp_searches_each_until_the_whole_deadline(monkeypatch):
    prob = _problem()
    calls = _spy(monkeypatch)
    call = Deadline.after(3.5)
    plan = solve_routing(prob, engine="auto", deadline=call, seed=3)
    assert_feasible(plan, prob)
    stats = plan.statistics
    assert set(stats["engines"]) == {"pyvrp", "pyvrp#2"}
    assert "two pyvrp searches" in stats["choice"]
    assert [(e, s) for e, s, _d in calls] == [("pyvrp child", 4), ("pyvrp", 3)]
    # both get the call's deadline less only the time kept for evaluating the plan
    engine_deadline = call.at_s - solve_mod._MARGIN_S - solve_mod._POST_S_PER_ORDER * 5
    for _e, _s, d in calls:
        assert d.at_s == pytest.approx(engine_deadline, abs=1e-9)
    assert {s["seed"] for s in stats["engines"].values()} == {3, 4}
    assert plan.engine == "pyvrp"
    best = min(s["objective"] for s in stats["engines"].values() if s["objective"] is not None)
    assert plan.objective == pytest.approx(best)
    assert stats["engines"][stats["kept"]]["objective"] == pytest.approx(plan.objective)


def test_auto_on_an_easy_day_ends_both_searches_on_the_no_improvement_rule():
    # a long limit: an easy day does not wait for it (the rule counts iterations)
    plan = solve_routing(_problem(), engine="auto", time_limit_s=120.0, seed=1)
    engines = plan.statistics["engines"]
    assert set(engines) == {"pyvrp", "pyvrp#2"}
    for info in engines.values():
        assert info["stopped"].startswith("no improvement"), info


def test_auto_with_breaks_runs_pyvrp_and_ortools_each_until_the_whole_deadline(monkeypatch):
    prob = _problem(break_window=(11 * 3600.0, 13 * 3600.0), break_s=1800.0)
    calls = _spy(monkeypatch)
    call = Deadline.after(3.5)
    plan = solve_routing(prob, engine="auto", deadline=call)
    assert_feasible(plan, prob)
    assert set(plan.statistics["engines"]) == {"pyvrp", "ortools"}
    assert sorted(e for e, _s, _d in calls) == ["ortools", "pyvrp child"]
    margin = (solve_mod._MARGIN_S + solve_mod._POST_S_PER_ORDER * 5
              + solve_mod._BREAKS_S_PER_ORDER * 5)  # fmt: skip
    for _e, _s, d in calls:
        assert d.at_s == pytest.approx(call.at_s - margin, abs=1e-9)


def test_auto_on_one_core_runs_pyvrp_alone(monkeypatch):
    monkeypatch.setattr(solve_mod, "_cores", lambda: 1)
    calls = _spy(monkeypatch)
    plan = solve_routing(_problem(), engine="auto", time_limit_s=3.0)
    assert [e for e, _s, _d in calls] == ["pyvrp"]
    assert "one core" in plan.statistics["choice"]


def test_breaks_with_pyvrp_are_placed_after_solving(engine):
    # the windows make the route span the break window: the break must be on the route
    xy = {"D": (0, 0), "a": (1000, 0), "b": (2000, 0)}
    orders = [order("a", service_s=1000.0, time_windows=[(0.0, 200.0)]),
              order("b", service_s=1000.0, time_windows=[(5000.0, 5100.0)])]  # fmt: skip
    fleet = [VehicleType("t", start_id="D", shift=(0.0, 8000.0), cost_per_hour=1.0,
                         break_window=(2000.0, 3000.0), break_s=600.0)]  # fmt: skip
    prob = problem(xy, orders, fleet)
    ok, why = fits_pyvrp(prob)
    assert not ok and "break" in why
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert plan.engine == engine
    assert_feasible(plan, prob)
    (route,) = plan.routes
    assert route.order_ids == ("a", "b")
    (b,) = route.breaks
    assert 2000.0 <= b.start_s <= 3000.0 and b.end_s == pytest.approx(b.start_s + 600.0)
    if engine == "pyvrp":
        assert "placed after" in plan.statistics["pyvrp_breaks"]


def test_bad_arguments():
    prob = _problem()
    with pytest.raises(InputError, match="engine"):
        solve_routing(prob, engine="gurobi", time_limit_s=TL)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="time_limit_s"):
        solve_routing(prob, time_limit_s=0)


def test_input_is_not_mutated():
    prob = _problem()
    before = copy.deepcopy(prob)
    solve_routing(prob, engine="ortools", time_limit_s=TL)
    for name in ("orders", "vehicle_types", "depots", "facilities"):
        assert getattr(prob, name) == getattr(before, name)
    assert all(m.duration_s.tolist() == before.matrices[p].duration_s.tolist()
               for p, m in prob.matrices.items())  # fmt: skip


def test_nothing_to_serve():
    prob = problem({"D": (0, 0), "x": (1, 0)}, [order("x", load_kg=1e6)],
                   [VehicleType("t", start_id="D", capacity_kg=10.0)])  # fmt: skip
    plan = solve_routing(prob, time_limit_s=TL)
    assert plan.status == "no_orders" and plan.routes == ()
    assert plan.reason_of("x") == "capacity"


def test_geojson_and_tables():
    from recyclenet.routing import plan_to_geojson, route_tables

    prob = _problem()
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    gj = plan_to_geojson(plan, prob)
    json.dumps(gj)
    kinds = [f["properties"]["kind"] for f in gj["features"]]
    assert kinds.count("route") == len(plan.routes)
    assert kinds.count("order") == 5
    line = next(f for f in gj["features"] if f["properties"]["kind"] == "route")
    assert line["geometry"]["coordinates"][0] == [116.4, 39.9]  # lon first
    calls = []

    def road(profile, a, b, pa, pb):
        calls.append((profile, a, b))
        return [pa, ((pa[0] + pb[0]) / 2, pa[1]), pb]

    gj = plan_to_geojson(plan, prob, leg_geometry=road)
    n_legs = sum(len(r.visits) - 1 for r in plan.routes)
    assert len(calls) == n_legs
    text = route_tables(plan)
    assert ("tricycle-1" in text and "unload" in text) or "order" in text
