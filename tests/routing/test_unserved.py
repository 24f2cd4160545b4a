"""Every unserved reason, each produced while every other order is still planned."""

from __future__ import annotations

import pytest
from routing_helpers import TL, assert_feasible, order, problem

from recyclenet.routing import REASONS, VehicleType, diagnose, solve_routing

XY = {"D": (0, 0), "ok": (1000, 0), "x": (2000, 0)}


def _fleet(**kw: object) -> list[VehicleType]:
    base: dict[str, object] = dict(
        id="t",
        count=1,
        start_id="D",
        capacity_kg=300.0,
        capacity_m3=1.5,
        shift=(8 * 3600.0, 18 * 3600.0),
    )
    base.update(kw)
    return [VehicleType(**base)]  # type: ignore[arg-type]


CASES = {
    "capacity": dict(orders=[order("x", load_kg=500.0)]),
    "time_window": dict(orders=[order("x", time_windows=[(3600.0, 7200.0)])]),
    "skill": dict(orders=[order("x", required_skills={"refrigerant"})]),
    "unreachable": dict(orders=[order("x")], blocked={"car": ["x"]}),
    "shift": dict(orders=[order("x", service_s=11 * 3600.0)]),
}


@pytest.mark.parametrize("reason", sorted(CASES))
def test_each_pre_solve_reason(engine, reason):
    case = CASES[reason]
    prob = problem(XY, [order("ok", load_kg=10.0), *case["orders"]], _fleet(),
                   blocked=case.get("blocked"))  # fmt: skip
    diag = diagnose(prob)
    assert [(u.order_id, u.reason) for u in diag.unserved] == [("x", reason)]
    assert "'x'" in diag.unserved[0].message
    plan = solve_routing(prob, engine=engine, time_limit_s=TL)
    assert_feasible(plan, prob)
    assert plan.served_order_ids == ("ok",)
    assert plan.reason_of("x") == reason


def test_reason_is_from_the_type_that_got_furthest():
    # the tricycle cannot reach x at all; the truck reaches it but lacks capacity
    fleet = [
        VehicleType("tricycle", start_id="D", capacity_kg=300.0, profile="tricycle"),
        VehicleType("truck", start_id="D", capacity_kg=400.0, profile="truck"),
    ]
    prob = problem(XY, [order("x", load_kg=500.0)], fleet, blocked={"tricycle": ["x"]})
    (u,) = diagnose(prob).unserved
    assert u.reason == "capacity"
    assert "tricycle" in u.message and "truck capacity 400" in u.message


def test_diagnosis_restricts_eligible_types():
    fleet = [VehicleType("small", start_id="D", capacity_kg=100.0),
             VehicleType("big", start_id="D", capacity_kg=1000.0)]  # fmt: skip
    prob = problem(XY, [order("x", load_kg=500.0), order("ok", load_kg=50.0)], fleet)
    diag = diagnose(prob)
    assert diag.allowed_types == {"x": ("big",), "ok": ("small", "big")}


def test_fleet_and_cost_reasons_after_solving():
    assert set(REASONS) == {"off_road", "capacity", "time_window", "skill", "unreachable",
                            "shift", "cost", "fleet", "facility_capacity"}  # fmt: skip
    orders = [order("ok", load_kg=200.0), order("x", load_kg=200.0),
              order("opt", load_kg=10.0, required=False, penalty=0.001)]  # fmt: skip
    prob = problem({**XY, "opt": (0, 9000)}, orders, _fleet())
    plan = solve_routing(prob, engine="ortools", time_limit_s=TL)
    assert_feasible(plan, prob)
    assert len(plan.served_order_ids) == 1
    reasons = {u.order_id: u.reason for u in plan.unserved}
    assert reasons["opt"] == "cost"
    assert sorted(reasons.values()) == ["cost", "fleet"]
