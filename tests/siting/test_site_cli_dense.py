"""`recyclenet site` on the generated dense city: derived demand scaled to a total, the
5,000-household compound split, the unconnected cell left with its reason (issue #11)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osm_city import write_dense_city
from recyclenet.cli import app


def test_site_dense_city_with_households_total(tmp_path: Path) -> None:
    city = write_dense_city(tmp_path / "dense.osm")
    out = tmp_path / "site"
    result = CliRunner().invoke(app, [
        "site", str(city), "--radius", "500", "--uncoverable", "leave",
        "--households-total", "20000", "--time-limit-s", "2", "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "demand: households 20,000" in result.output
    doc = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    est = doc["demand_estimate"]
    assert est["calibration"] == "households_total"
    assert est["households_total"] == pytest.approx(20_000, rel=1e-3)
    # before scaling: 7,651 flats (5,000 + 24 buildings + 80) and the unmapped compound
    assert est["households_by_source"]["building_flats"] == 7651.0
    assert est["households_by_source"]["residential_land"] == pytest.approx(745, abs=1)
    assert doc["status"] in ("optimal", "feasible") and doc["open_ids"]
    assert len(doc["split_ids"]) >= 1  # the compound, scaled to ~11,900 households
    left = doc["unassigned"]
    assert left["demand_points"] == 1
    assert left["households"] == pytest.approx(80 * 20_000 / est_total(est), rel=1e-3)
    (why,) = left["households_by_reason"]
    assert why.startswith("no usable site reachable on the network")
    assert max(doc["indicators"]["load_by_site"].values()) <= 1500.0 + 1e-6


def est_total(est: dict) -> float:
    """Households before calibration (the sum of the sources)."""
    return float(sum(v for v in est["households_by_source"].values() if v))
