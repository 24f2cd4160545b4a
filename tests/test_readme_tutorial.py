"""The README's GeoDataFrame tutorial runs as written and produces what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pyogrio

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tutorial_runs(tmp_path, monkeypatch, capsys):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"<!-- tutorial -->\n```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md tutorial", "exec"), scope)
    siting, routing = scope["siting"], scope["routing"]
    assert len(siting.plan.open_ids) == 2
    assert {d.id for d in scope["demand"]} == {"c1", "c2", "c3"}
    assert scope["demand"][0].lon == __import__("pytest").approx(24.9459, abs=1e-7)
    served = {v.order_id for r in routing.plan.routes for v in r.visits if v.order_id}
    assert served == set(siting.plan.open_ids)
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "helsinki.gpkg"))
    assert layers["stations"] == "Point" and layers["routes"] == "LineString"
    assert layers["stops"] == "Point" and layers["assignments"] == "LineString"
    assert "vehicle_id" in capsys.readouterr().out
