"""Plan versus actual on a hand-checked case."""

from __future__ import annotations

import math
from typing import Any

import pytest

from actuals_cases import RATES, ROUTING, SITING
from recyclenet.actuals.compare import (
    achievement_layer,
    expectation_from_plans,
    plan_vs_actual,
)
from recyclenet.actuals.records import Record, make_record
from recyclenet.errors import InputError

# 2026-03-01 .. 2026-05-13 is 73 days: one fifth of a year
START, END = "2026-03-01", "2026-05-13"


def rec(doc: str, when: str, **kw: Any) -> Record:
    return make_record({"document_id": doc, "time": when, **kw})


def records() -> list[Record]:
    return [
        rec("a", "2026-03-02 08:00", station_id="S1", category="scrap_ferrous", net_kg=600,
            destination_id="C1", vehicle_id="v1", vehicle_km=24, district="东城"),
        rec("b", "2026-03-09 08:00", station_id="S1", category="scrap_non_ferrous", net_kg=200,
            destination_id="C1", district="东城"),
        rec("c", "2026-03-10 09:00", station_id="S2", category="scrap_ferrous", net_kg=100,
            destination_id="C1", vehicle_id="v1", vehicle_km=27, district="西城"),
        rec("d", "2026-04-01 09:00", station_id="S3", category="scrap_mixed", net_kg=400,
            district="西城"),
        rec("e", "2026-04-02 09:00", station_id="S4", category="scrap_ferrous", net_kg=50),
        rec("f", "2026-04-02 10:00", order_id="hh1", category="tv", units=2),
        # outside the period: ignored
        rec("g", "2026-05-13 00:00", station_id="S1", category="scrap_ferrous", net_kg=1e6),
    ]  # fmt: skip


def test_hand_checked_plan_vs_actual() -> None:
    exp = expectation_from_plans(
        SITING, ROUTING, rates=RATES, order_items={"hh1": {"tv": 2}, "hh2": {"refrigerator": 1}}
    )
    res = plan_vs_actual(exp, records(), start=START, end=END, bucket="month")
    assert res.days == 73 and res.records_counted == 6
    # stations on scrap metals: households x 5 kg/year x 0.2 year
    s1, s2, s3, s4 = (res.station(s) for s in ("S1", "S2", "S3", "S4"))
    assert s1.expected_kg == pytest.approx(1000.0) and s1.collected_kg == 800.0
    assert s1.flag == "ok" and s1.achievement == pytest.approx(0.8)
    assert s2.expected_kg == pytest.approx(500.0) and s2.flag == "below"
    assert s3.expected_kg == pytest.approx(200.0) and s3.collected_kg == 400.0  # mixed = ferrous
    assert s3.flag == "above"
    assert s4.flag == "not_planned" and s4.expected_kg == 0.0
    assert res.flagged("below") == ["S2"]
    # districts from the records
    dist = {r.key: r for r in res.districts}
    assert dist["东城"].expected_kg == pytest.approx(1000.0)
    assert dist["西城"].collected_kg == 500.0 and dist["西城"].expected_kg == pytest.approx(700.0)
    # materials over the whole area
    mat = {r.key: r for r in res.materials}
    assert mat["ferrous"].expected_kg == pytest.approx(0.2 * 1700 * 4)
    assert mat["ferrous"].collected_kg == 600 + 100 + 400 + 50
    assert mat["non_ferrous"].collected_kg == 200
    assert mat["appliances"].expected_kg == pytest.approx(0.2 * 1700 * 8)
    assert mat["appliances"].collected_kg == 30.0  # 2 TVs x 15 kg
    # months: March has 31 of the 73 days
    per = {r.key: r for r in res.periods}
    assert per["2026-03-01|ferrous"].collected_kg == 700
    assert per["2026-03-01|ferrous"].expected_kg == pytest.approx(1360 * 31 / 73)
    assert per["2026-05-01|ferrous"].collected_kg == 0
    # sorting centre: capacity = 100 / 0.5; 0.9 t in a fifth of a year = 4.5 t/year
    (c1,) = res.centres
    assert c1.capacity_t_per_year == 200.0 and c1.actual_t == pytest.approx(0.9)
    assert c1.actual_t_per_year == pytest.approx(4.5)
    assert c1.actual_utilisation_pct == pytest.approx(2.25)
    assert c1.planned_utilisation_pct == pytest.approx(50.0)
    # vehicle-km: 25 km/day planned, 2 days with records
    (v1,) = res.vehicles
    assert (v1.days, v1.planned_km, v1.reported_km) == (2, 50.0, 51.0)
    assert res.missed_order_ids == ("hh2",)
    doc = res.to_dict()
    assert doc["stations"][1]["achievement_pct"] == 20.0


def test_weekly_buckets_start_monday() -> None:
    exp = expectation_from_plans(SITING, rates=RATES)
    res = plan_vs_actual(exp, records(), start="2026-03-04", end="2026-03-18")
    keys = sorted({r.key.split("|")[0] for r in res.periods})
    assert keys == ["2026-03-02", "2026-03-09", "2026-03-16"]
    per = {r.key: r for r in res.periods}
    assert per["2026-03-09|ferrous"].collected_kg == 100
    assert per["2026-03-02|ferrous"].expected_kg == pytest.approx(
        0.2 * 1700 * 4 / 73 * 5
    )  # Wed-Sun of that week


def test_achievement_layer_colours_stations() -> None:
    exp = expectation_from_plans(SITING, rates=RATES)
    res = plan_vs_actual(exp, records(), start=START, end=END)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": s, "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
         "properties": {"site_id": s, "state": "opened"}} for s in ("S1", "S2", "S3")
    ] + [{"type": "Feature", "id": "X", "geometry": {"type": "Point", "coordinates": [0, 0]},
          "properties": {"site_id": "X", "state": "closed"}}]}  # fmt: skip
    layer = achievement_layer(res, fc)
    props = {f["id"]: f["properties"] for f in layer["features"]}
    assert set(props) == {"S1", "S2", "S3"}
    assert props["S2"]["flag"] == "below" and props["S2"]["colour"] == "#d7301f"
    assert props["S1"]["achievement_pct"] == 80.0


def test_bad_period() -> None:
    exp = expectation_from_plans(SITING, rates=RATES)
    with pytest.raises(InputError, match="end 2026-03-01 must be after start"):
        plan_vs_actual(exp, [], start="2026-03-01", end="2026-03-01")
    with pytest.raises(InputError, match="not a date"):
        plan_vs_actual(exp, [], start="March", end="2026-03-01")
    res = plan_vs_actual(exp, [], start=START, end=END)
    assert res.flagged("no_records") == ["S1", "S2", "S3"]
    assert math.isclose(res.expected_kg, 0.2 * 1700 * 13)
