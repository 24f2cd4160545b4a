"""``GET /plans/{id}/report``: a stored plan's report as HTML, Markdown or its PNG map, in
English or Chinese (real jobs on the Helsinki sample, TestClient)."""

from __future__ import annotations

import base64
import copy
import io
import re
from typing import Any

import pytest
from api_helpers import A, B, job_status, wait_for
from PIL import Image

from recyclenet.i18n import label
from recyclenet_api.schemas import ROUTING_EXAMPLE, SITING_EXAMPLE_INLINE


@pytest.fixture(scope="module")
def plans(shared: dict) -> dict[str, Any]:
    client, nid = shared["client"], shared["network"]["id"]
    siting = {**copy.deepcopy(SITING_EXAMPLE_INLINE), "network_id": nid, "time_limit_s": 5}
    routing = {**copy.deepcopy(ROUTING_EXAMPLE), "network_id": nid, "engine": "ortools",
               "time_limit_s": 2}  # fmt: skip
    ids = {}
    for kind, body in (("siting", siting), ("routing", routing)):
        r = client.post(f"/{kind}", json=body, headers=A)
        assert r.status_code == 202, r.text
        job = finished(client, r.json()["id"])
        assert job["status"] == "done", job
        ids[kind] = job["plan_id"]
    return {**shared, **ids}


def finished(client: Any, job_id: str) -> dict[str, Any]:
    """The job once it has ended (a cold first solve on a busy machine takes minutes)."""

    def ended() -> Any:
        job = job_status(client, job_id)
        return job["status"] not in ("queued", "running") and job

    return wait_for(ended, timeout_s=600, what=f"job {job_id}")


def get(client: Any, plan_id: str, **params: str) -> Any:
    r = client.get(f"/plans/{plan_id}/report", params=params, headers=A)
    assert r.status_code == 200, r.text
    return r


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def test_html_report_of_a_siting_plan_in_english_and_chinese(plans: dict) -> None:
    client, sid = plans["client"], plans["siting"]
    stations = client.get(f"/plans/{sid}/stations.geojson", headers=A).json()["features"]
    n_open = sum(f["properties"]["state"] != "closed" for f in stations)
    r = get(client, sid, f="html")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert f'filename="{sid}-report-en.html"' in r.headers["content-disposition"]
    page = r.text
    assert '<html lang="en">' in page and sid in page
    assert label("siting_map", "en") in page and label("report_indicators", "en") in page
    row = re.search(r'<tr data-key="stations_open"><td>[^<]*</td><td class="num">([^<]*)<', page)
    assert row and row.group(1) == str(n_open)
    maps = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(maps) == 1 and png_size(base64.b64decode(maps[0]))[0] > 300
    assert "<script" not in page  # one offline page
    zh = get(client, sid, f="html", lang="zh").text
    assert '<html lang="zh-CN">' in zh
    for key in ("siting_map", "report_summary", "report_indicators", "report_maps",
                "col_definition", "app_kind_plan_siting", "report_solve"):  # fmt: skip
        assert label(key, "zh") in zh, key
    ev = client.get(f"/plans/{sid}/indicators", headers=A).json()["evaluation"]
    name_zh = next(i["name"]["zh"] for i in ev if i["key"] == "stations_open")
    assert f'<tr data-key="stations_open"><td>{name_zh}</td><td class="num">{n_open}<' in zh
    assert label("report_summary", "en") not in zh


def test_markdown_report_of_a_routing_plan(plans: dict) -> None:
    client, rid = plans["client"], plans["routing"]
    routes = client.get(f"/plans/{rid}/routes.geojson", headers=A).json()["features"]
    r = get(client, rid, f="md", lang="zh")
    assert r.headers["content-type"] == "text/markdown; charset=utf-8"
    text = r.text
    assert text.startswith(f"# recyclenet · {label('routes_map', 'zh')} · {rid}\n")
    assert f"## {label('report_summary', 'zh')}" in text
    assert f"| {label('col_indicator', 'zh')} | {label('col_value', 'zh')} |" in text
    assert "ortools" in text  # the solve named
    assert text.count("\n| ") > 5 and routes
    en = get(client, rid, f="md").text
    assert f"## {label('report_indicators', 'en')}" in en and "|---|---:|" in en
    r = client.patch(f"/plans/{rid}", json={"name": "周一 路线"}, headers=A)
    assert r.status_code == 200, r.text
    renamed = get(client, rid, f="md", lang="zh").text
    assert renamed.startswith(f"# recyclenet · {label('routes_map', 'zh')} · 周一 路线 · {rid}\n")


def test_png_map_of_each_plan(plans: dict) -> None:
    client = plans["client"]
    sizes = []
    for pid in (plans["siting"], plans["routing"]):
        r = get(client, pid, f="png", lang="zh")
        assert r.headers["content-type"] == "image/png"
        assert f'filename="{pid}-map-zh.png"' in r.headers["content-disposition"]
        sizes.append(png_size(r.content))
    assert all(w > 300 and h > 200 for w, h in sizes)


def test_report_errors(plans: dict) -> None:
    client, sid = plans["client"], plans["siting"]
    r = client.get(f"/plans/{sid}/report?f=pdf", headers=A)
    assert r.status_code == 422 and "query.f" in r.text
    r = client.get(f"/plans/{sid}/report?lang=fr", headers=A)
    assert r.status_code == 422 and "query.lang" in r.text
    assert client.get(f"/plans/{sid}/report", headers=B).status_code == 404  # another tenant
    assert client.get("/plans/nosuchplan/report", headers=A).status_code == 404
    assert client.get(f"/plans/{sid}/report").status_code == 401
