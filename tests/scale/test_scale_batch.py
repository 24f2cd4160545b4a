"""Batch specs: validation with named keys, grids, failures that do not stop the rest, CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from plan_checks import GENEROUS_S
from recyclenet.cli import app
from recyclenet.errors import InputError
from recyclenet.scale.batch import load_spec, parse_spec, run_batch

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
EXAMPLES = ROOT / "examples"


def _spec(doc: dict[str, Any], tmp_path: Path) -> Any:
    return parse_spec(doc, base_dir=tmp_path, source="spec.yaml")


# a generous limit: each scenario returns once proven optimal (plan_checks)
SITING = {"network": "helsinki", "siting": {"model": "p_median", "time_limit_s": GENEROUS_S}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({**SITING, "grids": {}}, "spec.yaml: unknown key(s) ['grids']"),
        ({"siting": {}}, "spec.yaml: network: missing"),
        ({"network": "helsinki"}, "exactly one of the keys 'siting' or 'routing'"),
        ({**SITING, "routing": {}}, "exactly one of the keys 'siting' or 'routing'"),
        ({**SITING, "siting": {"modle": "p_median"}}, "siting: unknown key(s) ['modle']"),
        (
            {**SITING, "siting": {"model": "k_median"}},
            "siting.model: expected one of p_median, max_coverage, min_stations, cflp",
        ),
        ({**SITING, "siting": {"demand": "nowhere.csv"}}, "siting.demand: file not found"),
        ({**SITING, "grid": {"p": [5, "ten"]}}, "grid.p[1]: expected an integer >= 1, got 'ten'"),
        ({**SITING, "grid": {"p": 5}}, "grid.p: expected a list of values or a mapping"),
        ({**SITING, "grid": {"p": []}}, "grid.p: empty"),
        ({**SITING, "grid": {"p": [5, 5]}}, "grid.p: repeated value(s) ['5']"),
        ({**SITING, "grid": {"profile": ["walk"]}}, "grid.profile: not a grid key of siting"),
        ({**SITING, "grid": {"radius_m": [300, -1]}}, "grid.radius_m[1]: must be > 0"),
        (
            {**SITING, "grid": {"metric": ["duration_s"], "radius_m": [300]}},
            "siting.radius_m needs metric: distance_m",
        ),
        (
            {"network": "helsinki", "routing": {"sites": str(DATA / "helsinki_sites.csv")}},
            "routing: give orders (a CSV) or sample_day",
        ),
        (
            {
                "network": "helsinki",
                "routing": {
                    "orders": str(DATA / "helsinki_orders.csv"),
                    "sites": str(DATA / "helsinki_sites.csv"),
                },
                "grid": {"fleet": {"big": {"truck": 3}}},
            },
            "grid.fleet.big: unknown vehicle type(s) ['truck']",
        ),
        (
            {
                "network": "helsinki",
                "routing": {
                    "orders": str(DATA / "helsinki_orders.csv"),
                    "sites": str(DATA / "helsinki_sites.csv"),
                    "sample_day": {"households": 5, "days": 2},
                },
            },
            "routing.sample_day: unknown key(s) ['days']",
        ),
    ],
)
def test_spec_errors_name_the_key(doc: dict[str, Any], message: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        _spec(doc, tmp_path)
    assert message in str(err.value)


def test_spec_files_and_yaml_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="batch spec not found"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: helsinki\nsiting: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml: not valid YAML"):
        load_spec(bad)


def test_grid_is_the_cartesian_product_with_readable_ids(tmp_path: Path) -> None:
    doc = {
        **SITING,
        "grid": {
            "p": [5, 10],
            "radius_m": [300.0, 500],
            "districts": {"whole": None, "两区": None},
        },
    }
    spec = _spec(doc, tmp_path)
    ids = [s.id for s in spec.scenarios()]
    assert len(ids) == 8 == len(set(ids))
    assert ids[:3] == [
        "p-5_radius_m-300_districts-whole",
        "p-5_radius_m-300_districts-两区",
        "p-5_radius_m-500_districts-whole",
    ]
    first = spec.scenarios()[0]
    assert first.options["p"] == 5 and first.options["radius_m"] == 300.0
    assert first.options["model"] == "p_median" and first.options["time_limit_s"] == GENEROUS_S
    assert _spec(SITING, tmp_path).scenarios()[0].id == "base"


def test_example_specs_are_valid() -> None:
    siting = load_spec(EXAMPLES / "batch_helsinki.yaml")
    assert siting.kind == "siting" and len(siting.scenarios()) == 18
    routing = load_spec(EXAMPLES / "batch_helsinki_routing.yaml")
    assert routing.kind == "routing" and len(routing.scenarios()) == 6


def test_failing_scenario_does_not_stop_the_others(tmp_path: Path, client) -> None:  # type: ignore[no-untyped-def]
    districts = EXAMPLES / "helsinki_districts.geojson"
    doc = {**SITING, "grid": {"p": [6, 1000], "districts": {"whole": None, "two": str(districts)}}}
    lines: list[str] = []
    result = run_batch(_spec(doc, tmp_path), tmp_path / "out", client=client, progress=lines.append)
    rows = {r["scenario"]: r for r in result.rows}
    assert list(rows) == [
        "p-6_districts-whole",
        "p-6_districts-two",
        "p-1000_districts-whole",
        "p-1000_districts-two",
    ]
    assert result.failed == ["p-1000_districts-whole", "p-1000_districts-two"]
    for sid in result.failed:
        assert "p = 1000 is larger than the 177 usable" in rows[sid]["error"]
    ok = rows["p-6_districts-whole"]
    assert ok["status"] == "ok" and ok["stations_open"] == 6
    # optimal, or (a slow, loaded machine) the time limit's plan with its gap
    assert ok["plan_status"] == "optimal" or (ok["plan_status"] == "feasible" and ok["gap"] > 0)
    # by districts is a restriction of the whole: never below the whole's proven bound
    bound = ok["objective"] * (1 - ok["gap"])
    assert rows["p-6_districts-two"]["objective"] >= bound * (1 - 1e-9)
    assert ok["ind.stations_open"] == 6
    # progress: one line per finished scenario with completed / total, failures with errors
    done = [ln for ln in lines if ln.startswith("[")]
    assert sorted(ln.split("]")[0] for ln in done) == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert sum("FAILED InputError: p = 1000" in ln for ln in done) == 2
    out = tmp_path / "out"
    with open(out / "summary.csv", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["status"] for r in table] == ["ok", "ok", "failed", "failed"]
    plan = json.loads((out / "p-6_districts-two" / "plan.json").read_text(encoding="utf-8"))
    assert len(plan["open_ids"]) == 6 and plan["decomposition"]["by"] == "district"
    assert (out / "p-1000_districts-whole" / "error.txt").read_text().startswith("InputError")
    assert (out / "p-6_districts-whole" / "stations.geojson").is_file()


def test_routing_batch_with_fleet_variants_in_process(tmp_path: Path) -> None:
    doc = {
        "network": "helsinki",
        "routing": {
            "orders": str(DATA / "helsinki_orders.csv"),
            "sites": str(DATA / "helsinki_sites.csv"),
            "engine": "pyvrp",
            "time_limit_s": 1,
        },
        "grid": {
            "fleet": {"default": {}, "no_trucks": {"box_truck_4_2m": 0}},
            "decompose": ["none", "cluster"],
        },
    }
    result = run_batch(_spec(doc, tmp_path), tmp_path / "out", progress=lambda _: None)
    rows = {r["scenario"]: r for r in result.rows}
    assert result.failed == [] and len(rows) == 4
    assert all(r["check_errors"] == 0 for r in rows.values())
    assert all(r["served"] + r["unserved"] == 30 for r in rows.values())
    # without trucks, the orders that need a refrigerant crew (or a truck's room) stay
    assert rows["fleet-no_trucks_decompose-none"]["unserved"] > 0
    assert rows["fleet-default_decompose-none"]["unserved"] == 0


def test_cli_batch(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({**SITING, "grid": {"p": [4, 500]}}), encoding="utf-8")
    res = CliRunner().invoke(
        app, ["batch", str(spec), "--out", str(tmp_path / "o"), "--workers", "1"]
    )
    assert res.exit_code == 1, res.output
    assert "[2/2]" in res.output and "p-4" in res.output and "failed" in res.output
    assert "batch: scenarios (" in res.stderr  # live progress (plain: not a terminal)
    assert (tmp_path / "o" / "summary.csv").is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: helsinki\nsiting: {p: zero}\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["batch", str(bad), "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2
    assert "error:" in res.output and "siting.p: expected an integer >= 1" in res.output


def test_live_reports_count_scenarios_and_name_the_running_one(tmp_path: Path) -> None:
    doc = {**SITING, "grid": {"p": [4, 500]}}
    live: list[dict[str, Any]] = []
    result = run_batch(_spec(doc, tmp_path), tmp_path / "out", progress=lambda _: None,
                       live=live.append)  # fmt: skip
    assert result.failed == ["p-500"]
    seen = [(p["done"], p["failed"], p["running"], p["last"]) for p in live]
    assert seen == [
        (0, 0, [], None),
        (0, 0, ["p-4"], None),  # in process: one at a time, named while it runs
        (1, 0, [], "p-4"),
        (1, 0, ["p-500"], None),
        (2, 1, [], "p-500"),
    ]
    assert all(p["total"] == 2 and p["phase"] == "scenarios" for p in live)
    elapsed = [p["elapsed_s"] for p in live]
    assert elapsed == sorted(elapsed)
