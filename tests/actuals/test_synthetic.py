"""The seeded record generator: deterministic, one weak station, missed pickups."""

from __future__ import annotations

from datetime import date

from actuals_cases import RATES, SITING
from recyclenet.actuals.compare import expectation_from_plans, plan_vs_actual
from recyclenet.actuals.records import RecordBook
from recyclenet.actuals.synthetic import synthetic_records


def test_month_of_records_around_a_plan() -> None:
    exp = expectation_from_plans(SITING, {"routes": [{"vehicle_id": "v1", "distance_m": 30e3}]},
                                 rates=RATES,
                                 order_items={f"o{k}": {"tv": 1} for k in range(20)})  # fmt: skip
    orders = {f"o{k}": "unload_C1" for k in range(20)}
    recs = synthetic_records(exp, start=date(2023, 3, 1), days=31, seed=3, vehicle_ids=["v1"],
                             plan_day_orders=orders, miss_rate=0.2)  # fmt: skip
    again = synthetic_records(exp, start=date(2023, 3, 1), days=31, seed=3, vehicle_ids=["v1"],
                              plan_day_orders=orders, miss_rate=0.2)  # fmt: skip
    assert recs == again  # seeded
    book = RecordBook()
    assert len(book.add(recs).added) == len(recs)  # unique document ids, all valid
    assert all(date(2023, 3, 1) <= r.time.date() < date(2023, 4, 1) for r in recs)
    assert all(r.time.weekday() != 6 for r in recs)  # no Sunday pickups
    res = plan_vs_actual(exp, recs, start="2023-03-01", end="2023-04-01")
    # S1 has the most scrap expected: it is the weak one (30% of plan)
    assert res.flagged("below") == ["S1"]
    assert 0.1 < res.station("S1").achievement < 0.5
    assert 0.6 < res.station("S2").achievement < 1.5
    assert 0 < len(res.missed_order_ids) < 20
    (v1,) = res.vehicles
    assert v1.days > 5 and abs(v1.reported_km / v1.planned_km - 1) < 0.1
    assert {r.destination_id for r in recs if r.station_id} == {"C1"}
    assert sum(1 for r in recs if r.order_id and r.destination_id == "dismantler_1") > 0


def test_station_pickups_take_turns_between_vehicles() -> None:
    exp = expectation_from_plans(SITING, rates=RATES)
    recs = synthetic_records(exp, start=date(2023, 3, 1), days=14, seed=1,
                             vehicle_ids=["v1", "v2"], miss_rate=0.0)  # fmt: skip
    by_vehicle = {v: sum(1 for r in recs if r.vehicle_id == v) for v in ("v1", "v2")}
    assert by_vehicle["v1"] > 0 and by_vehicle["v2"] > 0
    # one km report per vehicle and day
    reports = [(r.vehicle_id, r.time.date()) for r in recs if r.vehicle_km is not None]
    assert len(reports) == len(set(reports)) > 0
