"""Targets and phase evaluation: a missed and a met milestone, lights, entered values."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from actuals_cases import RATES, SITING
from recyclenet.actuals.compare import expectation_from_plans, plan_vs_actual
from recyclenet.actuals.records import make_record
from recyclenet.actuals.targets import Target, evaluate, pilot_values, read_targets
from recyclenet.errors import InputError

TARGETS_ZH = (
    "指标,指标名称,单位,基准值,基准年,目标值,目标年,阶段目标,填报值\n"
    "recovery_rate_main_materials,,pct,10,2024,50,2027,2025:20；2026:40,\n"
    "scrap_metal_t_per_year,废金属年回收量,t,100,2024,300,2028,2025:150,\n"
    "energy_output,能源产出率,万元/吨标煤,4,2020,6,2025,,5\n"
    "household_waste_safe_share,生活垃圾无害化处理率,pct,90,2024,100,2027,,\n"
    "co2e_kg_per_tonne,,kg_co2e_per_t,50,2024,30,2027,2025:45,\n"
)


def test_evaluation_with_missed_and_met_milestones(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_bytes(TARGETS_ZH.encode("gbk"))  # as a Chinese spreadsheet saves it
    targets = read_targets(path)
    assert [t.indicator for t in targets][:2] == [
        "recovery_rate_main_materials",
        "scrap_metal_t_per_year",
    ]
    assert targets[0].milestones == ((2025, 20.0), (2026, 40.0))
    values = {"recovery_rate_main_materials": 30.0, "scrap_metal_t_per_year": 120.0,
              "co2e_kg_per_tonne": 44.0}  # fmt: skip
    ev = evaluate(targets, values, as_of="2026-06-30")
    rec = ev.row("recovery_rate_main_materials")
    assert rec.source == "computed" and rec.progress == pytest.approx(0.5)
    # 2024-12-31 -> 2026-06-30 is 546 of the 1,095 days to 2027-12-31
    assert rec.expected_progress == pytest.approx(546 / 1095)
    assert [m.status for m in rec.milestones] == ["met", "pending"]
    assert rec.light == "green"
    metal = ev.row("scrap_metal_t_per_year")
    assert [m.status for m in metal.milestones] == ["missed"]  # 120 < 150 due end of 2025
    assert metal.light == "red" and metal.progress == pytest.approx(0.1)
    energy = ev.row("energy_output")
    assert energy.source == "entered" and energy.current == 5.0
    assert energy.expected_progress == 1.0 and energy.light == "amber"  # 50% at target year
    waste = ev.row("household_waste_safe_share")
    assert waste.source == "missing" and waste.light == "grey" and math.isnan(waste.progress)
    co2 = ev.row("co2e_kg_per_tonne")  # lower is better
    assert [m.status for m in co2.milestones] == ["met"] and co2.progress == pytest.approx(0.3)
    assert co2.target.name("zh") == "吨均碳排放"
    assert rec.target.name("en").startswith("Recovery rate of the main recyclable")
    doc = ev.to_dict("zh")
    assert doc["targets"][1]["name"] == "废金属年回收量"
    assert doc["targets"][1]["milestones"] == [{"year": 2025, "value": 150.0, "status": "missed"}]
    # an entered value given at evaluation time is used when nothing is computed
    ev2 = evaluate(targets, {}, as_of="2026-06-30", entered={"household_waste_safe_share": 97})
    assert ev2.row("household_waste_safe_share").progress == pytest.approx(0.7)


def test_pilot_values_from_plan_and_records() -> None:
    exp = expectation_from_plans(SITING, rates=RATES)
    recs = [
        make_record({"document_id": "a", "time": "2026-03-02", "station_id": "S1",
                     "category": "scrap_ferrous", "net_kg": 700}),
        make_record({"document_id": "b", "time": "2026-03-03", "order_id": "o1",
                     "category": "tv", "units": 3, "destination_id": "D1"}),
        make_record({"document_id": "c", "time": "2026-03-03", "order_id": "o2",
                     "category": "refrigerator", "units": 1, "destination_id": "yard"}),
    ]  # fmt: skip
    res = plan_vs_actual(exp, recs, start="2026-03-01", end="2026-05-13")
    values = pilot_values(result=res, records=recs, households=1700.0,
                          licensed={"D1": True, "yard": False})  # fmt: skip
    # expected 0.2 year x 1,700 households x 13 kg = 4,420 kg; collected 700 + 45 + 55
    assert values["recovery_rate_main_materials"] == pytest.approx(100 * 800 / 4420)
    assert values["recovery_rate.ferrous"] == pytest.approx(100 * 700 / 1360)
    assert values["scrap_metal_t"] == pytest.approx(0.7)
    assert values["scrap_metal_t_per_year"] == pytest.approx(3.5)
    assert values["appliance_units"] == 4 and values["appliance_units_licensed"] == 3
    assert values["kg_per_household_year"] == pytest.approx(800 * 5 / 1700)


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("x,,,10,2024,50,2023,,", "target_year 2023 must be after baseline_year 2024"),
        ("x,,,10,2024,50,2027,2028:60,", "milestone year(s) [2028] outside (2024, 2027]"),
        ("x,,,10,2024,50,2027,2026-40,", "milestone '2026-40' is not YEAR:VALUE"),
        ("x,,,ten,2024,50,2027,,", "row 2, column baseline_value: 'ten' is not a number"),
        ("x,,,10,2024,10,2027,,", "target_value equals baseline_value"),
    ],
)
def test_bad_targets(tmp_path: Path, row: str, needle: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(TARGETS_ZH.splitlines()[0] + "\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_targets(path)
    assert needle in str(err.value)


def test_target_checks_milestone_order() -> None:
    with pytest.raises(InputError, match="must increase"):
        Target("x", 1, 2020, 2, 2025, ((2023, 1.5), (2022, 1.2)))


def test_targets_from_excel_and_the_demo_table(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in TARGETS_ZH.splitlines()[:3]:
        ws.append([float(c) if c.replace(".", "").isdigit() else c for c in line.split(",")])
    wb.save(tmp_path / "t.xlsx")
    targets = read_targets(tmp_path / "t.xlsx")
    assert [(t.indicator, t.baseline_year, t.target_value) for t in targets] == [
        ("recovery_rate_main_materials", 2024, 50.0),
        ("scrap_metal_t_per_year", 2024, 300.0),
    ]
    demo = read_targets(None)
    assert {t.indicator for t in demo} >= {"community_coverage_share", "appliance_units_licensed"}
