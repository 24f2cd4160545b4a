"""A real uvicorn server on 127.0.0.1: GIS readers on roads.geojson, and kill -9 + restart."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import KEY_A, Server, run_job, wait_for

from recyclenet_api.store import Store

A = {"X-API-Key": KEY_A}

@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, str]]:
    srv = Server(tmp_path_factory.mktemp("server") / "var")
    try:
        r = httpx.post(srv.url + "/networks", json={"sample": "helsinki"}, headers=A, timeout=60)
        assert r.status_code == 201, r.text
        yield srv, r.json()["id"]
    finally:
        srv.stop()


def test_geopandas_and_pyogrio_read_roads(server: tuple[Server, str]) -> None:
    import geopandas as gpd
    import pyogrio

    srv, nid = server
    base = f"{srv.url}/networks/{nid}/roads.geojson"
    fc = httpx.get(base, headers=A).json()
    gdf = gpd.read_file(f"{base}?api_key={KEY_A}")  # GIS readers cannot always set headers
    assert len(gdf) == fc["numberMatched"] == len(fc["features"]) > 800
    assert gdf.crs.to_epsg() == 4326 and set(gdf.geom_type) == {"LineString"}
    assert {"way_id", "name", "highway", "oneway", "length_m"} <= set(gdf.columns)
    bbox = "24.940,60.165,24.945,60.170"
    pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": f"X-API-Key: {KEY_A}"})
    try:
        df = pyogrio.read_dataframe(f"{base}?bbox={bbox}", fid_as_index=True)
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_HEADERS": None})
    sub = httpx.get(base, params={"bbox": bbox}, headers=A).json()["features"]
    assert 0 < len(df) < len(gdf)
    assert sorted(df.index.tolist()) == sorted(f["id"] for f in sub)  # feature ids survive
    west, south, east, north = (float(v) for v in bbox.split(","))
    b = df.geometry.bounds
    assert ((b.minx <= east) & (b.maxx >= west) & (b.miny <= north) & (b.maxy >= south)).all()


def test_ogrinfo_reads_roads(server: tuple[Server, str]) -> None:
    ogrinfo = shutil.which("ogrinfo")
    if ogrinfo is None:
        pytest.skip("ogrinfo (Debian gdal-bin) is not installed")
    srv, nid = server
    url = f"{srv.url}/networks/{nid}/roads.geojson?limit=50"
    out = subprocess.run(
        [ogrinfo, "-ro", "-so", "-al", "--config", "GDAL_HTTP_HEADERS", f"X-API-Key: {KEY_A}",
         url], capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "Feature Count: 50" in out and "Line String" in out
    assert "way_id" in out and ("WGS 84" in out or "4326" in out)


def test_kill_during_job_then_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    srv = Server(data_dir, solves=1)
    try:
        net = httpx.post(srv.url + "/networks", json={"sample": "helsinki"}, headers=A,
                         timeout=60).json()  # fmt: skip
        points = [{"id": "a", "lon": 24.9402, "lat": 60.1699},
                  {"id": "b", "lon": 24.946, "lat": 60.172}]  # fmt: skip
        body = {"network_id": net["id"], "origins": points}
        with httpx.Client(base_url=srv.url, timeout=90) as http:
            done = run_job(http, "/matrix", body)
        assert done["status"] == "done"
        plan_before = httpx.get(f"{srv.url}/plans/{done['plan_id']}", headers=A).json()
        store = Store(f"sqlite:///{data_dir / 'recyclenet.db'}")
        job = store.add_job(tenant="tenant-a", kind="sleep", payload={"seconds": 120},
                            time_limit_s=300)  # fmt: skip
        queued = store.add_job(tenant="tenant-a", kind="sleep", payload={"seconds": 0.1},
                               time_limit_s=300)  # fmt: skip
        jobs_url = f"{srv.url}/jobs/{job.id}"
        pid = wait_for(lambda: httpx.get(jobs_url, headers=A).json()["progress"].get("pid"),
                       what="sleep job running")  # fmt: skip
        assert httpx.get(f"{srv.url}/jobs/{queued.id}", headers=A).json()["status"] == "queued"
        srv.stop(signal.SIGKILL)  # a crash, no shutdown hooks
    finally:
        srv.stop()
    wait_for(lambda: not _alive(pid), what="the orphaned solve to exit")
    with store.engine.connect() as conn:  # the row still says running
        status = conn.exec_driver_sql("SELECT status FROM jobs WHERE id = ?", (job.id,)).scalar()
    assert status == "running"
    srv2 = Server(data_dir)
    try:
        after = httpx.get(f"{srv2.url}/jobs/{job.id}", headers=A).json()
        assert after["status"] == "failed"
        assert after["error"]["title"] == "interrupted by restart"
        assert httpx.get(f"{srv2.url}/plans/{done['plan_id']}", headers=A).json() == plan_before
        roads = httpx.get(f"{srv2.url}/networks/{net['id']}/roads.geojson", headers=A)
        assert roads.status_code == 200 and len(roads.json()["features"]) > 800
        # jobs that were still queued are not lost: the new process runs them
        wait_for(lambda: httpx.get(f"{srv2.url}/jobs/{queued.id}", headers=A).json()["status"]
                 == "done", what="queued job done after restart")  # fmt: skip
    finally:
        srv2.stop()
    store.dispose()
    assert json.dumps(plan_before["data"])  # still plain JSON


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_graceful_shutdown_fails_running_job(tmp_path: Path) -> None:
    from api_helpers import job_status, make_app, submit_sleep
    from fastapi.testclient import TestClient

    app = make_app(tmp_path / "var")
    with TestClient(app) as client:
        job_id = submit_sleep(app, seconds=120)
        wait_for(lambda: job_status(client, job_id)["status"] == "running")
    started = time.monotonic()
    app2 = make_app(tmp_path / "var")
    with TestClient(app2) as client:
        job = job_status(client, job_id)
        assert job["status"] == "failed" and job["error"]["title"] == "interrupted by restart"
    assert time.monotonic() - started < 60  # no waiting for the 120 s job
