"""The workspace (``/app``) end to end in real headless Chromium on a real uvicorn server.

A new tenant (fresh browser context) signs in, picks the sample network, uploads the
sample orders as Excel (title row above the header) with the depots, demand and sites,
runs two sitings and a routing, sees the stations and routes on the map, renames a
scenario, compares the two sitings and reads the difference, downloads a GeoPackage that
geopandas opens; then again in Chinese. Bad uploads (wrong columns, a GBK file with bad
rows, a point in the sea) show the row and the fix and change nothing stored. Every
step's screenshot is saved under ``$RECYCLENET_TEST_ARTIFACTS`` (default
``tests/artifacts/app``, git-ignored).

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright for Python through
``executable_path``; no browser is downloaded. Without either the tests skip, except
under ``CI=true``, where they fail. Problems are small and time limits short.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openpyxl
import pytest
from api_helpers import KEY_A, KEY_B, A, Server, wait_for

from recyclenet.i18n import label
from recyclenet_api.schemas import SITING_EXAMPLE_INLINE

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = (
    Path(os.environ.get("RECYCLENET_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts") / "app"
)
CHROMIUM = next((p for p in (os.environ.get("RECYCLENET_CHROMIUM"), "/usr/bin/chromium",
                             shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p and Path(p).is_file()), None)  # fmt: skip
TIMEOUT_MS = 600_000  # a cold first solve on a busy machine loads the network for minutes


def _need_browser() -> Any:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason, sync_playwright = "playwright is not installed (pip install playwright)", None
    if reason is None and CHROMIUM is None:
        reason = "no chromium (Debian: apt install chromium)"
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    return sync_playwright


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _need_browser()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                               args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # short solves, but a busy CI box loads the network slowly: a long grace
    srv = Server(tmp_path_factory.mktemp("appserver") / "var", RECYCLENET_JOB_GRACE_S="600")
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample orders as Excel (a title row above the header), depots, demand and
    sites as CSV, and three bad files."""
    folder = tmp_path_factory.mktemp("uploads")
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Helsinki pickups, sample day"])
    with open(ROOT / "data" / "helsinki_orders.csv", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            ws.append(row)
    book.save(folder / "orders.xlsx")
    out = {"orders": folder / "orders.xlsx"}
    shutil.copy(ROOT / "data" / "helsinki_sites.csv", folder / "depots.csv")
    out["depots"] = folder / "depots.csv"
    for kind in ("demand", "sites"):
        lines = ["id,lon,lat," + ("households" if kind == "demand" else "status")]
        for f in SITING_EXAMPLE_INLINE[kind]["features"]:
            lon, lat = f["geometry"]["coordinates"]
            extra = f["properties"].get("households", f["properties"].get("status", ""))
            lines.append(f"{f['id']},{lon},{lat},{extra}")
        (folder / f"{kind}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        out[kind] = folder / f"{kind}.csv"
    (folder / "columns.csv").write_text("编号,横坐标,纵坐标\nA1,24.9459,60.1689\n", "utf-8")
    out["columns"] = folder / "columns.csv"
    gbk = ("订单编号,经度,纬度,物品\n京东001,24.953349,60.176572,tv:1\n"
           "京东002,24.949451,北纬60度,tv:1\n")  # fmt: skip
    (folder / "gbk.csv").write_bytes(gbk.encode("gbk"))
    out["gbk"] = folder / "gbk.csv"
    (folder / "sea.csv").write_text("id,lon,lat\nland,24.953349,60.176572\n"
                                    "sea,24.9600,60.1350\n", "utf-8")  # fmt: skip
    out["sea"] = folder / "sea.csv"
    tickets = ("单据号,时间,品类,站点,净重\nWB001,2023-03-02 08:30,电视机,S1,35\n"
               "WB002,下周二,电视机,S1,35\nWB003,2023-03-03 09:00,废钢铁,S2,120\n")  # fmt: skip
    (folder / "records.csv").write_bytes(tickets.encode("gbk"))
    out["records"] = folder / "records.csv"
    return out


def shot(page: Any, lang: str, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{lang}-{name}.png"))


def go(page: Any, step: str) -> None:
    page.click(f'#steps button[data-step="{step}"]')
    page.wait_for_selector(f'#panel[data-step="{step}"] h2')


def upload(page: Any, kind: str, path: Path) -> None:
    go(page, "data")
    page.select_option("#data-kind", kind)
    page.set_input_files("#data-file", str(path))
    page.click("#data-upload")
    page.wait_for_selector("#data-result h3")


def run_siting(page: Any, p: int, name: str, tags: str = "") -> str:
    go(page, "siting")
    page.select_option("#s-model", "p_median")
    page.fill("#s-p", str(p))
    page.fill("#s-time", "5")
    page.fill("#s-name", name)
    page.fill("#s-tags", tags)
    page.click("#s-run")
    page.wait_for_function(f"document.querySelector('#n-stations')?.textContent === '{p}'",
                           timeout=TIMEOUT_MS)  # fmt: skip
    return page.evaluate("S.siting.id")


def sign_in(page: Any, srv: Server, key: str, lang: str = "en") -> None:
    page.goto(srv.url + "/app")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#lang", lang)
    page.fill("#apikey", key)
    page.press("#apikey", "Enter")
    page.wait_for_selector('#panel[data-step="network"] #net-sample')


def workflow(page: Any, srv: Server, lang: str, key: str, files: dict[str, Path]) -> str:
    hdr = {"X-API-Key": key}
    sign_in(page, srv, key, lang)
    assert page.evaluate("sessionStorage.getItem('rn_key')") == key
    # 1. network
    page.click("#net-sample")
    page.wait_for_function("Number(document.querySelector('#map').dataset.roads) > 800",
                           timeout=TIMEOUT_MS)  # fmt: skip
    assert page.locator("#net-info").count() == 1
    shot(page, lang, "1-network")
    # 2. data: the sample orders as Excel, depots, demand, sites
    for kind in ("orders", "depots", "demand", "sites"):
        upload(page, kind, files[kind])
    loaded = {el.get_attribute("data-kind"): int(el.inner_text())
              for el in page.locator("#loaded-list b").all()}  # fmt: skip
    assert loaded == {"orders": 30, "depots": 2, "demand": 4, "sites": 3}
    upload(page, "orders", files["orders"])
    assert page.locator("#preview tbody tr").count() == 30
    assert page.locator("#preview tbody tr").first.get_attribute("data-line") == "3"
    assert page.evaluate("maps.a.counts.preview") == 30
    shot(page, lang, "2-data")
    # 3. siting, twice
    first = run_siting(page, 2, "two stations")
    second = run_siting(page, 3, "three stations", "2025, 草案")
    stations = httpx.get(f"{srv.url}/plans/{second}/stations.geojson", headers=hdr).json()
    open_ids = [f for f in stations["features"] if f["properties"]["state"] != "closed"]
    assert len(open_ids) == 3
    assert page.locator("#map path.rn-station").count() == len(stations["features"])
    assert page.locator("#s-result table.indicators tbody tr").count() > 3
    shot(page, lang, "3-siting")
    # 4. routing
    go(page, "routing")
    assert page.inner_text("#r-orders") == "30"
    page.select_option("#r-engine", "ortools")
    page.fill("#r-time", "3")
    page.click("#r-run")
    page.wait_for_selector("#n-routes", timeout=TIMEOUT_MS)
    routing_id = page.evaluate("S.routing.id")
    routes = httpx.get(f"{srv.url}/plans/{routing_id}/routes.geojson", headers=hdr).json()
    n_routes = len(routes["features"])
    assert n_routes >= 1 and page.inner_text("#n-routes") == str(n_routes)
    assert page.locator("#map path.rn-route").count() == n_routes
    assert page.locator("#r-result table.vehicle").count() == n_routes
    shot(page, lang, "4-routing")
    # 5. scenarios: rename, compare
    go(page, "scenarios")
    row = page.locator(f'#plans tr[data-plan="{first}"]')
    row.locator("input.pname").fill("方案A" if lang == "zh" else "Plan A")
    row.locator("input.ptags").fill("2025, draft")
    row.locator("button.psave").click()
    page.wait_for_function(
        f"document.querySelector('#status').textContent === {label('app_saved', lang)!r}"
    )
    go(page, "scenarios")
    row = page.locator(f'#plans tr[data-plan="{first}"]')
    assert row.locator("input.pname").input_value() == ("方案A" if lang == "zh" else "Plan A")
    assert row.locator("input.ptags").input_value() == "2025, draft"
    doc = httpx.get(f"{srv.url}/plans/{first}", headers=hdr).json()  # kept by the server
    assert doc["name"] == ("方案A" if lang == "zh" else "Plan A")
    assert doc["tags"] == ["2025", "draft"]
    doc = httpx.get(f"{srv.url}/plans/{second}", headers=hdr).json()  # named when it was run
    assert (doc["name"], doc["tags"]) == ("three stations", ["2025", "草案"])
    row.locator("input.cmp").check()
    page.locator(f'#plans tr[data-plan="{second}"] input.cmp').check()
    page.click("#compare-btn")
    page.wait_for_selector("#compare-table")
    diff = page.inner_text('#compare-table tr[data-key="stations_open"] td.diff')
    assert diff == "+1", diff
    header = page.inner_text("#compare-table th")
    assert page.is_visible("#map2")
    assert page.evaluate("maps.b.counts.stations") == 3
    assert page.evaluate("maps.a.counts.stations") == 2
    shot(page, lang, "5-compare")
    # delete the first: asked first (cancel keeps it), then gone from the server
    page.once("dialog", lambda d: d.dismiss())
    page.click(f'#plans tr[data-plan="{first}"] button.pdel')
    assert page.locator(f'#plans tr[data-plan="{first}"]').count() == 1
    assert httpx.get(f"{srv.url}/plans/{first}", headers=hdr).status_code == 200
    page.once("dialog", lambda d: d.accept())
    page.click(f'#plans tr[data-plan="{first}"] button.pdel')
    page.wait_for_selector(f'#plans tr[data-plan="{first}"]', state="detached")
    assert httpx.get(f"{srv.url}/plans/{first}", headers=hdr).status_code == 404
    listed = httpx.get(f"{srv.url}/plans", params={"kind": "siting"}, headers=hdr).json()
    assert second in [p["id"] for p in listed["items"]]
    assert first not in [p["id"] for p in listed["items"]]
    assert page.locator(f'#plans tr[data-plan="{second}"]').count() == 1
    assert page.evaluate("maps.a.planId") is None  # the first, drawn on map A, is gone
    assert page.locator("#map path.rn-station").count() == 0
    assert page.evaluate("maps.b.planId") == second
    # 6. export: a GeoPackage geopandas opens
    go(page, "export")
    page.select_option("#x-plan", second)
    with page.expect_download() as dl:
        page.click("#x-gpkg")
    target = ARTIFACTS / f"{lang}-{second}.gpkg"
    dl.value.save_as(str(target))
    import geopandas as gpd

    gdf = gpd.read_file(target, layer="stations")
    assert len(gdf[gdf["state"] != "closed"]) == 3 if "state" in gdf.columns else len(gdf) >= 3
    # the report: HTML with the map, Markdown, the PNG map, in the chosen language
    report = saved(page, "#x-report-html", f"{lang}-{second}-report.html").read_text("utf-8")
    assert f"<h2>{label('report_indicators', lang)}</h2>" in report
    assert f'<html lang="{"zh-CN" if lang == "zh" else "en"}">' in report
    assert '<img src="data:image/png;base64,' in report and second in report
    markdown = saved(page, "#x-report-md", f"{lang}-{second}-report.md").read_text("utf-8")
    title = f"# recyclenet · {label('siting_map', lang)} · three stations · {second}\n"
    assert markdown.startswith(title), markdown[:200]
    assert f"| {label('col_indicator', lang)} |" in markdown
    png = saved(page, "#x-report-png", f"{lang}-{second}-map.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    shot(page, lang, "6-export")
    # 7. actuals: tickets at the open stations of the second siting, plan versus actual
    actuals(page, srv, lang, key, second, [f["id"] for f in open_ids])
    return header


def saved(page: Any, button: str, name: str) -> Path:
    """Click a download button; the file saved under the artifacts."""
    with page.expect_download(timeout=TIMEOUT_MS) as dl:
        page.click(button)
    target = ARTIFACTS / name
    dl.value.save_as(str(target))
    return target


def actuals(page: Any, srv: Server, lang: str, key: str, plan_id: str, stations: list[str]) -> None:
    """Upload weighbridge tickets for ``stations`` in March 2023 (Chinese headers in
    Chinese), compare with the plan, and read the same numbers on the page as in the API."""
    header = (
        "单据号,时间,品类,站点,净重"
        if lang == "zh"
        else "document_id,time,category,station_id,net_kg"
    )
    category = "废钢铁" if lang == "zh" else "scrap_ferrous"
    rows = [f"{lang}-{k:03d},2023-03-{1 + k % 28:02d} 09:00,{category},{sid},{40 + 10 * k}"
            for k, sid in enumerate(stations * 4)]  # fmt: skip
    path = ARTIFACTS / f"{lang}-tickets.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    go(page, "actuals")
    page.set_input_files("#a-file", str(path))
    page.click("#a-upload")
    added = label("app_records_added", lang).split("{n}")[0]
    page.wait_for_function(f"document.querySelector('#status').textContent.includes({added!r})")
    page.select_option("#a-plan", plan_id)
    page.fill("#a-from", "2023-03-01")
    page.fill("#a-to", "2023-04-01")
    page.select_option("#a-bucket", "week")
    page.click("#a-run")
    page.wait_for_selector("#a-chart-stations")
    api = httpx.get(f"{srv.url}/plans/{plan_id}/actuals",
                    params={"from": "2023-03-01", "to": "2023-04-01", "bucket": "week"},
                    headers={"X-API-Key": key}).json()  # fmt: skip
    a = api["actuals"]
    assert a["records_counted"] >= len(rows)
    assert page.inner_text("#a-records") == str(a["records_counted"])
    weeks = {p["key"].split("|")[0] for p in a["periods"]}  # rows per week and material
    assert page.locator("#a-chart-periods g.bar-group").count() == len(weeks) >= 4
    week = page.locator("#a-chart-periods g.bar-group").first
    first_week = min(weeks)
    assert week.get_attribute("data-key") == first_week
    collected = sum(p["collected_kg"] for p in a["periods"] if p["key"].startswith(first_week))
    assert week.locator("rect.bar-collected title").text_content().endswith(f"{collected:,.0f} kg")
    assert page.locator("#a-chart-stations g.bar-group").count() == len(a["stations"])
    assert sorted(el.get_attribute("data-station")
                  for el in page.locator("#a-stations tbody tr").all()) == sorted(
        s["key"] for s in a["stations"])  # fmt: skip
    # the map: the open stations coloured by achievement, a legend in the language
    assert (
        page.evaluate("maps.a.counts.actuals") == len(api["stations"]["features"]) == len(stations)
    )
    assert page.locator("#map path.rn-actual").count() == len(stations)
    flags = {f["properties"]["flag"] for f in api["stations"]["features"]}
    legend_text = page.inner_text("#legend")
    assert all(label(f"flag_{f}", lang) in legend_text for f in flags), legend_text
    shot(page, lang, "7-actuals")


def _workflow_test(browser: Any, server: Server, files: dict[str, Path], lang: str,
                   key: str) -> Any:  # fmt: skip
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True,
                              locale="zh-CN" if lang == "zh" else "en-GB")  # fmt: skip
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        header = workflow(page, server, lang, key, files)
        steps = page.inner_text('#steps button[data-step="siting"]')
    except Exception:
        shot(page, lang, "failure")
        raise
    finally:
        ctx.close()
    assert errors == []
    return steps, header


def test_workflow_in_english(browser: Any, server: Server, files: dict[str, Path]) -> None:
    assert _workflow_test(browser, server, files, "en", KEY_A) == ("3 Siting", "Indicator")


def test_workflow_in_chinese(browser: Any, server: Server, files: dict[str, Path]) -> None:
    assert _workflow_test(browser, server, files, "zh", KEY_B) == ("3 站点选址", "指标")


def test_bad_uploads_show_row_and_fix(browser: Any, server: Server,
                                      files: dict[str, Path]) -> None:  # fmt: skip
    hdr = {"X-API-Key": KEY_A}
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    try:
        page.goto(server.url + "/app")
        page.wait_for_selector("body[data-ready='1']")
        page.select_option("#lang", "zh")
        page.fill("#apikey", "wrong key")
        page.click("#signin-btn")
        page.wait_for_selector("#status.error")
        assert "API 密钥无效" in page.inner_text("#status")
        page.fill("#apikey", KEY_A)
        page.click("#signin-btn")
        page.wait_for_selector('#panel[data-step="network"] #net-sample')
        page.click("#net-sample")
        page.wait_for_function("Number(document.querySelector('#map').dataset.roads) > 800",
                               timeout=TIMEOUT_MS)  # fmt: skip
        upload(page, "orders", files["orders"])
        before = (httpx.get(f"{server.url}/jobs", headers=hdr).json()["total"],
                  httpx.get(f"{server.url}/networks", headers=hdr).json()["total"])  # fmt: skip
        # wrong columns: the mapping step, then the rows
        upload(page, "demand", files["columns"])
        assert "经度" in page.inner_text("#mapping-note")
        page.select_option("#map-lon", "横坐标")
        page.select_option("#map-lat", "纵坐标")
        page.click("#mapping-apply")
        page.wait_for_function("document.querySelector('#loaded-list b[data-kind=demand]')")
        assert page.inner_text("#loaded-list b[data-kind=demand]") == "1"
        shot(page, "zh", "bad-1-mapping")
        # a GBK file with a latitude in words: row 3, the field and the fix, in Chinese
        upload(page, "orders", files["gbk"])
        item = page.locator('#issues li[data-line="3"]')
        text = item.inner_text()
        assert "第 3 行" in text and "纬度" in text and "改正方法" in text, text
        bad_row = page.locator('#preview tr.bad[data-line="3"]')
        assert "北纬60度" in bad_row.inner_text() and "纬度" in bad_row.inner_text()
        assert page.inner_text('#preview tr[data-line="2"] td:nth-child(2)') == "京东001"
        shot(page, "zh", "bad-2-gbk")
        # a point in the sea
        upload(page, "orders", files["sea"])
        item = page.locator('#issues li[data-code="far_from_road"]')
        assert item.get_attribute("data-line") == "3"
        assert "离所有道路都很远" in item.inner_text()
        shot(page, "zh", "bad-3-sea")
        after = (httpx.get(f"{server.url}/jobs", headers=hdr).json()["total"],
                 httpx.get(f"{server.url}/networks", headers=hdr).json()["total"])  # fmt: skip
        assert after == before  # nothing stored changed
        # the last good rows of each kind are what a run would use
        assert page.evaluate("S.data.orders.count") == 1
        # actuals: a GBK ticket file with Chinese headers; the bad row named, the good stored
        go(page, "actuals")
        page.set_input_files("#a-file", str(files["records"]))
        page.click("#a-upload")
        page.wait_for_selector('#a-check li[data-line="3"]')
        assert "第 3 行" in page.inner_text('#a-check li[data-line="3"]')
        page.wait_for_function("document.querySelector('#status').textContent.includes('新增')")
        assert "新增 2 条记录" in page.inner_text("#status")
        shot(page, "zh", "bad-4-records")
    finally:
        ctx.close()


# ------------------------------------------------------------------ base map and datum
DRAWN_JS = """([group, cls]) => {
  const out = {};
  const flat = (x) => Array.isArray(x) ? x.flatMap(flat) : [[x.lng, x.lat]];
  const walk = (l) => {
    if (!l.getLatLng && !l.getLatLngs) { if (l.eachLayer) l.eachLayer(walk); return; }
    if (cls && !(l.options && l.options.className === cls)) return;
    if (!l.feature) return;
    const pts = l.getLatLng ? [[l.getLatLng().lng, l.getLatLng().lat]] : flat(l.getLatLngs());
    out[String(l.feature.id)] = pts;
  };
  maps.a[group].eachLayer(walk);
  return out;
}"""


def drawn(page: Any, group: str, cls: str | None = None) -> dict[str, np.ndarray]:
    """Feature id -> the lon/lat positions drawn on the main map (``roads`` or ``overlay``)."""
    got = page.evaluate(DRAWN_JS, [group, cls])
    return {k: np.asarray(v, dtype=float) for k, v in got.items()}


def served(srv: Server, path: str, crs: str) -> dict[str, np.ndarray]:
    """Feature id -> every lon/lat position of a GeoJSON layer of the API, in ``crs``."""
    params = {"crs": crs, **({"limit": 1000} if path.endswith("roads.geojson") else {})}
    fc = httpx.get(srv.url + path, params=params, headers=A).json()
    out = {}
    for f in fc["features"]:
        pts: list[list[float]] = []

        def walk(c: Any, pts: list[list[float]] = pts) -> None:
            if c and isinstance(c[0], int | float):
                pts.append([c[0], c[1]])
            else:
                for x in c:
                    walk(x)

        walk(f["geometry"]["coordinates"])
        out[str(f["id"])] = np.asarray(pts, dtype=float)
    return out


def same_positions(a: dict[str, np.ndarray], b: dict[str, np.ndarray], tol: float) -> bool:
    return (
        len(a) > 0
        and a.keys() == b.keys()
        and all(a[k].shape == b[k].shape and np.allclose(a[k], b[k], rtol=0, atol=tol) for k in a)
    )


def test_gcj02_in_the_page_is_the_library_conversion(browser: Any, server: Server) -> None:
    """The page's wgs84ToGcj02 gives recyclenet.geo's GCJ-02 at points across China, on
    the edges of the box where GCJ-02 applies, and outside it (unchanged)."""
    from recyclenet.geo import from_wgs84

    points = [(116.391, 39.907), (121.4737, 31.2304), (120.0005, 30.0021), (87.6168, 43.8256),
              (114.1694, 22.3193), (91.1322, 29.6604), (126.6424, 45.7567), (113.2644, 23.1291),
              (72.005, 30.0), (137.83, 40.0), (100.0, 0.83), (100.0, 55.82), (24.9384, 60.1699),
              (-74.006, 40.7128), (72.0, 30.0), (138.0, 40.0), (0.0, 0.0)]  # fmt: skip
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(server.url + "/app")
        page.wait_for_selector("body[data-ready='1']")
        got = np.asarray(page.evaluate("(pts) => pts.map(([x, y]) => wgs84ToGcj02(x, y))", points))
    finally:
        ctx.close()
    want = np.asarray([from_wgs84(lon, lat, "gcj02") for lon, lat in points])
    assert np.allclose(got, want, rtol=0, atol=1e-9), np.abs(got - want).max()
    moved = (got != np.asarray(points)).any(axis=1)
    assert moved[:12].all() and not moved[12:].any()  # inside the box moved, outside not


def tile_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 226, 204)).save(buf, format="PNG")
    return buf.getvalue()


def test_tiles_in_gcj02_line_up_with_the_overlays(browser: Any, server: Server,
                                                  tmp_path: Path) -> None:  # fmt: skip
    """A tenant sets a tile layer in GCJ-02 (served by a local route: no network); the roads,
    stations and routes of a town at 120°E 30°N are then drawn exactly where the API's
    ``?crs=gcj02`` layers put them (~450 m from WGS-84), the map says GCJ-02, and the
    setting stays with the tenant: after a reload it is back, for another key it is not."""
    from test_api_crs import routing_body, siting_body

    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    outside: list[str] = []
    tiles: list[str] = []

    def offline(route: Any) -> None:  # anything not from the test server is refused
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    png = tile_png()

    def serve_tile(route: Any) -> None:
        tiles.append(route.request.url)
        route.fulfill(status=200, content_type="image/png", body=png)

    ctx.route("**/*", offline)
    ctx.route("http://tiles.test/**", serve_tile)  # the later route is asked first
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server, KEY_A, "zh")
        assert page.get_attribute("#map", "data-datum") == "wgs84"
        assert "WGS-84" in page.inner_text("#map .datum-note")
        # the town, uploaded as an OSM file
        page.set_input_files("#net-file", str(ROOT / "tests" / "fixtures" / "town.osm"))
        page.click("#net-upload")
        page.wait_for_function("Number(document.querySelector('#map').dataset.roads) > 5",
                               timeout=TIMEOUT_MS)  # fmt: skip
        nid = page.evaluate("S.network.id")
        roads_path = f"/networks/{nid}/roads.geojson"
        assert same_positions(drawn(page, "roads"), served(server, roads_path, "wgs84"), 1e-12)
        plan_ids = {}
        bodies = {"siting": siting_body(nid, "wgs84"),
                  "routing": {**routing_body(nid, "wgs84"), "time_limit_s": 5}}  # fmt: skip
        for kind, body in bodies.items():
            r = httpx.post(f"{server.url}/{kind}", json=body, headers=A)
            assert r.status_code == 202, r.text
            plan_ids[kind] = wait_done(server, r.json()["id"])
        # a bad template: the field named, in Chinese
        page.fill("#tile-url", "http://tiles.test/tile.png")
        page.click("#tile-apply")
        page.wait_for_selector("#status.error")
        assert label("app_field_tile_url", "zh") in page.inner_text("#status")
        assert page.get_attribute("#map", "data-datum") == "wgs84" and not tiles
        # AMap-style template in GCJ-02
        page.fill("#tile-url", "http://tiles.test/{z}/{x}/{y}.png?s={s}")
        page.fill("#tile-subdomains", "1234")
        page.select_option("#tile-datum", "gcj02")
        page.click("#tile-apply")
        page.wait_for_function(
            "document.querySelectorAll('#map img.leaflet-tile-loaded').length > 0"
        )
        assert page.get_attribute("#map", "data-datum") == "gcj02"
        assert label("app_datum_gcj02", "zh") in page.inner_text("#map .datum-note")
        zoom = page.evaluate("maps.a.map.getZoom()")
        for url in tiles:
            m = re.fullmatch(r"http://tiles\.test/(\d+)/(\d+)/(\d+)\.png\?s=([1234])", url)
            assert m and int(m.group(1)) == zoom, url
        gcj_roads = served(server, roads_path, "gcj02")
        assert same_positions(drawn(page, "roads"), gcj_roads, 1e-9)
        wgs_roads = served(server, roads_path, "wgs84")
        assert all(np.abs(gcj_roads[k] - wgs_roads[k]).max() > 1e-3 for k in wgs_roads)
        # the stations and routes of the plans, opened from the scenario list
        checks = (("siting", "stations", "rn-station", "#n-stations"),
                  ("routing", "routes", "rn-route", "#n-routes"))  # fmt: skip
        for kind, layer, cls, shown_el in checks:
            go(page, "scenarios")
            page.click(f'#plans tr[data-plan="{plan_ids[kind]}"] button.popen')
            page.wait_for_selector(f'#panel[data-step="{kind}"] {shown_el}', timeout=TIMEOUT_MS)
            path = f"/plans/{plan_ids[kind]}/{layer}.geojson"
            assert same_positions(drawn(page, "overlay", cls), served(server, path, "gcj02"), 1e-9)
            shot(page, "zh", f"tiles-gcj02-{kind}")
        # tiles off: WGS-84 again, the overlay redrawn where it is
        go(page, "network")
        assert page.input_value("#tile-url") == "http://tiles.test/{z}/{x}/{y}.png?s={s}"
        page.click("#tile-off")
        page.wait_for_function("document.querySelector('#map').dataset.datum === 'wgs84'")
        assert page.locator("#map img.leaflet-tile").count() == 0
        path = f"/plans/{plan_ids['routing']}/routes.geojson"
        assert same_positions(drawn(page, "overlay", "rn-route"), served(server, path, "wgs84"),
                              1e-12)  # fmt: skip
        assert same_positions(drawn(page, "roads"), wgs_roads, 1e-12)
        page.click("#tile-apply")  # on again; then a reload keeps it for this key only
        page.wait_for_function("document.querySelector('#map').dataset.datum === 'gcj02'")
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        page.wait_for_selector('#panel[data-step="network"] #net-sample')
        assert page.get_attribute("#map", "data-datum") == "gcj02"
        assert page.input_value("#tile-datum") == "gcj02"
        page.click("#signout")
        sign_in(page, server, KEY_B, "zh")
        assert page.get_attribute("#map", "data-datum") == "wgs84"
        assert page.input_value("#tile-url") == ""
    except Exception:
        shot(page, "zh", "tiles-failure")
        raise
    finally:
        ctx.close()
    assert errors == [] and outside == []


