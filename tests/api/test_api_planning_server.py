"""A real uvicorn server: a full siting job and a full routing job over HTTP, and every
plan layer read with geopandas (``read_file(url)``) and GDAL's ``ogrinfo``."""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import KEY_A, KEY_B, Server, run_job

from recyclenet_api.schemas import ROUTING_EXAMPLE, SITING_EXAMPLE_OSM

A = {"X-API-Key": KEY_A}
LAYERS = {
    "siting": {"stations": "Point", "assignments": "LineString", "coverage": "Polygon"},
    "routing": {"routes": "LineString", "stops": "Point"},
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    srv = Server(tmp_path_factory.mktemp("planserver") / "var")
    try:
        r = httpx.post(srv.url + "/networks", json={"sample": "helsinki"}, headers=A, timeout=60)
        assert r.status_code == 201, r.text
        nid = r.json()["id"]
        siting = {**copy.deepcopy(SITING_EXAMPLE_OSM), "network_id": nid, "time_limit_s": 5}
        routing = {**copy.deepcopy(ROUTING_EXAMPLE), "network_id": nid, "time_limit_s": 2,
                   "engine": "ortools"}  # fmt: skip
        plans = {}
        with httpx.Client(base_url=srv.url, timeout=90) as http:
            for kind, body in (("siting", siting), ("routing", routing)):
                job = run_job(http, f"/{kind}", body)
                assert job["status"] == "done", job
                plans[kind] = job["plan_id"]
        yield {"url": srv.url, "plans": plans}
    finally:
        srv.stop()


def _cases() -> list[tuple[str, str, str]]:
    return [(k, name, geom) for k, layers in LAYERS.items() for name, geom in layers.items()]


@pytest.mark.parametrize(("kind", "name", "geom"), _cases())
def test_geopandas_reads_plan_layers(served: dict, kind: str, name: str, geom: str) -> None:
    import geopandas as gpd

    url = f"{served['url']}/plans/{served['plans'][kind]}/{name}.geojson"
    r = httpx.get(url, headers=A)
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    fc = r.json()
    gdf = gpd.read_file(f"{url}?api_key={KEY_A}")
    assert len(gdf) == len(fc["features"]) > 0
    assert gdf.crs.to_epsg() == 4326
    want = {geom} | ({"Point"} if name == "assignments" else set())  # unassigned demand
    assert set(gdf.geom_type) <= want and geom in set(gdf.geom_type)
    first = fc["features"][0]["properties"]
    assert set(first) - {"items"} <= set(gdf.columns)
    with pytest.raises(Exception):  # noqa: B017 - other tenants read nothing
        gpd.read_file(f"{url}?api_key={KEY_B}")


@pytest.mark.parametrize(("kind", "name", "geom"), _cases())
def test_ogrinfo_reads_plan_layers(served: dict, kind: str, name: str, geom: str) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (Debian gdal-bin) is not installed")
    url = f"{served['url']}/plans/{served['plans'][kind]}/{name}.geojson"
    n = len(httpx.get(url, headers=A).json()["features"])
    out = subprocess.run(
        [ogrinfo, "-ro", "-so", "-al", "--config", "GDAL_HTTP_HEADERS", f"X-API-Key: {KEY_A}",
         url], capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert f"Feature Count: {n}" in out
    assert "WGS 84" in out or "4326" in out
    ogr_geom = {"Point": "Point", "LineString": "Line String", "Polygon": "Polygon"}[geom]
    assert ogr_geom in out or (name == "assignments" and "Unknown" in out)


def test_plan_endpoints_over_http(served: dict) -> None:
    base = served["url"]
    for kind, pid in served["plans"].items():
        plan = httpx.get(f"{base}/plans/{pid}", headers=A).json()
        assert plan["kind"] == kind and set(plan["links"]) >= {"self", "indicators"}
        ind = httpx.get(f"{base}/plans/{pid}/indicators", headers=A).json()
        assert ind["kind"] == kind and ind["indicators"]["status"] in ("optimal", "feasible")
        other = "routes" if kind == "siting" else "stations"
        assert httpx.get(f"{base}/plans/{pid}/{other}.geojson", headers=A).status_code == 404
