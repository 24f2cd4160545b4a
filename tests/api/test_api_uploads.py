"""``POST /uploads``: every bad row named with its line, field and fix; never a 500;
nothing stored. And ``/app`` serves the workspace page, its script, Leaflet and labels."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from api_helpers import A

ROOT = Path(__file__).resolve().parents[2]
ORDERS_CSV = ROOT / "data" / "helsinki_orders.csv"


def xlsx_bytes(rows: list[list[Any]], title: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    if title:
        ws.append([title])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def csv_rows(path: Path) -> list[list[str]]:
    import csv

    return list(csv.reader(path.read_text(encoding="utf-8").splitlines()))


def upload(client: Any, kind: str, name: str, data: bytes, **params: Any) -> Any:
    files = {"file": (name, data)}
    form = {}
    if "mapping" in params:
        form["mapping"] = json.dumps(params.pop("mapping"), ensure_ascii=False)
    return client.post("/uploads", params={"kind": kind, **params}, files=files, data=form,
                       headers=A)  # fmt: skip


def counts(client: Any) -> tuple[int, int]:
    nets = client.get("/networks", headers=A).json()["total"]
    jobs = client.get("/jobs", headers=A).json()["total"]
    return nets, jobs


def test_orders_as_excel_with_a_title_row(shared: dict[str, Any]) -> None:
    c = shared["client"]
    data = xlsx_bytes(csv_rows(ORDERS_CSV), title="今日回收订单")
    r = upload(c, "orders", "订单.xlsx", data, network_id=shared["network"]["id"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["issues"] == []
    feats = body["features"]["features"]
    assert len(feats) == 30 and len(body["rows"]) == 30
    first = feats[0]
    assert first["id"] == "o001" and first["geometry"]["coordinates"] == [24.953349, 60.176572]
    assert first["properties"]["items"] == {"tv": 1.0}
    assert first["properties"]["time_windows"] == [[28800.0, 43200.0]]
    assert first["properties"]["_line"] == 3  # the title row is line 1, the header line 2


def test_orders_as_old_xls_read_like_the_xlsx(shared: dict[str, Any], tmp_path: Any) -> None:
    # the same sheet saved as Excel 97-2003 (.xls, what many bureau systems export)
    xlwt = pytest.importorskip("xlwt")
    c = shared["client"]
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("今日回收订单")
    ws.write(0, 0, "今日回收订单")
    for r, row in enumerate(csv_rows(ORDERS_CSV), start=1):
        for col, value in enumerate(row):
            ws.write(r, col, value)
    book.save(str(tmp_path / "订单.xls"))
    data = (tmp_path / "订单.xls").read_bytes()
    old = upload(c, "orders", "订单.xls", data, network_id=shared["network"]["id"]).json()
    new = upload(c, "orders", "订单.xlsx", xlsx_bytes(csv_rows(ORDERS_CSV), title="今日回收订单"),
                 network_id=shared["network"]["id"]).json()  # fmt: skip
    assert old["ok"] is True and old["issues"] == []
    assert old["features"] == new["features"] and len(old["features"]["features"]) == 30


def test_wrong_columns_ask_for_a_mapping_then_read(shared: dict[str, Any]) -> None:
    c = shared["client"]
    rows = [["编号", "横坐标", "纵坐标", "户数"], ["小区A", "24.9459", "60.1689", "120"],
            ["小区B", "24.9468", "60.1779", "80"]]  # fmt: skip
    text = "\n".join(",".join(r) for r in rows).encode("utf-8")
    r = upload(c, "demand", "demand.csv", text)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["needs_mapping"] is True and body["ok"] is False
    assert body["missing"] == ["lon", "lat"]
    assert body["columns"] == ["编号", "横坐标", "纵坐标", "户数"]
    assert body["issues"][0]["code"] == "missing_columns" and body["issues"][0]["fix"]
    r = upload(c, "demand", "demand.csv", text, mapping={"lon": "横坐标", "lat": "纵坐标"})
    body = r.json()
    assert body["ok"] is True, body["issues"]
    feats = body["features"]["features"]
    assert [f["id"] for f in feats] == ["小区A", "小区B"]
    assert [f["properties"]["households"] for f in feats] == [120.0, 80.0]
    r = upload(c, "demand", "demand.csv", text, mapping={"lon": "X"})
    assert r.json()["issues"][0]["code"] == "mapping" and r.json()["issues"][0]["field"] == "lon"
    r = upload(c, "demand", "demand.csv", text, mapping={"colour": "横坐标"})
    assert r.status_code == 422 and "colour" in r.text


def test_gbk_file_names_the_bad_row_and_keeps_the_good(shared: dict[str, Any]) -> None:
    c = shared["client"]
    text = ("订单编号,经度,纬度,物品,时间窗\n"
            "京东001,24.953349,60.176572,tv:1,08:00-12:00\n"
            "京东002,24.949451,北纬60度,refrigerator:1,09:00-13:00\n"
            "京东003,24.949328,60.168989,洗衣机:1,13:00-17:00\n"
            "京东004,24.951062,60.167875,air_conditioner:1,16:00-10:00\n"
            "京东001,24.951062,60.167875,tv:1,\n")  # fmt: skip
    r = upload(c, "orders", "订单.csv", text.encode("gbk"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False
    by_line = {i["line"]: i for i in body["issues"]}
    assert set(by_line) == {3, 4, 5, 6}
    assert by_line[3]["code"] == "bad_coordinates" and by_line[3]["field"] == "lat"
    assert "北纬60度" in by_line[3]["message"] and "degrees" in by_line[3]["fix"]
    assert by_line[4]["code"] == "bad_value" and "洗衣机" in by_line[4]["message"]
    assert by_line[5]["code"] == "bad_value" and by_line[5]["field"] == "time window"
    assert by_line[6]["code"] == "duplicate_id" and "line 2" in by_line[6]["message"]
    assert [f["id"] for f in body["features"]["features"]] == ["京东001"]
    assert body["rows"][1]["纬度"] == "北纬60度" and body["rows"][1]["_line"] == 3


def test_point_in_the_sea_is_named(shared: dict[str, Any]) -> None:
    c = shared["client"]
    text = ("id,lon,lat\n"
            "on_land,24.953349,60.176572\n"
            "in_the_sea,24.9600,60.1350\n"
            "swapped,60.176572,24.953349\n")  # fmt: skip
    r = upload(c, "orders", "orders.csv", text.encode(), network_id=shared["network"]["id"])
    body = r.json()
    far = {i["id"]: i for i in body["issues"] if i["code"] == "far_from_road"}
    assert set(far) == {"in_the_sea", "swapped"}
    assert far["in_the_sea"]["line"] == 3 and far["in_the_sea"]["field"] == "lon,lat"
    assert "m from the nearest road" in far["in_the_sea"]["message"]
    assert [f["id"] for f in body["features"]["features"]] == ["on_land"]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("orders.xls", b"\xd0\xcf\x11\xe0 old excel", ".xls workbook"),
        ("orders.xlsx", b"not a zip at all", "Excel"),
        ("orders.gpkg", b"garbage", "could not"),
        ("orders.csv", b"\xff\xfe\x00", ""),
        ("orders.csv", b"id,lon,lat\n", "empty"),
    ],
)
def test_unreadable_files_are_issues_not_errors(shared: dict[str, Any], name: str, data: bytes,
                                                words: str) -> None:  # fmt: skip
    c = shared["client"]
    before = counts(c)
    r = upload(c, "orders", name, data)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and body["features"]["features"] == []
    assert body["issues"], body
    assert words in " ".join(i["message"] for i in body["issues"]) or body["issues"][0]["fix"]
    assert counts(c) == before  # nothing stored


def test_fleet_and_depots_in_the_routing_form(shared: dict[str, Any]) -> None:
    c = shared["client"]
    fleet = (ROOT / "src" / "recyclenet" / "data" / "fleet_default.csv").read_bytes()
    body = upload(c, "fleet", "fleet.csv", fleet).json()
    assert body["ok"] and [v["id"] for v in body["records"]] == ["tricycle", "box_truck_4_2m"]
    assert body["records"][1]["skills"] == ["refrigerant"]
    assert body["records"][0]["shift"] == [28800.0, 64800.0]
    sites = (ROOT / "data" / "helsinki_sites.csv").read_bytes()
    body = upload(c, "depots", "sites.csv", sites).json()
    kinds = {f["id"]: f["properties"] for f in body["features"]["features"]}
    assert kinds["depot"]["kind"] == "depot"
    assert kinds["sorting_centre"] == {"kind": "facility", "unload_s": 900.0, "_line": 3}


def test_bad_requests_are_4xx(shared: dict[str, Any]) -> None:
    c = shared["client"]
    r = c.post("/uploads", params={"kind": "orders"}, json={}, headers=A)
    assert r.status_code == 415
    r = upload(c, "planets", "x.csv", b"id\n1\n")
    assert r.status_code == 422 and "kind" in r.text
    r = upload(c, "orders", "x.exe", b"MZ")
    assert r.status_code == 422 and "body.file" in r.text
    r = upload(c, "orders", "x.csv", b"id,lon,lat\n1,2,3\n", network_id="nope")
    assert r.status_code == 422 and "query.network_id" in r.text
    r = c.post("/uploads", params={"kind": "orders"}, files={"file": ("x.csv", b"id")})
    assert r.status_code == 401


def test_app_page_and_assets_are_served(shared: dict[str, Any]) -> None:
    c = shared["client"]
    r = c.get("/app")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert '<script src="/app/app.js">' in r.text and "leaflet.js" in r.text
    assert "?api_key" not in r.text  # the key never goes into a URL
    js = c.get("/app/app.js")
    assert js.status_code == 200 and "X-API-Key" in js.text and "sessionStorage" in js.text
    assert "?api_key" not in js.text and "localStorage.setItem('rn_key'" not in js.text
    assert c.get("/app/leaflet/leaflet.js").text.startswith("/* @preserve")
    assert c.get("/app/leaflet/images/layers.png").status_code == 200
    assert c.get("/app/leaflet/../../../i18n.py").status_code == 404
    assert c.get("/app/nothing.js").status_code == 404
    labels = c.get("/app/labels.json").json()
    assert labels["zh"]["app_step_siting"] == "3 站点选址"
    assert set(labels["en"]) == set(labels["zh"])
    # every label the page names in full is in the table, in both languages
    page_text = r.text + js.text
    used = set(re.findall(r"\bT\('([a-z0-9_]+)'\s*[,)]", js.text))
    used |= set(re.findall(r'data-t="([a-z0-9_]+)"', page_text))
    assert len(used) > 100 and used <= set(labels["zh"]), sorted(used - set(labels["zh"]))


def test_records_in_gbk_with_chinese_headers_row_by_row(shared: dict[str, Any]) -> None:
    c = shared["client"]
    text = ("2023年3月磅单\n"
            "单据号,时间,品类,站点,净重\n"
            "WB001,2023-03-02 08:30,电视机,S1,35\n"
            "WB002,下周二,电视机,S1,35\n"
            "WB003,2023-03-02 09:10,电冰箱,,60\n"
            "WB001,2023-03-02 10:00,电视机,S2,20\n"
            "WB004,2023-03-03 10:00,废钢铁,S2,120\n")  # fmt: skip
    before = c.get("/records", headers=A).json()["total"]
    r = upload(c, "records", "磅单.csv", text.encode("gbk"))
    assert r.status_code == 200, r.text
    body = r.json()
    lines = {i["line"]: i for i in body["issues"]}
    assert set(lines) == {4, 5, 6}, body["issues"]
    assert lines[4]["field"] == "time" and "下周二" in lines[4]["message"]
    assert lines[5]["code"] == "bad_value" and "station_id" in lines[5]["message"]
    assert lines[6]["code"] == "duplicate_id" and lines[6]["id"] == "WB001"
    good = {rec["document_id"]: rec for rec in body["records"]}
    assert set(good) == {"WB001", "WB004"}
    wb1 = good["WB001"]
    assert (wb1["time"], wb1["category"], wb1["station_id"], wb1["net_kg"]) == (
        "2023-03-02T08:30:00", "tv", "S1", 35.0)  # fmt: skip
    assert c.get("/records", headers=A).json()["total"] == before  # the check stores nothing
    r = c.post("/records", json={"records": body["records"]}, headers=A)
    assert r.status_code == 200 and sorted(r.json()["added"]) == ["WB001", "WB004"]
    bad = upload(c, "records", "x.csv", "单号,时间\n1,2\n".encode()).json()
    assert bad["issues"][0]["code"] == "file" and "missing column" in bad["issues"][0]["message"]
