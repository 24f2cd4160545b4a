"""``indicators.compare`` and ``recyclenet compare``: two stored plans side by side.

Plan A is the hand plan of test_indicators (tricycle and box truck, 12 vehicle-km);
plan B drops the box truck (4 vehicle-km, order C unserved).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recyclenet.cli import app
from recyclenet.errors import InputError
from recyclenet.indicators import compare, display_width, load_plans
from recyclenet.pipeline import write_json
from test_indicators import FACTORS, hand_plan, hand_problem, hand_siting_doc

RUNNER = CliRunner()


@pytest.fixture(scope="module")
def docs() -> tuple[dict, dict]:
    prob = hand_problem()
    return hand_plan(prob).to_dict(), hand_plan(prob, with_truck=False).to_dict()


def scenario(root: Path, name: str, routing: dict, siting: dict | None = None) -> Path:
    """A demo-like output directory."""
    out = root / name
    write_json(out / "routing_plan.json", routing)
    if siting is not None:
        write_json(out / "siting_plan.json", siting)
    return out


def test_compare_library(docs):
    a, b = docs
    result = compare(a, b, emission_factors=FACTORS)
    km = result.row("vehicle_km")
    assert (km.value_a, km.value_b) == pytest.approx((12.0, 4.0))
    assert km.abs_diff == pytest.approx(-8.0) and km.rel_diff == pytest.approx(-8.0 / 12.0)
    # B has no box truck and no appliances: missing breakdowns count as zero
    truck = result.row("co2e_kg.box_truck_4_2m")
    assert truck.value_a == pytest.approx(4.0046) and truck.value_b == 0.0
    assert truck.rel_diff == pytest.approx(-1.0)
    fridge = result.row("tonnes_collected.appliance_refrigerator")
    assert (fridge.value_a, fridge.value_b) == pytest.approx((0.055, 0.0))
    unserved = result.row("orders_unserved")
    assert (unserved.value_a, unserved.value_b) == (0.0, 1.0)
    assert math.isnan(unserved.rel_diff)  # from zero: no relative difference
    # B: tricycle only, 1 of 4 km empty; tonne-km 0.4
    assert result.row("empty_running_share").value_b == pytest.approx(25.0)
    assert result.row("tonne_km").abs_diff == pytest.approx(0.4 - 0.515)
    keys = [r.key for r in result.rows]
    assert keys.index("tonnes_collected") < keys.index("vehicle_km") < keys.index("co2e_kg")
    doc = result.to_dict("zh")
    json.dumps(doc, allow_nan=False)
    entry = next(e for e in doc["indicators"] if e["key"] == "vehicle_km")
    assert entry["name"] == "车公里" and entry["unit_label"] == "公里"
    assert entry["a"] == pytest.approx(12.0) and entry["rel_diff"] == pytest.approx(-2 / 3)


def test_compare_directories_gives_both_groups(docs, tmp_path: Path):
    a, b = docs
    siting_b = hand_siting_doc()
    siting_b["open_ids"] = ["s1", "s3"]
    dir_a = scenario(tmp_path, "a", a, hand_siting_doc())
    dir_b = scenario(tmp_path, "b", b, siting_b)
    result = compare(dir_a, dir_b, emission_factors=FACTORS)
    assert {r.indicator.group for r in result.rows} == {"siting", "routing"}
    per_10k = result.row("stations_per_10k_households")
    assert (per_10k.value_a, per_10k.value_b) == pytest.approx((10.0, 20.0 / 3.0))
    assert result.source_a == str(dir_a)
    # single files, and a plan.json as `recyclenet route` writes it
    write_json(tmp_path / "route_out" / "plan.json", b)
    loaded = load_plans(tmp_path / "route_out")
    assert loaded.routing == b and loaded.siting is None
    one = compare(dir_a / "routing_plan.json", tmp_path / "route_out" / "plan.json",
                  emission_factors=FACTORS)  # fmt: skip
    assert {r.indicator.group for r in one.rows} == {"routing"}


def test_compare_errors(docs, tmp_path: Path):
    a, _ = docs
    with pytest.raises(InputError, match="compare plans of the same kind"):
        compare(hand_siting_doc(), a, emission_factors=FACTORS)
    with pytest.raises(InputError, match="no such plan file or directory"):
        compare(tmp_path / "missing.json", a)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"holds none of siting_plan\.json"):
        load_plans(tmp_path / "empty")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not a JSON file"):
        load_plans(tmp_path / "bad.json")
    with pytest.raises(InputError, match="not a stored siting or routing plan"):
        load_plans({"type": "FeatureCollection"})


def test_text_table_lines_up_in_chinese(docs):
    text = compare(*docs, emission_factors=FACTORS).to_text("zh")
    lines = text.splitlines()
    table = lines[3:]
    assert table[0].split()[:2] == ["指标", "单位"]
    # every row ends at the same terminal column (right-aligned last column)
    assert len({display_width(line) for line in table}) == 1
    km = next(line for line in table if line.startswith("车公里"))
    assert km.split()[1:] == ["公里", "12", "4", "-8", "-66.7%"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def dirs(docs, tmp_path: Path) -> tuple[Path, Path, Path]:
    a, b = docs
    ef = tmp_path / "ef.csv"
    ef.write_text("vehicle,kg_co2e_per_km,kg_co2e_per_tonne_km\ntricycle,0.02,\n"
                  "box_truck_4_2m,0.5,0.04\n", encoding="utf-8")  # fmt: skip
    return scenario(tmp_path, "a", a, hand_siting_doc()), scenario(tmp_path, "b", b), ef


def test_cli_compare_text(dirs):
    dir_a, dir_b, ef = dirs
    res = RUNNER.invoke(app, ["compare", str(dir_a), str(dir_b), "--emission-factors", str(ef)])
    assert res.exit_code == 0, res.output
    assert f"Plan A: {dir_a}" in res.output
    km = next(line for line in res.output.splitlines() if line.startswith("Vehicle-km"))
    assert km.split()[1:] == ["km", "12", "4", "-8", "-66.7%"]
    co2 = next(line for line in res.output.splitlines() if line.startswith("CO2e emissions "))
    assert co2.split()[-4:-2] == ["4.08", "0.08"]
    # A has siting, B does not: shown with a dash
    share = next(line for line in res.output.splitlines() if line.startswith("Households within"))
    assert share.split()[-4:] == ["90", "–", "–", "–"]


def test_cli_compare_zh_and_json(dirs):
    dir_a, dir_b, ef = dirs
    res = RUNNER.invoke(app, ["compare", str(dir_a), str(dir_b), "--lang", "zh",
                              "--emission-factors", str(ef)])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "方案A" in res.output and "空驶率" in res.output and "吨公里" in res.output
    res = RUNNER.invoke(app, ["compare", str(dir_a / "routing_plan.json"),
                              str(dir_b / "routing_plan.json"), "--json",
                              "--emission-factors", str(ef)])  # fmt: skip
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    by_key = {e["key"]: e for e in doc["indicators"]}
    assert by_key["tonne_km"]["a"] == pytest.approx(0.515)
    assert by_key["tonne_km"]["b"] == pytest.approx(0.4)
    assert by_key["orders_unserved"]["rel_diff"] is None
    assert by_key["co2e_kg.box_truck_4_2m"]["b"] == 0.0


def test_cli_compare_errors(dirs, tmp_path: Path):
    dir_a, _, _ = dirs
    res = RUNNER.invoke(app, ["compare", str(dir_a), str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert "error:" in res.output and "no such plan file or directory" in res.output
    res = RUNNER.invoke(app, ["compare", str(dir_a), str(dir_a), "--lang", "fr"])
    assert res.exit_code == 2 and "unknown language 'fr'" in res.output
    own = tmp_path / "own.csv"
    own.write_text("vehicle,kg_co2e_per_km\ntricycle,0.03\n", encoding="utf-8")
    res = RUNNER.invoke(app, ["compare", str(dir_a), str(dir_a), "--emission-factors", str(own)])
    assert res.exit_code == 2 and "'box_truck_4_2m'" in res.output
