"""Reading parks (YAML with CSV files, Excel) and the whole plan on the Helsinki sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from recyclenet.errors import InputError
from recyclenet.network import load_network
from recyclenet.parks.example import example_park_doc
from recyclenet.parks.io import read_park
from recyclenet.parks.plan import plan_park, write_park_outputs


@pytest.fixture(scope="module")
def helsinki():
    return load_network("helsinki", profile="truck_18t")


@pytest.fixture(scope="module")
def doc(helsinki):
    return example_park_doc(helsinki)


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "park.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return p


def test_yaml_with_csv_tables_and_gcj02(tmp_path: Path, doc) -> None:
    import csv

    rows = doc["enterprises"]
    with open(tmp_path / "enterprises.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    park = read_park(_write(tmp_path, {**doc, "enterprises": "enterprises.csv"}))
    assert [e.id for e in park.enterprises] == [r["id"] for r in rows]
    assert park.enterprises[0].name == "热电厂 Thermal power plant"
    assert park.enterprises[1].gate_windows == (
        (8 * 3600.0, 11.5 * 3600.0),
        (13 * 3600.0, 17 * 3600.0),
    )
    assert park.settings.collection_days == (0, 1, 2, 3, 4)
    assert park.shared is not None and park.shared.kind == "transfer"
    r01 = park.receivers_by_id["R01"]
    assert (r01.lon, r01.lat) == (
        park.enterprises_by_id["E05"].lon,
        park.enterprises_by_id["E05"].lat,
    )
    # gcj02 input is converted to WGS-84 (Helsinki is outside China: unchanged by GCJ-02)
    same = read_park(_write(tmp_path, {**doc, "crs": "gcj02"}))
    assert same.enterprises[0].lon == pytest.approx(park.enterprises[0].lon)


def test_excel_workbook(tmp_path: Path, doc) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name in ("enterprises", "streams", "receivers", "vehicles", "depots"):
        ws = wb.create_sheet(name)
        cols = sorted({k for r in doc[name] for k in r})
        ws.append(cols)
        for r in doc[name]:
            ws.append([None if r.get(c) in (None, "") else r.get(c) for c in cols])
    ws = wb.create_sheet("settings")
    ws.append(["key", "value"])
    ws.append(["collection_days", "mon;wed;fri"])
    path = tmp_path / "park.xlsx"
    wb.save(path)
    park = read_park(path)
    assert len(park.streams) == len(doc["streams"])
    assert park.settings.collection_days == (0, 2, 4)
    assert park.vehicles[0].hazmat_licensed is True
    # a bad code in a sheet row is named with file, table and row
    wb["streams"].cell(
        row=3, column=sorted({k for r in doc["streams"] for k in r}).index("code") + 1, value="HW77"
    )
    wb.save(path)
    with pytest.raises(InputError, match=r"stream 'S02'.*unknown waste code 'HW77'"):
        read_park(path)


def test_bad_files_are_named(tmp_path: Path, doc) -> None:
    with pytest.raises(InputError, match=r"unknown key\(s\) \['stream'\]"):
        read_park(_write(tmp_path, {**doc, "stream": []}))
    bad = [dict(doc["streams"][0], tonnes_per_month="lots"), *doc["streams"][1:]]
    with pytest.raises(InputError, match=r"streams row 1 \(id 'S01'\)"):
        read_park(_write(tmp_path, {**doc, "streams": bad}))
    with pytest.raises(InputError, match=r"park file not found"):
        read_park(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match=r"collection day"):
        read_park(_write(tmp_path, {**doc, "settings": {"collection_days": ["mon", "funday"]}}))


def test_plan_on_helsinki(tmp_path: Path, doc, helsinki) -> None:
    park = read_park(_write(tmp_path, doc))
    run = plan_park(park, helsinki, time_limit_s=8.0)
    assert run.allocation.status == "optimal"
    assert run.collection is not None and run.collection.unserved == ()
    ind = {i.key: i.value for i in run.indicators}
    # utilisation: general waste to recyclers, kilns and the building-materials works
    streams = park.streams_by_id
    general = sum(s.tonnes_per_year for s in park.streams if not park.is_hazardous(s))
    used = sum(
        f.tonnes_per_year
        for f in run.allocation.flows
        if not park.is_hazardous(streams[f.stream_id])
        and park.receivers_by_id[f.receiver_id].kind in ("recycler", "cement_kiln", "enterprise")
    )
    assert ind["park_gis_utilisation_rate"] == pytest.approx(100 * used / general)
    assert ind["park_hw_licensed_share"] == pytest.approx(100.0)
    # the building-materials works' 4000 t/year binds and pays 15/t: 60,000 kept in the park
    assert run.allocation.load_by_receiver()["R01"] == pytest.approx(4000.0)
    assert ind["park_byproduct_value_per_year"] == pytest.approx(60_000.0)
    # the unlicensed cement kiln takes no hazardous waste
    assert "R11" not in run.allocation.load_by_receiver()
    assert run.shared is not None and len(run.shared.open_ids) == 1
    files = write_park_outputs(run, tmp_path / "out", lang="zh")
    names = {f.name for f in files}
    assert {"park_map.png", "map.html", "manifests.csv", "report.html", "flows.geojson"} <= names
    assert (tmp_path / "out" / "park_map.png").stat().st_size > 20_000
    flows = json.loads((tmp_path / "out" / "flows.geojson").read_text(encoding="utf-8"))
    assert len(flows["features"]) == len(run.allocation.flows)
    routes = json.loads((tmp_path / "out" / "routes.geojson").read_text(encoding="utf-8"))
    assert len(routes["features"]) >= 1
    assert all(len(f["geometry"]["coordinates"]) >= 2 for f in routes["features"])
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "一般工业固体废物综合利用率" in report and "转移联单" in report


def test_cli_park_plan(tmp_path: Path, doc) -> None:
    from typer.testing import CliRunner

    from recyclenet.cli import app

    runner = CliRunner()
    path = _write(tmp_path, doc)
    res = runner.invoke(
        app,
        [
            "park",
            "plan",
            str(path),
            "--network",
            "helsinki",
            "--out",
            str(tmp_path / "o"),
            "--time-limit-s",
            "4",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Comprehensive utilisation rate of general industrial solid waste" in res.output
    rows = (tmp_path / "o" / "manifests.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("manifest_no,") and len(rows) > 10
    # a stream no receiver accepts: exit 2, the stream and code named
    bad = {
        **doc,
        "streams": [
            *doc["streams"],
            {"id": "S99", "enterprise_id": "E01", "code": "HW10", "tonnes_per_month": 1},
        ],
    }
    res = runner.invoke(
        app,
        [
            "park",
            "plan",
            str(_write(tmp_path, bad)),
            "--network",
            "helsinki",
            "--out",
            str(tmp_path / "o2"),
        ],
    )
    assert res.exit_code == 2
    assert "S99: no receiver accepts code HW10" in res.output


def test_gbk_csv_with_chinese_headers(tmp_path: Path, doc) -> None:
    # a GBK-encoded CSV as Excel in China writes it, headers 编号/名称/经度/纬度
    lines = ["编号,名称,经度,纬度,gate_windows"]
    lines += [
        f"{e['id']},{e['name']},{e['lon']},{e['lat']},{e['gate_windows']}"
        for e in doc["enterprises"]
    ]
    (tmp_path / "ent.csv").write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    park = read_park(_write(tmp_path, {**doc, "enterprises": "ent.csv"}))
    e = park.enterprises_by_id["E07"]
    assert e.name == "食品厂 Food processing"
    assert e.lon == pytest.approx(doc["enterprises"][6]["lon"])
    assert e.gate_windows == ((7 * 3600.0, 16 * 3600.0),)


def test_enterprise_in_the_sea_is_named(tmp_path: Path, doc, helsinki) -> None:
    from recyclenet.errors import SnapError

    ents = [dict(doc["enterprises"][0], id="E_海上", lon=24.80, lat=60.10), *doc["enterprises"]]
    park = read_park(_write(tmp_path, {**doc, "enterprises": ents}))
    with pytest.raises(SnapError, match="E_海上"):
        plan_park(park, helsinki, time_limit_s=4.0)
