"""`recyclenet actuals import|report` on a stored plan directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from actuals_cases import ROUTING, SITING
from recyclenet.cli import app

RECORDS = (
    "磅单号,过磅时间,站点,车牌号,品类,净重(kg),数量,去向,街道,里程\n"
    "T1,2026-03-02 08:00,S1,v1,废钢铁,600,,C1,东城,24\n"
    "T2,2026-03-09 08:00,S1,v1,有色金属,200,,C1,东城,27\n"
    "T3,2026-03-10 09:00,S2,v1,废钢铁,100,,C1,西城,\n"
)
APPLIANCES = (
    "单号,时间,订单号,品类,类型,尺寸,数量,去向\n"
    "A1,2021-03-31 10:00,o1,电视机,液晶,42,2,D1\n"
    "A2,2021-04-01 10:00,o2,电视机,液晶,42,2,D1\n"
    "A3,2021-04-01 11:00,o3,冰箱,,180,1,C1\n"
)


def _plan_dir(tmp: Path) -> Path:
    d = tmp / "plan"
    d.mkdir()
    siting = json.loads(json.dumps(SITING))
    siting["stations"]["indicators"].update({
        "households_total": 1700.0, "share_households_within_radius": 0.9,
        "access_distance_mean_m": 200.0, "access_distance_p95_m": 450.0,
        "households_per_station_mean": 566.7})  # fmt: skip
    (d / "siting_plan.json").write_text(json.dumps(siting), encoding="utf-8")
    visit = {"kind": "start", "location_id": "depot", "distance_from_previous_m": 0.0,
             "load_kg": 0.0, "volume_m3": 0.0}  # fmt: skip
    route = {
        **ROUTING["routes"][0],
        "vehicle_type_id": "car",
        "profile": "car",
        "duration_s": 3600.0,
        "visits": [visit, {**visit, "kind": "end", "distance_from_previous_m": 25_000.0}],
    }
    routing: dict[str, Any] = {"routes": [route], "kg_by_material": {}, "cost": 10.0,
                               "unserved": []}  # fmt: skip
    (d / "routing_plan.json").write_text(json.dumps(routing), encoding="utf-8")
    pts = {"S1": [116.40, 39.90], "S2": [116.41, 39.91], "S3": [116.42, 39.92]}
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": s, "geometry": {"type": "Point", "coordinates": c},
         "properties": {"site_id": s, "state": "opened"}} for s, c in pts.items()]}  # fmt: skip
    (d / "stations.geojson").write_text(json.dumps(fc), encoding="utf-8")
    stops = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
         "properties": {"kind": "order", "order_id": "hh1",
                        "items": [{"category": "tv", "count": 1}]}}]}  # fmt: skip
    (d / "routes.geojson").write_text(json.dumps(stops), encoding="utf-8")
    return d


def test_import_twice_then_report_zh(tmp_path: Path) -> None:
    runner = CliRunner()
    src = tmp_path / "磅单.csv"
    src.write_bytes(RECORDS.encode("gbk"))
    store = tmp_path / "records.jsonl"
    first = runner.invoke(app, ["actuals", "import", str(src), "--store", str(store)])
    assert first.exit_code == 0, first.output
    assert "3 record(s) added, 0 already" in first.output
    again = runner.invoke(app, ["actuals", "import", str(src), "--store", str(store)])
    assert "0 record(s) added, 3 already" in again.output
    # a bad file: the row and column are named, exit status 2, the store unchanged
    bad = tmp_path / "bad.csv"
    bad.write_text(RECORDS.replace("T3,2026-03-10", "T4,2026-13-10"), encoding="utf-8")
    res = runner.invoke(app, ["actuals", "import", str(bad), "--store", str(store)])
    assert res.exit_code == 2 and "row 4, column time" in res.output
    assert len(store.read_text(encoding="utf-8").splitlines()) == 3

    plan = _plan_dir(tmp_path)
    out = tmp_path / "out"
    res = runner.invoke(app, ["actuals", "report", str(plan), "--records", str(store),
                              "--from", "2026-03-01", "--to", "2026-05-13", "--out", str(out),
                              "--bucket", "month", "--lang", "zh"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "collected 900 kg of 4,420 kg expected" in res.output
    assert "below plan: S2" in res.output
    doc = json.loads((out / "plan_vs_actual.json").read_text(encoding="utf-8"))
    assert doc["missed_order_ids"] == ["hh1"]
    assert doc["vehicles"] == [{"vehicle_id": "v1", "days": 2, "planned_km": 50.0,
                                "reported_km": 51.0}]  # fmt: skip
    layer = json.loads((out / "station_achievement.geojson").read_text(encoding="utf-8"))
    assert {f["id"]: f["properties"]["flag"] for f in layer["features"]} == {
        "S1": "ok",
        "S2": "below",
        "S3": "no_records",
    }
    assert (out / "actuals_ferrous.png").stat().st_size > 5000
    assert (out / "station_achievement.png").stat().st_size > 5000
    assert "![station_achievement](station_achievement.png)" in (
        out / "actuals_report.md"
    ).read_text(encoding="utf-8")
    md = (out / "actuals_report.md").read_text(encoding="utf-8")
    assert "## 计划与实际对比" in md and "明显低于计划" in md
    assert "| S2 | 西城 | 500 | 100 | 20 | 明显低于计划 | 1 |" in md
    assert "![actuals_ferrous](actuals_ferrous.png)" in md
    html = (out / "actuals_report.html").read_text(encoding="utf-8")
    assert "分拣中心利用率" in html and "data:image/png;base64," in html


def test_evaluate_cli(tmp_path: Path) -> None:
    plan = _plan_dir(tmp_path)
    src = tmp_path / "r.csv"
    src.write_text(RECORDS, encoding="utf-8")
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "indicator,baseline_value,baseline_year,target_value,target_year,milestones,value\n"
        "recovery_rate_main_materials,10,2024,50,2027,2025:15;2026:40,\n"
        "scrap_metal_t,0.5,2024,2,2027,2025:1,\n"
        "energy_output,4,2020,6,2030,,5\n", encoding="utf-8")  # fmt: skip
    out = tmp_path / "ev"
    res = CliRunner().invoke(app, ["evaluate", str(targets), "--plan", str(plan), "--records",
                                   str(src), "--from", "2026-03-01", "--to", "2026-05-13",
                                   "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    # 900 kg of 4,420 kg expected = 20.4%: the 2025 milestone (15) is met, but 26% progress
    # is behind the 45% of the way from 2024-12-31 to 2027-12-31 on 2026-05-12: amber
    assert "amber  Recovery rate of the main recyclable materials" in res.output
    assert "20.36 (computed), progress 26%" in res.output
    # 0.9 t < the 2025 milestone of 1 t: red
    assert "red    Scrap metal collected: 0.9 (computed), progress 27%" in res.output
    assert "amber  energy_output: 5 (entered), progress 50%" in res.output
    doc = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert doc["as_of"] == "2026-05-12"
    assert [t["light"] for t in doc["targets"]] == ["amber", "red", "amber"]
    assert doc["targets"][0]["milestones"][0] == {"year": 2025, "value": 15.0, "status": "met"}
    md = (out / "evaluation_report.md").read_text(encoding="utf-8")
    assert "## Targets and phase evaluation" in md and "red: milestone missed" in md
    assert (out / "evaluation.png").stat().st_size > 5000
    assert "national set 2017: 1 computed, 0 entered, 16 unsupported" in res.output
    assert "national set 2007: 2 computed, 0 entered, 20 unsupported" in res.output
    nat = {r["code"]: r for r in doc["national"]["2007"]}
    assert nat["2007-14"]["status"] == "computed"  # ferrous: 700 of 0.2 x 1700 x 4 kg
    assert nat["2007-14"]["value"] == pytest.approx(100 * 700 / 1360)
    assert "2007 set" in md and "Recovery rate of main renewable resources" in md


def test_report_with_the_appliance_fund(tmp_path: Path) -> None:
    plan = _plan_dir(tmp_path)
    src = tmp_path / "a.csv"
    src.write_text(APPLIANCES, encoding="utf-8")
    fac = tmp_path / "facilities.csv"
    fac.write_text("id,name,licensed_dismantler\nD1,拆解厂,yes\nC1,分拣中心,no\n",
                   encoding="utf-8")  # fmt: skip
    out = tmp_path / "fund"
    res = CliRunner().invoke(app, ["actuals", "report", str(plan), "--records", str(src),
                                   "--from", "2021-03-01", "--to", "2021-05-01", "--out",
                                   str(out), "--facilities", str(fac)])  # fmt: skip
    assert res.exit_code == 0, res.output
    # 2 LCD TVs at 70 (2016 standard) + 2 at 45 (from 2021-04-01); the fridge went to C1
    assert "appliance fund: 4 eligible unit(s), 230 CNY due; 1 flagged" in res.output
    doc = json.loads((out / "fund.json").read_text(encoding="utf-8"))
    assert [(x["period"], x["subsidy_cny"]) for x in doc["lines"]] == [
        ("2021-03-01", 140.0),
        ("2021-04-01", 90.0),
    ]
    assert doc["flags"] == [{"ref": "A3", "category": "refrigerator", "units": 1.0,
                             "destination_id": "C1", "reason": "not_licensed"}]  # fmt: skip
    md = (out / "actuals_report.md").read_text(encoding="utf-8")
    assert "destination is not a licensed dismantler" in md
