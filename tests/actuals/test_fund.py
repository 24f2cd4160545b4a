"""The appliance fund: hand-checked subsidies either side of 2016-01-01 and 2021-04-01."""

from __future__ import annotations

from datetime import date

import pytest

from recyclenet.actuals.fund import (
    FacilityInfo,
    classify,
    estimate_fund,
    read_facilities,
    units_from_records,
    units_from_routing,
)
from recyclenet.actuals.records import make_record
from recyclenet.errors import InputError

FAC = {"D1": FacilityInfo("D1", "拆解厂", True), "C1": FacilityInfo("C1", "分拣中心", False)}


def _records(day: str, mix: list[tuple[str, str | None, float | None, int]], dest: str = "D1"):
    return [make_record({"document_id": f"{day}-{k}", "time": f"{day} 10:00", "order_id": f"o{k}",
                         "category": cat, "appliance_type": kind, "size": size, "units": n,
                         "destination_id": dest})
            for k, (cat, kind, size, n) in enumerate(mix)]  # fmt: skip


MIX_2016 = [("tv", "lcd", 32.0, 2), ("refrigerator", None, 200.0, 1),
            ("air_conditioner", "split", 3500.0, 1)]  # fmt: skip
EXCLUDED = [("tv", "crt", 12.0, 1), ("washing_machine", "single_tub", 3.0, 1),
            ("refrigerator", None, 40.0, 1)]  # fmt: skip
MIX_2021 = [("tv", "crt", 20.0, 1), ("washing_machine", "twin_tub", 8.0, 1),
            ("computer", "laptop", None, 1)]  # fmt: skip


def _due(day: str, mix) -> float:  # type: ignore[no-untyped-def]
    return estimate_fund(units_from_records(_records(day, mix)), FAC).subsidy_cny


def test_either_side_of_2016_01_01() -> None:
    # 2012 standard: TV 85, fridge 80, air conditioner 35 per unit
    assert _due("2015-12-31", MIX_2016) == 2 * 85 + 80 + 35
    # 2016 standard: flat TV 70, fridge 50-500 L 80, air conditioner 130
    assert _due("2016-01-01", MIX_2016) == 2 * 70 + 80 + 130
    # excluded from 2016: CRT under 14 inch, washer of 3 kg, fridge under 50 L
    est = estimate_fund(units_from_records(_records("2016-01-01", MIX_2016 + EXCLUDED)), FAC)
    assert est.subsidy_cny == 350 and est.eligible_units == 4
    zero = {x.klass: x for x in est.lines if not x.eligible}
    assert set(zero) == {"tv_crt_lt14", "washing_machine_le3", "refrigerator_lt50"}
    assert all(x.subsidy_cny == 0 for x in zero.values())


def test_either_side_of_2021_04_01() -> None:
    # 2016 standard: CRT 14-25 inch 60, twin-tub 3-10 kg 45, laptop 70
    assert _due("2021-03-31", MIX_2021) == 60 + 45 + 70
    # 2021 standard: 40, 30, 45
    assert _due("2021-04-01", MIX_2021) == 40 + 30 + 45
    assert _due("2021-04-01", [("air_conditioner", "split", 14000.0, 2)]) == 200
    assert _due("2021-04-01", [("refrigerator", None, 500.0, 1)]) == 55  # 500 L included
    assert _due("2021-04-01", [("refrigerator", None, 50.0, 1)]) == 55  # 50 L included


def test_flags_unlicensed_and_unclassifiable() -> None:
    recs = _records("2021-05-03", [("tv", "lcd", 55.0, 3)], dest="C1")
    recs += _records("2021-05-04", [("tv", None, 20.0, 1), ("washing_machine", "drum", None, 1)])
    recs += _records("2021-05-05", [("tv", "液晶", 40.0, 1)])  # Chinese type word
    est = estimate_fund(units_from_records(recs), FAC)
    reasons = sorted((f.category, f.reason, f.units) for f in est.flags)
    assert reasons == [("tv", "needs_type", 1.0), ("tv", "not_licensed", 3.0),
                       ("washing_machine", "needs_size", 1.0)]  # fmt: skip
    assert est.subsidy_cny == 45 and est.lines[0].period == "2021-05-01"
    # after the fund's per-unit standards ended (2024 special fund): no standard
    assert classify("tv", "lcd", 40.0, date(2024, 3, 1)).reason == "no_standard"


def test_planned_pickups_of_a_routing_plan() -> None:
    plan = {"routes": [{"visits": [
        {"kind": "start", "location_id": "depot"},
        {"kind": "order", "order_id": "hh1", "location_id": "hh1"},
        {"kind": "unload", "location_id": "D1"},
        {"kind": "order", "order_id": "hh2", "location_id": "hh2"},
        {"kind": "end", "location_id": "depot"}]}]}  # fmt: skip
    items = {"hh1": {"tv": 1, "refrigerator": 1}, "hh2": {"washing_machine": 1},
             "st1": {"scrap_ferrous": 120}}  # fmt: skip
    units = units_from_routing(plan, items, date(2021, 4, 1))
    est = estimate_fund(units, FAC)
    assert est.subsidy_cny == 45 + 55  # flat TV, 200 L fridge (assumed), to the dismantler
    assert [(f.ref, f.reason) for f in est.flags] == [("hh2", "no_destination")]
    assert any("tv: planned units assumed lcd 32" in a for a in est.assumptions)


def test_read_facilities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "f.csv"
    p.write_text("id,name,licensed_dismantler,capacity_t_per_year\nD1,拆解厂,yes,5000\n"
                 "C1,分拣中心,no,\n", encoding="utf-8")  # fmt: skip
    fac = read_facilities(p)
    assert fac["D1"].licensed_dismantler and fac["D1"].capacity_t_per_year == 5000
    assert not fac["C1"].licensed_dismantler
    p.write_text("id,licensed_dismantler\nD1,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2 \\(facility 'D1'\\)"):
        read_facilities(p)