def wait_done(srv: Server, job_id: str) -> str:
    """The plan id of a job once it is done (bounded poll)."""

    def ended() -> Any:
        job = httpx.get(f"{srv.url}/jobs/{job_id}", headers=A).json()
        return job["status"] not in ("queued", "running") and job

    job = wait_for(ended, timeout_s=TIMEOUT_MS / 1000, what=f"job {job_id}")
    assert job["status"] == "done", job
    return job["plan_id"]


# ------------------------------------------------------------------ keyboard, 1366×768
STEP_ACTIONS = {  # each step's own actions: on screen at 1366×768 as the step opens
    "network": ["#net-sample", "#net-upload"],
    "data": ["#data-upload"],
    "siting": ["#s-run"],
    "routing": ["#r-run"],
    "scenarios": ["#compare-btn", "#plans button.popen"],
    "export": ["#x-gpkg", "#x-report-html", "#x-report-md", "#x-report-png"],
    "actuals": ["#a-upload", "#a-run"],
}

LAYOUT_JS = """() => {
  const panel = document.querySelector('#panel').getBoundingClientRect();
  const name = (el) => (el.labels && el.labels.length ? el.labels[0].textContent : '')
    || el.getAttribute('aria-label') || el.textContent;
  const controls = Array.from(
    document.querySelectorAll('#panel button, #panel input, #panel select'));
  return {
    pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
    controls: controls.map((el) => {
      const r = el.getBoundingClientRect();
      return { id: el.id || el.className, visible: !!(el.offsetWidth || el.offsetHeight),
               inside: r.left >= panel.left - 1 && r.right <= panel.right + 1,
               named: !!name(el).trim(), font: parseFloat(getComputedStyle(el).fontSize) };
    }),
    text: Math.min(...Array.from(document.querySelectorAll('#panel label, #panel p, #panel td'))
      .map((el) => parseFloat(getComputedStyle(el).fontSize))),
  };
}"""


def tab_to(page: Any, selector: str, limit: int = 60) -> int:
    """Press Tab until ``selector`` has the focus; the number of presses."""
    for n in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return n
    raise AssertionError(f"{limit} Tab presses never reached {selector}")


def test_keyboard_and_two_clicks_at_1366x768(browser: Any, server: Server) -> None:
    """At 1366×768, in Chinese, with the keyboard only: the step tabs move with the arrow
    keys; in every step each control is visible in the step's panel (nothing behind a menu:
    the step's tab, then the action), named, readable, inside the panel, and the step's
    own actions are on screen as it opens; Tab reaches them; a bad value names the field
    and says what is wrong in Chinese."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in(page, server, KEY_B, "zh")
        page.focus('#steps button[data-step="network"]')
        tab_to(page, "#net-sample")
        page.keyboard.press("Enter")  # the sample network, from the keyboard
        page.wait_for_function("Number(document.querySelector('#map').dataset.roads) > 800",
                               timeout=TIMEOUT_MS)  # fmt: skip
        nid = page.evaluate("S.network.id")
        body = {**SITING_EXAMPLE_INLINE, "network_id": nid, "time_limit_s": 5}
        r = httpx.post(f"{server.url}/siting", json=body, headers={"X-API-Key": KEY_B})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        wait_for(lambda: httpx.get(f"{server.url}/jobs/{job_id}", headers={"X-API-Key": KEY_B})
                 .json()["status"] == "done", timeout_s=TIMEOUT_MS / 1000)  # fmt: skip
        page.focus('#steps button[data-step="network"]')
        for step, actions in STEP_ACTIONS.items():
            if step != "network":  # the next step: the arrow key on the focused tab
                page.keyboard.press("ArrowDown")
            page.wait_for_selector(f'#panel[data-step="{step}"] h2')
            page.wait_for_selector(f"#panel {actions[-1]}")
            if step == "scenarios":
                page.wait_for_selector("#plans tbody tr")
            assert page.evaluate("document.activeElement.dataset.step") == step
            layout = page.evaluate(LAYOUT_JS)
            assert layout["pageOverflow"] <= 0, (step, layout["pageOverflow"])
            assert layout["text"] >= 12, (step, layout["text"])
            for c in layout["controls"]:
                assert c["visible"] and c["inside"] and c["named"], (step, c)
                assert c["font"] >= 12, (step, c)
            for sel in actions:
                box = page.locator(sel).first.bounding_box()
                assert box and box["y"] >= 0 and box["y"] + box["height"] <= 768, (step, sel, box)
            shot(page, "zh", f"keys-{step}")
            tab_to(page, actions[-1])
            page.focus(f'#steps button[data-step="{step}"]')
        # the run buttons from the keyboard; a bad value names the field, in Chinese
        go(page, "siting")
        page.select_option("#s-model", "p_median")
        page.fill("#s-p", "0")
        page.focus('#steps button[data-step="siting"]')
        tab_to(page, "#s-run")
        page.keyboard.press("Enter")
        page.wait_for_selector("#status.error")
        text = page.inner_text("#status")
        assert label("app_field_p", "zh") in text and "不能小于 1" in text, text
        shot(page, "zh", "keys-error")
        go(page, "routing")
        page.focus('#steps button[data-step="routing"]')
        tab_to(page, "#r-run")
        page.keyboard.press("Enter")  # no orders uploaded: the field named
        page.wait_for_function(
            "document.querySelector('#status').textContent.includes("
            f"{label('app_need_upload', 'zh')!r})"
        )
    finally:
        ctx.close()
    assert errors == []
